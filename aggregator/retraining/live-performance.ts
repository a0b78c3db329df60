/**
 * How the serving model does in the field: the forecasts agents published
 * (stored predictions), each joined with what actually happened once its
 * horizon has passed (the same self-supervised labels training uses,
 * computed from the stored history). A forecast counts as an alert when its
 * probability reached the model's operating threshold (the `threshold` it
 * was published with), not after the agent's alert hysteresis: that is the
 * decision the validation figures describe.
 */
import type { DatasetSeries } from '../../models/dataset/index.js';
import { acceptedSeries, labelExhaustion } from '../../models/labels/index.js';

/** One series' forecasts by one model, oldest first. */
export interface PredictionColumns {
  timestampsMs: Float64Array;
  probability: Float64Array;
  threshold: Float64Array;
}

export interface LivePerformance {
  /** Forecasts whose horizon has passed and that could be labelled. */
  matured: number;
  positives: number;
  alerts: number;
  truePositives: number;
  /** Null while there are no alerts (precision) or no positives (recall). */
  precision: number | null;
  recall: number | null;
}

/** The key of a series' forecasts: host and canonical resource id. */
export function seriesKey(hostId: string, resourceId: string): string {
  return `${hostId}\u0000${resourceId}`;
}

/** Precision and recall at the operating threshold over every matured forecast. */
export function livePerformance(
  series: readonly DatasetSeries[],
  predictions: ReadonlyMap<string, PredictionColumns>,
): LivePerformance {
  let matured = 0;
  let positives = 0;
  let alerts = 0;
  let truePositives = 0;
  for (const s of series) {
    const forecast = predictions.get(seriesKey(s.hostId, s.resourceId));
    if (!forecast || forecast.timestampsMs.length === 0) continue;
    const labels = labelExhaustion(acceptedSeries(s.history), forecast.timestampsMs, s.exhaustion);
    for (let i = 0; i < labels.rows; i++) {
      const label = labels.label[i]!;
      if (Number.isNaN(label)) continue; // horizon not yet passed, already exhausted, or a gap
      matured++;
      const alert = forecast.probability[i]! >= forecast.threshold[i]!;
      if (label === 1) positives++;
      if (alert) alerts++;
      if (alert && label === 1) truePositives++;
    }
  }
  return {
    matured,
    positives,
    alerts,
    truePositives,
    precision: alerts === 0 ? null : truePositives / alerts,
    recall: positives === 0 ? null : truePositives / positives,
  };
}

export interface PerformanceDrift {
  drifted: boolean;
  /** Why, or why it could not be judged. */
  notes: string[];
}

/**
 * Live figures against the model's validation figures: a drift when live
 * precision or recall is more than `margin` below, judged only on at least
 * `minCount` alerts (precision) or positives (recall).
 */
export function judgePerformance(
  live: LivePerformance,
  validation: { precision: number; recall: number } | undefined,
  options: { margin: number; minCount: number },
): PerformanceDrift {
  if (!validation) return { drifted: false, notes: ['no validation figures for the serving model'] };
  const notes: string[] = [];
  let drifted = false;
  if (live.alerts < options.minCount || live.precision === null) {
    notes.push(`precision not judged: ${live.alerts} matured alerts (needs ${options.minCount})`);
  } else if (live.precision < validation.precision - options.margin) {
    drifted = true;
    notes.push(
      `live precision ${live.precision.toFixed(3)} is below validation ${validation.precision.toFixed(3)} by more than ${options.margin}`,
    );
  }
  if (live.positives < options.minCount || live.recall === null) {
    notes.push(`recall not judged: ${live.positives} matured positives (needs ${options.minCount})`);
  } else if (live.recall < validation.recall - options.margin) {
    drifted = true;
    notes.push(
      `live recall ${live.recall.toFixed(3)} is below validation ${validation.recall.toFixed(3)} by more than ${options.margin}`,
    );
  }
  return { drifted, notes };
}
