import { RECORD } from './binning.js';

// The record layout as module constants, folded into the loops (RECORD's fields, of an imported
// object, would be loaded on every row). Checked against RECORD when the module loads.
const GRADIENT = 0;
const HESSIAN = 1;
const BINS = 3;
if (RECORD.gradient !== GRADIENT || RECORD.hessian !== HESSIAN || RECORD.bins !== BINS) {
  throw new Error('histogram-kernels.ts does not match the record layout in binning.ts');
}

/**
 * The histogram inner loops, over row records laid out as in binning.ts. A
 * pass reads `count` (1..PASS_WORDS) bin words from word `firstWord` of the
 * bins of records [begin, end) and adds into SUM_G / SUM_H at slot
 * (word - firstWord) · 1024 + (byte in word) · 256 + bin, i.e. feature j of
 * the pass at j << 8. Callers copy the sums out and zero what they used.
 *
 * Written out by hand for speed, which V8 gives only under three conditions
 * (measured on 200k rows × 20 features, all in cache):
 * - the sums go to module-level constant arrays that are not exported: V8
 *   then compiles their address and length in and drops the bounds checks,
 *   and the registers a passed-in array costs are left to the loop (arrays
 *   passed in: 25 ns per row; exported constants: 28; these: 20);
 * - no inner loop over words: nested ifs on the word count instead, every
 *   slot offset a literal (a `for` over words: 33 ns per row; ifs not nested:
 *   23; a helper function per word, which is not inlined: 46);
 * - the record layout as local constants, not RECORD's fields.
 * Each (feature, bin) sum still gets a node's rows in row order.
 */
export const PASS_WORDS = 8;
/** Slots per sum array: 4 features per word, 256 slots per feature. */
const PASS_SLOTS = (PASS_WORDS * 4) << 8;
/**
 * Σ gradient per slot; all zero between passes. Not exported: V8 folds a module's own constants into its
 * code, not exported ones (which live in cells); copySums and clearSums hand
 * the sums out.
 */
const SUM_G = new Float64Array(PASS_SLOTS);
/** Σ hessian per slot; all zero between passes. */
const SUM_H = new Float64Array(PASS_SLOTS);

/** Copies the sums of pass slots [from, to) into `hist`: the gradient sums at gradientAt, the hessian sums at hessianAt. */
export function copySums(
  hist: Float64Array,
  from: number,
  to: number,
  gradientAt: number,
  hessianAt: number,
): void {
  hist.set(SUM_G.subarray(from, to), gradientAt);
  hist.set(SUM_H.subarray(from, to), hessianAt);
}

/** Zeroes pass slots [0, slots) of both sums, for the next pass. */
export function clearSums(slots: number): void {
  SUM_G.fill(0, 0, slots);
  SUM_H.fill(0, 0, slots);
}

/** Adds gradient and hessian of records [begin, end) for bin words [firstWord, firstWord + count). */
export function accumulatePairs(
  words: Uint32Array,
  floats: Float32Array,
  recordWords: number,
  firstWord: number,
  count: number,
  begin: number,
  end: number,
): void {
  const W = recordWords;
  const firstBin = BINS + firstWord;
  for (let rw = begin * W, stop = end * W; rw < stop; rw += W) {
    const g = floats[rw + GRADIENT]!;
    const h = floats[rw + HESSIAN]!;
    const at = rw + firstBin;
    const word0 = words[at + 0]!;
    const a0 = 0 | (word0 & 255);
    const b0 = 256 | ((word0 >>> 8) & 255);
    const c0 = 512 | ((word0 >>> 16) & 255);
    const d0 = 768 | (word0 >>> 24);
    SUM_G[a0]! += g;
    SUM_H[a0]! += h;
    SUM_G[b0]! += g;
    SUM_H[b0]! += h;
    SUM_G[c0]! += g;
    SUM_H[c0]! += h;
    SUM_G[d0]! += g;
    SUM_H[d0]! += h;
    if (count > 1) {
      const word1 = words[at + 1]!;
      const a1 = 1024 | (word1 & 255);
      const b1 = 1280 | ((word1 >>> 8) & 255);
      const c1 = 1536 | ((word1 >>> 16) & 255);
      const d1 = 1792 | (word1 >>> 24);
      SUM_G[a1]! += g;
      SUM_H[a1]! += h;
      SUM_G[b1]! += g;
      SUM_H[b1]! += h;
      SUM_G[c1]! += g;
      SUM_H[c1]! += h;
      SUM_G[d1]! += g;
      SUM_H[d1]! += h;
      if (count > 2) {
        const word2 = words[at + 2]!;
        const a2 = 2048 | (word2 & 255);
        const b2 = 2304 | ((word2 >>> 8) & 255);
        const c2 = 2560 | ((word2 >>> 16) & 255);
        const d2 = 2816 | (word2 >>> 24);
        SUM_G[a2]! += g;
        SUM_H[a2]! += h;
        SUM_G[b2]! += g;
        SUM_H[b2]! += h;
        SUM_G[c2]! += g;
        SUM_H[c2]! += h;
        SUM_G[d2]! += g;
        SUM_H[d2]! += h;
        if (count > 3) {
          const word3 = words[at + 3]!;
          const a3 = 3072 | (word3 & 255);
          const b3 = 3328 | ((word3 >>> 8) & 255);
          const c3 = 3584 | ((word3 >>> 16) & 255);
          const d3 = 3840 | (word3 >>> 24);
          SUM_G[a3]! += g;
          SUM_H[a3]! += h;
          SUM_G[b3]! += g;
          SUM_H[b3]! += h;
          SUM_G[c3]! += g;
          SUM_H[c3]! += h;
          SUM_G[d3]! += g;
          SUM_H[d3]! += h;
          if (count > 4) {
            const word4 = words[at + 4]!;
            const a4 = 4096 | (word4 & 255);
            const b4 = 4352 | ((word4 >>> 8) & 255);
            const c4 = 4608 | ((word4 >>> 16) & 255);
            const d4 = 4864 | (word4 >>> 24);
            SUM_G[a4]! += g;
            SUM_H[a4]! += h;
            SUM_G[b4]! += g;
            SUM_H[b4]! += h;
            SUM_G[c4]! += g;
            SUM_H[c4]! += h;
            SUM_G[d4]! += g;
            SUM_H[d4]! += h;
            if (count > 5) {
              const word5 = words[at + 5]!;
              const a5 = 5120 | (word5 & 255);
              const b5 = 5376 | ((word5 >>> 8) & 255);
              const c5 = 5632 | ((word5 >>> 16) & 255);
              const d5 = 5888 | (word5 >>> 24);
              SUM_G[a5]! += g;
              SUM_H[a5]! += h;
              SUM_G[b5]! += g;
              SUM_H[b5]! += h;
              SUM_G[c5]! += g;
              SUM_H[c5]! += h;
              SUM_G[d5]! += g;
              SUM_H[d5]! += h;
              if (count > 6) {
                const word6 = words[at + 6]!;
                const a6 = 6144 | (word6 & 255);
                const b6 = 6400 | ((word6 >>> 8) & 255);
                const c6 = 6656 | ((word6 >>> 16) & 255);
                const d6 = 6912 | (word6 >>> 24);
                SUM_G[a6]! += g;
                SUM_H[a6]! += h;
                SUM_G[b6]! += g;
                SUM_H[b6]! += h;
                SUM_G[c6]! += g;
                SUM_H[c6]! += h;
                SUM_G[d6]! += g;
                SUM_H[d6]! += h;
                if (count > 7) {
                  const word7 = words[at + 7]!;
                  const a7 = 7168 | (word7 & 255);
                  const b7 = 7424 | ((word7 >>> 8) & 255);
                  const c7 = 7680 | ((word7 >>> 16) & 255);
                  const d7 = 7936 | (word7 >>> 24);
                  SUM_G[a7]! += g;
                  SUM_H[a7]! += h;
                  SUM_G[b7]! += g;
                  SUM_H[b7]! += h;
                  SUM_G[c7]! += g;
                  SUM_H[c7]! += h;
                  SUM_G[d7]! += g;
                  SUM_H[d7]! += h;
                }
              }
            }
          }
        }
      }
    }
  }
}
