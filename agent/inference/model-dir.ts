/**
 * Loads a directory of exhaustion models (layout in
 * shared/inference/model-files.ts) for the agent: one model per resource
 * kind that has a file. A model that cannot be loaded (damaged, built for
 * another feature schema, or for another kind) is reported and skipped: the
 * agent keeps sending telemetry without predictions for that kind.
 */
import { existsSync } from 'node:fs';
import { ConfigError, errorMessage } from '../../shared/errors.js';
import { ForecastModel } from '../../shared/inference/forecast-model.js';
import { modelFilesIn, type ModelFiles } from '../../shared/inference/model-files.js';
import type { Logger } from '../../shared/log.js';
import {
  RESOURCE_KINDS,
  type ResourceKind,
  isResourceKind,
  parseResourceId,
} from '../../shared/resources/resource-id.js';
import type { ModelSource } from '../../shared/wire/predictions.js';
import type { ScoringEngine } from '../../shared/inference/scorer.js';
import type { ServingModel } from './model-set.js';
import { OnDemandBand } from './on-demand-band.js';

/**
 * The models found in `dir`, by kind. A configured directory that does not
 * exist stops start-up; the default (bundled) one may be absent.
 */
export async function loadModelDir(
  dir: string | undefined,
  options: { configured: boolean; source: ModelSource; log: Logger; engine?: ScoringEngine | undefined },
): Promise<Map<ResourceKind, ServingModel>> {
  const { log } = options;
  const loaded = new Map<ResourceKind, ServingModel>();
  if (dir === undefined || !existsSync(dir)) {
    if (options.configured) {
      throw new ConfigError([{ path: 'agent.models.dir', message: `no such directory: ${dir}` }]);
    }
    log.warn({ dir }, 'no bundled models; the agent sends telemetry without predictions');
    return loaded;
  }
  for (const kind of RESOURCE_KINDS) {
    const files = modelFilesIn(dir, kind);
    if (!files) continue;
    try {
      loaded.set(
        kind,
        await loadServingModel(kind, files, { source: options.source, log, engine: options.engine }),
      );
    } catch (err) {
      log.error(
        { kind, path: files.model, err: errorMessage(err) },
        'cannot load the model; no predictions for this kind',
      );
    }
  }
  return loaded;
}

/** A model's ONNX files, each as a path or as its bytes. */
export interface ModelSources {
  model: string | Uint8Array;
  band?: { p10: string | Uint8Array; p50: string | Uint8Array; p90: string | Uint8Array } | undefined;
}

/**
 * One kind's model and, when its files are there, its time-to-exhaustion
 * band: checked now, its sessions created when a forecast first needs it
 * (a band that then fails to load is reported on `log`). `version`
 * overrides the model's own version label (a signed model update carries
 * the one the aggregator signed); `engine` runs the models (default
 * onnxruntime).
 */
export async function loadServingModel(
  kind: ResourceKind,
  files: ModelFiles | ModelSources,
  options: {
    source: ModelSource;
    version?: string | undefined;
    log?: Logger | undefined;
    engine?: ScoringEngine | undefined;
  },
): Promise<ServingModel> {
  const { source, version, log, engine } = options;
  const forecast = await ForecastModel.load(files.model, { engine });
  const trainedFor = forecast.metadata.resource;
  if (trainedFor !== undefined && kindOf(trainedFor) !== kind) {
    await forecast.release();
    throw new Error(`the model was trained for ${trainedFor}, not ${kind}`);
  }
  let band: OnDemandBand | undefined;
  try {
    if (files.band) band = await OnDemandBand.check(files.band, { log: log?.child({ kind }), engine });
  } catch (err) {
    await forecast.release();
    throw new Error(`time-to-exhaustion band: ${errorMessage(err)}`, { cause: err });
  }
  const { trainingRunId, modelVersion } = forecast.metadata;
  const label = version ?? modelVersion;
  return {
    forecast,
    band,
    ref: { source, runId: trainingRunId, ...(label ? { version: label } : {}) },
  };
}

/** The kind of a model's `resource` metadata: a kind, or a resource id. */
function kindOf(resource: string): ResourceKind | undefined {
  if (isResourceKind(resource)) return resource;
  try {
    return parseResourceId(resource).kind;
  } catch {
    return undefined;
  }
}
