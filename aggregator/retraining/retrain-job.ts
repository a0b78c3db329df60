/**
 * The CPU-heavy parts of the loop, run in a worker thread (worker-job.ts)
 * so that ingest and the API keep the main thread: a retrain (challenger
 * trained by trainForecast before the hold-out, then challenger, champion
 * and rules scored on the hold-out, and the drift reference of the training
 * period) and a drift check. Inputs and results are plain data, as they
 * cross the thread boundary; the store stays with the main thread.
 */
import { join } from 'node:path';
import type { DatasetSeries } from '../../models/dataset/index.js';
import { buildExhaustionDataset, splitTimeByFraction } from '../../models/dataset/index.js';
import { MODEL_CONTENDER, evaluateModelAndRules } from '../../models/evaluation/evaluate-model.js';
import type { ContenderEvaluation } from '../../models/evaluation/forecast-evaluation.js';
import { trainingStepMs } from '../../models/fit/forecast-params.js';
import { acceptedSeries, findExhaustionEvents } from '../../models/labels/index.js';
import { FileRunRegistry } from '../../models/tracking/index.js';
import { errorMessage } from '../../shared/errors.js';
import { ForecastModel } from '../../shared/inference/forecast-model.js';
import { formatDuration } from '../../shared/config/duration.js';
import { RUNS_DIR } from '../registry/model-catalog.js';
import { trainForecast } from '../training/train-forecast.js';
import type { DriftReference } from './drift-statistics.js';
import { type FeatureDriftResult, checkFeatureDrift, referenceOf } from './feature-drift.js';
import {
  type LivePerformance,
  type PerformanceDrift,
  type PredictionColumns,
  judgePerformance,
  livePerformance,
} from './live-performance.js';

export interface RetrainJob {
  type: 'retrain';
  resource: string;
  series: DatasetSeries[];
  /** The data dir: runs are recorded in its run registry. */
  dataDir: string;
  /** The serving model's ONNX file (absolute), when there is one. */
  championPath: string | undefined;
  search: { trials: number; seconds: number; seed: number };
  threads: number;
  holdoutFraction: number;
  minEvents: number;
  minHistoryMs: number;
  /** The drift checks' live window, ms: the reference covers REFERENCE_WINDOWS of them. */
  driftWindowMs: number;
}

/**
 * The drift reference covers the newest this-many drift windows of the
 * history the challenger is judged on (training's end and the hold-out):
 * what the data looked like when the model was chosen. The whole training
 * period would also hold its first days, whose long-window features are
 * still filling up (a 24 h mean after 3 hours), and every later window
 * would look shifted against them.
 */
export const REFERENCE_WINDOWS = 3;

/** The figures of one contender on the hold-out (curves left out). */
export interface ContenderSummary {
  name: string;
  kind: 'model' | 'rule';
  rocAuc: number | null;
  prAuc: number | null;
  precision: number | null;
  recall: number | null;
  operatingThreshold: number | null;
  alerts: number;
  eventsDetected: number;
  falseAlarmEpisodes: number;
}

export interface TrainedChallenger {
  runId: string;
  /** Relative to the data dir. */
  modelPath: string;
  sha256: string;
  band: { p10: string; p50: string; p90: string } | undefined;
  /** Validation metrics of the training run (operating_precision, operating_recall, pr_auc, …). */
  validation: Record<string, number>;
}

export type RetrainOutcome =
  | { status: 'skipped'; reason: string; history: HistorySummary }
  | {
      status: 'trained';
      history: HistorySummary;
      challenger: TrainedChallenger;
      holdout: { fromMs: number; untilMs: number; rows: number; positives: number; events: number };
      challengerEvaluation: ContenderSummary;
      /** Undefined without a champion, or when it could not be loaded (championError says why). */
      championEvaluation: ContenderSummary | undefined;
      championError: string | undefined;
      rules: ContenderSummary[];
      reference: DriftReference;
      seconds: number;
    };

export interface HistorySummary {
  series: number;
  fromMs: number;
  toMs: number;
  events: number;
}

export async function runRetrainJob(
  job: RetrainJob,
  progress: (line: string) => void,
): Promise<RetrainOutcome> {
  const started = performance.now();
  const history = summarizeHistory(job.series);
  const skip = (reason: string): RetrainOutcome => ({ status: 'skipped', reason, history });
  if (job.series.length === 0) return skip('no stored series');
  if (history.toMs - history.fromMs < job.minHistoryMs) {
    return skip(
      `${formatDuration(Math.max(0, Math.round(history.toMs - history.fromMs)))} of history, needs ${formatDuration(job.minHistoryMs)}`,
    );
  }
  if (history.events < job.minEvents) {
    return skip(`${history.events} exhaustion events in the history, needs ${job.minEvents}`);
  }
  const exhaustion = job.series[0]!.exhaustion;
  const stepMs = trainingStepMs(exhaustion);
  const holdoutFromMs = splitTimeByFraction(job.series, job.holdoutFraction, { evaluationStepMs: stepMs });
  const registry = new FileRunRegistry(join(job.dataDir, RUNS_DIR));
  let trained;
  try {
    trained = await trainForecast({
      resource: job.resource,
      series: job.series,
      untilMs: holdoutFromMs,
      params: { numThreads: job.threads, seed: job.search.seed },
      ...(job.search.trials > 0 && {
        search: { trials: job.search.trials, seconds: job.search.seconds, seed: job.search.seed },
      }),
      registry,
      progress,
    });
  } catch (err) {
    return skip(`training failed: ${errorMessage(err)}`);
  }
  const artifact = trained.run.artifacts.find((a) => a.name === 'model.onnx');
  if (!artifact || !trained.modelPath) return skip('the training run has no model.onnx');
  const band = await bandOf(registry, trained.run.runId);

  progress(`hold-out from ${new Date(holdoutFromMs).toISOString()}: scoring challenger, champion and rules`);
  const holdout = buildExhaustionDataset(job.series, { fromMs: holdoutFromMs, evaluationStepMs: stepMs });
  const challengerModel = await ForecastModel.load(join(job.dataDir, trained.modelPath));
  let challengerEvaluation: ContenderSummary;
  let rules: ContenderSummary[];
  let holdoutEvents: number;
  try {
    const evaluation = await evaluateModelAndRules(challengerModel, holdout);
    challengerEvaluation = summarize(evaluation.contenders.find((c) => c.name === MODEL_CONTENDER)!);
    rules = evaluation.contenders.filter((c) => c.kind === 'rule').map(summarize);
    holdoutEvents = evaluation.events;
  } finally {
    await challengerModel.release();
  }
  let championEvaluation: ContenderSummary | undefined;
  let championError: string | undefined;
  if (job.championPath) {
    try {
      const champion = await ForecastModel.load(job.championPath);
      try {
        const evaluation = await evaluateModelAndRules(champion, holdout);
        championEvaluation = summarize(evaluation.contenders.find((c) => c.name === MODEL_CONTENDER)!);
      } finally {
        await champion.release();
      }
    } catch (err) {
      championError = `the champion could not be scored: ${errorMessage(err)}`;
    }
  }
  const reference = referenceOf(job.series, {
    fromMs: Math.max(history.fromMs, history.toMs - REFERENCE_WINDOWS * job.driftWindowMs),
    untilMs: history.toMs + 1,
    stepMs,
  });
  return {
    status: 'trained',
    history,
    challenger: {
      runId: trained.run.runId,
      modelPath: trained.modelPath,
      sha256: artifact.sha256,
      band,
      validation: trained.metrics,
    },
    holdout: {
      fromMs: holdoutFromMs,
      untilMs: history.toMs,
      rows: holdout.numRows,
      positives: holdout.counts.positives,
      events: holdoutEvents,
    },
    challengerEvaluation,
    championEvaluation,
    championError,
    rules,
    reference,
    seconds: (performance.now() - started) / 1000,
  };
}

export interface DriftJob {
  type: 'drift';
  series: DatasetSeries[];
  /** Undefined when the serving model has none (not trained by the loop). */
  reference: DriftReference | undefined;
  window: { fromMs: number; untilMs: number };
  psiThreshold: number;
  minShiftedShare: number;
  /** Per series key (live-performance.ts): the serving model's stored forecasts. */
  predictions: Map<string, PredictionColumns>;
  validation: { precision: number; recall: number } | undefined;
  performanceMargin: number;
  minMaturedPositives: number;
}

export interface DriftOutcome {
  features: FeatureDriftResult | undefined;
  performance: LivePerformance;
  performanceDrift: PerformanceDrift;
}

export function runDriftJob(job: DriftJob): DriftOutcome {
  const stepMs = job.series.length > 0 ? trainingStepMs(job.series[0]!.exhaustion) : 60_000;
  const features = job.reference
    ? checkFeatureDrift(job.reference, job.series, {
        ...job.window,
        stepMs,
        psiThreshold: job.psiThreshold,
        minShiftedShare: job.minShiftedShare,
      })
    : undefined;
  const performance = livePerformance(job.series, job.predictions);
  const performanceDrift = judgePerformance(performance, job.validation, {
    margin: job.performanceMargin,
    minCount: job.minMaturedPositives,
  });
  return { features, performance, performanceDrift };
}

/** Span and exhaustion events of the stored history. */
function summarizeHistory(series: readonly DatasetSeries[]): HistorySummary {
  let fromMs = Infinity;
  let toMs = -Infinity;
  let events = 0;
  for (const s of series) {
    const ts = s.history.timestampsMs;
    if (ts.length === 0) continue;
    fromMs = Math.min(fromMs, ts[0]!);
    toMs = Math.max(toMs, ts[ts.length - 1]!);
    events += findExhaustionEvents(acceptedSeries(s.history), s.exhaustion).count;
  }
  return { series: series.length, fromMs, toMs, events };
}

/** The band child run's three models, relative to the data dir. */
async function bandOf(
  registry: FileRunRegistry,
  runId: string,
): Promise<{ p10: string; p50: string; p90: string } | undefined> {
  const [run] = await registry.listRuns({ parentRunId: runId, kind: 'training', limit: 1 });
  if (!run) return undefined;
  const path = (q: string) => {
    const artifact = run.artifacts.find((a) => a.name === `tte_${q}.onnx`);
    return artifact ? `${RUNS_DIR}/${run.runId}/${artifact.path}` : undefined;
  };
  const [p10, p50, p90] = [path('p10'), path('p50'), path('p90')];
  return p10 && p50 && p90 ? { p10, p50, p90 } : undefined;
}

function summarize(c: ContenderEvaluation): ContenderSummary {
  return {
    name: c.name,
    kind: c.kind,
    rocAuc: c.rocAuc,
    prAuc: c.prAuc,
    precision: c.precision,
    recall: c.recall,
    operatingThreshold: c.operatingThreshold,
    alerts: c.alerts,
    eventsDetected: c.eventsDetected,
    falseAlarmEpisodes: c.falseAlarmEpisodes,
  };
}
