/**
 * What a drift check reads about the model serving a resource, on the main
 * thread (the store and the files are here): the run id agents report for
 * it, its validation figures, and the forecasts agents stored with it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetSeries } from '../../models/dataset/index.js';
import type { RunRegistry } from '../../models/tracking/index.js';
import { ForecastModel } from '../../shared/inference/forecast-model.js';
import type { ResolvedModel } from '../registry/model-catalog.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import { type PredictionColumns, seriesKey } from './live-performance.js';

/** Most stored forecasts read per series for a drift check. */
const MAX_PREDICTIONS_PER_SERIES = 500_000;

/** The training run id agents report for the model (predictions carry it as model.runId). */
export async function servingRunId(model: ResolvedModel): Promise<string | undefined> {
  if (model.runId) return model.runId;
  try {
    const loaded = await ForecastModel.load(model.path);
    try {
      return loaded.metadata.trainingRunId;
    } finally {
      await loaded.release();
    }
  } catch {
    return undefined; // a bundled model of another feature schema: agents do not run it either
  }
}

/** The model's precision and recall at its operating point on its validation rows (run record, or bundled manifest). */
export async function validationFigures(
  registry: RunRegistry,
  model: ResolvedModel,
  bundledDir: string | undefined,
): Promise<{ precision: number; recall: number } | undefined> {
  let metrics: Record<string, number> | undefined;
  if (model.source === 'trained' && model.runId) {
    metrics = (await registry.getRun(model.runId))?.metrics;
  } else if (bundledDir) {
    try {
      const manifest = JSON.parse(await readFile(join(bundledDir, 'manifest.json'), 'utf8')) as {
        models?: Record<string, { validation?: Record<string, number> }>;
      };
      metrics = manifest.models?.[model.key]?.validation;
    } catch {
      metrics = undefined;
    }
  }
  const precision = metrics?.operating_precision;
  const recall = metrics?.operating_recall;
  return typeof precision === 'number' && typeof recall === 'number' ? { precision, recall } : undefined;
}

/** The forecasts of model `runId` stored for each series in [fromMs − its horizon, endMs], oldest first. */
export async function storedForecasts(
  store: TelemetryStore,
  series: readonly DatasetSeries[],
  runId: string,
  fromMs: number,
  endMs: number,
): Promise<Map<string, PredictionColumns>> {
  const out = new Map<string, PredictionColumns>();
  for (const s of series) {
    const stored = await store.queryPredictions({
      hostId: s.hostId,
      resource: s.resourceId,
      from: fromMs - s.exhaustion.horizonMs,
      to: endMs + 1,
      limit: MAX_PREDICTIONS_PER_SERIES,
    });
    const mine = stored.filter((p) => p.model.runId === runId);
    if (mine.length === 0) continue;
    mine.sort((a, b) => a.timestamp - b.timestamp);
    out.set(seriesKey(s.hostId, s.resourceId), {
      timestampsMs: Float64Array.from(mine, (p) => p.timestamp),
      probability: Float64Array.from(mine, (p) => p.probability),
      threshold: Float64Array.from(mine, (p) => p.threshold),
    });
  }
  return out;
}
