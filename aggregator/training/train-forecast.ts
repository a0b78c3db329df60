/**
 * Trains the exhaustion forecast of one resource (or resource kind) from a
 * data dir's stored history: series → shared features and labels (only data
 * before `untilMs`) → time-based split → optional search → fit with early
 * stopping → ONNX → a recorded run → the current model for that resource.
 * `cloudsense train` calls it; so will the retraining loop.
 */
import type { DatasetSeries } from '../../models/dataset/index.js';
import type { RemediationWindow } from '../../models/labels/remediation.js';
import { type TimeSplit, buildTimeSplit } from '../../models/dataset/index.js';
import { alertedRows, fitTteBand } from '../../models/fit/tte-band.js';
import { exportGbdtToOnnx } from '../../models/onnx/export.js';
import { type FitResult, fitModel } from '../../models/fit/fit-model.js';
import {
  DEFAULT_FORECAST_PARAMS,
  FORECAST_VALID_FRACTION,
  trainingStepMs,
} from '../../models/fit/forecast-params.js';
import type { GbdtParamsInput } from '../../models/gbdt/params.js';
import type { RunRegistry } from '../../models/tracking/index.js';
import { ValidationError } from '../../shared/errors.js';
import type { ExhaustionDefinition } from '../../shared/resources/exhaustion.js';
import { describeExhaustion } from '../../shared/resources/exhaustion.js';
import type { ModelCatalog } from '../registry/model-catalog.js';
import { RUNS_DIR, catalogKey } from '../registry/model-catalog.js';

export interface TrainForecastRequest {
  /** Resource id or kind the model is for. */
  resource: string;
  /** Its stored series (see readSeriesFor), each with its definition. */
  series: readonly DatasetSeries[];
  /** Only data strictly before this time is used (Unix epoch ms); default all. */
  untilMs?: number | undefined;
  /**
   * When playbooks acted (aggregator/remediation/remediation-windows.ts): rows
   * whose horizon overlaps one are kept out of the labels, so a prevented
   * exhaustion does not teach that the risk was low.
   */
  remediations?: readonly RemediationWindow[] | undefined;
  /** Trainer parameters over DEFAULT_FORECAST_PARAMS. */
  params?: GbdtParamsInput | undefined;
  search?: { trials: number; seconds?: number | undefined; seed?: number | undefined } | undefined;
  registry: RunRegistry;
  /** Where the model becomes current; left out, the run is only recorded. */
  catalog?: ModelCatalog | undefined;
  /** Also fit the time-to-exhaustion band (models/fit/tte-band.ts). Default true. */
  band?: boolean | undefined;
  progress?: (line: string) => void;
}

export interface TrainForecastResult extends FitResult {
  resource: string;
  exhaustion: ExhaustionDefinition;
  splitAtMs: number;
  rows: { train: number; valid: number; trainPositives: number; validPositives: number };
  /** The ONNX file inside the run registry. */
  modelPath: string | undefined;
}

export async function trainForecast(request: TrainForecastRequest): Promise<TrainForecastResult> {
  const progress = request.progress ?? (() => undefined);
  const resource = catalogKey(request.resource);
  const { series } = request;
  if (series.length === 0) {
    throw new ValidationError(
      `no stored series of ${resource}${request.untilMs === undefined ? '' : ' before --until'}; import or collect some first`,
    );
  }
  const exhaustion = series[0]!.exhaustion;
  if (!(exhaustion.sustainMs < exhaustion.horizonMs)) {
    throw new ValidationError(
      `the horizon must be longer than the sustain (${describeExhaustion(exhaustion)})`,
      { path: 'horizon' },
    );
  }
  const stepMs = trainingStepMs(exhaustion);
  progress(
    `building the training set: ${series.length} series of ${resource}, exhausted ${describeExhaustion(exhaustion)}`,
  );
  const split = buildTimeSplit(series, {
    validFraction: FORECAST_VALID_FRACTION,
    evaluationStepMs: stepMs,
    ...(request.untilMs !== undefined && { untilMs: request.untilMs }),
    ...(request.remediations !== undefined && { remediations: request.remediations }),
  });
  const rows = {
    train: split.train.numRows,
    valid: split.valid.numRows,
    trainPositives: split.train.counts.positives,
    validPositives: split.valid.counts.positives,
  };
  progress(
    `rows: ${rows.train} training (${rows.trainPositives} positive), ${rows.valid} validation ` +
      `(${rows.validPositives} positive), split at ${new Date(split.splitAtMs).toISOString()}`,
  );
  if (rows.trainPositives === 0) {
    throw new ValidationError(
      `no exhaustion of ${resource} in the training data (${describeExhaustion(exhaustion)}): nothing to learn. ` +
        'Train on a longer history, or keep the bundled model.',
    );
  }
  if (rows.valid === 0) throw new ValidationError('no validation rows: the history is too short to split');
  if (rows.validPositives === 0) {
    progress('warning: no exhaustion in the validation period; the operating threshold stays at 0.5');
  }
  const first = Math.min(...series.map((s) => s.history.timestampsMs[0] ?? Infinity));
  const last =
    request.untilMs ??
    Math.max(...series.map((s) => s.history.timestampsMs[s.history.timestampsMs.length - 1] ?? -Infinity));
  const fit = await fitModel({
    name: `${resource}${request.untilMs === undefined ? '' : ` until ${new Date(request.untilMs).toISOString()}`}`,
    train: split.train,
    valid: split.valid,
    params: { ...DEFAULT_FORECAST_PARAMS, ...request.params },
    search: request.search,
    registry: request.registry,
    featureSchemaHash: split.train.featureSchemaHash,
    dataRange: { from: new Date(first).toISOString(), to: new Date(last).toISOString() },
    tags: { resource, exhaustion: describeExhaustion(exhaustion), evaluationStepMs: String(stepMs) },
    forecast: { resource, exhaustion },
    progress,
  });
  const artifact = fit.run.artifacts.find((a) => a.name === 'model.onnx');
  const band = request.band === false ? undefined : await trainBand(request, split, resource, fit, progress);
  if (request.catalog && artifact) {
    await request.catalog.promote({
      resource,
      runId: fit.run.runId,
      path: `${RUNS_DIR}/${fit.run.runId}/${artifact.path}`,
      sha256: artifact.sha256,
      ...(band && { band }),
    });
  }
  return {
    ...fit,
    resource,
    exhaustion,
    splitAtMs: split.splitAtMs,
    rows,
    modelPath: artifact ? `${RUNS_DIR}/${fit.run.runId}/${artifact.path}` : undefined,
  };
}

/**
 * Fits the time-to-exhaustion band on the same split, on the rows the
 * classifier alerts on (where the band is shown; every row with a known time
 * when too few are alerted), and records it as a child run of the
 * classifier's; the paths (relative to the data dir) of its three models, or
 * undefined when too few rows have a known time at all.
 */
async function trainBand(
  request: TrainForecastRequest,
  split: TimeSplit,
  resource: string,
  classifier: { onnx: Uint8Array; run: { runId: string } },
  progress: (line: string) => void,
): Promise<{ p10: string; p50: string; p90: string } | undefined> {
  const alerted = {
    train: await alertedRows(classifier.onnx, split.train),
    valid: await alertedRows(classifier.onnx, split.valid),
  };
  const parentRunId = classifier.run.runId;
  const { band, rows, on } = fitTteBand(split.train, split.valid, alerted);
  if (!band) {
    progress(
      `time-to-exhaustion band: too few rows with a known time to exhaustion (${rows.train} training, ` +
        `${rows.valid} validation); none fitted`,
    );
    return undefined;
  }
  const run = await request.registry.startRun({
    name: `${resource} time-to-exhaustion band`,
    kind: 'training',
    parentRunId,
    tags: {
      resource,
      target: 'ln seconds to the next exhaustion start',
      rows: on === 'alerted' ? 'rows the classifier alerts on' : 'every row with a known time',
    },
    dataset: { featureNames: split.train.featureNames, featureSchemaHash: split.train.featureSchemaHash },
  });
  try {
    const paths: Record<string, string> = {};
    for (const q of band) {
      run.logMetrics({
        [`${q.name}_pinball`]: q.metrics.pinball,
        [`${q.name}_coverage`]: q.metrics.coverage,
      });
      run.logParams({ [`${q.name}_trees`]: q.model.trees.length });
      const onnx = exportGbdtToOnnx(q.model, {
        featureSchemaHash: split.train.featureSchemaHash,
        trainingRunId: run.runId,
      });
      const artifact = await run.logArtifact(`tte_${q.name}.onnx`, onnx);
      paths[q.name] = `${RUNS_DIR}/${run.runId}/${artifact.path}`;
    }
    await run.finish('finished');
    progress(
      `time-to-exhaustion band on ${rows.train} ${on === 'alerted' ? 'alerted rows' : 'rows with a known time (too few alerted)'}: ` +
        `coverage ${band.map((q) => `${q.name} ${q.metrics.coverage.toFixed(2)}`).join(', ')} (ideal 0.10, 0.50, 0.90)`,
    );
    return { p10: paths.p10!, p50: paths.p50!, p90: paths.p90! };
  } catch (err) {
    await run.finish('failed', err);
    throw err;
  }
}
