/**
 * A small real model-tuning problem that needs nothing but TypeScript: ridge
 * regression on polynomial (and optionally pairwise-interaction) features of
 * a generated dataset, scored by validation RMSE. It stands in for the GBDT
 * objective when the trainer cannot be loaded, and is cheap enough to run
 * always.
 */
import { SeededRandom } from '../../../models/random.js';
import type { ParamsOf } from '../../../models/search/index.js';
import { categorical, float, int } from '../../../models/search/index.js';
import type { TuningProblem } from './search-problems.js';
import { problem } from './search-problems.js';

const RAW_FEATURES = 5;

interface Dataset {
  /** rows × RAW_FEATURES, uniform in [−1, 1]. */
  x: number[][];
  y: number[];
}

function dataset(rows: number, seed: number): Dataset {
  const random = new SeededRandom(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: RAW_FEATURES }, () => random.uniform(-1, 1));
    x.push(row);
    y.push(Math.sin(2.5 * row[0]!) + row[1]! * row[2]! + 0.5 * row[3]! ** 2 + 0.3 * random.normal());
  }
  return { x, y };
}

const space = {
  /** L2 penalty. */
  lambda: float(1e-6, 1e3, { log: true }),
  /** Highest power of each raw feature. */
  degree: int(1, 6),
  interactions: categorical([false, true]),
  standardize: categorical([true, false]),
};
type RidgeParams = ParamsOf<typeof space>;

function expand(row: readonly number[], p: RidgeParams): number[] {
  const out: number[] = [];
  for (const v of row) for (let d = 1; d <= p.degree; d++) out.push(v ** d);
  if (p.interactions) {
    for (let i = 0; i < row.length; i++) for (let j = i + 1; j < row.length; j++) out.push(row[i]! * row[j]!);
  }
  return out;
}

/** Fits on `train` and returns the validation RMSE. The intercept is not penalised (columns are centred). */
function validationRmse(train: Dataset, valid: Dataset, p: RidgeParams): number {
  const X = train.x.map((r) => expand(r, p));
  const k = X[0]!.length;
  const mean = new Array<number>(k).fill(0);
  const scale = new Array<number>(k).fill(1);
  for (const r of X) r.forEach((v, j) => (mean[j]! += v / X.length));
  if (p.standardize) {
    const variance = new Array<number>(k).fill(0);
    for (const r of X) r.forEach((v, j) => (variance[j]! += (v - mean[j]!) ** 2 / X.length));
    variance.forEach((v, j) => (scale[j] = Math.sqrt(v) || 1));
  }
  const yMean = train.y.reduce((a, b) => a + b, 0) / train.y.length;
  const norm = (r: number[]) => r.map((v, j) => (v - mean[j]!) / scale[j]!);
  const Z = X.map(norm);
  // Normal equations (ZᵀZ + λI) w = Zᵀ(y − ȳ), solved by Cholesky.
  const A = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => (i === j ? p.lambda : 0)),
  );
  const b = new Array<number>(k).fill(0);
  Z.forEach((z, r) => {
    for (let i = 0; i < k; i++) {
      b[i]! += z[i]! * (train.y[r]! - yMean);
      for (let j = 0; j <= i; j++) A[i]![j]! += z[i]! * z[j]!;
    }
  });
  const w = choleskySolve(A, b);
  let sse = 0;
  valid.x.forEach((row, r) => {
    const z = norm(expand(row, p));
    const prediction = yMean + z.reduce((s, v, j) => s + v * w[j]!, 0);
    sse += (prediction - valid.y[r]!) ** 2;
  });
  return Math.sqrt(sse / valid.y.length);
}

/** Solves A x = b for symmetric positive definite A, given its lower triangle. */
function choleskySolve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const L = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i]![j]!;
      for (let m = 0; m < j; m++) sum -= L[i]![m]! * L[j]![m]!;
      // A tiny pivot (λ → 0 with collinear columns) is floored rather than failing the trial.
      L[i]![j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / L[j]![j]!;
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let m = 0; m < i; m++) sum -= L[i]![m]! * y[m]!;
    y[i] = sum / L[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let m = i + 1; m < n; m++) sum -= L[m]![i]! * x[m]!;
    x[i] = sum / L[i]![i]!;
  }
  return x;
}

const ridgeTrain = dataset(300, 11);
const ridgeValid = dataset(1_000, 12);

export function ridgeTuning(): TuningProblem {
  return problem({
    name: 'Ridge tuning (valid RMSE)',
    space,
    trials: 20,
    seeds: 10,
    reference: {
      label: 'λ=1,deg 1',
      value: async () =>
        validationRmse(ridgeTrain, ridgeValid, {
          lambda: 1,
          degree: 1,
          interactions: false,
          standardize: true,
        }),
    },
    objective: (p) => validationRmse(ridgeTrain, ridgeValid, p),
  });
}
