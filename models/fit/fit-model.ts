import { VERSION } from '../../shared/version.js';
import { ValidationError } from '../../shared/errors.js';
import { predictRow, type GbdtModel } from '../gbdt/model.js';
import { GbdtParamsSchema, type GbdtParams, type GbdtParamsInput } from '../gbdt/params.js';
import { trainGbdt, type TrainResult, type TrainingSet } from '../gbdt/train.js';
import { chooseOperatingPoint } from '../evaluation/operating-point.js';
import { type ForecastMeta, exportGbdtToOnnx } from '../onnx/export.js';
import { MedianPruner, Study, TpeSampler, TrialPruned, type TrialRecord } from '../search/index.js';
import { featureSchemaHash, type RunRecord, type RunRegistry } from '../tracking/index.js';
import { GBDT_SEARCH_SPACE, trialParams } from './search-space.js';
import { validationMetrics } from './validation-metrics.js';

/** Share of rows held out, from the end, when no validation set is given (rows are taken as time-ordered). */
export const DEFAULT_VALID_FRACTION = 0.2;
/** Rounds without improvement before a search trial or the final fit stops. */
export const SEARCH_EARLY_STOPPING_ROUNDS = 30;
/** Most rounds a search trial may run; early stopping ends most sooner. */
export const SEARCH_MAX_ROUNDS = 1000;
/** A search trial reports its validation loss to the pruner every this many rounds. */
const REPORT_EVERY_ROUNDS = 10;

export interface FitRequest {
  /** Human-readable run name, e.g. the data file or `cpu-1h`. */
  name: string;
  train: TrainingSet;
  /** Validation rows; default the last 20% of `train` (a time-based hold-out). */
  valid?: TrainingSet | undefined;
  /** Fixed trainer parameters (objective included); searched ones override them per trial. */
  params: GbdtParamsInput;
  /** Run a TPE search first, within this budget. */
  search?: { trials: number; seconds?: number | undefined; seed?: number | undefined } | undefined;
  registry: RunRegistry;
  /** Default: the hash of the feature names. */
  featureSchemaHash?: string | undefined;
  dataRange?: { from: string; to: string } | undefined;
  tags?: Record<string, string> | undefined;
  /**
   * For an exhaustion forecast (`binary`): the resource and definition its
   * labels used. The operating threshold is then chosen on the validation
   * rows, recorded, and written into the ONNX metadata with them.
   */
  forecast?: Omit<ForecastMeta, 'operatingThreshold'> | undefined;
  /** Progress lines (trial results, final metrics). */
  progress?: (line: string) => void;
}

export interface FitResult {
  run: RunRecord;
  model: GbdtModel;
  params: GbdtParams;
  onnx: Uint8Array;
  /** Validation metrics of the final model. */
  metrics: Record<string, number>;
  trials: readonly TrialRecord[];
}

/**
 * Fits a model the way CloudSense records it: optional TPE search with
 * pruning, then the final training with early stopping on the validation
 * rows, evaluation, ONNX export, and one tracked run holding params, metrics,
 * curves, importance, the study log and the model.
 */
export async function fitModel(request: FitRequest): Promise<FitResult> {
  const progress = request.progress ?? (() => undefined);
  const { train, valid } = request.valid
    ? { train: request.train, valid: request.valid }
    : splitTail(request.train, DEFAULT_VALID_FRACTION);
  const fixed = GbdtParamsSchema.parse(request.params);
  const schemaHash = request.featureSchemaHash ?? featureSchemaHash(train.featureNames);
  const run = await request.registry.startRun({
    name: request.name,
    kind: 'training',
    tags: { producer: `cloudsense ${VERSION}`, ...request.tags },
    dataset: {
      ...(request.dataRange ? { dataRange: request.dataRange } : {}),
      rowCounts: { train: train.numRows, valid: valid.numRows },
      featureNames: train.featureNames,
      featureSchemaHash: schemaHash,
    },
  });
  try {
    let finalParams: GbdtParamsInput = request.params;
    let trials: readonly TrialRecord[] = [];
    if (request.search && request.search.trials > 0) {
      const study = await searchParams(request, train, valid, fixed, run.runId, progress);
      trials = study.trials;
      const best = study.bestTrial;
      if (!best) throw new ValidationError('the search finished no trial; raise its budget');
      finalParams = {
        ...trialParams(request.params, best.params),
        numIterations: Math.max(fixed.numIterations, SEARCH_MAX_ROUNDS),
        earlyStoppingRounds: fixed.earlyStoppingRounds || SEARCH_EARLY_STOPPING_ROUNDS,
      };
      await run.logArtifact('study.jsonl', new TextEncoder().encode(study.formatLog()));
    }

    const result = trainGbdt(train, finalParams, { valid, trainMetric: true });
    const predictions = predictAll(result.model, valid);
    const metrics = validationMetrics(
      result.params.objective,
      valid.labels,
      predictions,
      result.params.alpha,
    );
    let forecast: ForecastMeta | undefined;
    if (request.forecast && result.params.objective === 'binary') {
      const point = chooseOperatingPoint(valid.labels, predictions);
      forecast = { ...request.forecast, operatingThreshold: point.threshold };
      Object.assign(metrics, {
        operating_threshold: point.threshold,
        operating_precision: point.precision,
        operating_recall: point.recall,
        operating_f1: point.f1,
      });
    }
    recordTraining(run, result, metrics);
    const onnx = exportGbdtToOnnx(result.model, {
      featureSchemaHash: schemaHash,
      trainingRunId: run.runId,
      ...(forecast ? { forecast } : {}),
    });
    await run.logArtifact('model.onnx', onnx);
    await run.logArtifact(
      'importance.json',
      new TextEncoder().encode(JSON.stringify(importanceTable(train.featureNames, result), null, 2)),
    );
    progress(
      `validation: ${Object.entries(metrics)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(', ')}`,
    );
    const record = await run.finish('finished');
    return { run: record, model: result.model, params: result.params, onnx, metrics, trials };
  } catch (err) {
    await run.finish('failed', err);
    throw err;
  }
}

async function searchParams(
  request: FitRequest,
  train: TrainingSet,
  valid: TrainingSet,
  fixed: GbdtParams,
  parentRunId: string,
  progress: (line: string) => void,
) {
  const search = request.search!;
  const study = new Study({
    name: `${request.name} search`,
    space: GBDT_SEARCH_SPACE,
    direction: 'minimize',
    sampler: new TpeSampler(search.seed === undefined ? {} : { seed: search.seed }),
    pruner: new MedianPruner(),
    onTrialFinished: (t) => {
      const value = t.value === null ? '' : ` ${t.value.toFixed(5)}`;
      const best = study.bestTrial?.value;
      progress(
        `trial ${t.number + 1}/${search.trials}: ${t.state}${value}${best === undefined ? '' : ` (best ${best!.toFixed(5)})`}`,
      );
    },
  });
  await study.optimize(
    (sampled, trial) => {
      const params = {
        ...trialParams(request.params, sampled),
        numIterations: Math.max(fixed.numIterations, SEARCH_MAX_ROUNDS),
        earlyStoppingRounds: fixed.earlyStoppingRounds || SEARCH_EARLY_STOPPING_ROUNDS,
      };
      let pruned = false;
      const result = trainGbdt(train, params, {
        valid,
        onIteration: ({ iteration, validMetric }) => {
          if (iteration % REPORT_EVERY_ROUNDS !== 0 || validMetric === undefined) return false;
          pruned = trial.report(iteration, validMetric);
          return pruned;
        },
      });
      if (pruned) throw new TrialPruned();
      return Math.min(...result.history.valid);
    },
    { trials: search.trials, ...(search.seconds ? { seconds: search.seconds } : {}) },
  );
  progress(`search: ${study.trials.length} trials under run ${parentRunId}`);
  return study;
}

function recordTraining(
  run: {
    logParams(p: Record<string, string | number | boolean>): void;
    logMetric(n: string, v: number, s?: number): void;
  },
  result: TrainResult,
  metrics: Record<string, number>,
): void {
  run.logParams({ ...result.params, bestIteration: result.bestIteration, trees: result.model.trees.length });
  const metric = result.history.metric;
  result.history.train.forEach((v, i) => run.logMetric(`train_${metric}`, v, i + 1));
  result.history.valid.forEach((v, i) => run.logMetric(`valid_${metric}`, v, i + 1));
  for (const [name, value] of Object.entries(metrics)) run.logMetric(name, value);
  run.logMetric('training_seconds', result.durationMs / 1000);
}

function importanceTable(names: readonly string[], result: TrainResult) {
  return names
    .map((feature, i) => ({ feature, gain: result.importance.gain[i]!, splits: result.importance.split[i]! }))
    .sort((a, b) => b.gain - a.gain);
}

export function predictAll(model: GbdtModel, set: TrainingSet): Float64Array {
  const F = set.featureNames.length;
  const out = new Float64Array(set.numRows);
  for (let i = 0; i < set.numRows; i++) out[i] = predictRow(model, set.features.subarray(i * F, (i + 1) * F));
  return out;
}

/** Holds out the last `fraction` of rows: with time-ordered rows, validation lies after training. */
export function splitTail(set: TrainingSet, fraction: number): { train: TrainingSet; valid: TrainingSet } {
  const F = set.featureNames.length;
  const validRows = Math.max(1, Math.floor(set.numRows * fraction));
  const trainRows = set.numRows - validRows;
  if (trainRows < 2) throw new ValidationError(`too few rows (${set.numRows}) to hold out a validation set`);
  const labels = Float64Array.from(set.labels);
  return {
    train: {
      features: set.features.subarray(0, trainRows * F),
      labels: labels.subarray(0, trainRows),
      numRows: trainRows,
      featureNames: set.featureNames,
    },
    valid: {
      features: set.features.subarray(trainRows * F),
      labels: labels.subarray(trainRows),
      numRows: validRows,
      featureNames: set.featureNames,
    },
  };
}
