import type { MetricPoint, TelemetryMessage } from '../../shared/wire/telemetry.js';

/** A time range, Unix epoch milliseconds, `from` inclusive and `to` exclusive. */
export interface TimeRange {
  from: number;
  to: number;
}

export interface SeriesQuery extends TimeRange {
  hostId: string;
  /** OTel metric name; undefined for every metric of the host. */
  metric?: string | undefined;
  /** Most points returned over all series; when there are more, the oldest are left out. */
  limit: number;
}

/** One time series: a metric with one set of attributes. Points are [time ms, value], oldest first. */
export interface Series {
  metric: string;
  unit: string;
  attributes: Record<string, string>;
  points: Array<[number, number]>;
}

/** What the store knows of a host's most recent message, to restore live state after a restart. */
export interface HostSnapshot {
  hostId: string;
  lastSeen: number;
  lastSeq: number;
  metrics: MetricPoint[];
}

/**
 * The telemetry store. Implementations: DuckDB (embedded default) and, in
 * production, InfluxDB. All of them pass the contract suite in
 * test/contract/telemetry-store.contract.ts.
 */
export interface TelemetryStore {
  /** Human-readable description for logs and the banner, e.g. the file path. */
  readonly description: string;
  start(): Promise<void>;
  /** Flushes and closes; safe to call twice and before start. */
  stop(): Promise<void>;
  /** Stores a batch durably; resolves once it would survive a crash. */
  write(batch: readonly TelemetryMessage[]): Promise<void>;
  querySeries(query: SeriesQuery): Promise<Series[]>;
  latestPerHost(): Promise<HostSnapshot[]>;
  /**
   * The highest sequence number stored per host, seq 0 (imported samples)
   * left out: where de-duplication resumes after a restart.
   */
  highestSeqPerHost(): Promise<Map<string, number>>;
  /** Number of stored points for a host (all hosts when undefined). */
  countPoints(hostId?: string): Promise<number>;
}
