/**
 * The aggregator's /metrics content from real components (ingest, ledger,
 * store lag, host registry, fleet forecasts) on a fake clock: counters by
 * kind and outcome, store lag, per-host series, risk per resource, model
 * info, and which series leave (stale forecasts, hosts past retention).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { SelfMetrics, SelfMetricsSectionSchema } from '../../aggregator/api/self-metrics.js';
import { SequenceLedger } from '../../aggregator/ingest/sequence-ledger.js';
import { StoreLag } from '../../aggregator/ingest/store-lag.js';
import { TelemetryIngest } from '../../aggregator/ingest/telemetry-ingest.js';
import { FleetForecasts } from '../../aggregator/live/fleet-forecasts.js';
import { HostRegistry } from '../../aggregator/live/host-registry.js';
import type { BatchingWriterStats } from '../../aggregator/storage/batching-writer.js';
import type { Prediction, PredictionsMessage } from '../../shared/wire/predictions.js';
import type { SequencedMessage } from '../../shared/wire/sequenced.js';
import type { StatusMessage, TelemetryMessage } from '../../shared/wire/telemetry.js';
import { sampleValue } from '../helpers/prometheus.js';

const log = pino({ level: 'silent' });
const T0 = 1_790_000_000_000;
const HOUR = 3_600_000;

function telemetry(hostId: string, seq: number, timestamp: number): TelemetryMessage {
  return {
    schemaVersion: 1,
    hostId,
    seq,
    timestamp,
    intervalSeconds: 10,
    metrics: [{ name: 'system.cpu.utilization', unit: '1', value: 0.5 }],
  };
}

function prediction(resource: string, probability: number, extra: Partial<Prediction> = {}): Prediction {
  return {
    resource,
    probability,
    alert: probability >= 0.5,
    threshold: 0.5,
    horizonS: 3600,
    model: { source: 'bundled', runId: `run-${resource.split(':')[0]}` },
    ...extra,
  };
}

function predictions(hostId: string, seq: number, timestamp: number, list: Prediction[]): PredictionsMessage {
  return { schemaVersion: 1, hostId, seq, timestamp, predictions: list };
}

/** The aggregator's pipeline minus broker and store: ingest → ledger → (fake) writer → store lag. */
function pipeline() {
  const clock = { now: T0 };
  const now = () => clock.now;
  const ledger = new SequenceLedger({ onConfirmed: () => {}, log, now });
  const hosts = new HostRegistry(3, now);
  const forecasts = new FleetForecasts(now);
  const latencies: number[] = [];
  const storeLag = new StoreLag({
    now,
    onStored: (ms) => {
      latencies.push(ms);
      metrics.observeWriteLatency(ms);
    },
  });
  const unwritten: SequencedMessage[] = [];
  const writer: BatchingWriterStats = {
    accepted: 0,
    written: 0,
    dropped: 0,
    rejected: 0,
    failedWrites: 0,
    buffered: 0,
  };
  const toStore = (m: SequencedMessage) => {
    storeLag.accepted(m);
    unwritten.push(m);
  };
  const ingest = new TelemetryIngest({
    maxPayloadBytes: 64 * 1024,
    log,
    admit: (m) => ledger.admit(m),
    onTelemetry: (m) => {
      toStore(m);
      hosts.updateTelemetry(m);
    },
    onPredictions: (m) => {
      toStore(m);
      forecasts.record(m);
    },
    onEvent: toStore,
    onStatus: (m) => {
      hosts.updateStatus(m);
      forecasts.updateStatus(m);
    },
  });
  const metrics = new SelfMetrics(
    {
      ingest: () => ingest.stats(),
      sequences: () => ledger.stats(),
      acknowledged: () => ledger.confirmedMarks(),
      writer: () => writer,
      storeLag: () => storeLag.stats(),
      hosts: () => hosts.list(),
      forecasts: (forgetBefore) => forecasts.list(forgetBefore),
      stream: () => ({ clients: 0, sent: 0, dropped: 0 }),
    },
    { hostRetentionMs: 24 * HOUR, offlineAfterIntervals: 3, now },
  );
  /** What the writer would do: store everything waiting, in order. */
  const store = () => {
    const batch = unwritten.splice(0);
    storeLag.written(batch);
    ledger.stored(batch);
  };
  const publish = (kind: 'telemetry' | 'predictions' | 'status', message: unknown) => {
    const hostId = (message as { hostId: string }).hostId;
    const topic = `cloudsense/v1/hosts/${hostId}/${kind}`;
    const payload = Buffer.from(JSON.stringify(message));
    if (kind === 'telemetry') ingest.handleTelemetry(topic, payload);
    else if (kind === 'predictions') ingest.handlePredictions(topic, payload);
    else ingest.handleStatus(topic, payload);
  };
  return { clock, metrics, store, publish, latencies, ingest };
}

describe('aggregator self-metrics', () => {
  it('counts ingest by kind and outcome, stored messages by kind, and the store lag', async () => {
    const { clock, metrics, store, publish, latencies, ingest } = pipeline();
    publish('telemetry', telemetry('web-01', 1, T0));
    publish('predictions', predictions('web-01', 2, T0, [prediction('cpu', 0.1)]));
    publish('telemetry', telemetry('web-01', 1, T0)); // a redelivery
    ingest.handlePredictions('cloudsense/v1/hosts/web-01/predictions', Buffer.from('{"nope'));
    ingest.handleTelemetry(
      'cloudsense/v1/hosts/web-01/telemetry',
      Buffer.from(JSON.stringify(telemetry('db-01', 3, T0))),
    );

    clock.now += 2500;
    let text = await metrics.metrics();
    const count = (kind: string, outcome: string) =>
      sampleValue(text, 'cloudsense_ingest_messages_total', { kind, outcome });
    assert.equal(count('telemetry', 'admitted'), 1);
    assert.equal(count('telemetry', 'duplicate'), 1);
    assert.equal(count('telemetry', 'host_mismatch'), 1);
    assert.equal(count('predictions', 'admitted'), 1);
    assert.equal(count('predictions', 'malformed'), 1);
    assert.equal(count('events', 'admitted'), 0);
    assert.equal(sampleValue(text, 'cloudsense_ingest_received_total'), 5);
    assert.equal(sampleValue(text, 'cloudsense_store_oldest_unwritten_age_seconds'), 2.5);
    assert.equal(sampleValue(text, 'cloudsense_ingest_stored_total', { kind: 'telemetry' }), 0);

    store();
    text = await metrics.metrics();
    assert.equal(sampleValue(text, 'cloudsense_store_oldest_unwritten_age_seconds'), 0);
    assert.equal(sampleValue(text, 'cloudsense_ingest_stored_total', { kind: 'telemetry' }), 1);
    assert.equal(sampleValue(text, 'cloudsense_ingest_stored_total', { kind: 'predictions' }), 1);
    assert.deepEqual(latencies, [2500, 2500]);
    assert.equal(sampleValue(text, 'cloudsense_store_write_latency_seconds_count'), 2);
    assert.equal(sampleValue(text, 'cloudsense_store_write_latency_seconds_bucket', { le: '2.5' }), 2);
    assert.equal(sampleValue(text, 'cloudsense_store_write_latency_seconds_bucket', { le: '1' }), 0);
    assert.equal(sampleValue(text, 'cloudsense_host_stored_seq', { host: 'web-01' }), 2);
  });

  it('exposes the latest forecast per host and resource; an older replayed one does not replace it', async () => {
    const { metrics, publish } = pipeline();
    publish('telemetry', telemetry('web-01', 1, T0));
    publish(
      'predictions',
      predictions('web-01', 2, T0, [
        prediction('memory', 0.9, {
          ttBand: { p10S: 600, p50S: 1800, p90S: 5400 },
          model: { source: 'fleet', runId: 'r9', version: 'v9' },
        }),
        prediction('filesystem:%2Fvar', 0.2, { threshold: 0.31, horizonS: 21_600 }),
      ]),
    );
    publish('predictions', predictions('web-01', 3, T0 - 10_000, [prediction('memory', 0.1)]));
    const text = await metrics.metrics();
    const risk = (name: string, resource: string) => sampleValue(text, name, { host: 'web-01', resource });
    assert.equal(risk('cloudsense_exhaustion_probability', 'memory'), 0.9);
    assert.equal(risk('cloudsense_alert_active', 'memory'), 1);
    assert.equal(risk('cloudsense_time_to_exhaustion_p50_seconds', 'memory'), 1800);
    assert.equal(risk('cloudsense_exhaustion_probability', 'filesystem:%2Fvar'), 0.2);
    assert.equal(risk('cloudsense_exhaustion_threshold', 'filesystem:%2Fvar'), 0.31);
    assert.equal(risk('cloudsense_exhaustion_horizon_seconds', 'filesystem:%2Fvar'), 21_600);
    assert.equal(risk('cloudsense_alert_active', 'filesystem:%2Fvar'), 0);
    assert.equal(risk('cloudsense_forecast_timestamp_seconds', 'memory'), T0 / 1000);
    assert.equal(
      risk('cloudsense_time_to_exhaustion_p50_seconds', 'filesystem:%2Fvar'),
      undefined,
      'no band, no time to exhaustion',
    );
    assert.equal(
      sampleValue(text, 'cloudsense_host_last_seen_timestamp_seconds', { host: 'web-01' }),
      T0 / 1000,
    );
    assert.equal(sampleValue(text, 'cloudsense_host_collection_interval_seconds', { host: 'web-01' }), 10);
    // No status with models: the forecasts name them.
    const model = (kind: string, version: string, source: string) =>
      sampleValue(text, 'cloudsense_host_model_info', { host: 'web-01', kind, version, source });
    assert.equal(model('memory', 'v9', 'fleet'), 1);
    assert.equal(model('filesystem', 'run-filesystem', 'bundled'), 1, 'without a version, the run id');
  });

  it('takes the models from the agent’s status when it names them, and keeps them through its last will', async () => {
    const { metrics, publish } = pipeline();
    publish('telemetry', telemetry('web-01', 1, T0));
    publish('predictions', predictions('web-01', 2, T0, [prediction('cpu', 0.1)]));
    const status: StatusMessage = {
      schemaVersion: 1,
      hostId: 'web-01',
      state: 'online',
      since: T0,
      models: {
        cpu: { source: 'fleet', runId: 'r2', version: 'cpu-v2' },
        'filesystem:%2Fdata': { source: 'fleet', runId: 'r3', version: 'fs-data-v1' },
      },
    };
    publish('status', status);
    publish('status', { schemaVersion: 1, hostId: 'web-01', state: 'offline', since: T0 });
    const text = await metrics.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('cloudsense_host_model_info{'));
    assert.deepEqual(lines.sort(), [
      'cloudsense_host_model_info{host="web-01",kind="cpu",version="cpu-v2",source="fleet"} 1',
      'cloudsense_host_model_info{host="web-01",kind="filesystem",version="fs-data-v1",source="fleet"} 1',
    ]);
  });

  it('withdraws a silent host’s risk after its offline limit, and all its series after the retention', async () => {
    const { clock, metrics, publish } = pipeline();
    for (const hostId of ['web-01', 'db-01']) {
      publish('telemetry', telemetry(hostId, 1, T0));
      publish('predictions', predictions(hostId, 2, T0, [prediction('cpu', 0.7)]));
    }
    // db-01 goes on reporting, web-01 falls silent.
    clock.now += 31_000;
    publish('telemetry', telemetry('db-01', 3, clock.now));
    publish('predictions', predictions('db-01', 4, clock.now, [prediction('cpu', 0.6)]));
    let text = await metrics.metrics();
    assert.equal(sampleValue(text, 'cloudsense_exhaustion_probability', { host: 'web-01' }), undefined);
    assert.equal(sampleValue(text, 'cloudsense_exhaustion_probability', { host: 'db-01' }), 0.6);
    assert.equal(
      sampleValue(text, 'cloudsense_host_last_seen_timestamp_seconds', { host: 'web-01' }),
      T0 / 1000,
      'the silent host is still listed, for the silent-host alert',
    );
    assert.ok(sampleValue(text, 'cloudsense_host_model_info', { host: 'web-01' }) === 1);

    clock.now = T0 + 24 * HOUR + 1;
    publish('telemetry', telemetry('db-01', 5, clock.now));
    text = await metrics.metrics();
    for (const name of [
      'cloudsense_host_last_seen_timestamp_seconds',
      'cloudsense_host_stored_seq',
      'cloudsense_host_model_info',
      'cloudsense_host_collection_interval_seconds',
    ]) {
      assert.equal(sampleValue(text, name, { host: 'web-01' }), undefined, `${name} of the gone host`);
    }
    assert.ok(sampleValue(text, 'cloudsense_host_last_seen_timestamp_seconds', { host: 'db-01' }));
    assert.equal(
      sampleValue(text, 'cloudsense_hosts', { state: 'offline' }),
      1,
      'still known to the registry',
    );
  });

  it('leaves out the default metrics promtool rejects', async () => {
    const { metrics } = pipeline();
    const text = await metrics.metrics();
    assert.doesNotMatch(text, /^nodejs_active_\w+_total/m);
    assert.match(text, /^# TYPE nodejs_active_handles gauge$/m);
    assert.match(text, /^process_cpu_seconds_total /m);
  });

  it('reads the host retention as a duration, 24h unless configured', () => {
    assert.equal(SelfMetricsSectionSchema.parse(undefined).hostRetention, 24 * HOUR);
    assert.equal(SelfMetricsSectionSchema.parse({ hostRetention: '2h' }).hostRetention, 2 * HOUR);
    assert.equal(SelfMetricsSectionSchema.safeParse({ hostRetention: '10s' }).success, false);
    assert.equal(SelfMetricsSectionSchema.safeParse({ hostRetention: 60 }).success, false);
  });
});
