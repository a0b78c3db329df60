import type { EventMessage } from '../../shared/wire/events.js';
import type { Prediction } from '../../shared/wire/predictions.js';
import type { SequencedMessage } from '../../shared/wire/sequenced.js';
import type { MetricPoint } from '../../shared/wire/telemetry.js';

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

/** A query over one host's predictions or events, oldest first. */
export interface HostRecordQuery extends TimeRange {
  hostId: string;
  /** Canonical resource id; undefined for every resource. */
  resource?: string | undefined;
  /** Most records returned; when there are more, the oldest are left out. */
  limit: number;
}

/** One stored prediction: a `predictions` entry with the message's host, number and time. */
export interface StoredPrediction extends Prediction {
  hostId: string;
  seq: number;
  /** Unix epoch ms. */
  timestamp: number;
}

/** What the store knows of a host's most recent message, to restore live state after a restart. */
export interface HostSnapshot {
  hostId: string;
  lastSeen: number;
  lastSeq: number;
  metrics: MetricPoint[];
}

/**
 * The code of a store write error caused by the data itself (a point the
 * database cannot take, such as a field type conflict): writing the same
 * messages again cannot help, while other messages can still be written. The
 * batching writer isolates and rejects the messages that cause it; every
 * other failure keeps the batch for a retry.
 */
export const STORE_REJECTED_DATA = 'STORE_REJECTED_DATA';

/**
 * The store of everything agents publish in their numbered stream:
 * telemetry, predictions and events. Implementations: DuckDB (embedded
 * default) and InfluxDB 1.x (docs/storage.md). All of them pass the contract suite in
 * test/contract/telemetry-store.contract.ts.
 */
export interface TelemetryStore {
  /** Human-readable description for logs and the banner, e.g. the file path. */
  readonly description: string;
  start(): Promise<void>;
  /** Flushes and closes; safe to call twice and before start. */
  stop(): Promise<void>;
  /**
   * Stores a batch of telemetry, predictions and events durably; resolves
   * once all of it would survive a crash. A batch that failed may be retried
   * as it was, and is then stored once: either nothing of a failed write is
   * kept (DuckDB's transaction), or writing it again replaces what was kept
   * (InfluxDB's points, keyed by message). Data the store can never take
   * fails with a CloudSenseError coded STORE_REJECTED_DATA.
   */
  write(batch: readonly SequencedMessage[]): Promise<void>;
  querySeries(query: SeriesQuery): Promise<Series[]>;
  latestPerHost(): Promise<HostSnapshot[]>;
  /** A host's predictions in the range, oldest first (by time, then resource). */
  queryPredictions(query: HostRecordQuery): Promise<StoredPrediction[]>;
  /** A host's events in the range, oldest first, as they were published. */
  queryEvents(query: HostRecordQuery): Promise<EventMessage[]>;
  /**
   * The highest sequence number stored per host over telemetry, predictions
   * and events, seq 0 (imported samples) left out: where de-duplication
   * resumes after a restart.
   */
  highestSeqPerHost(): Promise<Map<string, number>>;
  /** Number of stored points for a host (all hosts when undefined). */
  countPoints(hostId?: string): Promise<number>;
}
