import type { Direction, TrialRecord } from './trial.js';
import { valueAtStep } from './trial.js';

/** What a pruner judges: the running trial's reported values and the study's complete trials. */
export interface PruningContext {
  direction: Direction;
  /** The running trial's reported values by step. */
  intermediateValues: ReadonlyMap<number, number>;
  /** The study's complete trials (pruned and failed ones are not compared against). */
  completeTrials: readonly TrialRecord[];
}

/** Decides whether a running trial should stop early. */
export interface Pruner {
  shouldPrune(context: PruningContext): boolean;
}

/** Never prunes. */
export class NopPruner implements Pruner {
  shouldPrune(): boolean {
    return false;
  }
}

export interface PercentilePrunerOptions {
  /** Complete trials needed before anything is pruned. Default 5 (Optuna). */
  nStartupTrials?: number;
  /** Steps before this one are never pruned (the first rounds of boosting say little). Default 0. */
  nWarmupSteps?: number;
  /** Prune only at warmup + k·interval steps. Default 1. */
  intervalSteps?: number;
  /** Complete trials that must have reported the same step for a comparison. Default 1. */
  nMinTrials?: number;
}

/**
 * Optuna's `PercentilePruner`: at a step, prune when the trial's best value
 * so far is worse than the given percentile of the complete trials' values
 * at that same step. A NaN best value is pruned at once.
 */
export class PercentilePruner implements Pruner {
  private readonly percentile: number;
  private readonly nStartupTrials: number;
  private readonly nWarmupSteps: number;
  private readonly intervalSteps: number;
  private readonly nMinTrials: number;

  /** @param percentile 0..100; the share of complete trials a kept trial must be at least as good as, from the best end */
  constructor(percentile: number, options: PercentilePrunerOptions = {}) {
    if (!(percentile >= 0 && percentile <= 100))
      throw new RangeError(`percentile must be 0..100, got ${percentile}`);
    this.percentile = percentile;
    this.nStartupTrials = options.nStartupTrials ?? 5;
    this.nWarmupSteps = options.nWarmupSteps ?? 0;
    this.intervalSteps = options.intervalSteps ?? 1;
    this.nMinTrials = options.nMinTrials ?? 1;
    if (!(this.intervalSteps >= 1)) throw new RangeError('intervalSteps must be at least 1');
  }

  shouldPrune({ direction, intermediateValues, completeTrials }: PruningContext): boolean {
    if (completeTrials.length === 0 || completeTrials.length < this.nStartupTrials) return false;
    const steps = [...intermediateValues.keys()];
    if (steps.length === 0) return false;
    const step = Math.max(...steps);
    if (step < this.nWarmupSteps) return false;
    if (!this.isFirstReportInInterval(step, steps)) return false;

    const best = bestValue(intermediateValues.values(), direction);
    if (Number.isNaN(best)) return true;
    const others = completeTrials
      .map((t) => valueAtStep(t, step))
      .filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (others.length < this.nMinTrials || others.length === 0) return false;
    // For maximisation the good end is the top, so the cut moves to 100 − p (Optuna).
    const threshold = percentileOf(
      others,
      direction === 'minimize' ? this.percentile : 100 - this.percentile,
    );
    return direction === 'minimize' ? best > threshold : best < threshold;
  }

  /**
   * With an interval, a trial is judged only at the first report at or after
   * each warmup + k·interval step, however often it reports in between.
   */
  private isFirstReportInInterval(step: number, steps: readonly number[]): boolean {
    const k = Math.floor((step - this.nWarmupSteps) / this.intervalSteps);
    const intervalStart = k * this.intervalSteps + this.nWarmupSteps;
    let previous = -1;
    for (const s of steps) if (s !== step && s > previous) previous = s;
    return previous < intervalStart;
  }
}

/** Prunes trials worse than the median of complete trials at the same step (Optuna's default pruner). */
export class MedianPruner extends PercentilePruner {
  constructor(options: PercentilePrunerOptions = {}) {
    super(50, options);
  }
}

/** Best non-NaN value; NaN when all are NaN. */
function bestValue(values: Iterable<number>, direction: Direction): number {
  let best = Number.NaN;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(best) || (direction === 'minimize' ? v < best : v > best)) best = v;
  }
  return best;
}

/** numpy's default (linear-interpolation) percentile, p in 0..100. */
export function percentileOf(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const fraction = position - lower;
  // Skipping the interpolation on an exact hit keeps ±Infinity values from turning into NaN.
  if (fraction === 0) return sorted[lower]!;
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * fraction;
}
