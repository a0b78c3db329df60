/**
 * How much of a time interval the data covers. The time between two
 * consecutive samples at most `maxGapMs` apart is covered; a longer gap, the
 * time before the first sample and the time after the last are not (the
 * features' `coverage.W` counts time the same way).
 */
import type { AcceptedSeries } from './accepted-series.js';

/**
 * Covered time from the first sample up to a moving point, in O(1)
 * amortised per question: the points asked must not decrease (a two-pointer
 * walk over the samples), which is how labels ask for t and t + horizon.
 */
export class CoveredTimeCursor {
  /** Covered ms from the first sample to sample i. */
  private readonly prefix: Float64Array;
  private readonly ts: Float64Array;
  private readonly maxGapMs: number;
  /** Last sample at or before the last point asked, −1 before the first sample. */
  private k = -1;
  private lastAsked = -Infinity;

  constructor(series: AcceptedSeries, maxGapMs: number, prefix?: Float64Array) {
    this.ts = series.timestampsMs;
    this.maxGapMs = maxGapMs;
    this.prefix = prefix ?? coveredPrefix(series, maxGapMs);
  }

  /** Covered ms in (−∞, x]; x must not be below the previous question. */
  coveredUntil(x: number): number {
    if (x < this.lastAsked) throw new RangeError('covered time asked for out of order');
    this.lastAsked = x;
    const ts = this.ts;
    while (this.k + 1 < ts.length && ts[this.k + 1]! <= x) this.k++;
    const k = this.k;
    if (k < 0) return 0;
    const next = ts[k + 1];
    const inside = next !== undefined && next - ts[k]! <= this.maxGapMs;
    return this.prefix[k]! + (inside ? x - ts[k]! : 0);
  }
}

/** Covered ms from the first sample to each sample: shared by cursors over the same series. */
export function coveredPrefix(series: AcceptedSeries, maxGapMs: number): Float64Array {
  const ts = series.timestampsMs;
  const prefix = new Float64Array(ts.length);
  for (let i = 1; i < ts.length; i++) {
    const step = ts[i]! - ts[i - 1]!;
    prefix[i] = prefix[i - 1]! + (step <= maxGapMs ? step : 0);
  }
  return prefix;
}
