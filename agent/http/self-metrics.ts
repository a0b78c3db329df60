/**
 * The agent's own metrics in Prometheus text format (`GET /metrics` on the
 * local endpoint), in a private registry: prom-client's global one would
 * collect whatever else in the process registered there. Components keep
 * plain counters; the collectors read them at scrape time, so nothing here
 * runs between scrapes except the cycle histogram's one observation per
 * cycle and prom-client's process metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CYCLE_OUTCOMES, type AgentSelfReport } from './self-report.js';
import type { AgentHealthSources } from './health.js';
import { sampledCounter, sampledGauge } from '../../shared/metrics/sampled.js';

/**
 * Cycle duration buckets, seconds: a cycle reads /proc and statfs and
 * scores the models, a few ms to tens of ms on a quiet host; the upper
 * buckets catch a slow disk or a starved CPU.
 */
const CYCLE_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface AgentMetrics {
  registry: Registry;
  /** Stops the cycle histogram's observations. */
  close(): void;
}

export function createAgentMetrics(sources: AgentHealthSources, report: AgentSelfReport): AgentMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stats = () => sources.stats();

  new Gauge({
    name: 'cloudsense_agent_info',
    help: 'Always 1; the agent version and its host id (host) as labels.',
    labelNames: ['version', 'host'],
    registers: [registry],
  }).set({ version: sources.version, host: sources.hostId }, 1);

  new Counter({
    name: 'cloudsense_agent_cycles_total',
    help: 'Finished collection cycles by outcome (ok, collection_failed, telemetry_lost).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      const { cycles } = stats().cycles;
      for (const outcome of CYCLE_OUTCOMES) this.inc({ outcome }, cycles[outcome]);
    },
  });
  const duration = new Histogram({
    name: 'cloudsense_agent_cycle_duration_seconds',
    help: 'Time from the start of a collection cycle to its messages being queued, forecasts included.',
    buckets: CYCLE_BUCKETS_S,
    registers: [registry],
  });
  const stopObserving = report.onCycle((cycle) => duration.observe(cycle.durationMs / 1000));
  sampledGauge(
    registry,
    'cloudsense_agent_last_cycle_timestamp_seconds',
    'When the last collection cycle finished, Unix time (0 before the first).',
    () => (stats().cycles.last?.at ?? 0) / 1000,
  );
  sampledCounter(
    registry,
    'cloudsense_agent_collection_errors_total',
    'Cycles whose collection failed (no sample taken).',
    () => stats().cycles.cycles.collection_failed,
  );
  sampledCounter(
    registry,
    'cloudsense_agent_forecast_failures_total',
    'Cycles whose forecast step failed (their telemetry was still queued).',
    () => stats().cycles.forecastFailures,
  );
  sampledCounter(
    registry,
    'cloudsense_agent_forecast_cpu_seconds_total',
    'CPU time spent on feature extraction and model scoring.',
    () => stats().forecaster.cpuMs / 1000,
  );
  sampledGauge(
    registry,
    'cloudsense_agent_tracked_resources',
    'Resources with a feature window (CPU, memory, each filesystem, …).',
    () => stats().forecaster.resources,
  );

  sampledCounter(
    registry,
    'cloudsense_agent_queue_accepted_total',
    'Messages (telemetry, predictions, events) appended to the disk queue.',
    () => stats().queue.accepted,
  );
  sampledCounter(
    registry,
    'cloudsense_agent_queue_dropped_total',
    'Messages dropped unconfirmed: queue size or age bound, or a failed write.',
    () => stats().queue.dropped,
  );
  sampledCounter(
    registry,
    'cloudsense_agent_queue_corrupt_total',
    'Damaged queue records cut off at start or failing their checksum.',
    () => stats().queue.corrupt,
  );
  sampledGauge(
    registry,
    'cloudsense_agent_queue_pending_messages',
    'Messages in the disk queue that the aggregator has not confirmed yet.',
    () => stats().queue.pending,
  );
  sampledGauge(
    registry,
    'cloudsense_agent_queue_bytes',
    'Bytes of the disk queue on disk.',
    () => stats().queue.bytes,
  );
  sampledGauge(
    registry,
    'cloudsense_agent_queue_max_bytes',
    'The disk queue size bound (agent.queue.maxSize), bytes.',
    () => sources.queueMaxBytes,
  );
  sampledGauge(
    registry,
    'cloudsense_agent_queue_last_seq',
    'Highest sequence number assigned.',
    () => stats().queue.lastSeq,
  );
  sampledGauge(
    registry,
    'cloudsense_agent_queue_confirmed_seq',
    'Highest sequence number the aggregator confirmed storing.',
    () => stats().queue.confirmedSeq,
  );
  sampledCounter(
    registry,
    'cloudsense_agent_forwarder_published_total',
    'Messages handed to the broker, replays included.',
    () => stats().forwarder.published,
  );
  sampledCounter(
    registry,
    'cloudsense_agent_forwarder_replays_total',
    'Times the forwarder went back to the last confirmed message (reconnects, confirmation timeouts).',
    () => stats().forwarder.replays,
  );
  sampledCounter(
    registry,
    'cloudsense_agent_forwarder_acked_total',
    'Messages the aggregator confirmed storing.',
    () => stats().queue.confirmed,
  );
  sampledGauge(
    registry,
    'cloudsense_agent_broker_connected',
    '1 while the agent is connected to the MQTT broker.',
    () => (stats().brokerConnected ? 1 : 0),
  );

  new Gauge({
    name: 'cloudsense_agent_exhaustion_probability',
    help: 'Newest forecast: probability (0..1) that the resource is exhausted within its horizon.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [resource, p] of report.latestForecasts()) this.set({ resource }, p.probability);
    },
  });
  new Gauge({
    name: 'cloudsense_agent_alert_raised',
    help: '1 while an exhaustion alert is raised for the resource (after hysteresis), else 0.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [resource, p] of report.latestForecasts()) this.set({ resource }, p.alert ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cloudsense_agent_model_info',
    help: 'Always 1; the model serving each resource kind or resource id (key), its source, run and version.',
    labelNames: ['key', 'source', 'run_id', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, ref] of Object.entries(sources.models())) {
        this.set({ key, source: ref.source, run_id: ref.runId, version: ref.version ?? '' }, 1);
      }
    },
  });

  return { registry, close: stopObserving };
}
