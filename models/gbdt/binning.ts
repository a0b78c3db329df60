/**
 * Quantile binning, LightGBM-style: each feature's values are mapped to at
 * most `maxBin` bins whose upper bounds are float32 values, plus one extra bin
 * for NaN. A value v (as float32) lands in the first bin b with v <= upper[b];
 * the last value bin's upper bound is +Infinity. Because split thresholds are
 * these same upper bounds, a split "bin <= b" in training is exactly
 * "fround(x) <= upper[b]" at inference.
 */
export interface FeatureBins {
  /** Upper bound of each value bin, ascending; the last is +Infinity. */
  upper: Float32Array;
  /** Number of value bins; the NaN bin's index is `count`. */
  count: number;
}

export interface BinnedData {
  numRows: number;
  numFeatures: number;
  bins: FeatureBins[];
  /** `bins[f].count` per feature (also the NaN bin's index), for the hot loops. */
  binCount: Int32Array;
  /**
   * One record of `recordWords` 32-bit words per row, in row order (see
   * RECORD): the row's gradient and hessian (float32, written before each
   * tree), its index, then its bins packed four to a word (feature f in byte
   * BIN_BYTES + f). Everything a histogram pass needs of a row sits in one
   * 32-byte record for up to 20 features, and a tree reorders whole records
   * so that each node's rows are contiguous. SharedArrayBuffer-backed when
   * worker threads read it too.
   */
  records: Uint32Array;
  recordWords: number;
}

/** Layout of a row record, in 32-bit words. */
export const RECORD = {
  gradient: 0,
  hessian: 1,
  row: 2,
  /** First word of the packed bins. */
  bins: 3,
} as const;
/** Byte offset of feature 0's bin in a record. */
export const BIN_BYTES = RECORD.bins * 4;

/** Words per row record for `numFeatures` features. */
function recordWordsFor(numFeatures: number): number {
  return RECORD.bins + Math.ceil(numFeatures / 4);
}

/**
 * Float32 bits → an unsigned key with the same order as the numbers (NaN
 * excluded): negative values have all bits flipped, others the sign bit set.
 */
function orderKey(bits: number): number {
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

/** orderKey's inverse: the float32 bits of a key. */
function keyBits(key: number): number {
  return (key & 0x80000000 ? key ^ 0x80000000 : ~key) >>> 0;
}

/** Float32 bits of NaN have an all-ones exponent and a non-zero mantissa. */
function isNanBits(bits: number): boolean {
  return (bits & 0x7fffffff) > 0x7f800000;
}

/**
 * LSD radix sort of unsigned 32-bit keys in three passes of 11, 11 and 10
 * bits. Returns the sorted keys in `scratch` (`keys` is clobbered). A
 * typed-array sort of the floats costs about 18 ms per 200k values; this
 * about 2 ms, and it is most of what finding bins costs.
 */
function radixSort(keys: Uint32Array, scratch: Uint32Array): Uint32Array {
  const n = keys.length;
  const counts = new Int32Array(2048 * 3);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    counts[k & 2047]!++;
    counts[2048 + ((k >>> 11) & 2047)]!++;
    counts[4096 + (k >>> 22)]!++;
  }
  for (let pass = 0; pass < 3; pass++) {
    let sum = 0;
    for (let d = pass * 2048, end = d + 2048; d < end; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
  }
  let from = keys;
  let to = scratch;
  for (let pass = 0, shift = 0; pass < 3; pass++, shift += 11) {
    const base = pass * 2048;
    const mask = pass === 2 ? 1023 : 2047;
    for (let i = 0; i < n; i++) {
      const k = from[i]!;
      to[counts[base + ((k >>> shift) & mask)]!++] = k;
    }
    [from, to] = [to, from];
  }
  return from;
}

/** Finds bin upper bounds for one feature from (a sample of) its values. */
export function findBins(values: Float32Array, maxBin: number): FeatureBins {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const keys = new Uint32Array(values.length);
  let nonNan = 0;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    if (!isNanBits(b)) keys[nonNan++] = orderKey(b);
  }
  return binsFromKeys(keys.subarray(0, nonNan), maxBin);
}

/** orderKey of -0 and of +0: adjacent keys of one number. */
const NEGATIVE_ZERO_KEY = 0x7fffffff;
const POSITIVE_ZERO_KEY = 0x80000000;

/** findBins on the order keys of a feature's non-NaN values (which it clobbers). */
function binsFromKeys(keys: Uint32Array, maxBin: number): FeatureBins {
  const nonNan = keys.length;
  if (nonNan === 0) return { upper: Float32Array.of(Infinity), count: 1 };
  // Sorting the keys sorts the values as a numeric sort would (-0 before +0).
  const sorted = radixSort(keys, new Uint32Array(nonNan));
  // Distinct values and their counts (-0 and +0 are one value: the first seen is kept).
  const distinct = new Uint32Array(nonNan);
  const counts = new Int32Array(nonNan);
  let numDistinct = 0;
  for (let i = 0; i < nonNan; i++) {
    const k = sorted[i]!;
    const last = distinct[numDistinct - 1];
    if (numDistinct > 0 && (last === k || (last === NEGATIVE_ZERO_KEY && k === POSITIVE_ZERO_KEY))) {
      counts[numDistinct - 1]!++;
    } else {
      distinct[numDistinct] = k;
      counts[numDistinct++] = 1;
    }
  }
  const cuts: number[] = []; // index i: cut between distinct[i] and distinct[i + 1]
  if (numDistinct <= maxBin) {
    for (let i = 0; i < numDistinct - 1; i++) cuts.push(i);
  } else {
    // Greedy equal-frequency cuts; a heavy value gets a bin of its own.
    let remaining = nonNan;
    let binsLeft = maxBin;
    let acc = 0;
    for (let i = 0; i < numDistinct - 1 && binsLeft > 1; i++) {
      acc += counts[i]!;
      const target = remaining / binsLeft;
      const next = counts[i + 1]!;
      if (acc >= target || (acc > 0 && next >= target)) {
        cuts.push(i);
        remaining -= acc;
        binsLeft--;
        acc = 0;
      }
    }
  }
  const upper = new Float32Array(cuts.length + 1);
  cuts.forEach((i, k) => (upper[k] = midpoint(valueOfKey(distinct[i]!), valueOfKey(distinct[i + 1]!))));
  upper[cuts.length] = Infinity;
  return { upper, count: upper.length };
}

const keyScratch = new Uint32Array(1);
const keyValue = new Float32Array(keyScratch.buffer);

/** The float32 number of an order key. */
function valueOfKey(key: number): number {
  keyScratch[0] = keyBits(key);
  return keyValue[0]!;
}

/** A float32 t with a <= t < b, halfway where float32 allows it. */
function midpoint(a: number, b: number): number {
  const mid = Math.fround(a / 2 + b / 2);
  return mid >= a && mid < b ? mid : a;
}

/** The bin of one value: NaN → the NaN bin; otherwise the first bin whose upper bound is >= the value. */
export function binOf(bins: FeatureBins, value: number): number {
  if (Number.isNaN(value)) return bins.count;
  const v = Math.fround(value);
  const upper = bins.upper;
  let lo = 0;
  let hi = bins.count - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= upper[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * binOf for every value of every feature, on order keys: a key's top 16 bits
 * index a table of the first bin that can hold it, and a short scan (rarely
 * more than one step) finishes. -0 takes +0's key, so comparing keys is
 * comparing floats. The tables of all features sit in flat typed arrays,
 * feature f's at f << 16 and f << 8, which the row loop indexes directly:
 * about 4x faster than binOf's binary search.
 */
class BinLookup {
  /** First bin that can hold a key, by feature and top 16 bits of the key. */
  private readonly first: Uint8Array;
  /** Order keys of the bins' upper bounds, by feature (256 slots each). */
  private readonly upperKeys: Uint32Array;

  constructor(private readonly bins: FeatureBins[]) {
    this.first = new Uint8Array(bins.length << 16);
    this.upperKeys = new Uint32Array(bins.length << 8);
    bins.forEach(({ upper, count }, f) => {
      const keys = this.upperKeys.subarray(f << 8, (f << 8) + count);
      const upperBits = new Uint32Array(upper.buffer, upper.byteOffset, count);
      for (let b = 0; b < count; b++) keys[b] = zeroSafeKey(upperBits[b]!);
      const first = this.first.subarray(f << 16, (f + 1) << 16);
      let b = 0;
      for (let top = 0; top < 65536; top++) {
        const lowest = top * 65536;
        while (b < count - 1 && keys[b]! < lowest) b++;
        first[top] = b;
      }
    });
  }

  /** Bins row r's values (float32 bits at bits[r·F, r·F + F)) into bytes[at, at + F). */
  binRow(bits: Uint32Array, r: number, bytes: Uint8Array, at: number): void {
    const F = this.bins.length;
    const { first, upperKeys } = this;
    for (let f = 0, from = r * F; f < F; f++) {
      const v = bits[from + f]!;
      if (isNanBits(v)) {
        bytes[at + f] = this.bins[f]!.count;
        continue;
      }
      const key = zeroSafeKey(v);
      let b = first[(f << 16) | (key >>> 16)]!;
      while (upperKeys[(f << 8) + b]! < key) b++;
      bytes[at + f] = b;
    }
  }
}

/** orderKey with -0 mapped to +0. */
function zeroSafeKey(bits: number): number {
  return orderKey(bits === 0x80000000 ? 0 : bits);
}

/**
 * Bins a row-major float32 matrix. Bin bounds come from an evenly spaced
 * sample of at most `sampleCount` rows (deterministic), as LightGBM's
 * bin_construct_sample_cnt. With `shared`, the row records live in a
 * SharedArrayBuffer so worker threads can read them.
 */
export function binMatrix(
  features: Float32Array,
  numRows: number,
  numFeatures: number,
  maxBin: number,
  sampleCount: number,
  existing?: FeatureBins[],
  shared = false,
): BinnedData {
  const F = numFeatures;
  const bits = new Uint32Array(features.buffer, features.byteOffset, features.length);
  const bins: FeatureBins[] = existing ?? [];
  if (!existing) {
    // The sample's order keys, feature-major, from one pass over the rows (reading a column at a
    // time would stride through the whole matrix once per feature).
    const sampleRows = Math.min(numRows, sampleCount);
    const step = numRows / sampleRows;
    const keys = new Uint32Array(F * sampleRows);
    const nonNan = new Int32Array(F);
    for (let i = 0; i < sampleRows; i++) {
      const base = Math.floor(i * step) * F;
      for (let f = 0; f < F; f++) {
        const b = bits[base + f]!;
        if (!isNanBits(b)) keys[f * sampleRows + nonNan[f]!++] = orderKey(b);
      }
    }
    for (let f = 0; f < F; f++) {
      bins.push(binsFromKeys(keys.subarray(f * sampleRows, f * sampleRows + nonNan[f]!), maxBin));
    }
  }
  const W = recordWordsFor(F);
  const bytes = numRows * W * 4;
  const records = new Uint32Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const recordBytes = new Uint8Array(records.buffer);
  const lookup = new BinLookup(bins);
  for (let r = 0; r < numRows; r++) {
    records[r * W + RECORD.row] = r;
    lookup.binRow(bits, r, recordBytes, r * W * 4 + BIN_BYTES);
  }
  return {
    numRows,
    numFeatures,
    bins,
    binCount: Int32Array.from(bins, (b) => b.count),
    records,
    recordWords: W,
  };
}
