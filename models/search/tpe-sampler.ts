import { SeededRandom } from '../random.js';
import type { ParzenEstimatorOptions } from './parzen-estimator.js';
import { ParzenEstimator } from './parzen-estimator.js';
import type { Sampler, SamplingHistory } from './sampler.js';
import { freshSeed, sampleAllUniform } from './sampler.js';
import type { ParamDefinition, ParamValues, ParamsOf, SearchSpace } from './space.js';
import { isSingleValue } from './space.js';
import type { Direction, TrialRecord } from './trial.js';

/**
 * Tree-structured Parzen Estimator, following Optuna's `TPESampler`
 * (Bergstra et al. 2011, with Optuna's defaults and heuristics):
 *
 * 1. Until `nStartupTrials` trials have finished (complete or pruned),
 *    sample at random.
 * 2. Rank the finished trials and take the best `gamma(n)` as "good"
 *    (Optuna: min(⌈0.1·n⌉, 25)), the rest as "bad". Failed trials are ignored.
 * 3. Fit a Parzen estimator l(x) to the good and g(x) to the bad trials'
 *    parameters, weighting older trials down once there are more than 25
 *    (Optuna's `default_weights`).
 * 4. Draw `nEiCandidates` (24) candidates from l(x) and keep the one with the
 *    largest log l(x) − log g(x), which maximises expected improvement.
 *
 * By default each parameter is sampled independently (univariate TPE, as
 * Optuna); `multivariate: true` fits joint densities over all parameters.
 *
 * Pruned trials inform TPE the way Optuna does: they rank below every
 * complete trial, and among themselves by the last step they reached (later
 * is better) and then by their value at that step; a pruned trial without
 * any reported value ranks last. So when there are fewer complete trials
 * than `gamma(n)`, the pruned trials that got furthest fill the good group,
 * and otherwise pruned trials shape g(x), steering away from their region.
 */
export interface TpeSamplerOptions {
  /** Seed of the sampler's generator; default: a fresh one from the OS (recorded in `seed`). */
  seed?: number;
  /** Finished trials sampled at random before TPE takes over. Default 10. */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per sample. Default 24. */
  nEiCandidates?: number;
  /** Number of "good" trials among n finished ones. Default `defaultGamma`. */
  gamma?: (n: number) => number;
  /** Weights of n observations, oldest first. Default `defaultWeights`. */
  weights?: (n: number) => ArrayLike<number>;
  /** See `ParzenEstimatorOptions`; defaults are Optuna's. */
  priorWeight?: number;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
  multivariate?: boolean;
}

export const DEFAULT_N_STARTUP_TRIALS = 10;
export const DEFAULT_N_EI_CANDIDATES = 24;

/** Optuna's `default_gamma`: min(⌈0.1·n⌉, 25). */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's `default_weights`: flat up to 25 observations, then a linear ramp from 1/n for all but the newest 25. */
export function defaultWeights(n: number): Float64Array {
  if (n < 25) return new Float64Array(n).fill(1);
  const weights = new Float64Array(n).fill(1);
  const rampLength = n - 25;
  // numpy.linspace(1/n, 1, num=n-25)
  for (let i = 0; i < rampLength; i++) {
    weights[i] = rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1);
  }
  return weights;
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  readonly seed: number;
  private readonly random: SeededRandom;
  private readonly startupRandom: SeededRandom;
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;
  private readonly weights: (n: number) => ArrayLike<number>;
  private readonly estimatorOptions: ParzenEstimatorOptions;

  constructor(options: TpeSamplerOptions = {}) {
    this.seed = options.seed ?? freshSeed();
    this.random = new SeededRandom(this.seed);
    this.startupRandom = this.random.split();
    this.nStartupTrials = options.nStartupTrials ?? DEFAULT_N_STARTUP_TRIALS;
    this.nEiCandidates = options.nEiCandidates ?? DEFAULT_N_EI_CANDIDATES;
    if (!(this.nEiCandidates >= 1)) throw new RangeError('nEiCandidates must be at least 1');
    this.gamma = options.gamma ?? defaultGamma;
    this.weights = options.weights ?? defaultWeights;
    this.estimatorOptions = {
      priorWeight: options.priorWeight ?? 1,
      considerMagicClip: options.considerMagicClip ?? true,
      considerEndpoints: options.considerEndpoints ?? false,
      multivariate: options.multivariate ?? false,
    };
  }

  sample<S extends SearchSpace>(space: S, history: SamplingHistory): ParamsOf<S> {
    const observed = history.trials.filter((t) => t.state !== 'failed');
    if (observed.length < this.nStartupTrials) return sampleAllUniform(space, this.startupRandom);

    const nBelow = Math.max(0, Math.min(observed.length, Math.floor(this.gamma(observed.length))));
    const { below, above } = splitTrials(observed, nBelow, history.direction);
    const params: ParamValues = {};
    const searched: Record<string, ParamDefinition> = {};
    for (const [name, def] of Object.entries(space)) {
      if (isSingleValue(def)) params[name] = def.kind === 'categorical' ? def.choices[0]! : def.low;
      else searched[name] = def;
    }
    const groups = this.estimatorOptions.multivariate
      ? [searched]
      : Object.entries(searched).map(([name, def]) => ({ [name]: def }));
    for (const group of groups) {
      if (Object.keys(group).length > 0) Object.assign(params, this.sampleGroup(group, below, above));
    }
    return params as ParamsOf<S>;
  }

  /** Draws candidates from l(x) and returns the one maximising log l(x) − log g(x). */
  private sampleGroup(
    group: SearchSpace,
    below: readonly TrialRecord[],
    above: readonly TrialRecord[],
  ): ParamValues {
    const l = this.estimator(group, below);
    const g = this.estimator(group, above);
    let best: ParamValues | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const candidate of l.sample(this.random, this.nEiCandidates)) {
      const score = l.logPdf(candidate) - g.logPdf(candidate);
      // `best === undefined` keeps the first candidate when every score is NaN or −∞.
      if (best === undefined || score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return best!;
  }

  private estimator(group: SearchSpace, trials: readonly TrialRecord[]): ParzenEstimator {
    const weights = this.weights(trials.length);
    return new ParzenEstimator(
      group,
      trials.map((t) => t.params),
      weights,
      this.estimatorOptions,
    );
  }
}

/**
 * Splits finished trials into the best `nBelow` and the rest, both returned
 * in trial-number order (the weights favour newer trials). Complete trials
 * come first by value; pruned trials follow, ranked by (−last step, value at
 * that step) with NaN last, and those that never reported rank last of all —
 * Optuna's `_split_trials`.
 */
export function splitTrials(
  trials: readonly TrialRecord[],
  nBelow: number,
  direction: Direction,
): { below: TrialRecord[]; above: TrialRecord[] } {
  const sign = direction === 'minimize' ? 1 : -1;
  const complete = trials
    .filter((t) => t.state === 'complete')
    .sort((a, b) => compareNumbers(sign * a.value!, sign * b.value!));
  const pruned = trials
    .filter((t) => t.state === 'pruned')
    .map((t) => ({ trial: t, key: prunedRankKey(t, sign) }))
    .sort((a, b) => compareNumbers(a.key[0], b.key[0]) || compareNumbers(a.key[1], b.key[1]))
    .map((entry) => entry.trial);
  const ranked = [...complete, ...pruned];
  const byNumber = (a: TrialRecord, b: TrialRecord) => a.number - b.number;
  return { below: ranked.slice(0, nBelow).sort(byNumber), above: ranked.slice(nBelow).sort(byNumber) };
}

function prunedRankKey(trial: TrialRecord, sign: number): [number, number] {
  const last = trial.intermediateValues.at(-1);
  if (last === undefined) return [1, 0];
  return [-last.step, Number.isNaN(last.value) ? Number.POSITIVE_INFINITY : sign * last.value];
}

/** Ascending order that tolerates ±Infinity (a − b would give NaN for two equal infinities). */
function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
