/**
 * How well predicted probabilities match observed frequencies: the Brier
 * score and a reliability table of equal-width probability bins.
 */

/** One bin of predicted probability, [lower, upper) (the last bin includes 1). */
export interface CalibrationBin {
  lower: number;
  upper: number;
  /** Rows whose probability falls in the bin. */
  count: number;
  /** Mean predicted probability of those rows, 0..1; null when the bin is empty. */
  meanPredicted: number | null;
  /** Share of those rows labelled 1, 0..1; null when the bin is empty. */
  observedRate: number | null;
}

export interface Calibration {
  /** Mean squared difference of probability and 0/1 label, 0..1 (lower is better); null without rows. */
  brier: number | null;
  bins: CalibrationBin[];
  /** Rows left out because their probability was NaN. */
  skipped: number;
}

/** Default number of calibration bins. */
export const DEFAULT_CALIBRATION_BINS = 10;

/**
 * Brier score and reliability bins in one pass over the rows. Probabilities
 * are clamped to [0, 1]; NaN ones are skipped and counted.
 */
export function calibrate(
  labels: ArrayLike<number>,
  probability: ArrayLike<number>,
  binCount = DEFAULT_CALIBRATION_BINS,
): Calibration {
  const n = labels.length;
  // Per-bin sums in typed arrays: this pass runs over every row.
  const count = new Float64Array(binCount);
  const sumP = new Float64Array(binCount);
  const sumY = new Float64Array(binCount);
  let squared = 0;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const raw = probability[i]!;
    if (raw !== raw) continue;
    const p = raw < 0 ? 0 : raw > 1 ? 1 : raw;
    const y = labels[i] === 1 ? 1 : 0;
    squared += (p - y) * (p - y);
    used++;
    const b = Math.min(binCount - 1, Math.floor(p * binCount));
    count[b]!++;
    sumP[b]! += p;
    sumY[b]! += y;
  }
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < binCount; b++) {
    const c = count[b]!;
    bins.push({
      lower: b / binCount,
      upper: (b + 1) / binCount,
      count: c,
      meanPredicted: c === 0 ? null : sumP[b]! / c,
      observedRate: c === 0 ? null : sumY[b]! / c,
    });
  }
  return { brier: used === 0 ? null : squared / used, bins, skipped: n - used };
}
