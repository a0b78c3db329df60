import { BIN_SHIFT } from './histogram.js';

/** Regularisation and constraints that decide whether and where a node splits. */
export interface SplitRules {
  lambdaL1: number;
  lambdaL2: number;
  minDataInLeaf: number;
  minSumHessianInLeaf: number;
  minGainToSplit: number;
}

/** Gradient statistics of a set of rows. */
export interface NodeSums {
  g: number;
  h: number;
  c: number;
}

export interface SplitCandidate {
  gain: number;
  feature: number;
  /** Rows with bin <= this go left (NaN follows `defaultLeft`). */
  bin: number;
  defaultLeft: boolean;
  left: NodeSums;
  right: NodeSums;
}

/** LightGBM's soft threshold for L1: shrink |G| by lambdaL1 toward zero. */
function thresholdL1(g: number, l1: number): number {
  const r = Math.abs(g) - l1;
  return r > 0 ? Math.sign(g) * r : 0;
}

/** Optimal leaf output −T(G)/(H+λ2), before the learning rate. */
export function leafOutput(g: number, h: number, rules: SplitRules): number {
  return -thresholdL1(g, rules.lambdaL1) / (h + rules.lambdaL2);
}

/** Loss reduction of a leaf at its optimal output: T(G)²/(H+λ2). */
export function leafGain(g: number, h: number, rules: SplitRules): number {
  const t = thresholdL1(g, rules.lambdaL1);
  return (t * t) / (h + rules.lambdaL2);
}

/**
 * The best split of a node over features[k0, k1), written to out[at, at + 6)
 * as [gain, feature, bin, nanLeft (0/1), left gradient sum, left hessian sum]
 * (numbers in a Float64Array, so that worker threads can hand results back
 * through shared memory); feature -1 when no split gains more than
 * `minGainToSplit` within the constraints. For each threshold both directions
 * for NaN are tried (learned default direction); "all values left, NaN right"
 * is tried as well. `hist` is laid out as in histogram.ts; `binCount[f]` is
 * feature f's value bins.
 */
export function searchSplit(
  hist: Float64Array,
  numFeatures: number,
  binCount: Int32Array,
  sums: NodeSums,
  features: Int32Array,
  k0: number,
  k1: number,
  rules: SplitRules,
  out: Float64Array,
  at: number,
): void {
  const { lambdaL1: l1, lambdaL2: l2, minDataInLeaf: minC, minSumHessianInLeaf: minH } = rules;
  const S = numFeatures << BIN_SHIFT;
  const G = sums.g;
  const H = sums.h;
  const parentGain = leafGain(G, H, rules);
  // Rows per unit of hessian: left counts are estimated from the hessian share (LightGBM's cnt_factor).
  const countPerHessian = sums.c / H;
  // Tight loop over (feature, threshold, NaN side) with the best kept in scalars; ties keep the
  // earlier candidate so the result does not depend on float noise in ordering.
  let bestGain = rules.minGainToSplit;
  let bestFeature = -1;
  let bestBin = 0;
  let bestNanLeft = false;
  let bestLg = 0;
  let bestLh = 0;

  const C = sums.c;
  for (let k = k0; k < k1; k++) {
    const f = features[k]!;
    const nb = binCount[f]!;
    const gBase = f << BIN_SHIFT;
    const hBase = S + gBase;
    const ng = hist[gBase + nb]!;
    const nh = hist[hBase + nb]!;
    const hasNan = nh > 0;
    const last = nb - 1;
    let lg = 0;
    let lh = 0;
    let b = 0;
    for (; b < last; b++) {
      lg += hist[gBase + b]!;
      lh += hist[hBase + b]!;
      const rh = H - lh;
      const lc = Math.round(lh * countPerHessian);
      // Sums only grow with b, so once the right side is too small it stays so, for both NaN sides.
      if (rh < minH || C - lc < minC) break;
      // Side A: NaN goes right.
      if (lh >= minH && lc >= minC) {
        const gain = gainOf(lg, lh, l1, l2) + gainOf(G - lg, rh, l1, l2) - parentGain;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = f;
          bestBin = b;
          bestNanLeft = false;
          bestLg = lg;
          bestLh = lh;
        }
      }
      // Side B: NaN goes left with the values <= threshold.
      if (hasNan) {
        const xg = lg + ng;
        const xh = lh + nh;
        const xrh = H - xh;
        if (xh >= minH && xrh >= minH) {
          const xc = Math.round(xh * countPerHessian);
          if (xc >= minC && C - xc >= minC) {
            const gain = gainOf(xg, xh, l1, l2) + gainOf(G - xg, xrh, l1, l2) - parentGain;
            if (gain > bestGain) {
              bestGain = gain;
              bestFeature = f;
              bestBin = b;
              bestNanLeft = true;
              bestLg = xg;
              bestLh = xh;
            }
          }
        }
      }
    }
    // The last value bin: only "all values left, NaN right", when there is NaN.
    if (b === last && hasNan) {
      lg += hist[gBase + b]!;
      lh += hist[hBase + b]!;
      const rh = H - lh;
      if (lh >= minH && rh >= minH) {
        const lc = Math.round(lh * countPerHessian);
        if (lc >= minC && C - lc >= minC) {
          const gain = gainOf(lg, lh, l1, l2) + gainOf(G - lg, rh, l1, l2) - parentGain;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestBin = b;
            bestNanLeft = false;
            bestLg = lg;
            bestLh = lh;
          }
        }
      }
    }
  }
  out[at] = bestGain;
  out[at + 1] = bestFeature;
  out[at + 2] = bestBin;
  out[at + 3] = bestNanLeft ? 1 : 0;
  out[at + 4] = bestLg;
  out[at + 5] = bestLh;
}

/**
 * The best of several search results over consecutive feature ranges, as one
 * search over all of them would pick it: a later range wins only with a
 * strictly larger gain. Undefined when none found a split.
 */
export function bestOfResults(
  results: Float64Array,
  ats: readonly number[],
  sums: NodeSums,
): SplitCandidate | undefined {
  let pick = -1;
  for (const at of ats) {
    if (results[at + 1]! >= 0 && (pick < 0 || results[at]! > results[pick]!)) pick = at;
  }
  if (pick < 0) return undefined;
  const lg = results[pick + 4]!;
  const lh = results[pick + 5]!;
  const lc = Math.round(lh * (sums.c / sums.h));
  return {
    gain: results[pick]!,
    feature: results[pick + 1]!,
    bin: results[pick + 2]!,
    defaultLeft: results[pick + 3] === 1,
    left: { g: lg, h: lh, c: lc },
    right: { g: sums.g - lg, h: sums.h - lh, c: sums.c - lc },
  };
}

/** leafGain with the regularisation passed as numbers, for the split loop. */
function gainOf(g: number, h: number, l1: number, l2: number): number {
  const a = Math.abs(g) - l1;
  return a > 0 ? (a * a) / (h + l2) : 0;
}
