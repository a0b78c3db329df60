import type { ParamValues } from './space.js';

/** Whether smaller or larger objective values are better. */
export type Direction = 'minimize' | 'maximize';
export const DIRECTIONS = ['minimize', 'maximize'] as const satisfies readonly Direction[];

/**
 * How a trial ended: `complete` (the objective returned a number), `pruned`
 * (stopped early by the pruner, or the objective threw `TrialPruned`),
 * `failed` (the objective threw, or returned NaN).
 */
export type TrialState = 'complete' | 'pruned' | 'failed';
export const TRIAL_STATES = ['complete', 'pruned', 'failed'] as const satisfies readonly TrialState[];

/** One value an objective reported on the way, e.g. the validation loss after `step` boosting rounds. */
export interface IntermediateValue {
  step: number;
  value: number;
}

/** A finished trial as the study log keeps it. */
export interface TrialRecord<P extends ParamValues = ParamValues> {
  /** 0, 1, 2, … in the order trials were started. */
  number: number;
  params: P;
  state: TrialState;
  /** The objective's value; null unless `complete`. */
  value: number | null;
  /** Reported values, ascending by step, one per step. */
  intermediateValues: IntermediateValue[];
  /** ISO time the objective was called. */
  startedAt: string;
  /** Wall time of the objective call, in milliseconds. */
  durationMs: number;
  /** Why a `failed` trial failed; null otherwise. */
  error: string | null;
}

/**
 * What an objective gets besides its parameters: the Optuna trial protocol.
 *
 *   for (let round = 10; round <= 500; round += 10) {
 *     …
 *     if (trial.report(round, validationLoss)) throw new TrialPruned();
 *   }
 */
export interface Trial {
  readonly number: number;
  /**
   * Records the value at `step` (an integer ≥ 0; a repeated step keeps its
   * first value, as Optuna does) and returns `shouldPrune()`.
   */
  report(step: number, value: number): boolean;
  /** Whether the pruner would stop this trial now, judged on the values reported so far. */
  shouldPrune(): boolean;
  /** The values reported so far, by step. */
  readonly intermediateValues: ReadonlyMap<number, number>;
}

/**
 * Thrown by an objective to stop its trial as pruned (Optuna's
 * `TrialPruned`). It is control flow, not a failure: the study records the
 * trial as `pruned` and goes on.
 */
export class TrialPruned extends Error {
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

/** The value a trial reported at `step`, if any (intermediate values are sorted by step). */
export function valueAtStep(record: TrialRecord, step: number): number | undefined {
  const values = record.intermediateValues;
  let lo = 0;
  let hi = values.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = values[mid]!.step;
    if (s === step) return values[mid]!.value;
    if (s < step) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** The best of two objective values in `direction`. */
export function isBetter(direction: Direction, candidate: number, incumbent: number): boolean {
  return direction === 'minimize' ? candidate < incumbent : candidate > incumbent;
}
