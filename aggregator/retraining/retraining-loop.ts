/**
 * The aggregator's retraining loop. Every `checkInterval` it goes through
 * the configured resources one at a time:
 *
 * - a resource whose last retrain is `interval` old (or that was never
 *   trained) is retrained (trigger `schedule`);
 * - otherwise it is checked for drift (feature shift against the serving
 *   model's training reference; live precision/recall on matured labels
 *   against its validation figures), and retrained on drift (trigger
 *   `drift`) unless it was retrained less than `minRetrainInterval` ago.
 *
 * A retrain trains a challenger on the history before the hold-out, scores
 * challenger, champion and rules on the hold-out and promotes by the rule in
 * promotion-rule.ts. Training and drift statistics run in a worker thread
 * (worker-job.ts); the store is read here, on the main thread, and only one
 * job runs at a time (a second would compete for the same core).
 */
import { join, resolve } from 'node:path';
import { FileRunRegistry, type RunRecord } from '../../models/tracking/index.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { BUNDLED_MODELS_DIR } from '../../shared/inference/model-files.js';
import { ForecastModel } from '../../shared/inference/forecast-model.js';
import type { Logger } from '../../shared/log.js';
import type { ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import {
  type CatalogEntry,
  ModelCatalog,
  RUNS_DIR,
  type ResolvedModel,
  catalogKey,
} from '../registry/model-catalog.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import { readSeriesFor } from '../training/store-series.js';
import type { RetrainingSettings } from './config.js';
import type { PredictionColumns } from './live-performance.js';
import type { PromotedModel } from './promoted-model.js';
import { decidePromotion } from './promotion-rule.js';
import type { RetrainOutcome } from './retrain-job.js';
import {
  type DriftCheckRecord,
  type JsonLinesLog,
  type PromotionRecord,
  type ReplacedEntry,
  type RetrainTrigger,
  driftChecksLog,
  promotionsLog,
} from './retraining-log.js';
import { RETRAINING_RUN_KIND, loadDriftReference, recordRetrainingRun } from './retraining-run.js';
import { servingRunId, storedForecasts, validationFigures } from './serving-model.js';
import { type RunningJob, startJob } from './worker-job.js';

export interface RetrainingLoopOptions {
  store: TelemetryStore;
  dataDir: string;
  settings: RetrainingSettings;
  /** The `exhaustion` section of the configuration. */
  exhaustion?: ExhaustionConfig | undefined;
  log: Logger;
  /** Wall clock for the schedule, ms; default Date.now. */
  now?: () => number;
  /** Called after each promotion or rollback, with the model now serving (the rollout's input). */
  onPromoted?: (model: PromotedModel, cause: 'promotion' | 'rollback') => Promise<unknown> | void;
  /** Where bundled baseline models live (for the champion fallback); default the package's. */
  bundledDir?: string | undefined;
}

/** What the loop is doing now, for the API. */
export interface RetrainingStatus {
  enabled: boolean;
  running: { resource: string; job: 'retrain' | 'drift'; since: string } | undefined;
  lastAttempt: Record<string, string>;
  nextPassAt: string | undefined;
}

export class RetrainingLoop {
  readonly registry: FileRunRegistry;
  readonly catalog: ModelCatalog;
  private readonly promotions: JsonLinesLog<PromotionRecord>;
  private readonly driftChecks: JsonLinesLog<DriftCheckRecord>;
  private readonly now: () => number;
  private readonly lastAttemptMs = new Map<string, number>();
  private state: 'new' | 'started' | 'stopped' = 'new';
  private timer: NodeJS.Timeout | undefined;
  private nextPassMs: number | undefined;
  /** Jobs run one after another on this chain. */
  private chain: Promise<unknown> = Promise.resolve();
  private passPending = false;
  private running: (RetrainingStatus['running'] & { job$: RunningJob<unknown> | undefined }) | undefined;

  constructor(private readonly options: RetrainingLoopOptions) {
    const dataDir = resolve(options.dataDir);
    this.registry = new FileRunRegistry(join(dataDir, RUNS_DIR));
    this.catalog = new ModelCatalog(dataDir, options.bundledDir ?? BUNDLED_MODELS_DIR);
    this.promotions = promotionsLog(dataDir);
    this.driftChecks = driftChecksLog(dataDir);
    this.now = options.now ?? Date.now;
  }

  private get settings(): RetrainingSettings {
    return this.options.settings;
  }

  /** Restores when each resource was last retrained, and starts the timer when enabled. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'started';
    for (const record of await this.promotions.read()) {
      if (record.trigger === 'rollback') continue;
      this.lastAttemptMs.set(record.resource, Date.parse(record.time));
    }
    if (!this.settings.enabled) return;
    // The first pass waits one interval: a restart does not start a training on a busy start-up.
    this.schedulePass();
  }

  /** Stops the timer and ends a running job. Safe to call twice and before start. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.timer);
    this.nextPassMs = undefined;
    await this.running?.job$?.cancel();
    await this.chain.catch(() => undefined);
  }

  status(): RetrainingStatus {
    return {
      enabled: this.settings.enabled,
      running: this.running && {
        resource: this.running.resource,
        job: this.running.job,
        since: this.running.since,
      },
      lastAttempt: Object.fromEntries(
        [...this.lastAttemptMs].map(([r, ms]) => [r, new Date(ms).toISOString()]),
      ),
      nextPassAt: this.nextPassMs === undefined ? undefined : new Date(this.nextPassMs).toISOString(),
    };
  }

  /** The loop's retraining runs (each with its comparison), newest first. */
  listRuns(limit = 50): Promise<RunRecord[]> {
    return this.registry.listRuns({ kind: RETRAINING_RUN_KIND, limit });
  }

  /** Promotion decisions and rollbacks, newest first. */
  async listPromotions(limit = 100): Promise<PromotionRecord[]> {
    return (await this.promotions.read(limit)).reverse();
  }

  /** Drift checks, newest first. */
  async listDriftChecks(limit = 100): Promise<DriftCheckRecord[]> {
    return (await this.driftChecks.read(limit)).reverse();
  }

  /**
   * One pass over every configured resource (schedule, else drift check);
   * what the timer runs. Resolves when the pass is done.
   */
  runPass(): Promise<void> {
    return this.enqueue(async () => {
      for (const resource of this.settings.resources) {
        if (this.state === 'stopped') return;
        await this.passResource(catalogKey(resource));
      }
    });
  }

  /** Retrains one resource now (after the job in progress), whatever the schedule says. */
  retrain(resource: string, trigger: RetrainTrigger = 'manual'): Promise<PromotionRecord> {
    return this.enqueue(() => this.retrainNow(catalogKey(resource), trigger));
  }

  /** Checks one resource for drift now (after the job in progress), without retraining. */
  checkDrift(resource: string): Promise<DriftCheckRecord> {
    return this.enqueue(() => this.checkDriftNow(catalogKey(resource)));
  }

  /**
   * Puts back the model that the last promotion (or rollback) of `resource`
   * replaced, and records the rollback; a second rollback undoes the first.
   * Refuses when the serving model was not put there by the loop, or when
   * the model before was the bundled baseline (the catalog holds trained
   * models only: remove the entry from models/current.json to go back to it).
   */
  rollback(resource: string): Promise<PromotionRecord> {
    return this.enqueue(async () => {
      const key = catalogKey(resource);
      const current = (await this.catalog.entries())[key];
      const last = (await this.promotions.read())
        .filter((r) => r.resource === key && (r.decision === 'promoted' || r.decision === 'rolled_back'))
        .pop();
      if (!current || last?.model?.runId !== current.runId) {
        throw new RollbackError(`the model serving ${key} was not put there by the retraining loop`);
      }
      const previous = last.previous;
      if (!previous) {
        throw new RollbackError(
          `before ${current.runId}, ${key} was served by the ${last.champion?.source === 'bundled' ? 'bundled baseline' : 'no'} model; nothing trained to go back to`,
        );
      }
      await this.catalog.promote({ ...previous, resource: key });
      const model = await promotedModelOf(this.catalog.dataDir, key, previous, new Date(this.now()));
      const record: PromotionRecord = {
        time: model.promotedAt,
        resource: key,
        trigger: 'rollback',
        decision: 'rolled_back',
        reason: `back from ${current.runId} to ${previous.runId}`,
        champion: { source: 'trained', runId: current.runId },
        previous: catalogEntryOf(current),
        model,
      };
      await this.promotions.append(record);
      this.options.log.warn({ resource: key, from: current.runId, to: previous.runId }, 'model rolled back');
      await this.handOver(model, 'rollback');
      return record;
    });
  }

  /** Hands the serving model to the rollout; a failed publish is logged, the promotion stands. */
  private async handOver(model: PromotedModel, cause: 'promotion' | 'rollback'): Promise<void> {
    try {
      await this.options.onPromoted?.(model, cause);
    } catch (err) {
      this.options.log.error(
        { key: model.key, version: model.version, err: errorMessage(err) },
        'rollout failed',
      );
    }
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const next = this.chain.then(() => {
      if (this.state === 'stopped') throw new RetrainingStoppedError();
      return job();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private schedulePass(): void {
    if (this.state !== 'started') return;
    const delay = this.settings.checkInterval;
    this.nextPassMs = this.now() + delay;
    this.timer = setTimeout(() => {
      if (this.passPending) return this.schedulePass();
      this.passPending = true;
      this.runPass()
        .catch((err: unknown) => {
          if (!(err instanceof RetrainingStoppedError)) {
            this.options.log.error({ err: errorMessage(err) }, 'retraining pass failed');
          }
        })
        .finally(() => {
          this.passPending = false;
          this.schedulePass();
        });
    }, delay);
    this.timer.unref();
  }

  private async passResource(key: string): Promise<void> {
    const last = this.lastAttemptMs.get(key);
    const since = last === undefined ? Infinity : this.now() - last;
    try {
      if (since >= this.settings.interval) {
        await this.retrainNow(key, 'schedule');
        return;
      }
      const check = await this.checkDriftNow(key);
      if (check.drifted && since >= this.settings.minRetrainInterval) await this.retrainNow(key, 'drift');
    } catch (err) {
      if (err instanceof RetrainingStoppedError || this.state === 'stopped')
        throw new RetrainingStoppedError();
      this.options.log.error({ resource: key, err: errorMessage(err) }, 'retraining of a resource failed');
    }
  }

  private async retrainNow(key: string, trigger: RetrainTrigger): Promise<PromotionRecord> {
    const { log } = this.options;
    const settings = this.settings;
    this.lastAttemptMs.set(key, this.now());
    const series = await readSeriesFor(this.options.store, key, { exhaustion: this.options.exhaustion });
    const champion = await this.resolveChampion(key);
    log.info({ resource: key, trigger, series: series.length, champion: champion?.source }, 'retraining');
    const replaced = (await this.catalog.entries())[key];
    const base = {
      time: new Date(this.now()).toISOString(),
      resource: key,
      trigger,
      champion: championRef(champion),
    };
    let outcome: RetrainOutcome;
    try {
      outcome = await this.runJob(key, 'retrain', () =>
        startJob(
          {
            type: 'retrain',
            resource: key,
            series,
            dataDir: this.catalog.dataDir,
            championPath: champion?.path,
            search: {
              trials: settings.search.trials,
              seconds: settings.search.budget / 1000,
              seed: settings.search.seed,
            },
            threads: settings.threads,
            holdoutFraction: settings.holdoutFraction,
            minEvents: settings.minEvents,
            minHistoryMs: settings.minHistory,
            driftWindowMs: settings.drift.window,
          },
          (line) => log.debug({ resource: key }, line),
        ),
      );
    } catch (err) {
      if (this.state === 'stopped') throw new RetrainingStoppedError();
      const record: PromotionRecord = { ...base, decision: 'failed', reason: errorMessage(err) };
      await this.promotions.append(record);
      log.error({ resource: key, err: record.reason }, 'retraining failed');
      return record;
    }
    if (outcome.status === 'skipped') {
      const record: PromotionRecord = { ...base, decision: 'skipped', reason: outcome.reason };
      await this.promotions.append(record);
      log.info({ resource: key, reason: outcome.reason }, 'retraining skipped');
      return record;
    }
    const decision = decidePromotion(
      {
        holdout: outcome.holdout,
        challenger: outcome.challengerEvaluation,
        champion: outcome.championEvaluation,
        rules: outcome.rules,
      },
      settings.promotion,
    );
    const runId = await recordRetrainingRun(
      this.registry,
      settings,
      key,
      trigger,
      champion,
      outcome,
      decision,
    );
    let model: PromotedModel | undefined;
    if (decision.promote) {
      const { challenger } = outcome;
      await this.catalog.promote({
        resource: key,
        runId: challenger.runId,
        path: challenger.modelPath,
        sha256: challenger.sha256,
        ...(challenger.band && { band: challenger.band }),
      });
      model = {
        key,
        version: challenger.runId,
        runId: challenger.runId,
        modelPath: resolve(this.catalog.dataDir, challenger.modelPath),
        sha256: challenger.sha256,
        band: challenger.band && {
          p10: resolve(this.catalog.dataDir, challenger.band.p10),
          p50: resolve(this.catalog.dataDir, challenger.band.p50),
          p90: resolve(this.catalog.dataDir, challenger.band.p90),
        },
        featureSchemaHash: FEATURE_SCHEMA.hash,
        operatingThreshold: outcome.challengerEvaluation.operatingThreshold ?? undefined,
        promotedAt: new Date(this.now()).toISOString(),
      };
    }
    const record: PromotionRecord = {
      ...base,
      decision: decision.promote ? 'promoted' : 'rejected',
      reason: decision.reason,
      retrainingRunId: runId,
      challengerRunId: outcome.challenger.runId,
      ...(model && { model, ...(replaced && { previous: catalogEntryOf(replaced) }) }),
    };
    await this.promotions.append(record);
    log.info(
      {
        resource: key,
        decision: record.decision,
        reason: decision.reason,
        run: runId,
        seconds: outcome.seconds,
      },
      decision.promote ? 'challenger promoted' : 'challenger rejected',
    );
    if (model) await this.handOver(model, 'promotion');
    return record;
  }

  private async checkDriftNow(key: string): Promise<DriftCheckRecord> {
    const settings = this.settings;
    const series = await readSeriesFor(this.options.store, key, { exhaustion: this.options.exhaustion });
    const endMs = Math.max(
      -Infinity,
      ...series.map((s) => s.history.timestampsMs[s.history.timestampsMs.length - 1] ?? -Infinity),
    );
    const champion = await this.resolveChampion(key);
    const modelRunId = champion ? await servingRunId(champion) : undefined;
    const window = { fromMs: endMs - settings.drift.window, untilMs: endMs + 1 };
    const reasons: string[] = [];
    const base = { time: new Date(this.now()).toISOString(), resource: key, modelRunId };
    if (series.length === 0 || !Number.isFinite(endMs)) {
      const record: DriftCheckRecord = {
        ...base,
        window: { from: '', to: '' },
        features: { skipped: 'no stored series' },
        performance: emptyPerformance(['no stored series']),
        drifted: false,
        reasons,
      };
      await this.driftChecks.append(record);
      return record;
    }
    const reference = champion?.runId ? await loadDriftReference(this.registry, champion.runId) : undefined;
    const validation = champion
      ? await validationFigures(this.registry, champion, this.options.bundledDir ?? BUNDLED_MODELS_DIR)
      : undefined;
    const predictions = modelRunId
      ? await storedForecasts(this.options.store, series, modelRunId, window.fromMs, endMs)
      : new Map<string, PredictionColumns>();
    const outcome = await this.runJob(key, 'drift', () =>
      startJob({
        type: 'drift',
        series,
        reference,
        window,
        psiThreshold: settings.drift.psiThreshold,
        minShiftedShare: settings.drift.minShiftedShare,
        predictions,
        validation,
        performanceMargin: settings.drift.performanceMargin,
        minMaturedPositives: settings.drift.minMaturedPositives,
      }),
    );
    if (outcome.features?.drifted) {
      reasons.push(
        `${outcome.features.shifted.length} of ${outcome.features.shifts.length} features shifted (PSI ≥ ${settings.drift.psiThreshold}): ${outcome.features.shifted.join(', ')}`,
      );
    }
    if (outcome.performanceDrift.drifted)
      reasons.push(...outcome.performanceDrift.notes.filter((n) => n.startsWith('live')));
    const record: DriftCheckRecord = {
      ...base,
      window: { from: new Date(window.fromMs).toISOString(), to: new Date(endMs).toISOString() },
      features: outcome.features
        ? {
            rows: outcome.features.rows,
            shifted: outcome.features.shifted,
            top: outcome.features.shifts.slice(0, 5).map((s) => ({ name: s.name, psi: round(s.psi) })),
          }
        : { skipped: 'the serving model has no drift reference (not trained by the retraining loop)' },
      performance: {
        matured: outcome.performance.matured,
        positives: outcome.performance.positives,
        alerts: outcome.performance.alerts,
        precision: outcome.performance.precision,
        recall: outcome.performance.recall,
        validation,
        notes: outcome.performanceDrift.notes,
      },
      drifted: (outcome.features?.drifted ?? false) || outcome.performanceDrift.drifted,
      reasons,
    };
    await this.driftChecks.append(record);
    this.options.log.info({ resource: key, drifted: record.drifted, reasons }, 'drift check');
    return record;
  }

  /** Runs a worker job, visible in status() and cancelled by stop(). */
  private async runJob<T>(
    resource: string,
    job: 'retrain' | 'drift',
    start: () => RunningJob<T>,
  ): Promise<T> {
    const running = start();
    this.running = { resource, job, since: new Date(this.now()).toISOString(), job$: running };
    try {
      return await running.result;
    } finally {
      this.running = undefined;
    }
  }

  /** The catalog's model for the resource, or the bundled one; undefined when there is none. */
  private async resolveChampion(key: string): Promise<ResolvedModel | undefined> {
    return this.catalog.resolve(key);
  }
}

/** A rollback that cannot be done (nothing to go back to); retrying will not help. */
export class RollbackError extends CloudSenseError {
  constructor(message: string) {
    super('ROLLBACK_IMPOSSIBLE', message, { permanent: true });
  }
}

/** A job asked of a stopped loop. */
export class RetrainingStoppedError extends CloudSenseError {
  constructor() {
    super('RETRAINING_STOPPED', 'the retraining loop is stopped');
  }
}

function championRef(model: ResolvedModel | undefined): PromotionRecord['champion'] {
  if (!model) return { source: 'none' };
  return model.runId ? { source: model.source, runId: model.runId } : { source: model.source };
}

function emptyPerformance(notes: string[]): DriftCheckRecord['performance'] {
  return { matured: 0, positives: 0, alerts: 0, precision: null, recall: null, validation: undefined, notes };
}

/** A catalog entry as a promotion record keeps it (the time it became current is the record's). */
function catalogEntryOf(entry: CatalogEntry): ReplacedEntry {
  return {
    runId: entry.runId,
    path: entry.path,
    sha256: entry.sha256,
    ...(entry.band && { band: entry.band }),
  };
}

/** The rollout's record of a catalog entry, with what its ONNX metadata says. */
async function promotedModelOf(
  dataDir: string,
  key: string,
  entry: ReplacedEntry,
  at: Date,
): Promise<PromotedModel> {
  const modelPath = resolve(dataDir, entry.path);
  const loaded = await ForecastModel.load(modelPath);
  try {
    return {
      key,
      version: entry.runId,
      runId: entry.runId,
      modelPath,
      sha256: entry.sha256,
      band: entry.band && {
        p10: resolve(dataDir, entry.band.p10),
        p50: resolve(dataDir, entry.band.p50),
        p90: resolve(dataDir, entry.band.p90),
      },
      featureSchemaHash: loaded.metadata.featureSchemaHash,
      operatingThreshold: loaded.operatingThreshold,
      promotedAt: at.toISOString(),
    };
  } finally {
    await loaded.release();
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
