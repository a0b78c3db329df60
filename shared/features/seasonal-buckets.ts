/**
 * Fixed 5-minute buckets (mean and maximum) over the last 8 days, for
 * "what was it one day / one week ago" features. A ring indexed by
 * bucket number modulo the ring size; each slot remembers which bucket it
 * holds, so a slot left over from an older lap reads as unknown (NaN) rather
 * than as a wrong value. Typed arrays: one write per sample, O(1).
 */
export class SeasonalBuckets {
  private readonly bucketMs: number;
  private readonly size: number;
  private readonly keys: Float64Array;
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private readonly maxima: Float64Array;

  constructor(bucketMs: number, spanMs: number) {
    this.bucketMs = bucketMs;
    this.size = Math.ceil(spanMs / bucketMs);
    this.keys = new Float64Array(this.size).fill(NaN);
    this.sums = new Float64Array(this.size);
    this.counts = new Float64Array(this.size);
    this.maxima = new Float64Array(this.size);
  }

  push(t: number, v: number): void {
    const k = Math.floor(t / this.bucketMs);
    const slot = this.slotOf(k);
    if (this.keys[slot] !== k) {
      this.keys[slot] = k;
      this.sums[slot] = v;
      this.counts[slot] = 1;
      this.maxima[slot] = v;
    } else {
      this.sums[slot]! += v;
      this.counts[slot]! += 1;
      if (v > this.maxima[slot]!) this.maxima[slot] = v;
    }
  }

  /** Mean of the bucket holding time `t`; NaN when it has no samples (or has been overwritten). */
  meanAt(t: number): number {
    const k = Math.floor(t / this.bucketMs);
    const slot = this.slotOf(k);
    return this.keys[slot] === k ? this.sums[slot]! / this.counts[slot]! : NaN;
  }

  /** Maximum over the buckets holding times in [fromMs, toMs]; NaN when none has samples. */
  maxOver(fromMs: number, toMs: number): number {
    const kLast = Math.floor(toMs / this.bucketMs);
    let max = NaN;
    for (let k = Math.floor(fromMs / this.bucketMs); k <= kLast; k++) {
      const slot = this.slotOf(k);
      if (this.keys[slot] === k && !(this.maxima[slot]! <= max)) max = this.maxima[slot]!;
    }
    return max;
  }

  private slotOf(k: number): number {
    const r = k % this.size;
    return r < 0 ? r + this.size : r;
  }
}
