import { randomInt } from 'node:crypto';
import { SeededRandom } from '../random.js';
import type { ParamValues, ParamsOf, SearchSpace } from './space.js';
import { sampleUniform } from './space.js';
import type { Direction, TrialRecord } from './trial.js';

/** What a sampler may look at: the finished trials of the study so far, oldest first. */
export interface SamplingHistory {
  direction: Direction;
  trials: readonly TrialRecord[];
}

/** Proposes the parameters of the next trial. Deterministic for a given seed and history. */
export interface Sampler {
  /** Short name for the study log, e.g. `tpe`. */
  readonly name: string;
  /** The seed in use, recorded so that a study can be repeated. */
  readonly seed: number;
  sample<S extends SearchSpace>(space: S, history: SamplingHistory): ParamsOf<S>;
}

/** A seed from the operating system, for samplers built without one (Optuna's `seed=None`). */
export function freshSeed(): number {
  return randomInt(2 ** 31);
}

/** Independent uniform draws (uniform in log space for `log` parameters); the baseline TPE must beat. */
export class RandomSampler implements Sampler {
  readonly name = 'random';
  readonly seed: number;
  private readonly random: SeededRandom;

  constructor(options: { seed?: number } = {}) {
    this.seed = options.seed ?? freshSeed();
    this.random = new SeededRandom(this.seed);
  }

  sample<S extends SearchSpace>(space: S, _history?: SamplingHistory): ParamsOf<S> {
    return sampleAllUniform(space, this.random);
  }
}

/** One uniform draw per parameter, in the space's key order. */
export function sampleAllUniform<S extends SearchSpace>(space: S, random: SeededRandom): ParamsOf<S> {
  const params: ParamValues = {};
  for (const [name, def] of Object.entries(space)) params[name] = sampleUniform(def, random);
  return params as ParamsOf<S>;
}
