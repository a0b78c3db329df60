/**
 * PR and ROC curves for charts, read off ThresholdCounts (one sort per
 * contender serves every figure), and the best precision at a recall target.
 */
import type { ThresholdCounts } from './metrics.js';

/** A curve as parallel arrays, `x` and `y` both in [0, 1]. */
export interface CurvePoints {
  x: number[];
  y: number[];
}

/** The best precision among thresholds whose recall reaches a target. */
export interface PrecisionAtRecall {
  /** Recall asked for, 0..1. */
  targetRecall: number;
  /** The best precision with recall >= targetRecall, 0..1. */
  precision: number;
  /** The recall at that threshold, 0..1 (>= targetRecall). */
  recall: number;
  /**
   * Alert when score >= this; null when the threshold is the lowest rank
   * (every row, the no-opinion rows included, alerts).
   */
  scoreThreshold: number | null;
}

/** Default most points in a chart curve. */
export const DEFAULT_MAX_CURVE_POINTS = 200;

/**
 * The PR curve, one point per distinct score from the highest (first point)
 * to the lowest (last point: recall 1 at the base rate), thinned to at most
 * `maxPoints`. x = recall, y = precision. Empty without positives.
 */
export function precisionRecallCurve(
  counts: ThresholdCounts,
  maxPoints = DEFAULT_MAX_CURVE_POINTS,
): CurvePoints {
  const { truePositives: tp, falsePositives: fp, positives } = counts;
  const m = tp.length;
  if (positives === 0) return { x: [], y: [] };
  const x = new Float64Array(m);
  const y = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    x[k] = tp[k]! / positives;
    y[k] = tp[k]! / (tp[k]! + fp[k]!);
  }
  return thinCurve(x, y, maxPoints);
}

/**
 * The ROC curve from (0, 0) (nothing alerts) through one point per distinct
 * score to (1, 1), thinned to at most `maxPoints`. x = false-positive rate,
 * y = true-positive rate. Empty when a class is missing.
 */
export function rocCurve(counts: ThresholdCounts, maxPoints = DEFAULT_MAX_CURVE_POINTS): CurvePoints {
  const { truePositives: tp, falsePositives: fp, positives, negatives } = counts;
  const m = tp.length;
  if (positives === 0 || negatives === 0) return { x: [], y: [] };
  const x = new Float64Array(m + 1);
  const y = new Float64Array(m + 1);
  for (let k = 0; k < m; k++) {
    x[k + 1] = fp[k]! / negatives;
    y[k + 1] = tp[k]! / positives;
  }
  return thinCurve(x, y, maxPoints);
}

/** The best precision at recall >= targetRecall; null without positives. */
export function precisionAtRecall(counts: ThresholdCounts, targetRecall: number): PrecisionAtRecall | null {
  const { thresholds, truePositives: tp, falsePositives: fp, positives } = counts;
  if (positives === 0) return null;
  let best = -1;
  for (let k = 0; k < tp.length; k++) {
    const recall = tp[k]! / positives;
    if (recall < targetRecall) continue;
    const precision = tp[k]! / (tp[k]! + fp[k]!);
    if (best < 0 || precision > tp[best]! / (tp[best]! + fp[best]!)) best = k;
  }
  // The last threshold has recall 1, so a target in [0, 1] always finds one.
  if (best < 0) return null;
  const t = thresholds[best]!;
  return {
    targetRecall,
    precision: tp[best]! / (tp[best]! + fp[best]!),
    recall: tp[best]! / positives,
    scoreThreshold: t === -Infinity ? null : t,
  };
}

/**
 * At most `maxPoints` points spread evenly along the curve's length (|dx| +
 * |dy|), so steep and flat stretches both keep their shape; the first and
 * last points always stay.
 */
export function thinCurve(x: Float64Array, y: Float64Array, maxPoints: number): CurvePoints {
  const m = x.length;
  if (m <= maxPoints) return { x: Array.from(x), y: Array.from(y) };
  const keep = Math.max(2, Math.floor(maxPoints));
  const along = new Float64Array(m);
  for (let k = 1; k < m; k++) {
    along[k] = along[k - 1]! + Math.abs(x[k]! - x[k - 1]!) + Math.abs(y[k]! - y[k - 1]!);
  }
  const total = along[m - 1]!;
  const out: CurvePoints = { x: [], y: [] };
  let k = 0;
  let last = -1;
  for (let p = 0; p < keep; p++) {
    const target = p === keep - 1 ? total : (p * total) / (keep - 1);
    while (k < m - 1 && along[k]! < target) k++;
    const pick = p === keep - 1 ? m - 1 : k;
    if (pick === last) continue;
    out.x.push(x[pick]!);
    out.y.push(y[pick]!);
    last = pick;
  }
  return out;
}
