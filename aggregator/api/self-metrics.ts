import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SequenceLedgerStats } from '../ingest/sequence-ledger.js';
import type { IngestStats } from '../ingest/telemetry-ingest.js';
import type { HostView } from '../live/host-registry.js';
import type { BatchingWriterStats } from '../storage/batching-writer.js';
import type { StreamStats } from './live-stream.js';

/** Read-outs the /metrics endpoint samples at scrape time; components keep plain counters. */
export interface SelfMetricsSources {
  ingest: () => IngestStats;
  sequences: () => SequenceLedgerStats;
  writer: () => BatchingWriterStats;
  hosts: () => HostView[];
  stream: () => StreamStats;
}

/** Counter whose value is read from a component at scrape time. */
function sampledCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** The aggregator's own metrics in Prometheus text format (`GET /metrics`). */
export function createSelfMetrics(sources: SelfMetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

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
    'cloudsense_store_write_failures_total',
    'Failed store writes (retried).',
    () => sources.writer().failedWrites,
  );
  new Gauge({
    name: 'cloudsense_store_buffered_messages',
    help: 'Messages waiting to be written.',
    registers: [registry],
    collect() {
      this.set(sources.writer().buffered);
    },
  });
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
  return registry;
}
