/**
 * The aggregator's own metrics in Prometheus text format (`GET /metrics`),
 * in a private registry. Components keep plain counters and state; the
 * collectors read them at scrape time, from one snapshot of the fleet per
 * scrape. Names follow Prometheus conventions (base units in the name,
 * `_total` counters) and pass `promtool check metrics`; docs/monitoring.md
 * lists them.
 *
 * Label cardinality: per-host series (last seen, acknowledged sequence,
 * models, risk per resource) exist only for hosts heard from within
 * `metrics.hostRetention`; the risk series of a resource only while its
 * latest forecast is current (received within the host's offline limit).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import { DurationSchema } from '../../shared/config/duration.js';
import { VERSION } from '../../shared/version.js';
import { SEQUENCED_TOPIC_KINDS } from '../../shared/wire/sequenced.js';
import type { SequenceLedgerStats } from '../ingest/sequence-ledger.js';
import type { StoreLagStats } from '../ingest/store-lag.js';
import { INGEST_KINDS, INGEST_OUTCOMES, type IngestStats } from '../ingest/telemetry-ingest.js';
import type { HostForecasts, ResourceForecast } from '../live/fleet-forecasts.js';
import type { HostView } from '../live/host-registry.js';
import type { BatchingWriterStats } from '../storage/batching-writer.js';
import type { RetentionStats } from '../storage/duckdb/retention.js';
import type { StreamStats } from './live-stream.js';
import { sampledCounter, sampledGauge } from '../../shared/metrics/sampled.js';

/** How long a silent host keeps its series on /metrics, unless configured. */
export const DEFAULT_HOST_RETENTION = '24h';

export const SelfMetricsSectionSchema = z
  .object({
    /**
     * A host's series (last seen, models, risk per resource) leave /metrics
     * once it has sent no telemetry or predictions for this long, so the
     * number of series follows the fleet, not its history. Duration, 1m..366d.
     * Default 24h.
     */
    hostRetention: DurationSchema.refine((ms) => ms >= 60_000 && ms <= 366 * 86_400_000, {
      message: 'between 1m and 366d',
    }).prefault(DEFAULT_HOST_RETENTION),
  })
  .strict()
  .prefault({});
export type SelfMetricsSection = z.infer<typeof SelfMetricsSectionSchema>;

/**
 * prom-client's defaults that `promtool check metrics` rejects: gauges named
 * `_total`. Left out; `nodejs_active_handles` and friends carry the same figures.
 */
const NON_CONFORMING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Store write latency buckets, seconds: a message normally waits up to the
 * writer's flush interval (1 s by default); the upper buckets show a slow
 * or failing store, whose retries back off up to 30 s.
 */
const WRITE_LATENCY_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Read-outs the collectors sample at scrape time. */
export interface SelfMetricsSources {
  ingest: () => IngestStats;
  sequences: () => SequenceLedgerStats;
  /** Each host's acknowledgement: the highest sequence number stored with every lower one. */
  acknowledged: () => ReadonlyArray<readonly [hostId: string, seq: number]>;
  writer: () => BatchingWriterStats;
  storeLag: () => StoreLagStats;
  hosts: () => HostView[];
  /** The fleet's latest forecasts; hosts not heard from since `forgetBefore` (ms) are dropped. */
  forecasts: (forgetBefore: number) => HostForecasts[];
  stream: () => StreamStats;
  /** The store's retention job (docs/storage.md); its metrics exist only when the source is given. */
  retention?: () => RetentionStats | undefined;
}

export interface SelfMetricsOptions {
  /** See `SelfMetricsSectionSchema.hostRetention`, ms. */
  hostRetentionMs: number;
  /** A forecast is current while received within this many of its host's intervals (the offline rule). */
  offlineAfterIntervals: number;
  now?: () => number;
}

/** One host's per-host series, as of one scrape. */
interface HostSeries {
  hostId: string;
  /** Last telemetry, Unix epoch ms (the agent's clock); null when only forecasts came. */
  lastSeen: number | null;
  intervalSeconds: number | null;
  acknowledgedSeq: number | undefined;
  models: HostForecasts['models'];
  /** Current forecasts only. */
  forecasts: ResourceForecast[];
}

/** What the per-host collectors read: built once per scrape. */
interface FleetSnapshot {
  hosts: HostSeries[];
}

/** A gauge with a `host` label (and more), rebuilt from the scrape's snapshot so gone hosts disappear. */
function fleetGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  snapshot: () => FleetSnapshot,
  fill: (set: (labels: Record<L, string>, value: number) => void, host: HostSeries) => void,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const host of snapshot().hosts) fill((labels, value) => this.set(labels, value), host);
    },
  });
}

/**
 * The registry behind `GET /metrics`, plus the one observation made between
 * scrapes (store write latency, per message).
 */
export class SelfMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly writeLatency: Histogram;
  private readonly now: () => number;
  private current: FleetSnapshot | undefined;

  constructor(
    private readonly sources: SelfMetricsSources,
    private readonly options: SelfMetricsOptions,
  ) {
    this.now = options.now ?? Date.now;
    const registry = this.registry;
    collectDefaultMetrics({ register: registry });
    for (const name of NON_CONFORMING_DEFAULTS) registry.removeSingleMetric(name);

    new Gauge({
      name: 'cloudsense_aggregator_info',
      help: 'Always 1; the aggregator version as a label.',
      labelNames: ['version'],
      registers: [registry],
    }).set({ version: VERSION }, 1);

    this.ingestMetrics();
    this.storeMetrics();
    this.retentionMetrics();
    this.writeLatency = new Histogram({
      name: 'cloudsense_store_write_latency_seconds',
      help: 'Time from a message’s arrival at ingest to the end of the store write that made it durable.',
      buckets: WRITE_LATENCY_BUCKETS_S,
      registers: [registry],
    });
    this.hostMetrics();
    this.riskMetrics();

    new Gauge({
      name: 'cloudsense_stream_clients',
      help: 'Connected WebSocket stream clients.',
      registers: [registry],
      collect() {
        this.set(sources.stream().clients);
      },
    });
    sampledCounter(
      registry,
      'cloudsense_stream_dropped_total',
      'Stream events not sent to a client that was too slow.',
      () => sources.stream().dropped,
    );
  }

  /** The exposition text; the fleet is read once for the whole scrape. */
  async metrics(): Promise<string> {
    this.current = this.takeSnapshot();
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
    }
  }

  /** A message became durable `latencyMs` after it arrived. */
  observeWriteLatency(latencyMs: number): void {
    this.writeLatency.observe(latencyMs / 1000);
  }

  private ingestMetrics(): void {
    const { registry, sources } = this;
    sampledCounter(
      registry,
      'cloudsense_ingest_received_total',
      'MQTT messages received on host topics.',
      () => sources.ingest().received,
    );
    sampledCounter(
      registry,
      'cloudsense_ingest_accepted_total',
      'Messages that passed validation.',
      () => sources.ingest().accepted,
    );
    sampledCounter(
      registry,
      'cloudsense_ingest_duplicate_total',
      'Valid telemetry, predictions or events already stored or on their way to the store (redelivered or replayed), not stored again.',
      () => sources.ingest().duplicate,
    );
    sampledCounter(
      registry,
      'cloudsense_ingest_missing_total',
      'Sequence numbers (telemetry, predictions, events) that never arrived and were acknowledged past after the gap timeout.',
      () => sources.sequences().missing,
    );
    new Counter({
      name: 'cloudsense_ingest_dropped_total',
      help: 'Messages dropped at ingest, by reason (oversized, malformed, invalid, host_mismatch, bad_topic).',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(sources.ingest().dropped)) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'cloudsense_ingest_messages_total',
      help: 'Messages received by topic kind (telemetry, predictions, events, status) and outcome: admitted (valid, new), duplicate, or the reason it was dropped.',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
      collect() {
        this.reset();
        const { outcomes } = sources.ingest();
        for (const kind of INGEST_KINDS) {
          for (const outcome of INGEST_OUTCOMES) this.inc({ kind, outcome }, outcomes[kind][outcome]);
        }
      },
    });
    new Counter({
      name: 'cloudsense_ingest_stored_total',
      help: 'Messages durably stored, by topic kind (telemetry, predictions, events).',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        const { stored } = sources.storeLag();
        for (const kind of SEQUENCED_TOPIC_KINDS) this.inc({ kind }, stored[kind]);
      },
    });
  }

  /** What retention and downsampling did since start; only with a `retention` source. */
  private retentionMetrics(): void {
    const { registry } = this;
    const read = this.sources.retention;
    if (!read) return;
    sampledCounter(
      registry,
      'cloudsense_store_retention_runs_total',
      'Completed passes of the retention job.',
      () => read()?.runs ?? 0,
    );
    sampledCounter(
      registry,
      'cloudsense_store_retention_failures_total',
      'Retention passes stopped by an error (the next pass resumes).',
      () => read()?.failures ?? 0,
    );
    new Counter({
      name: 'cloudsense_store_retention_rows_total',
      help: 'Rows removed by retention, by table: samples folded into aggregates, or aggregates, predictions and events past their retention.',
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        const stats = read();
        if (!stats) return;
        this.inc({ table: 'samples' }, stats.samplesDownsampled);
        this.inc({ table: 'aggregates' }, stats.aggregatesDeleted);
        this.inc({ table: 'predictions' }, stats.predictionsDeleted);
        this.inc({ table: 'events' }, stats.eventsDeleted);
      },
    });
    sampledCounter(
      registry,
      'cloudsense_store_retention_aggregates_written_total',
      'Aggregate rows written by downsampling.',
      () => read()?.aggregatesWritten ?? 0,
    );
    sampledGauge(
      registry,
      'cloudsense_store_retention_last_success_timestamp_seconds',
      'When the last retention pass completed, Unix time; 0 before the first.',
      () => (read()?.lastSuccessMs ?? 0) / 1000,
    );
  }

  private storeMetrics(): void {
    const { registry, sources } = this;
    sampledCounter(
      registry,
      'cloudsense_store_written_total',
      'Messages (telemetry, predictions, events) written to the store.',
      () => sources.writer().written,
    );
    sampledCounter(
      registry,
      'cloudsense_store_dropped_total',
      'Messages lost because the store refused them.',
      () => sources.writer().dropped,
    );
    sampledCounter(
      registry,
      'cloudsense_store_rejected_total',
      'Messages the store refused as data it can never take (e.g. an InfluxDB field type conflict): dropped, acknowledged, never retried.',
      () => sources.writer().rejected,
    );
    sampledCounter(
      registry,
      'cloudsense_store_write_failures_total',
      'Failed store writes (retried).',
      () => sources.writer().failedWrites,
    );
    sampledGauge(
      registry,
      'cloudsense_store_buffered_messages',
      'Messages waiting to be written.',
      () => sources.writer().buffered,
    );
    sampledGauge(
      registry,
      'cloudsense_store_oldest_unwritten_age_seconds',
      'Age of the oldest message received and not yet durably stored; 0 when none waits.',
      () => sources.storeLag().oldestUnwrittenAgeMs / 1000,
    );
  }

  private hostMetrics(): void {
    const { registry, sources } = this;
    const snapshot = () => this.snapshot();
    new Gauge({
      name: 'cloudsense_hosts',
      help: 'Known hosts by state.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const hosts = sources.hosts();
        const online = hosts.filter((h) => h.online).length;
        this.set({ state: 'online' }, online);
        this.set({ state: 'offline' }, hosts.length - online);
      },
    });
    fleetGauge(
      registry,
      'cloudsense_host_last_seen_timestamp_seconds',
      'When the host’s latest telemetry was collected, Unix time (the agent’s clock).',
      ['host'],
      snapshot,
      (set, h) => {
        if (h.lastSeen !== null) set({ host: h.hostId }, h.lastSeen / 1000);
      },
    );
    fleetGauge(
      registry,
      'cloudsense_host_collection_interval_seconds',
      'The agent’s collection interval.',
      ['host'],
      snapshot,
      (set, h) => {
        if (h.intervalSeconds !== null) set({ host: h.hostId }, h.intervalSeconds);
      },
    );
    fleetGauge(
      registry,
      'cloudsense_host_stored_seq',
      'Highest sequence number stored for the host with every lower one stored too: the acknowledgement its agent trims its queue by.',
      ['host'],
      snapshot,
      (set, h) => {
        if (h.acknowledgedSeq !== undefined) set({ host: h.hostId }, h.acknowledgedSeq);
      },
    );
    fleetGauge(
      registry,
      'cloudsense_host_model_info',
      'Always 1: the model serving each resource kind on each host (version: the model version, else its training run id; source: bundled or fleet).',
      ['host', 'kind', 'version', 'source'],
      snapshot,
      (set, h) => {
        for (const { kind, model } of h.models) {
          set({ host: h.hostId, kind, version: model.version ?? model.runId, source: model.source }, 1);
        }
      },
    );
  }

  private riskMetrics(): void {
    const { registry } = this;
    const snapshot = () => this.snapshot();
    const perResource = (
      name: string,
      help: string,
      value: (f: ResourceForecast) => number | undefined,
    ): void =>
      fleetGauge(registry, name, help, ['host', 'resource'], snapshot, (set, h) => {
        for (const f of h.forecasts) {
          const v = value(f);
          if (v !== undefined) set({ host: h.hostId, resource: f.resource }, v);
        }
      });
    perResource(
      'cloudsense_exhaustion_probability',
      'Latest forecast probability (0..1) that the resource is exhausted within its horizon.',
      (f) => f.probability,
    );
    perResource(
      'cloudsense_exhaustion_threshold',
      'The forecasting model’s operating threshold (0..1): the probability at or above which the agent counts a warning.',
      (f) => f.threshold,
    );
    perResource(
      'cloudsense_exhaustion_horizon_seconds',
      'The horizon of the latest forecast.',
      (f) => f.horizonS,
    );
    perResource(
      'cloudsense_alert_active',
      '1 while the agent has an exhaustion alert raised for the resource (after its hysteresis), else 0.',
      (f) => (f.alert ? 1 : 0),
    );
    perResource(
      'cloudsense_time_to_exhaustion_p50_seconds',
      'Median estimated time until the resource is exhausted; only for a resource at risk whose model has a time-to-exhaustion band.',
      (f) => f.ttBand?.p50S,
    );
    perResource(
      'cloudsense_forecast_timestamp_seconds',
      'When the latest forecast’s data was collected, Unix time (the agent’s clock).',
      (f) => f.timestamp / 1000,
    );
  }

  /** The scrape's snapshot; outside a scrape (a collector called on its own), a fresh one. */
  private snapshot(): FleetSnapshot {
    return this.current ?? this.takeSnapshot();
  }

  private takeSnapshot(): FleetSnapshot {
    const now = this.now();
    const cutoff = now - this.options.hostRetentionMs;
    const views = new Map(this.sources.hosts().map((h) => [h.id, h]));
    const fleet = new Map(this.sources.forecasts(cutoff).map((f) => [f.hostId, f]));
    const acknowledged = new Map(this.sources.acknowledged());
    const hosts: HostSeries[] = [];
    for (const hostId of [...new Set([...views.keys(), ...fleet.keys()])].sort()) {
      const view = views.get(hostId);
      const forecasts = fleet.get(hostId);
      const lastSeen = view?.lastSeen ? Date.parse(view.lastSeen) : null;
      const newest = Math.max(lastSeen ?? -Infinity, forecasts?.newestTimestamp ?? -Infinity);
      if (newest < cutoff) continue;
      const intervalSeconds = view?.intervalSeconds ?? null;
      // A forecast is current as long as its host would count as online: a silent host's risk is unknown.
      const currentAfter =
        intervalSeconds === null ? cutoff : now - intervalSeconds * 1000 * this.options.offlineAfterIntervals;
      hosts.push({
        hostId,
        lastSeen,
        intervalSeconds,
        acknowledgedSeq: acknowledged.get(hostId),
        models: forecasts?.models ?? [],
        forecasts: (forecasts?.forecasts ?? []).filter((f) => f.receivedAt >= currentAfter),
      });
    }
    return { hosts };
  }
}
