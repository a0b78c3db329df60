import type { ModelRef } from '../../shared/wire/model-ref.js';
import type { MetricPoint, StatusMessage, TelemetryMessage } from '../../shared/wire/telemetry.js';
import type { HostSnapshot } from '../storage/telemetry-store.js';

/** A host is offline when it has not sent telemetry for this many of its intervals. */
export const DEFAULT_OFFLINE_AFTER_INTERVALS = 3;

export interface HostView {
  id: string;
  /** Last telemetry, ISO 8601; null before the first. */
  lastSeen: string | null;
  online: boolean;
  /** What the agent last said on its status topic, if anything. */
  status: StatusMessage['state'] | null;
  agentVersion: string | null;
  intervalSeconds: number | null;
  lastSeq: number | null;
  metrics: MetricPoint[];
  /**
   * The model serving each resource kind (or resource id), as the agent's
   * last status that named them said (an `offline` last will names none, so
   * this outlives it); null before the first.
   */
  models: Record<string, ModelRef> | null;
}

interface HostState {
  id: string;
  lastSeen: number | null;
  lastSeq: number | null;
  intervalSeconds: number | null;
  status: StatusMessage | null;
  models: Record<string, ModelRef> | null;
  metrics: MetricPoint[];
}

/** The latest state of every known host, in memory; rebuilt from the store at start-up. */
export class HostRegistry {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    private readonly offlineAfterIntervals = DEFAULT_OFFLINE_AFTER_INTERVALS,
    private readonly now: () => number = Date.now,
  ) {}

  restore(snapshots: readonly HostSnapshot[]): void {
    for (const s of snapshots) {
      const host = this.entry(s.hostId);
      if (host.lastSeen === null || s.lastSeen > host.lastSeen) {
        Object.assign(host, { lastSeen: s.lastSeen, lastSeq: s.lastSeq, metrics: s.metrics });
      }
    }
  }

  updateTelemetry(message: TelemetryMessage): void {
    const host = this.entry(message.hostId);
    // Replayed or reordered messages must not roll the live view back in time.
    if (host.lastSeen !== null && message.timestamp < host.lastSeen) return;
    host.lastSeen = message.timestamp;
    host.lastSeq = message.seq;
    host.intervalSeconds = message.intervalSeconds;
    host.metrics = message.metrics;
  }

  updateStatus(message: StatusMessage): void {
    // Latest arrival wins: a last will carries the time its session began, not the time it fired.
    const host = this.entry(message.hostId);
    host.status = message;
    if (message.models) host.models = message.models;
    if (message.intervalSeconds) host.intervalSeconds = message.intervalSeconds;
  }

  list(): HostView[] {
    return [...this.hosts.values()].sort((a, b) => a.id.localeCompare(b.id)).map((h) => this.view(h));
  }

  get(id: string): HostView | undefined {
    const host = this.hosts.get(id);
    return host && this.view(host);
  }

  get size(): number {
    return this.hosts.size;
  }

  private entry(id: string): HostState {
    let host = this.hosts.get(id);
    if (!host) {
      host = {
        id,
        lastSeen: null,
        lastSeq: null,
        intervalSeconds: null,
        status: null,
        models: null,
        metrics: [],
      };
      this.hosts.set(id, host);
    }
    return host;
  }

  /**
   * Online means: the agent has not announced `offline` (or its last will), and
   * its telemetry is fresh — within `offlineAfterIntervals` of its interval.
   */
  private view(host: HostState): HostView {
    const fresh =
      host.lastSeen !== null &&
      host.intervalSeconds !== null &&
      this.now() - host.lastSeen <= host.intervalSeconds * 1000 * this.offlineAfterIntervals;
    return {
      id: host.id,
      lastSeen: host.lastSeen === null ? null : new Date(host.lastSeen).toISOString(),
      online: fresh && host.status?.state !== 'offline',
      status: host.status?.state ?? null,
      agentVersion: host.status?.agentVersion ?? null,
      intervalSeconds: host.intervalSeconds,
      lastSeq: host.lastSeq,
      metrics: host.metrics,
      models: host.models,
    };
  }
}
