import type { BinnedData } from './binning.js';

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
 * The best split of a node over the given features, or undefined when no
 * split gains more than `minGainToSplit` within the constraints. For each
 * threshold both directions for NaN are tried (learned default direction);
 * "all values left, NaN right" is tried as well.
 */
export function findBestSplit(
  binned: BinnedData,
  hist: Float64Array,
  sums: NodeSums,
  features: Int32Array,
  rules: SplitRules,
): SplitCandidate | undefined {
  const { lambdaL1: l1, lambdaL2: l2, minDataInLeaf: minC, minSumHessianInLeaf: minH } = rules;
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

  for (let k = 0; k < features.length; k++) {
    const f = features[k]!;
    const nb = binned.bins[f]!.count;
    const base = binned.histOffset[f]! << 1; // histogram stride 2: [gradient, hessian]
    const nanAt = base + (nb << 1);
    const ng = hist[nanAt]!;
    const nh = hist[nanAt + 1]!;
    const hasNan = nh > 0;
    let lg = 0;
    let lh = 0;
    for (let b = 0; b < nb; b++) {
      lg += hist[base + (b << 1)]!;
      lh += hist[base + (b << 1) + 1]!;
      // Side A: NaN goes right (the only option for the last bin: "all values left, NaN right").
      if (b < nb - 1 || hasNan) {
        const rh = H - lh;
        if (lh >= minH && rh >= minH) {
          const lc = Math.round(lh * countPerHessian);
          if (lc >= minC && sums.c - lc >= minC) {
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
      // Side B: NaN goes left with the values <= threshold.
      if (hasNan && b < nb - 1) {
        const xg = lg + ng;
        const xh = lh + nh;
        const rh = H - xh;
        if (xh >= minH && rh >= minH) {
          const lc = Math.round(xh * countPerHessian);
          if (lc >= minC && sums.c - lc >= minC) {
            const gain = gainOf(xg, xh, l1, l2) + gainOf(G - xg, rh, l1, l2) - parentGain;
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
  }
  if (bestFeature < 0) return undefined;
  const lc = Math.round(bestLh * countPerHessian);
  return {
    gain: bestGain,
    feature: bestFeature,
    bin: bestBin,
    defaultLeft: bestNanLeft,
    left: { g: bestLg, h: bestLh, c: lc },
    right: { g: G - bestLg, h: H - bestLh, c: sums.c - lc },
  };
}

/** leafGain with the regularisation passed as numbers, for the split loop. */
function gainOf(g: number, h: number, l1: number, l2: number): number {
  const a = Math.abs(g) - l1;
  return a > 0 ? (a * a) / (h + l2) : 0;
}
