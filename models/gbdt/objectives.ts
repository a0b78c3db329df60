import { logLoss, pinballLoss, rmse } from '../evaluation/metrics.js';
import type { Objective } from './model.js';
import { sigmoid } from './model.js';

/**
 * A training objective: first and second derivatives of the loss with
 * respect to the raw score, the starting score, and the metric that early
 * stopping watches (lower is better).
 */
export interface ObjectiveFunction {
  readonly name: Objective;
  readonly metricName: string;
  /** Checks labels before training; returns a problem description or undefined. */
  checkLabels(labels: ArrayLike<number>): string | undefined;
  baseScore(labels: ArrayLike<number>): number;
  /**
   * Gradients and hessians of rows [begin, end), as float32: row i's go to
   * out[i·stride] and out[i·stride + 1] (the trainer writes them straight
   * into its row records).
   */
  gradients(
    labels: ArrayLike<number>,
    scores: Float64Array,
    out: Float32Array,
    stride: number,
    begin: number,
    end: number,
  ): void;
  /** Loss of raw scores; lower is better. */
  metric(labels: ArrayLike<number>, scores: Float64Array): number;
  /** Whether leaf outputs are recomputed from residuals after a tree is grown (quantile). */
  readonly renewsLeaves: boolean;
}

/** Smallest hessian, so leaves of pure nodes stay finite. */
const MIN_HESSIAN = 1e-16;

export function objectiveFor(name: Objective, alpha = 0.5): ObjectiveFunction {
  switch (name) {
    case 'binary':
      return binaryLogloss;
    case 'regression':
      return squaredError;
    case 'quantile':
      return quantile(alpha);
  }
}

const binaryLogloss: ObjectiveFunction = {
  name: 'binary',
  metricName: 'binary_logloss',
  renewsLeaves: false,
  checkLabels(labels) {
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== 0 && labels[i] !== 1)
        return `binary labels must be 0 or 1; row ${i + 1} has ${labels[i]}`;
    }
    return undefined;
  },
  baseScore(labels) {
    let sum = 0;
    for (let i = 0; i < labels.length; i++) sum += labels[i]!;
    const p = Math.min(1 - 1e-15, Math.max(1e-15, sum / labels.length));
    return Math.log(p / (1 - p));
  },
  gradients(labels, scores, out, stride, begin, end) {
    for (let i = begin, at = begin * stride; i < end; i++, at += stride) {
      const p = sigmoid(scores[i]!);
      out[at] = p - labels[i]!;
      out[at + 1] = Math.max(p * (1 - p), MIN_HESSIAN);
    }
  },
  metric(labels, scores) {
    return logLoss(labels, scores.map(sigmoid));
  },
};

const squaredError: ObjectiveFunction = {
  name: 'regression',
  metricName: 'rmse',
  renewsLeaves: false,
  checkLabels: finiteLabels,
  baseScore(labels) {
    let sum = 0;
    for (let i = 0; i < labels.length; i++) sum += labels[i]!;
    return sum / labels.length;
  },
  gradients(labels, scores, out, stride, begin, end) {
    for (let i = begin, at = begin * stride; i < end; i++, at += stride) {
      out[at] = scores[i]! - labels[i]!;
      out[at + 1] = 1;
    }
  },
  metric: rmse,
};

function quantile(alpha: number): ObjectiveFunction {
  return {
    name: 'quantile',
    metricName: `quantile_${alpha}`,
    renewsLeaves: true,
    checkLabels: finiteLabels,
    baseScore(labels) {
      return quantileOf(Float64Array.from(labels), alpha);
    },
    gradients(labels, scores, out, stride, begin, end) {
      for (let i = begin, at = begin * stride; i < end; i++, at += stride) {
        out[at] = scores[i]! >= labels[i]! ? 1 - alpha : -alpha;
        out[at + 1] = 1;
      }
    },
    metric(labels, scores) {
      return pinballLoss(labels, scores, alpha);
    },
  };
}

function finiteLabels(labels: ArrayLike<number>): string | undefined {
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isFinite(labels[i])) return `labels must be finite numbers; row ${i + 1} has ${labels[i]}`;
  }
  return undefined;
}

/** The alpha-quantile of values (sorted in place), linear interpolation between order statistics. */
export function quantileOf(values: Float64Array, alpha: number): number {
  if (values.length === 0) return 0;
  values.sort();
  const pos = alpha * (values.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(values.length - 1, lo + 1);
  return values[lo]! + (values[hi]! - values[lo]!) * (pos - lo);
}
