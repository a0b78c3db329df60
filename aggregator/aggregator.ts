import { join, resolve } from 'node:path';
import type { Logger } from '../shared/log.js';
import type { SequencedMessage } from '../shared/wire/sequenced.js';
import { allHostsFilter } from '../shared/wire/topics.js';
import { ApiAccess } from './api/auth.js';
import { createApi } from './api/routes.js';
import { HttpServer } from './api/http-server.js';
import { LiveStream } from './api/live-stream.js';
import { SelfMetrics } from './api/self-metrics.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { DUCKDB_STORE_URL, type AggregatorConfig } from './config.js';
import { createAckPublisher } from './ingest/ack-publisher.js';
import { SequenceLedger } from './ingest/sequence-ledger.js';
import { StoreLag } from './ingest/store-lag.js';
import { TelemetryIngest } from './ingest/telemetry-ingest.js';
import { FleetForecasts } from './live/fleet-forecasts.js';
import { HostRegistry } from './live/host-registry.js';
import { LeaseTable } from './remediation/lease-table.js';
import { RetrainingLoop } from './retraining/retraining-loop.js';
import { ModelRollout } from './retraining/rollout.js';
import { registerAccessMetrics } from './security/access-metrics.js';
import { BrokerAccess } from './security/broker-access.js';
import { decideAccess, logAccessPolicy, type AccessPolicy } from './security/config.js';
import { CREDENTIALS_FILE, CredentialStore } from './security/credential-store.js';
import { tlsFilesFor } from './security/tls.js';
import { BatchingWriter } from './storage/batching-writer.js';
import { DuckDbTelemetryStore } from './storage/duckdb/duckdb-store.js';
import { InfluxDbTelemetryStore } from './storage/influx/influx-store.js';
import { parseInfluxUrl } from './storage/influx/influx-location.js';
import type { TelemetryStore } from './storage/telemetry-store.js';

export interface Aggregator {
  start(): Promise<void>;
  /** Stops intake first, then writes what is buffered and closes the store. Safe to call twice. */
  stop(): Promise<void>;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly dataDir: string;
  readonly storeDescription: string;
  /** Whether clients must authenticate, decided from the configuration (docs/security.md). */
  readonly access: AccessPolicy;
  /** Agents' credentials and API tokens, in the data dir. */
  readonly credentials: CredentialStore;
  /** Retrains on schedule and drift; its runs, promotions and rollback for the API (docs/retraining.md). */
  readonly retraining: RetrainingLoop;
  /** Signs and publishes promoted models (canary, then fleet); the public key for the API. */
  readonly rollout: ModelRollout;
}

/** File name of the embedded store inside the data dir. */
export const DUCKDB_FILE = 'telemetry.duckdb';

/**
 * The configured store, the aggregator's and the offline commands' alike: the data dir's DuckDB file
 * with the configured limits, or the InfluxDB that `store.url` names. `retentionLog` runs DuckDB's
 * retention job in the background; only the aggregator, which holds the store for long, passes it,
 * and InfluxDB's retries are logged there too.
 */
export function dataDirStore(
  dataDir: string,
  store: AggregatorConfig['aggregator']['store'],
  retentionLog?: Logger,
): TelemetryStore {
  if (store.url !== DUCKDB_STORE_URL) {
    return new InfluxDbTelemetryStore({ location: parseInfluxUrl(store.url), log: retentionLog });
  }
  return new DuckDbTelemetryStore({
    path: join(resolve(dataDir), DUCKDB_FILE),
    memoryLimit: store.memoryLimit,
    threads: store.threads,
    retention: retentionLog ? { policy: store.retention, log: retentionLog } : undefined,
  });
}

/**
 * Builds the aggregator pipeline from its configuration:
 * broker → ingest (validate, de-duplicate by host and seq) → { live host state, WebSocket stream,
 * batching writer → store → acknowledgement per host back through the broker },
 * and the HTTP API over live state and store. Predictions and events take the
 * same way as telemetry (one sequence per host), into the store.
 */
export function createAggregator(config: AggregatorConfig, log: Logger): Aggregator {
  const dataDir = resolve(config.dataDir);
  const settings = config.aggregator;
  const store = dataDirStore(dataDir, settings.store, log.child({ component: 'store' }));
  const security = settings.security;
  const access = decideAccess(security, [config.http.host, config.mqtt.host]);
  const credentials = new CredentialStore(join(dataDir, CREDENTIALS_FILE));
  const brokerAccess = new BrokerAccess({
    credentials,
    authRequired: access.authRequired,
    maxAgentPayloadBytes: settings.ingest.maxPayloadBytes,
    log: log.child({ component: 'broker' }),
  });
  const broker = new EmbeddedBroker({
    ...config.mqtt,
    log: log.child({ component: 'broker' }),
    access: brokerAccess,
    tls: tlsFilesFor(security.tls, 'mqtt'),
  });
  const publishAck = createAckPublisher(broker, log.child({ component: 'ack' }));
  const ledger = new SequenceLedger({
    onConfirmed: publishAck,
    log: log.child({ component: 'ingest' }),
  });
  // Its sources are read at scrape time, so it can be built before the components it reads.
  const metrics = new SelfMetrics(
    {
      ingest: () => ingest.stats(),
      sequences: () => ledger.stats(),
      acknowledged: () => ledger.confirmedMarks(),
      writer: () => writer.stats(),
      storeLag: () => storeLag.stats(),
      hosts: () => hosts.list(),
      forecasts: (forgetBefore) => forecasts.list(forgetBefore),
      stream: () => stream.stats(),
      retention: () => (store instanceof DuckDbTelemetryStore ? store.retentionStats() : undefined),
    },
    {
      hostRetentionMs: settings.metrics.hostRetention,
      offlineAfterIntervals: settings.offlineAfterIntervals,
    },
  );
  const storeLag = new StoreLag({ onStored: (ms) => metrics.observeWriteLatency(ms) });
  const writer = new BatchingWriter(store, {
    ...settings.ingest,
    log: log.child({ component: 'writer' }),
    onWritten: (batch) => {
      storeLag.written(batch);
      ledger.stored(batch);
    },
    onDropped: (messages) => {
      storeLag.dropped(messages);
      ledger.lost(messages);
    },
    // Settled, not lost: acknowledged like stored messages, so the agent
    // does not send again what the store will never take.
    onRejected: (messages) => {
      storeLag.dropped(messages);
      ledger.stored(messages);
    },
  });
  const toStore = (message: SequencedMessage) => {
    storeLag.accepted(message);
    writer.write(message);
  };
  const hosts = new HostRegistry(settings.offlineAfterIntervals);
  const forecasts = new FleetForecasts();
  const stream = new LiveStream(log.child({ component: 'stream' }));
  const ingest = new TelemetryIngest({
    maxPayloadBytes: settings.ingest.maxPayloadBytes,
    log: log.child({ component: 'ingest' }),
    admit: (message) => ledger.admit(message),
    onTelemetry: (message) => {
      toStore(message);
      hosts.updateTelemetry(message);
      stream.publish({ type: 'telemetry', hostId: message.hostId, data: message });
    },
    onPredictions: (message) => {
      toStore(message);
      forecasts.record(message);
      stream.publish({ type: 'predictions', hostId: message.hostId, data: message });
    },
    onEvent: (message) => {
      toStore(message);
      stream.publish({ type: 'events', hostId: message.hostId, data: message });
    },
    onStatus: (message) => {
      hosts.updateStatus(message);
      forecasts.updateStatus(message);
    },
  });
  broker.subscribe(allHostsFilter('telemetry'), ingest.handleTelemetry);
  broker.subscribe(allHostsFilter('predictions'), ingest.handlePredictions);
  broker.subscribe(allHostsFilter('events'), ingest.handleEvent);
  broker.subscribe(allHostsFilter('status'), ingest.handleStatus);
  const apiAccess = new ApiAccess({
    credentials,
    authRequired: access.authRequired,
    limits: security.http,
    log: log.child({ component: 'http' }),
  });
  registerAccessMetrics(metrics.registry, {
    broker: () => brokerAccess.stats(),
    api: () => apiAccess.stats(),
  });
  const rollout = new ModelRollout({
    dataDir,
    settings: settings.retraining.rollout,
    publish: (topic, payload) => broker.publish(topic, payload, { qos: 1, retain: true }),
    store,
    hosts: () => hosts.list(),
    log: log.child({ component: 'rollout' }),
    onCanaryFailed: async (key): Promise<void> => {
      await retraining.rollback(key);
    },
  });
  const retraining = new RetrainingLoop({
    store,
    dataDir,
    settings: settings.retraining,
    exhaustion: config.exhaustion,
    log: log.child({ component: 'retraining' }),
    onPromoted: settings.retraining.rollout.enabled
      ? async (model, cause): Promise<void> => {
          await rollout.roll(model, { immediate: cause === 'rollback' });
        }
      : undefined,
  });

  const api = createApi({
    hosts,
    store,
    forecasts,
    retraining,
    rollout,
    metrics,
    brokerUrl: () => broker.url,
    log,
    leases: new LeaseTable({ maxConcurrent: settings.remediation.maxConcurrent }),
    security: (app) => apiAccess.install(app),
  });
  const http = new HttpServer({
    ...config.http,
    app: api.app,
    stream,
    log: log.child({ component: 'http' }),
    tls: tlsFilesFor(security.tls, 'http'),
    authorizeUpgrade: (request) => apiAccess.authorizeUpgrade(request),
  });

  let state: 'new' | 'started' | 'stopped' = 'new';
  return {
    get httpUrl() {
      return http.url;
    },
    get mqttUrl() {
      return broker.url;
    },
    dataDir,
    storeDescription: store.description,
    access,
    credentials,
    retraining,
    rollout,
    async start() {
      if (state !== 'new') return;
      state = 'started';
      try {
        logAccessPolicy(access, security, log);
        await store.start();
        hosts.restore(await store.latestPerHost());
        ledger.restore(await store.highestSeqPerHost());
        ledger.start();
        writer.start();
        await broker.start();
        // Retained, so agents learn where this aggregator stands before they replay their queues.
        for (const [hostId, seq] of ledger.confirmedMarks()) publishAck(hostId, seq);
        await http.start();
        await rollout.start();
        await retraining.start();
      } catch (err) {
        await this.stop();
        throw err;
      }
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      await retraining.stop();
      rollout.stop();
      await broker.stop();
      await http.stop();
      await api.close();
      await writer.stop();
      ledger.stop();
      await store.stop();
      const { written, dropped } = writer.stats();
      const { duplicate } = ingest.stats();
      log.info({ written, dropped, duplicate, missing: ledger.stats().missing }, 'aggregator stopped');
    },
  };
}
