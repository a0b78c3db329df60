/**
 * Evaluation metrics for binary classifiers and regressors. Inputs are
 * parallel arrays; labels for binary metrics are 0/1.
 */

/**
 * Cumulative confusion counts at every distinct score, highest score first:
 * calling rows with score >= `thresholds[k]` positive gives
 * `truePositives[k]` and `falsePositives[k]`. The last entry calls every row
 * positive. A NaN score ("no opinion") ranks lowest, tied with -Infinity.
 * Labels are positive where exactly 1.
 */
export interface ThresholdCounts {
  /** Distinct scores, descending; NaN scores appear as -Infinity. */
  thresholds: Float64Array;
  truePositives: Float64Array;
  falsePositives: Float64Array;
  positives: number;
  negatives: number;
}

/**
 * Builds ThresholdCounts with two native typed-array sorts (the scores of
 * positives and of negatives) and one merge: a comparator sort of row
 * indices is several times slower on the millions of rows evaluations see.
 */
export function thresholdCounts(labels: ArrayLike<number>, scores: ArrayLike<number>): ThresholdCounts {
  const n = labels.length;
  if (scores.length !== n) throw new RangeError(`${scores.length} scores for ${n} labels`);
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) positives++;
  const negatives = n - positives;
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  let p = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    // NaN would sort after +Infinity; it means "no opinion", the lowest rank.
    const key = s === s ? s : -Infinity;
    if (labels[i] === 1) pos[p++] = key;
    else neg[q++] = key;
  }
  pos.sort();
  neg.sort();

  const thresholds = new Float64Array(n);
  const truePositives = new Float64Array(n);
  const falsePositives = new Float64Array(n);
  let i = positives - 1;
  let j = negatives - 1;
  let tp = 0;
  let fp = 0;
  let k = 0;
  while (i >= 0 || j >= 0) {
    const t = i < 0 ? neg[j]! : j < 0 ? pos[i]! : Math.max(pos[i]!, neg[j]!);
    // `===` also ties -0 with +0, which the typed-array sort orders apart.
    while (i >= 0 && pos[i] === t) {
      tp++;
      i--;
    }
    while (j >= 0 && neg[j] === t) {
      fp++;
      j--;
    }
    thresholds[k] = t;
    truePositives[k] = tp;
    falsePositives[k] = fp;
    k++;
  }
  return {
    thresholds: thresholds.subarray(0, k),
    truePositives: truePositives.subarray(0, k),
    falsePositives: falsePositives.subarray(0, k),
    positives,
    negatives,
  };
}

/**
 * Area under the ROC curve, ties counted half (Mann-Whitney U); NaN scores
 * rank lowest. NaN when one class is absent.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  return rocAucOf(thresholdCounts(labels, scores));
}

/** ROC-AUC from threshold counts: trapezoids between thresholds, which is the tie-halved U statistic. */
export function rocAucOf(counts: ThresholdCounts): number {
  const { truePositives: tp, falsePositives: fp, positives, negatives } = counts;
  if (positives === 0 || negatives === 0) return NaN;
  // Twice the area in count units stays an exact integer sum up to 2^53.
  let area2 = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < tp.length; k++) {
    area2 += (fp[k]! - prevFp) * (tp[k]! + prevTp);
    prevTp = tp[k]!;
    prevFp = fp[k]!;
  }
  return area2 / 2 / (positives * negatives);
}

/**
 * Area under the precision-recall curve as average precision (scikit-learn's
 * definition: sum of precision times recall increments, no interpolation);
 * NaN scores rank lowest. NaN when there is no positive.
 */
export function prAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  return averagePrecisionOf(thresholdCounts(labels, scores));
}

/** Average precision from threshold counts. */
export function averagePrecisionOf(counts: ThresholdCounts): number {
  const { truePositives: tp, falsePositives: fp, positives } = counts;
  if (positives === 0) return NaN;
  let ap = 0;
  let prevTp = 0;
  for (let k = 0; k < tp.length; k++) {
    const t = tp[k]!;
    if (t !== prevTp) ap += ((t - prevTp) / positives) * (t / (t + fp[k]!));
    prevTp = t;
  }
  return ap;
}

/** Mean binary cross-entropy of probabilities, clipped away from 0 and 1. */
export function logLoss(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  const eps = 1e-15;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - eps, Math.max(eps, probabilities[i]!));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / labels.length;
}

export function rmse(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const d = predictions[i]! - labels[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum / labels.length);
}

/** Mean pinball (quantile) loss at level alpha. */
export function pinballLoss(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  alpha: number,
): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const d = labels[i]! - predictions[i]!;
    sum += d >= 0 ? alpha * d : (alpha - 1) * d;
  }
  return sum / labels.length;
}

export interface Confusion {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

/** Precision and recall when scores >= threshold are called positive. */
export function confusionAt(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
): Confusion {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const positive = scores[i]! >= threshold;
    if (labels[i] === 1) {
      if (positive) tp++;
      else fn++;
    } else if (positive) fp++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { threshold, precision, recall, f1, truePositives: tp, falsePositives: fp, falseNegatives: fn };
}
