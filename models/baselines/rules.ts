import { featureIndex } from '../../shared/features/index.js';

/**
 * The rules people use today, as baselines a model must beat. Each reads the
 * same feature vectors the model sees (one feature pipeline), and gives a
 * risk score (higher = riskier, for ROC/PR curves) and the yes/no decision
 * the rule would alert on.
 *
 * - `static_threshold`: alert when usage is already high (a warning level
 *   10 points under the exhaustion threshold) — the classic "disk > 85%".
 * - `predict_linear`: Prometheus `predict_linear` as node-mixin uses it —
 *   fit a line over a lookback window (6 h for horizons of 6 h or more, 1 h
 *   otherwise) and alert when it crosses the threshold within the horizon.
 * - `fill_rate`: "free ÷ fill rate" — time until full at the last hour's
 *   rate, alert when shorter than the horizon.
 */
export const BASELINE_RULES = ['static_threshold', 'predict_linear', 'fill_rate'] as const;
export type BaselineRule = (typeof BASELINE_RULES)[number];

/** Warning level of the static rule, below the exhaustion threshold (ratio points). */
export const STATIC_WARNING_MARGIN = 0.1;
/** predict_linear looks back 6 h for long horizons, 1 h for short ones, as node-mixin's rules do. */
const LONG_HORIZON_H = 6;

export interface BaselineOutput {
  /** Higher is riskier; NaN where the rule has no opinion (e.g. no trend yet). */
  score: Float64Array;
  /** 1 where the rule would alert. */
  alert: Uint8Array;
}

/** Scores rows of a row-major feature matrix (`width` columns, the shared schema) with a rule. */
export function scoreBaseline(
  rule: BaselineRule,
  features: Float32Array,
  rows: number,
  width: number,
): BaselineOutput {
  const col = (name: string) => featureIndex(name);
  const c = {
    last: col('last'),
    threshold: col('exhaustion.threshold'),
    horizon: col('exhaustion.horizon_h'),
    mean1h: col('mean.1h'),
    slope1h: col('slope.1h'),
    mean6h: col('mean.6h'),
    slope6h: col('slope.6h'),
    ttt1h: col('ttt_h.1h'),
  };
  const score = new Float64Array(rows);
  const alert = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const at = (i: number) => features[r * width + i]!;
    const threshold = at(c.threshold);
    const horizonH = at(c.horizon);
    switch (rule) {
      case 'static_threshold': {
        const level = at(c.last);
        score[r] = level;
        alert[r] = level >= threshold - STATIC_WARNING_MARGIN ? 1 : 0;
        break;
      }
      case 'predict_linear': {
        const long = horizonH >= LONG_HORIZON_H;
        const mean = at(long ? c.mean6h : c.mean1h);
        const slope = at(long ? c.slope6h : c.slope1h);
        const lookbackH = long ? 6 : 1;
        // The regression line passes through the window mean at its middle;
        // predict_linear extrapolates from "now" (the window's end) by the horizon.
        const predicted = mean + slope * (lookbackH / 2 + horizonH);
        score[r] = predicted;
        alert[r] = predicted >= threshold ? 1 : 0;
        break;
      }
      case 'fill_rate': {
        const hoursToFull = at(c.ttt1h);
        score[r] = Number.isNaN(hoursToFull) ? NaN : -hoursToFull;
        alert[r] = hoursToFull <= horizonH ? 1 : 0;
        break;
      }
    }
  }
  return { score, alert };
}
