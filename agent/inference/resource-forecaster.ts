/**
 * Live exhaustion forecasts for one host: a FeatureExtractor per resource
 * (the same code the aggregator replays history through), fed from every
 * telemetry message the agent makes, and each cycle the feature vectors of
 * all resources scored in one batched onnxruntime call per model (resources
 * of one kind share their kind's model).
 *
 * Resources come and go (mounts): an extractor is created for a resource's
 * first sample and dropped when the resource has had no sample for
 * `forgetAfterMs`. A resource whose kind has no model gets no forecast, with
 * one warning per kind.
 */
import { FEATURE_COUNT, FeatureExtractor } from '../../shared/features/index.js';
import { RateLimitedLog, type Logger } from '../../shared/log.js';
import { resolveExhaustion, type ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import type { ResourceKind } from '../../shared/resources/resource-id.js';
import { extractUtilization } from '../../shared/resources/utilization.js';
import type { ModelRef } from '../../shared/wire/predictions.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import type { ModelLease, ModelSet, ServingModel } from './model-set.js';

/**
 * A resource without a sample for this long is forgotten (its extractor,
 * ~175 KiB, is dropped), ms: an hour, so a volume remounted within the hour
 * keeps its history, while a host whose mounts churn (containers) holds at
 * most an hour's worth of them.
 */
export const FORGET_RESOURCE_AFTER_MS = 60 * 60_000;
/** Most resources tracked at once (~175 KiB each); samples of further resources are ignored, with a warning. */
export const MAX_TRACKED_RESOURCES = 256;

export interface ResourceForecast {
  /** Canonical resource id. */
  resource: string;
  kind: ResourceKind;
  /** Probability (0..1) of exhaustion within `horizonMs`. */
  probability: number;
  /** The model's operating threshold. */
  threshold: number;
  horizonMs: number;
  /** Seconds, P10 ≤ P50 ≤ P90, when the model has a band and the probability reaches the threshold. */
  ttBand?: { p10S: number; p50S: number; p90S: number };
  model: ModelRef;
}

export interface ForecasterStats {
  /** Resources with an extractor now. */
  resources: number;
  /** `forecast` calls, and the CPU time they and the `observe` calls took, ms (process-wide). */
  cycles: number;
  cpuMs: number;
  lastCycleCpuMs: number;
}

interface TrackedResource {
  readonly kind: ResourceKind;
  readonly horizonMs: number;
  readonly extractor: FeatureExtractor;
  lastSampleAt: number;
}

export interface ResourceForecasterOptions {
  models: ModelSet;
  exhaustion: ExhaustionConfig;
  log: Logger;
  forgetAfterMs?: number;
  maxResources?: number;
  /**
   * Told after each model's batch of a cycle how many of its probabilities
   * were valid (finite, 0..1) and how many not; invalid ones are dropped
   * from the forecasts. The model updater watches a new model with it.
   */
  onScored?: (model: ServingModel, outcome: ScoringOutcome) => void;
}

/** How one model's batch of a cycle went. */
export interface ScoringOutcome {
  rows: number;
  /** Probabilities that were NaN, infinite or outside 0..1. */
  invalid: number;
}

export class ResourceForecaster {
  private readonly tracked = new Map<string, TrackedResource>();
  private readonly kindsWithoutModel = new Set<ResourceKind>();
  private readonly overflowLog: RateLimitedLog;
  private readonly invalidLog: RateLimitedLog;
  private readonly forgetAfterMs: number;
  private readonly maxResources: number;
  private readonly counts = { cycles: 0, cpuMs: 0, lastCycleCpuMs: 0 };
  /** CPU time of the `observe` calls since the last `forecast`, µs. */
  private observeCpuUs = 0;

  constructor(private readonly options: ResourceForecasterOptions) {
    this.forgetAfterMs = options.forgetAfterMs ?? FORGET_RESOURCE_AFTER_MS;
    this.maxResources = options.maxResources ?? MAX_TRACKED_RESOURCES;
    this.overflowLog = new RateLimitedLog(options.log, 3_600_000);
    this.invalidLog = new RateLimitedLog(options.log, 60_000);
  }

  /**
   * Feeds one telemetry message: one sample per resource it reports.
   * Returns the ids of the resources sampled, to forecast.
   */
  observe(message: Omit<TelemetryMessage, 'seq'>): string[] {
    const started = process.cpuUsage();
    const sampled: string[] = [];
    for (const sample of extractUtilization({ ...message, seq: 0 })) {
      let resource = this.tracked.get(sample.resourceId);
      if (!resource) {
        if (this.tracked.size >= this.maxResources) {
          this.overflowLog.warn(
            { resource: sample.resourceId, max: this.maxResources },
            'too many resources to forecast; ignoring further ones',
          );
          continue;
        }
        const exhaustion = resolveExhaustion(this.options.exhaustion, sample.resource);
        resource = {
          kind: sample.resource.kind,
          horizonMs: exhaustion.horizonMs,
          extractor: new FeatureExtractor({ kind: sample.resource.kind, exhaustion }),
          lastSampleAt: sample.timestampMs,
        };
        this.tracked.set(sample.resourceId, resource);
      }
      if (resource.extractor.pushSample(sample) === 'accepted') {
        resource.lastSampleAt = sample.timestampMs;
        sampled.push(sample.resourceId);
      }
    }
    for (const [id, resource] of this.tracked) {
      if (message.timestamp - resource.lastSampleAt > this.forgetAfterMs) this.tracked.delete(id);
    }
    this.observeCpuUs += cpuSince(started);
    return sampled;
  }

  /**
   * Forecasts `resourceIds` (tracked ones; others are skipped) at `atMs`,
   * which must not be before their last sample: the feature rows of each
   * model's resources go to onnxruntime in one call.
   */
  async forecast(resourceIds: readonly string[], atMs: number): Promise<ResourceForecast[]> {
    const started = process.cpuUsage();
    const groups = new Map<
      ServingModel,
      { ids: string[]; resources: TrackedResource[]; leases: ModelLease[] }
    >();
    try {
      for (const id of resourceIds) {
        const resource = this.tracked.get(id);
        if (!resource) continue;
        const lease = this.options.models.acquire(id, resource.kind);
        if (!lease) {
          this.warnNoModel(resource.kind);
          continue;
        }
        let group = groups.get(lease.model);
        if (!group) groups.set(lease.model, (group = { ids: [], resources: [], leases: [] }));
        group.ids.push(id);
        group.resources.push(resource);
        group.leases.push(lease);
      }
      const out: ResourceForecast[] = [];
      for (const [model, group] of groups) out.push(...(await this.score(model, group, atMs)));
      return out;
    } finally {
      for (const group of groups.values()) for (const lease of group.leases) lease.release();
      const cpuMs = (this.observeCpuUs + cpuSince(started)) / 1000;
      this.observeCpuUs = 0;
      this.counts.cycles++;
      this.counts.cpuMs += cpuMs;
      this.counts.lastCycleCpuMs = cpuMs;
    }
  }

  stats(): ForecasterStats {
    return { resources: this.tracked.size, ...this.counts };
  }

  private async score(
    model: ServingModel,
    group: { ids: string[]; resources: TrackedResource[] },
    atMs: number,
  ): Promise<ResourceForecast[]> {
    const rows = group.ids.length;
    // One row-major float32 matrix for the whole group: the layout onnxruntime takes without copying.
    const features = new Float32Array(rows * FEATURE_COUNT);
    for (let r = 0; r < rows; r++)
      group.resources[r]!.extractor.vectorInto(atMs, features, r * FEATURE_COUNT);
    const probabilities = await model.forecast.scoreMany(features, rows);
    const threshold = model.forecast.operatingThreshold;
    // The band is trained on rows an exhaustion followed; for a calm resource it says nothing, so it is
    // scored only when some resource reaches the threshold, and reported only for those.
    const bands =
      model.band && probabilities.some((p) => p >= threshold)
        ? await model.band.scoreMany(features, rows)
        : undefined;
    const out: ResourceForecast[] = [];
    let invalid = 0;
    for (let r = 0; r < rows; r++) {
      const probability = probabilities[r]!;
      // A sigmoid cannot leave 0..1, but a damaged or hostile model can; such a value must not go out.
      if (!(probability >= 0 && probability <= 1)) {
        invalid++;
        continue;
      }
      const resource = group.ids[r]!;
      const { kind, horizonMs } = group.resources[r]!;
      const forecast: ResourceForecast = {
        resource,
        kind,
        probability,
        threshold,
        horizonMs,
        model: model.ref,
      };
      if (bands && probability >= threshold) {
        const [p10S, p50S, p90S] = [bands[r * 3]!, bands[r * 3 + 1]!, bands[r * 3 + 2]!];
        if ([p10S, p50S, p90S].every(Number.isFinite)) forecast.ttBand = { p10S, p50S, p90S };
      }
      out.push(forecast);
    }
    if (invalid > 0) {
      this.invalidLog.warn(
        { model: model.ref, invalid, rows },
        'the model gave NaN or out-of-range probabilities; those forecasts are dropped',
      );
    }
    this.options.onScored?.(model, { rows, invalid });
    return out;
  }

  private warnNoModel(kind: ResourceKind): void {
    if (this.kindsWithoutModel.has(kind)) return;
    this.kindsWithoutModel.add(kind);
    this.options.log.warn({ kind }, 'no model for this resource kind; its resources get no predictions');
  }
}

/** CPU time (user + system) of the whole process since `start`, µs. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}
