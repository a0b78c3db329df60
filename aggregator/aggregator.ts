import { join, resolve } from 'node:path';
import type { Logger } from '../shared/log.js';
import { allHostsFilter } from '../shared/wire/topics.js';
import { createApi } from './api/routes.js';
import { HttpServer } from './api/http-server.js';
import { LiveStream } from './api/live-stream.js';
import { createSelfMetrics } from './api/self-metrics.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import type { AggregatorConfig } from './config.js';
import { createAckPublisher } from './ingest/ack-publisher.js';
import { SequenceLedger } from './ingest/sequence-ledger.js';
import { TelemetryIngest } from './ingest/telemetry-ingest.js';
import { HostRegistry } from './live/host-registry.js';
import { BatchingWriter } from './storage/batching-writer.js';
import { DuckDbTelemetryStore } from './storage/duckdb/duckdb-store.js';

export interface Aggregator {
  start(): Promise<void>;
  /** Stops intake first, then writes what is buffered and closes the store. Safe to call twice. */
  stop(): Promise<void>;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly dataDir: string;
  readonly storeDescription: string;
}

/** File name of the embedded store inside the data dir. */
export const DUCKDB_FILE = 'telemetry.duckdb';

/** The data dir's DuckDB store with the configured limits: the aggregator's, and the offline commands'. */
export function dataDirStore(
  dataDir: string,
  store: AggregatorConfig['aggregator']['store'],
): DuckDbTelemetryStore {
  return new DuckDbTelemetryStore({
    path: join(resolve(dataDir), DUCKDB_FILE),
    memoryLimit: store.memoryLimit,
    threads: store.threads,
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
  const store = dataDirStore(dataDir, settings.store);
  const broker = new EmbeddedBroker({ ...config.mqtt, log: log.child({ component: 'broker' }) });
  const publishAck = createAckPublisher(broker, log.child({ component: 'ack' }));
  const ledger = new SequenceLedger({
    onConfirmed: publishAck,
    log: log.child({ component: 'ingest' }),
  });
  const writer = new BatchingWriter(store, {
    ...settings.ingest,
    log: log.child({ component: 'writer' }),
    onWritten: (batch) => ledger.stored(batch),
    onDropped: (messages) => ledger.lost(messages),
  });
  const hosts = new HostRegistry(settings.offlineAfterIntervals);
  const stream = new LiveStream(log.child({ component: 'stream' }));
  const ingest = new TelemetryIngest({
    maxPayloadBytes: settings.ingest.maxPayloadBytes,
    log: log.child({ component: 'ingest' }),
    admit: (message) => ledger.admit(message),
    onTelemetry: (message) => {
      writer.write(message);
      hosts.updateTelemetry(message);
      stream.publish({ type: 'telemetry', hostId: message.hostId, data: message });
    },
    onPredictions: (message) => writer.write(message),
    onEvent: (message) => writer.write(message),
    onStatus: (message) => hosts.updateStatus(message),
  });
  broker.subscribe(allHostsFilter('telemetry'), ingest.handleTelemetry);
  broker.subscribe(allHostsFilter('predictions'), ingest.handlePredictions);
  broker.subscribe(allHostsFilter('events'), ingest.handleEvent);
  broker.subscribe(allHostsFilter('status'), ingest.handleStatus);
  const metrics = createSelfMetrics({
    ingest: () => ingest.stats(),
    sequences: () => ledger.stats(),
    writer: () => writer.stats(),
    hosts: () => hosts.list(),
    stream: () => stream.stats(),
  });
  const app = createApi({ hosts, store, metrics, brokerUrl: () => broker.url, log });
  const http = new HttpServer({ ...config.http, app, stream, log: log.child({ component: 'http' }) });

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
    async start() {
      if (state !== 'new') return;
      state = 'started';
      try {
        await store.start();
        hosts.restore(await store.latestPerHost());
        ledger.restore(await store.highestSeqPerHost());
        ledger.start();
        writer.start();
        await broker.start();
        // Retained, so agents learn where this aggregator stands before they replay their queues.
        for (const [hostId, seq] of ledger.confirmedMarks()) publishAck(hostId, seq);
        await http.start();
      } catch (err) {
        await this.stop();
        throw err;
      }
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      await broker.stop();
      await http.stop();
      await writer.stop();
      ledger.stop();
      await store.stop();
      const { written, dropped } = writer.stats();
      const { duplicate } = ingest.stats();
      log.info({ written, dropped, duplicate, missing: ledger.stats().missing }, 'aggregator stopped');
    },
  };
}
