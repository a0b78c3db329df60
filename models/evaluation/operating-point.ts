/**
 * The operating point of a probabilistic classifier: the probability at or
 * above which it alerts. Chosen on validation rows (never on the rows it is
 * judged on) as the threshold with the best F1, so precision and recall are
 * weighed alike; among equal F1s the higher threshold wins (fewer alerts).
 */

export interface OperatingPoint {
  /** Alert when probability >= threshold. */
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Used when the rows hold no positive: there is nothing to tune on. */
export const DEFAULT_OPERATING_THRESHOLD = 0.5;

/** The best-F1 threshold over the distinct scores; NaN scores never alert. O(n log n). */
export function chooseOperatingPoint(labels: ArrayLike<number>, scores: ArrayLike<number>): OperatingPoint {
  const n = labels.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) positives++;
  const fallback = { threshold: DEFAULT_OPERATING_THRESHOLD, precision: 0, recall: 0, f1: 0 };
  if (positives === 0) return fallback;
  // Scores high to low; NaN (no opinion) sorts last and never crosses a threshold.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const key = (i: number) => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
  order.sort((a, b) => key(b) - key(a));
  let best = fallback;
  let tp = 0;
  let i = 0;
  while (i < n) {
    const score = key(order[i]!);
    if (score === -Infinity) break;
    // Rows with equal scores fall on the same side of any threshold.
    while (i < n && key(order[i]!) === score) {
      if (labels[order[i]!] === 1) tp++;
      i++;
    }
    const precision = tp / i;
    const recall = tp / positives;
    const f1 = tp === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (f1 > best.f1) best = { threshold: score, precision, recall, f1 };
  }
  return best;
}
