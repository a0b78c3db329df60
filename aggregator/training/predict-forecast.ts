/**
 * Batch scoring of stored history: the probability of exhaustion at every
 * stored sample time in [from, to), per host and resource, from the same
 * features the agent computes live (each vector sees only the samples up to
 * its own time, including those before `from`).
 */
import type { DatasetSeries } from '../../models/dataset/index.js';
import { acceptedSampleTimes, replaySeries } from '../../shared/features/replay.js';
import type { ForecastModel, TimeToExhaustionBand } from '../../shared/inference/forecast-model.js';
import { formatResourceId, parseResourceId } from '../../shared/resources/resource-id.js';

/** The CSV header `cloudsense predict` writes. */
export const PREDICTION_CSV_HEADER =
  'host,timestamp,resource,probability,alert,tte_p10_s,tte_p50_s,tte_p90_s';

export interface PredictOptions {
  fromMs?: number | undefined;
  toMs?: number | undefined;
  /** Time-to-exhaustion band, filled in on alerted rows (empty elsewhere: it says when, if it happens). */
  band?: TimeToExhaustionBand | undefined;
  /** Called with each series' CSV lines (no header), in series order. */
  write: (lines: string) => Promise<void> | void;
  onProgress?: (done: number, total: number) => void;
}

export interface PredictSummary {
  series: number;
  rows: number;
  alerts: number;
}

/** Scores every series and hands the CSV lines to `write`. */
export async function predictSeries(
  model: ForecastModel,
  series: readonly DatasetSeries[],
  options: PredictOptions,
): Promise<PredictSummary> {
  const from = options.fromMs ?? -Infinity;
  const to = options.toMs ?? Infinity;
  const summary: PredictSummary = { series: 0, rows: 0, alerts: 0 };
  for (const [i, s] of series.entries()) {
    const times = acceptedSampleTimes(s.history).filter((t) => t >= from && t < to);
    options.onProgress?.(i + 1, series.length);
    if (times.length === 0) continue;
    const resource = parseResourceId(s.resourceId);
    const replay = replaySeries(s.history, times, { kind: resource.kind, exhaustion: s.exhaustion });
    const probability = await model.scoreMany(replay.features, replay.rows);
    const band = options.band ? await options.band.scoreMany(replay.features, replay.rows) : undefined;
    const resourceId = formatResourceId(resource);
    const lines: string[] = [];
    for (let r = 0; r < times.length; r++) {
      const p = probability[r]!;
      const alert = p >= model.operatingThreshold ? 1 : 0;
      summary.alerts += alert;
      const tte =
        band && alert === 1
          ? `${Math.round(band[3 * r]!)},${Math.round(band[3 * r + 1]!)},${Math.round(band[3 * r + 2]!)}`
          : ',,';
      lines.push(
        `${s.hostId},${new Date(times[r]!).toISOString()},${resourceId},${p.toPrecision(6)},${alert},${tte}`,
      );
    }
    await options.write(`${lines.join('\n')}\n`);
    summary.series++;
    summary.rows += times.length;
  }
  return summary;
}
