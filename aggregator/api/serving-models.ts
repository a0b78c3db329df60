/**
 * The models `POST /api/v1/predict` scores with: for a resource id or kind,
 * the catalog's current model (trained for the id, else for the kind), else
 * the bundled baseline — the same lookup `cloudsense predict` and the
 * retraining loop use (aggregator/registry/model-catalog.ts). Loaded models
 * are kept by file path: a promotion writes a new run's file, so a changed
 * catalog entry is a new path and the old session is released.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NotFoundError } from '../../shared/errors.js';
import { ForecastModel, TimeToExhaustionBand } from '../../shared/inference/forecast-model.js';
import type { ModelCatalog, ResolvedModel } from '../registry/model-catalog.js';

/** Most loaded models kept (a few per resource kind); beyond it the oldest is released. */
const MAX_LOADED = 32;

export interface LoadedModel {
  resolved: ResolvedModel;
  forecast: ForecastModel;
  band: TimeToExhaustionBand | undefined;
  sha256: string;
}

export class ServingModels {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly catalog: () => ModelCatalog) {}

  /** The model serving `resource` (a kind or a canonical id), loaded; NotFoundError when there is none. */
  async forResource(resource: string): Promise<LoadedModel> {
    const resolved = await this.catalog().resolve(resource);
    if (!resolved) throw new NotFoundError(`no model serves "${resource}" (none trained, none bundled)`);
    const cacheKey = `${resolved.path}\n${resolved.band?.p50 ?? ''}`;
    let model = this.loaded.get(cacheKey);
    if (!model) {
      model = load(resolved);
      this.loaded.set(cacheKey, model);
      model.catch(() => this.loaded.delete(cacheKey));
      this.evict();
    }
    return model;
  }

  /** Releases every loaded session. */
  async close(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.all(all.map((m) => m.then(release, () => undefined)));
  }

  private evict(): void {
    while (this.loaded.size > MAX_LOADED) {
      const [key, oldest] = this.loaded.entries().next().value!;
      this.loaded.delete(key);
      // A request still scoring with it holds the promise; give it time to finish before the session goes.
      setTimeout(() => void oldest.then(release, () => undefined), 60_000).unref();
    }
  }
}

async function load(resolved: ResolvedModel): Promise<LoadedModel> {
  const bytes = await readFile(resolved.path);
  const forecast = await ForecastModel.load(bytes);
  let band: TimeToExhaustionBand | undefined;
  try {
    band = resolved.band ? await TimeToExhaustionBand.load(resolved.band) : undefined;
  } catch (err) {
    await forecast.release();
    throw err;
  }
  return { resolved, forecast, band, sha256: createHash('sha256').update(bytes).digest('hex') };
}

async function release(model: LoadedModel): Promise<void> {
  await model.forecast.release();
  await model.band?.release();
}
