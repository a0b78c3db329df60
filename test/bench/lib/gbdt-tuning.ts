/**
 * Tuning the GBDT trainer (models/gbdt) for `npm run bench:search`. Loaded
 * with a dynamic import by the bench, so a trainer that does not load (it is
 * being worked on) skips these rows instead of failing the bench.
 */
import { trainGbdt } from '../../../models/gbdt/train.js';
import type { TrainingSet } from '../../../models/gbdt/train.js';
import { SeededRandom } from '../../../models/random.js';
import { MedianPruner, TrialPruned, categorical, float, int } from '../../../models/search/index.js';
import type { TuningProblem } from './search-problems.js';
import { problem } from './search-problems.js';

/**
 * A binary "exhaustion within the horizon" stand-in: 12 numeric features,
 * a non-linear logit with interactions and noise, so that tree count,
 * learning rate, leaf size and regularisation all matter.
 */
function exhaustionDataset(rows: number, seed: number): TrainingSet {
  const random = new SeededRandom(seed);
  const F = 12;
  const features = new Float32Array(rows * F);
  const labels = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < F; f++) features[r * F + f] = random.normal();
    const x = (f: number) => features[r * F + f]!;
    const logit = 1.5 * x(0) - x(1) * x(2) + Math.sin(2 * x(3)) + 0.5 * x(4) ** 2 - 0.5 + 0.3 * x(5) * x(6);
    labels[r] = logit + random.normal() > 0 ? 1 : 0;
  }
  return { features, labels, numRows: rows, featureNames: Array.from({ length: F }, (_, f) => `f${f}`) };
}

const gbdtTrain = exhaustionDataset(3_000, 101);
const gbdtValid = exhaustionDataset(1_500, 202);
/** Boosting rounds per trial; early stopping cuts bad ones short. */
const GBDT_ROUNDS = 100;
const GBDT_FIXED = {
  objective: 'binary',
  numIterations: GBDT_ROUNDS,
  earlyStoppingRounds: 20,
  maxBin: 63,
} as const;

/**
 * Tuning the GBDT trainer on the stand-in dataset: minimise the best
 * validation log loss within 100 rounds (early stopping after 20 idle ones).
 * With `pruning`, both samplers get the same Optuna-default median pruner,
 * warmed up for 10 rounds, fed the validation loss after every round.
 */
export function gbdtTuning({ pruning }: { pruning: boolean }): TuningProblem {
  return problem({
    name: `GBDT tuning${pruning ? ' + median pruner' : ''}`,
    space: {
      learningRate: float(0.005, 0.5, { log: true }),
      numLeaves: int(2, 128, { log: true }),
      minDataInLeaf: int(1, 200, { log: true }),
      featureFraction: float(0.2, 1),
      lambdaL2: float(1e-3, 100, { log: true }),
      baggingFreq: categorical([0, 1, 5]),
      baggingFraction: float(0.4, 1),
    },
    trials: 50,
    seeds: 8,
    reference: {
      label: 'defaults',
      value: async () => Math.min(...trainGbdt(gbdtTrain, GBDT_FIXED, { valid: gbdtValid }).history.valid),
    },
    ...(pruning ? { pruner: () => new MedianPruner({ nStartupTrials: 5, nWarmupSteps: 10 }) } : {}),
    objective: async (params, trial) => {
      let pruned = false;
      const result = trainGbdt(
        gbdtTrain,
        { ...params, ...GBDT_FIXED, seed: trial.number },
        {
          valid: gbdtValid,
          onIteration: ({ iteration, validMetric }) => {
            if (!pruning || validMetric === undefined) return false;
            pruned = trial.report(iteration, validMetric);
            return pruned;
          },
        },
      );
      if (pruned) throw new TrialPruned();
      return Math.min(...result.history.valid);
    },
  });
}
