/**
 * One sliding time window over one series: count, mean, standard deviation,
 * least-squares trend, min/max, the share of samples above a threshold,
 * time coverage, and the trend between the window's two halves, all in O(1)
 * amortised per sample and per query.
 *
 * Samples are aggregated into buckets of `lengthMs / buckets` (see
 * BUCKETS_PER_WINDOW); the ring holds only buckets that have samples.
 * Running totals over the ring are kept relative to a reference time
 * `refMs` (time centring: with epoch milliseconds, Σt² would lose every
 * digit that matters). Bucket sums are relative to the bucket's own start,
 * so they never need re-basing; when the reference moves (once per window
 * length) or most of the window has just left, the totals are summed afresh
 * from the buckets, which also clears the rounding that adding and
 * subtracting leaves behind.
 *
 * Determinism: only `push` changes state. `query` is read-only, so features
 * at a time depend only on the samples pushed before it, never on when or how
 * often anyone asked: the live and the replay path see the same numbers.
 */
import { BucketExtremes } from './bucket-extremes.js';

// Fields of one bucket in the packed ring (one Float64Array, stride STRIDE,
// for locality: this runs on every sample of every series).
/** Bucket index, floor(t / bucketMs). */
const B_K = 0;
const B_N = 1;
/** Σu, Σu², Σu·v with u = t − k·bucketMs, ms. */
const B_SU = 2;
const B_SUU = 3;
const B_SUV = 4;
const B_SV = 5;
const B_SVV = 6;
/** Samples at or above the threshold. */
const B_ABOVE = 7;
/** Covered ms of the sample intervals that end in this bucket. */
const B_COVERED = 8;
/** Start of the covered interval ending at the bucket's first sample; NaN when not covered. */
const B_FIRST_START = 9;
const STRIDE = 10;

// Fields of a totals vector. Times relative to refMs.
const T_N = 0;
const T_T = 1;
const T_TT = 2;
const T_TV = 3;
const T_V = 4;
const T_VV = 5;
const T_ABOVE = 6;
const T_COVERED = 7;
const TOTALS = 8;

/** Below this share of Σ(t−ref)², the time spread is rounding noise and there is no trend. */
const MIN_RELATIVE_SPREAD = 1e-12;

export interface WindowStats {
  count: number;
  mean: number;
  /** Population standard deviation; NaN below two samples. */
  std: number;
  min: number;
  max: number;
  /** Least-squares slope, value per ms; NaN below two samples. */
  slopePerMs: number;
  /** The least-squares line's value at the query time. */
  fittedAtQuery: number;
  /** Share of samples at or above the threshold. */
  aboveFrac: number;
  /** Share of the window's time between samples at most MAX_SAMPLE_GAP_MS apart, 0..1. */
  coverage: number;
  /** Slope between the means of the window's older and recent halves, value per ms. */
  halvesSlopePerMs: number;
  /** That line's value at the query time. */
  halvesLevelAtQuery: number;
}

export function emptyWindowStats(): WindowStats {
  return {
    count: 0,
    mean: NaN,
    std: NaN,
    min: NaN,
    max: NaN,
    slopePerMs: NaN,
    fittedAtQuery: NaN,
    aboveFrac: NaN,
    coverage: 0,
    halvesSlopePerMs: NaN,
    halvesLevelAtQuery: NaN,
  };
}

export class TimeWindow {
  readonly lengthMs: number;
  readonly bucketMs: number;
  private readonly halfMs: number;
  private readonly capacity: number;
  private readonly buckets: Float64Array;
  /** Bucket sequence numbers: ring [head, tail); the recent half starts at mid. slot = seq % capacity. */
  private head = 0;
  private tail = 0;
  private mid = 0;
  private refMs = NaN;
  /** Totals over [head, tail). */
  private readonly totals = new Float64Array(TOTALS);
  /** Totals over [mid, tail); only count, Σt, Σv are used. */
  private readonly midTotals = new Float64Array(TOTALS);
  private readonly maxima: BucketExtremes;
  private readonly minima: BucketExtremes;
  // Query scratch, so a query allocates nothing.
  private readonly q = new Float64Array(TOTALS);
  private readonly qMid = new Float64Array(TOTALS);

  constructor(lengthMs: number, buckets: number) {
    if (!(buckets >= 2 && buckets % 2 === 0)) throw new RangeError('buckets must be even and at least 2');
    this.lengthMs = lengthMs;
    this.bucketMs = lengthMs / buckets;
    this.halfMs = lengthMs / 2;
    // Buckets with k in [floor((t−W)/b) + 1, floor(t/b)]: at most `buckets`; +2 for slack.
    this.capacity = buckets + 2;
    this.buckets = new Float64Array(this.capacity * STRIDE);
    this.maxima = new BucketExtremes(this.capacity, 1);
    this.minima = new BucketExtremes(this.capacity, -1);
  }

  /**
   * Adds one sample. `t` increases strictly from call to call (the caller
   * enforces it). `coveredMs` is the length of the interval since the
   * previous sample when that interval is no gap, else 0; `intervalStart` is
   * that interval's start, NaN when it is a gap.
   */
  push(t: number, v: number, above: boolean, coveredMs: number, intervalStart: number): void {
    const b = this.bucketMs;
    const k = Math.floor(t / b);
    const kLo = Math.floor((t - this.lengthMs) / b) + 1;
    const kMid = Math.floor((t - this.halfMs) / b) + 1;
    const buckets = this.buckets;

    while (this.mid < this.tail && buckets[this.slot(this.mid) + B_K]! < kMid) {
      this.addBucket(this.midTotals, this.mid, -1);
      this.mid++;
    }
    let expired = 0;
    while (this.head < this.tail && buckets[this.slot(this.head) + B_K]! < kLo) {
      this.addBucket(this.totals, this.head, -1);
      this.head++;
      expired++;
    }

    if (Number.isNaN(this.refMs)) this.refMs = k * b;
    let s: number;
    if (this.tail > this.head && buckets[this.slot(this.tail - 1) + B_K] === k) {
      s = this.slot(this.tail - 1);
    } else {
      s = this.slot(this.tail);
      buckets.fill(0, s, s + STRIDE);
      buckets[s + B_K] = k;
      buckets[s + B_FIRST_START] = intervalStart;
      this.tail++;
    }
    const u = t - k * b;
    buckets[s + B_N]! += 1;
    buckets[s + B_SU]! += u;
    buckets[s + B_SUU]! += u * u;
    buckets[s + B_SUV]! += u * v;
    buckets[s + B_SV]! += v;
    buckets[s + B_SVV]! += v * v;
    buckets[s + B_ABOVE]! += above ? 1 : 0;
    buckets[s + B_COVERED]! += coveredMs;

    const d = t - this.refMs;
    const tot = this.totals;
    tot[T_N]! += 1;
    tot[T_T]! += d;
    tot[T_TT]! += d * d;
    tot[T_TV]! += d * v;
    tot[T_V]! += v;
    tot[T_VV]! += v * v;
    tot[T_ABOVE]! += above ? 1 : 0;
    tot[T_COVERED]! += coveredMs;
    const mt = this.midTotals;
    mt[T_N]! += 1;
    mt[T_T]! += d;
    mt[T_V]! += v;

    // Re-base when the reference has fallen a window behind, or when most of
    // the window has just left (subtracting most of a sum leaves mostly
    // rounding). Both cost at most what has expired since: O(1) amortised.
    if (t - this.refMs > this.lengthMs || (expired > 0 && expired >= this.tail - this.head)) {
      this.refMs = k * b;
      this.sumRange(this.totals, this.head, this.tail);
      this.sumRange(this.midTotals, this.mid, this.tail);
    }

    this.maxima.expire(kLo);
    this.maxima.push(k, v);
    this.minima.expire(kLo);
    this.minima.push(k, v);
  }

  /** The window's statistics at `atMs` (≥ the last pushed time), written to `out`. Read-only. */
  query(atMs: number, out: WindowStats): void {
    const b = this.bucketMs;
    const kLo = Math.floor((atMs - this.lengthMs) / b) + 1;
    const kMid = Math.floor((atMs - this.halfMs) / b) + 1;
    const first = this.firstAtOrAfter(this.head, kLo);
    const q = this.windowTotals(this.q, this.totals, this.head, first);
    const n = q[T_N]!;
    const windowStart = kLo * b;

    let covered = q[T_COVERED]!;
    if (first < this.tail) {
      const start = this.buckets[this.slot(first) + B_FIRST_START]!;
      if (start < windowStart) covered -= windowStart - start;
    }
    out.count = n;
    out.coverage = Math.min(1, Math.max(0, covered / (atMs - windowStart)));
    if (n === 0) {
      out.mean = out.std = out.min = out.max = NaN;
      out.slopePerMs = out.fittedAtQuery = out.aboveFrac = NaN;
      out.halvesSlopePerMs = out.halvesLevelAtQuery = NaN;
      return;
    }

    const mean = q[T_V]! / n;
    out.mean = mean;
    out.std = n >= 2 ? Math.sqrt(Math.max(0, q[T_VV]! / n - mean * mean)) : NaN;
    out.max = this.maxima.peek(kLo);
    out.min = this.minima.peek(kLo);
    out.aboveFrac = q[T_ABOVE]! / n;

    const now = atMs - this.refMs;
    const tMean = q[T_T]! / n;
    const sxx = q[T_TT]! - q[T_T]! * tMean;
    const sxy = q[T_TV]! - q[T_T]! * mean;
    if (n >= 2 && sxx > MIN_RELATIVE_SPREAD * q[T_TT]!) {
      out.slopePerMs = sxy / sxx;
      out.fittedAtQuery = mean + out.slopePerMs * (now - tMean);
    } else {
      out.slopePerMs = out.fittedAtQuery = NaN;
    }

    const midFirst = this.firstAtOrAfter(Math.max(this.mid, first), kMid);
    const m = this.windowTotals(this.qMid, this.midTotals, this.mid, midFirst);
    const nRecent = m[T_N]!;
    const nOlder = n - nRecent;
    if (nRecent >= 1 && nOlder >= 1) {
      const recentMean = m[T_V]! / nRecent;
      const recentT = m[T_T]! / nRecent;
      const olderMean = (q[T_V]! - m[T_V]!) / nOlder;
      const olderT = (q[T_T]! - m[T_T]!) / nOlder;
      out.halvesSlopePerMs = (recentMean - olderMean) / (recentT - olderT);
      out.halvesLevelAtQuery = recentMean + out.halvesSlopePerMs * (now - recentT);
    } else {
      out.halvesSlopePerMs = out.halvesLevelAtQuery = NaN;
    }
  }

  private slot(seq: number): number {
    return (seq % this.capacity) * STRIDE;
  }

  /** The first sequence number ≥ `from` whose bucket index is ≥ `kLo`. */
  private firstAtOrAfter(from: number, kLo: number): number {
    let seq = from;
    while (seq < this.tail && this.buckets[this.slot(seq) + B_K]! < kLo) seq++;
    return seq;
  }

  /**
   * Totals over [first, tail) given the running totals over [from, tail):
   * the running ones as they are, minus [from, first), or summed afresh when
   * more would be subtracted than kept (see the re-base in push).
   */
  private windowTotals(into: Float64Array, running: Float64Array, from: number, first: number): Float64Array {
    if (first === from) {
      into.set(running);
    } else if (first - from >= this.tail - first) {
      this.sumRange(into, first, this.tail);
    } else {
      into.set(running);
      for (let seq = from; seq < first; seq++) this.addBucket(into, seq, -1);
    }
    return into;
  }

  private sumRange(into: Float64Array, from: number, to: number): void {
    into.fill(0);
    for (let seq = from; seq < to; seq++) this.addBucket(into, seq, 1);
  }

  /** Adds (sign 1) or removes (sign −1) one bucket's contribution to a totals vector. */
  private addBucket(into: Float64Array, seq: number, sign: 1 | -1): void {
    const buckets = this.buckets;
    const s = this.slot(seq);
    const n = buckets[s + B_N]!;
    const su = buckets[s + B_SU]!;
    const sv = buckets[s + B_SV]!;
    // Offset of the bucket's start from the reference time.
    const c = buckets[s + B_K]! * this.bucketMs - this.refMs;
    into[T_N]! += sign * n;
    into[T_T]! += sign * (su + n * c);
    into[T_TT]! += sign * (buckets[s + B_SUU]! + c * (2 * su + n * c));
    into[T_TV]! += sign * (buckets[s + B_SUV]! + c * sv);
    into[T_V]! += sign * sv;
    into[T_VV]! += sign * buckets[s + B_SVV]!;
    into[T_ABOVE]! += sign * buckets[s + B_ABOVE]!;
    into[T_COVERED]! += sign * buckets[s + B_COVERED]!;
  }
}
