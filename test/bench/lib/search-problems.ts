/**
 * Problems for `npm run bench:search`. Each is pluggable: a search space, a
 * direction, a budget and an objective, packed by `problem()`; the bench
 * runs every problem with TPE and with random search on the same seeds.
 * Synthetic functions live here; model-tuning problems in their own files
 * (`ridge-tuning.ts`, `gbdt-tuning.ts`).
 */
import type {
  Direction,
  Objective,
  ParamsOf,
  Pruner,
  Sampler,
  SearchSpace,
} from '../../../models/search/index.js';
import { Study, categorical, defineSpace, float, int } from '../../../models/search/index.js';

export interface TuningProblem {
  name: string;
  dimensions: number;
  direction: Direction;
  /** Trials per study. */
  trials: number;
  /** Studies per sampler; seeds 0..seeds−1. */
  seeds: number;
  /** The known optimum, when there is one. */
  optimum?: number;
  /** A value to compare against when the optimum is unknown, and what it is. */
  reference?: { label: string; value: () => Promise<number> };
  /** Runs one study with `sampler`; resolves to the best value found. */
  bestValue(sampler: Sampler): Promise<number>;
}

/** Packs a typed space and objective into a `TuningProblem` (the typing stays inside). */
export function problem<S extends SearchSpace>(spec: {
  name: string;
  space: S;
  direction?: Direction;
  trials: number;
  seeds: number;
  optimum?: number;
  reference?: TuningProblem['reference'];
  pruner?: () => Pruner;
  objective: Objective<ParamsOf<S>>;
}): TuningProblem {
  const direction = spec.direction ?? 'minimize';
  const space = defineSpace(spec.space);
  return {
    name: spec.name,
    dimensions: Object.keys(space).length,
    direction,
    trials: spec.trials,
    seeds: spec.seeds,
    ...(spec.optimum === undefined ? {} : { optimum: spec.optimum }),
    ...(spec.reference === undefined ? {} : { reference: spec.reference }),
    async bestValue(sampler) {
      const study = new Study({
        space,
        direction,
        sampler,
        pruner: spec.pruner?.() ?? { shouldPrune: () => false },
      });
      await study.optimize(spec.objective, { trials: spec.trials });
      return study.bestTrial?.value ?? Number.NaN;
    },
  };
}

// Branin-Hoo on [−5, 10] × [0, 15]; three global minima of 0.397887.
function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

// Hartmann 6-D on [0, 1]^6; global minimum −3.32237.
const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((p) => p * 1e-4));
export function hartmann6(x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H_A[i]![j]! * (x[j]! - H_P[i]![j]!) ** 2;
    sum += H_ALPHA[i]! * Math.exp(-inner);
  }
  return -sum;
}

function rosenbrock(x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < x.length; i++) sum += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
  return sum;
}

const unit = float(0, 1);
const rosenbrockRange = float(-2, 2);

export const SYNTHETIC_PROBLEMS: TuningProblem[] = [
  problem({
    name: 'Branin 2-D',
    space: { x1: float(-5, 10), x2: float(0, 15) },
    trials: 60,
    seeds: 10,
    optimum: 0.397887,
    objective: ({ x1, x2 }) => branin(x1, x2),
  }),
  problem({
    name: 'Hartmann 6-D',
    space: { x0: unit, x1: unit, x2: unit, x3: unit, x4: unit, x5: unit },
    trials: 100,
    seeds: 10,
    optimum: -3.32237,
    objective: (p) => hartmann6([p.x0, p.x1, p.x2, p.x3, p.x4, p.x5]),
  }),
  problem({
    name: 'Rosenbrock 4-D',
    space: { a: rosenbrockRange, b: rosenbrockRange, c: rosenbrockRange, d: rosenbrockRange },
    trials: 100,
    seeds: 10,
    optimum: 0,
    objective: ({ a, b, c, d }) => rosenbrock([a, b, c, d]),
  }),
  problem({
    name: 'Mixed quadratic (log/int/cat)',
    space: {
      x: float(-5, 5),
      lr: float(1e-4, 1, { log: true }),
      n: int(1, 100),
      k: int(1, 1000, { log: true }),
      kind: categorical(['a', 'b', 'c', 'd']),
    },
    trials: 100,
    seeds: 10,
    optimum: 0,
    objective: (p) =>
      (p.x - 1.3) ** 2 +
      (Math.log10(p.lr) + 2) ** 2 +
      ((p.n - 37) / 20) ** 2 +
      Math.log10(p.k / 50) ** 2 +
      (p.kind === 'c' ? 0 : 1),
  }),
];
