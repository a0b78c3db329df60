/**
 * The agent's `/healthz` document: whether it does its job right now and,
 * when not, why. `degraded` still answers 200: the agent is alive and its
 * disk queue keeps every sample through a broker outage, so a liveness
 * probe must not restart it; a monitor that cares reads `status` and
 * `problems`.
 */
import type { ForecasterStats } from '../inference/resource-forecaster.js';
import type { ForwarderStats } from '../publish/queue-forwarder.js';
import type { DiskQueueStats } from '../queue/disk-queue.js';
import type { ModelRef } from '../../shared/wire/predictions.js';
import type { CycleOutcome, CycleStats } from './self-report.js';

/** Share of `agent.queue.maxSize` from which the queue counts as near full. */
export const QUEUE_NEAR_FULL_RATIO = 0.9;
/** Intervals without a finished cycle after which the cycle counts as stalled. */
export const STALLED_AFTER_INTERVALS = 3;

/** What the agent's `stats()` gives. */
export interface AgentRuntimeStats {
  queue: DiskQueueStats;
  forwarder: ForwarderStats;
  forecaster: ForecasterStats;
  cycles: CycleStats;
  brokerConnected: boolean;
}

/** The fixed facts of this agent and where its live figures come from. */
export interface AgentHealthSources {
  hostId: string;
  version: string;
  /** Broker URL; any credentials in it are left out of the report. */
  brokerUrl: string;
  intervalSeconds: number;
  /** `agent.queue.maxSize`, bytes. */
  queueMaxBytes: number;
  /** When the agent (this configuration's pipeline) started, Unix epoch ms. */
  startedAt: number;
  stats: () => AgentRuntimeStats;
  models: () => Record<string, ModelRef>;
}

/**
 * Why the agent is degraded: `broker_disconnected` (messages wait in the
 * queue), `last_cycle_failed`, `cycle_stalled` (no cycle finished for
 * three intervals), `queue_near_full` (the oldest messages are about to be
 * dropped).
 */
export type HealthProblem = 'broker_disconnected' | 'last_cycle_failed' | 'cycle_stalled' | 'queue_near_full';

export interface AgentHealth {
  status: 'ok' | 'degraded';
  problems: HealthProblem[];
  version: string;
  hostId: string;
  /** Seconds since the process started. */
  uptimeSeconds: number;
  intervalSeconds: number;
  lastCycle: { at: string; durationMs: number; outcome: CycleOutcome } | null;
  broker: { url: string; connected: boolean };
  queue: {
    pending: number;
    bytes: number;
    maxBytes: number;
    dropped: number;
    lastSeq: number;
    confirmedSeq: number;
  };
  /** The model serving each resource kind (or resource id), with its version. */
  models: Record<string, ModelRef>;
}

export function healthOf(sources: AgentHealthSources, now = Date.now()): AgentHealth {
  const { queue, cycles, brokerConnected } = sources.stats();
  const last = cycles.last;
  const problems: HealthProblem[] = [];
  if (!brokerConnected) problems.push('broker_disconnected');
  if (last && last.outcome !== 'ok') problems.push('last_cycle_failed');
  const stalledAfterMs = STALLED_AFTER_INTERVALS * sources.intervalSeconds * 1000;
  if (now - (last?.at ?? sources.startedAt) > stalledAfterMs) problems.push('cycle_stalled');
  if (queue.bytes >= QUEUE_NEAR_FULL_RATIO * sources.queueMaxBytes) problems.push('queue_near_full');
  return {
    status: problems.length === 0 ? 'ok' : 'degraded',
    problems,
    version: sources.version,
    hostId: sources.hostId,
    uptimeSeconds: Math.round(process.uptime()),
    intervalSeconds: sources.intervalSeconds,
    lastCycle: last
      ? { at: new Date(last.at).toISOString(), durationMs: last.durationMs, outcome: last.outcome }
      : null,
    broker: { url: withoutCredentials(sources.brokerUrl), connected: brokerConnected },
    queue: {
      pending: queue.pending,
      bytes: queue.bytes,
      maxBytes: sources.queueMaxBytes,
      dropped: queue.dropped,
      lastSeq: queue.lastSeq,
      confirmedSeq: queue.confirmedSeq,
    },
    models: sources.models(),
  };
}

/** `mqtt://user:secret@broker:1883` → `mqtt://broker:1883`. */
export function withoutCredentials(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}
