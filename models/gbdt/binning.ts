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
  /**
   * Row-major bin indices (row * numFeatures + feature). Row-major because
   * histogram building gathers whole rows of a node: one cache line per row
   * instead of one per feature.
   */
  data: Uint8Array;
  /**
   * Row-major histogram slot of each cell: histOffset[feature] + bin. The
   * histogram loop reads this instead of adding the offset every time.
   */
  slots: Uint16Array;
  /**
   * Column-major bin indices (feature * numRows + row). Partitioning a node
   * reads one feature for ascending rows, which is sequential in this layout.
   */
  columns: Uint8Array;
  /** Offset of each feature's bins in a histogram; the feature spans count + 1 slots (NaN last). */
  histOffset: Int32Array;
  /** Total histogram slots over all features. */
  histSize: number;
}

/** Finds bin upper bounds for one feature from (a sample of) its values. */
export function findBins(values: Float32Array, maxBin: number): FeatureBins {
  // Typed-array sort is numeric and puts NaN last.
  const sorted = values.slice().sort();
  let nonNan = sorted.length;
  while (nonNan > 0 && Number.isNaN(sorted[nonNan - 1])) nonNan--;
  const finite = sorted.subarray(0, nonNan);
  if (finite.length === 0) return { upper: Float32Array.of(Infinity), count: 1 };
  // Distinct values and their counts.
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < finite.length; i++) {
    const v = finite[i]!;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1]!++;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const cuts: number[] = []; // index i: cut between distinct[i] and distinct[i + 1]
  if (distinct.length <= maxBin) {
    for (let i = 0; i < distinct.length - 1; i++) cuts.push(i);
  } else {
    // Greedy equal-frequency cuts; a heavy value gets a bin of its own.
    let remaining = finite.length;
    let binsLeft = maxBin;
    let acc = 0;
    for (let i = 0; i < distinct.length - 1 && binsLeft > 1; i++) {
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
  cuts.forEach((i, k) => (upper[k] = midpoint(distinct[i]!, distinct[i + 1]!)));
  upper[cuts.length] = Infinity;
  return { upper, count: upper.length };
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
 * Bins a row-major float32 matrix. Bin bounds come from an evenly spaced
 * sample of at most `sampleCount` rows (deterministic), as LightGBM's
 * bin_construct_sample_cnt.
 */
export function binMatrix(
  features: Float32Array,
  numRows: number,
  numFeatures: number,
  maxBin: number,
  sampleCount: number,
  existing?: FeatureBins[],
): BinnedData {
  const bins: FeatureBins[] = existing ?? [];
  if (!existing) {
    const sampleRows = Math.min(numRows, sampleCount);
    const step = numRows / sampleRows;
    const column = new Float32Array(sampleRows);
    for (let f = 0; f < numFeatures; f++) {
      for (let i = 0; i < sampleRows; i++) column[i] = features[Math.floor(i * step) * numFeatures + f]!;
      bins.push(findBins(column, maxBin));
    }
  }
  const histOffset = new Int32Array(numFeatures);
  let histSize = 0;
  for (let f = 0; f < numFeatures; f++) {
    histOffset[f] = histSize;
    histSize += bins[f]!.count + 1;
  }
  const data = new Uint8Array(numRows * numFeatures);
  const slots = new Uint16Array(numRows * numFeatures);
  const columns = new Uint8Array(numRows * numFeatures);
  for (let r = 0; r < numRows; r++) {
    const base = r * numFeatures;
    for (let f = 0; f < numFeatures; f++) {
      const b = binOf(bins[f]!, features[base + f]!);
      data[base + f] = b;
      slots[base + f] = histOffset[f]! + b;
      columns[f * numRows + r] = b;
    }
  }
  return { numRows, numFeatures, bins, data, slots, columns, histOffset, histSize };
}
