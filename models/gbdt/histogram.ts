import { accumulatePairs, clearSums, copySums, PASS_WORDS } from './histogram-kernels.js';

/**
 * Gradient histograms. Feature f owns slots [f << BIN_SHIFT, (f + 1) <<
 * BIN_SHIFT) (bins 0..count-1, then NaN at `count`); a histogram of F
 * features is one Float64Array of 2·S values, S = F << BIN_SHIFT: Σ gradient
 * per slot in [0, S), Σ hessian per slot in [S, 2S). A fixed stride per
 * feature turns "slot of (feature, bin)" into a shift and an or; it costs
 * 4 KB per feature and histogram whatever maxBin is (80 KB for 20 features).
 * Row counts are not kept per bin: like LightGBM, a split estimates them from
 * the hessian share of the node's exact count. Float64 sums keep precision
 * over millions of float32 gradients.
 *
 * Every (feature, bin) sum is accumulated over a node's rows in ascending
 * row order, whichever kernel or thread does it, so results do not depend on
 * the number of threads.
 */
export const BIN_SHIFT = 8;

/** Values in a histogram over `numFeatures` features (both halves). */
export function histogramLength(numFeatures: number): number {
  return 2 * (numFeatures << BIN_SHIFT);
}

/** Row records (BinnedData.records layout) as words and as floats. */
export interface RecordViews {
  words: Uint32Array;
  floats: Float32Array;
  recordWords: number;
}

export function recordViews(words: Uint32Array, recordWords: number): RecordViews {
  const floats = new Float32Array(words.buffer, words.byteOffset, words.length);
  return { words, floats, recordWords };
}

/**
 * Builds the histogram of records [begin, end) for features[k0, k1) (of an
 * ascending feature list) into `hist`, overwriting their slots. Reads the
 * bin words that hold them, in passes of at most PASS_WORDS words; features
 * that share a word with these are summed too but not copied out.
 */
export function buildHistogram(
  rec: RecordViews,
  numFeatures: number,
  binCount: Int32Array,
  features: Int32Array,
  k0: number,
  k1: number,
  begin: number,
  end: number,
  hist: Float64Array,
): void {
  const { words, floats, recordWords: W } = rec;
  const S = numFeatures << BIN_SHIFT;
  const w1 = (features[k1 - 1]! >> 2) + 1;
  let k = k0;
  for (let p0 = features[k0]! >> 2; p0 < w1; p0 += PASS_WORDS) {
    const count = Math.min(PASS_WORDS, w1 - p0);
    accumulatePairs(words, floats, W, p0, count, begin, end);
    // Copy the pass's sums out, then leave the sum arrays zeroed for the next pass.
    const f0 = p0 * 4;
    for (; k < k1 && features[k]! < f0 + count * 4; k++) {
      const f = features[k]!;
      const from = (f - f0) << BIN_SHIFT;
      const at = f << BIN_SHIFT;
      copySums(hist, from, from + binCount[f]! + 1, at, S + at);
    }
    clearSums((count * 4) << BIN_SHIFT);
  }
}

/** parent -= child over features[k0, k1): the sibling's histogram without a pass over its rows. */
export function subtractFeatures(
  parent: Float64Array,
  child: Float64Array,
  numFeatures: number,
  binCount: Int32Array,
  features: Int32Array,
  k0: number,
  k1: number,
): void {
  const S = numFeatures << BIN_SHIFT;
  for (let k = k0; k < k1; k++) {
    const f = features[k]!;
    const from = f << BIN_SHIFT;
    const to = from + binCount[f]! + 1;
    for (let s = from; s < to; s++) {
      parent[s]! -= child[s]!;
      parent[S + s]! -= child[S + s]!;
    }
  }
}
