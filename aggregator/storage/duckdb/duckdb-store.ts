import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DuckDBInstance,
  DuckDBTimestampMillisecondsValue,
  type DuckDBAppender,
  type DuckDBConnection,
} from '@duckdb/node-api';
import { BusyError, CloudSenseError, errorMessage } from '../../../shared/errors.js';
import { createLogger, type Logger } from '../../../shared/log.js';
import type { EventMessage } from '../../../shared/wire/events.js';
import { byTopicKind, type SequencedMessage } from '../../../shared/wire/sequenced.js';
import { attributesKey, type MetricPoint, type TelemetryMessage } from '../../../shared/wire/telemetry.js';
import type {
  HostRecordQuery,
  HostSnapshot,
  Series,
  SeriesQuery,
  StoredPrediction,
  TelemetryStore,
} from '../telemetry-store.js';
import {
  FORECAST_SCHEMA,
  appendEvent,
  appendPredictions,
  queryEvents,
  queryPredictions,
} from './forecast-tables.js';
import { AGGREGATE_SCHEMA, aggregatePointsSql, latestOfAggregatedOnlyHosts } from './aggregate-tables.js';
import { exportParquet, type ParquetExport, type ParquetExportResult } from './parquet-export.js';
import { RetentionJob, type RetentionPass, type RetentionPolicy, type RetentionStats } from './retention.js';

export interface DuckDbStoreOptions {
  /** Path of the database file. */
  path: string;
  /** DuckDB's memory limit, e.g. `512MB`. Set explicitly: DuckDB defaults to 80% of RAM. */
  memoryLimit: string;
  /** Worker threads DuckDB may use. */
  threads: number;
  /**
   * Retention and downsampling (retention.ts), run in the background while
   * the store is open. Only the long-running holder of the store (the
   * aggregator) sets it; commands that open the data dir briefly do not.
   */
  retention?: { policy: RetentionPolicy; log: Logger; now?: () => number } | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS samples (
  host_id    VARCHAR      NOT NULL,
  seq        UBIGINT      NOT NULL,
  ts         TIMESTAMP_MS NOT NULL,
  metric     VARCHAR      NOT NULL,
  attributes VARCHAR      NOT NULL,
  unit       VARCHAR      NOT NULL,
  value      DOUBLE       NOT NULL
)`;

/**
 * Telemetry in an embedded DuckDB file: one row per metric point, attributes
 * as canonical JSON; predictions and events in their own tables
 * (forecast-tables.ts). A batch is written in one transaction. Only one process may hold the file; a second one gets a
 * BusyError naming the holder. With a retention policy, raw samples past it
 * live on as per-interval aggregates (aggregate-tables.ts), which series
 * queries return where the raw samples are gone.
 */
export class DuckDbTelemetryStore implements TelemetryStore {
  private instance: DuckDBInstance | undefined;
  private connection: DuckDBConnection | undefined;
  /** Serialises writes: the appender and its commit must not interleave. */
  private writeChain: Promise<void> = Promise.resolve();
  private retention: RetentionJob | undefined;

  constructor(private readonly options: DuckDbStoreOptions) {}

  get description(): string {
    return `duckdb:${this.options.path}`;
  }

  async start(): Promise<void> {
    if (this.connection) return;
    mkdirSync(dirname(this.options.path), { recursive: true });
    try {
      this.instance = await DuckDBInstance.create(this.options.path, {
        memory_limit: this.options.memoryLimit,
        threads: String(this.options.threads),
      });
    } catch (err) {
      const message = errorMessage(err);
      if (/lock/i.test(message)) {
        const pid = /PID (\d+)/.exec(message)?.[1];
        throw new BusyError(
          `the store ${this.options.path} is held by another process${pid ? ` (pid ${pid})` : ''}; ` +
            'stop it, or use its API instead of opening the data dir directly',
          { cause: err },
        );
      }
      throw new CloudSenseError('STORE_OPEN_FAILED', `cannot open ${this.options.path}: ${message}`, {
        cause: err,
      });
    }
    this.connection = await this.instance.connect();
    await this.connection.run(SCHEMA);
    await this.connection.run(FORECAST_SCHEMA);
    await this.connection.run(AGGREGATE_SCHEMA);
    const retention = this.options.retention;
    if (retention?.policy.enabled) {
      const instance = this.instance;
      this.retention = new RetentionJob({ ...retention, connect: () => instance.connect() });
      this.retention.start();
    }
  }

  async stop(): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    await this.retention?.stop();
    this.retention = undefined;
    await this.writeChain;
    this.connection = undefined;
    // A checkpoint folds the write-ahead log into the file, so the next start is quick.
    await connection.run('CHECKPOINT').catch(() => undefined);
    connection.closeSync();
    this.instance?.closeSync();
    this.instance = undefined;
  }

  write(batch: readonly SequencedMessage[]): Promise<void> {
    const run = this.writeChain.then(() => this.append(batch));
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /** One transaction over all three tables: a batch that fails leaves nothing behind, so its retry cannot double rows. */
  private async append(batch: readonly SequencedMessage[]): Promise<void> {
    const connection = this.requireConnection();
    if (batch.length === 0) return;
    const { telemetry, predictions, events } = byTopicKind(batch);
    await connection.run('BEGIN TRANSACTION');
    try {
      if (telemetry.length > 0)
        await this.appendTo('samples', (a) => telemetry.forEach((m) => appendSamples(a, m)));
      if (predictions.length > 0)
        await this.appendTo('predictions', (a) => predictions.forEach((m) => appendPredictions(a, m)));
      if (events.length > 0) await this.appendTo('events', (a) => events.forEach((m) => appendEvent(a, m)));
      await connection.run('COMMIT');
    } catch (err) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw new CloudSenseError('STORE_WRITE_FAILED', `DuckDB write failed: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  private async appendTo(table: string, fill: (appender: DuckDBAppender) => void): Promise<void> {
    const appender = await this.requireConnection().createAppender(table);
    try {
      fill(appender);
      // Closing the appender flushes its rows into the open transaction.
      appender.closeSync();
    } catch (err) {
      appender.clear();
      throw err;
    }
  }

  async querySeries(query: SeriesQuery): Promise<Series[]> {
    const connection = this.requireConnection();
    const params: Record<string, string | number | DuckDBTimestampMillisecondsValue> = {
      host: query.hostId,
      from: new DuckDBTimestampMillisecondsValue(BigInt(query.from)),
      to: new DuckDBTimestampMillisecondsValue(BigInt(query.to)),
      limit: query.limit,
    };
    if (query.metric !== undefined) params.metric = query.metric;
    const where = `host_id = $host AND ts >= $from AND ts < $to ${query.metric !== undefined ? 'AND metric = $metric' : ''}`;
    // Where raw samples were downsampled, their aggregates stand in (one point per bucket, its mean).
    const reader = await connection.runAndReadAll(
      `SELECT * FROM (
         SELECT metric, attributes, unit, epoch_ms(ts)::DOUBLE AS t, value FROM samples WHERE ${where}
         UNION ALL ${aggregatePointsSql(where)}
         ORDER BY t DESC LIMIT $limit)
       ORDER BY t, metric, attributes`,
      params,
    );
    const bySeries = new Map<string, Series>();
    for (const [metric, attributes, unit, t, value] of reader.getRowsJS() as Array<
      [string, string, string, number, number]
    >) {
      const key = `${metric}\u0000${attributes}`;
      let series = bySeries.get(key);
      if (!series) {
        series = { metric, unit, attributes: JSON.parse(attributes) as Record<string, string>, points: [] };
        bySeries.set(key, series);
      }
      series.points.push([t, value]);
    }
    return [...bySeries.values()];
  }

  async latestPerHost(): Promise<HostSnapshot[]> {
    const connection = this.requireConnection();
    const reader = await connection.runAndReadAll(
      `WITH last AS (SELECT host_id, max(ts) AS ts FROM samples GROUP BY host_id)
       SELECT s.host_id, epoch_ms(s.ts)::DOUBLE, s.seq::DOUBLE, s.metric, s.attributes, s.unit, s.value
       FROM samples s JOIN last USING (host_id, ts) ORDER BY s.host_id, s.metric, s.attributes`,
    );
    const hosts = new Map<string, HostSnapshot>();
    const rows = [
      ...(reader.getRowsJS() as Array<[string, number, number, string, string, string, number]>),
      ...(await latestOfAggregatedOnlyHosts(connection)),
    ];
    for (const [hostId, ts, seq, name, attributes, unit, value] of rows) {
      let host = hosts.get(hostId);
      if (!host) {
        host = { hostId, lastSeen: ts, lastSeq: seq, metrics: [] };
        hosts.set(hostId, host);
      }
      const point: MetricPoint = { name, unit, value };
      if (attributes !== '{}') point.attributes = JSON.parse(attributes) as Record<string, string>;
      host.metrics.push(point);
    }
    return [...hosts.values()];
  }

  queryPredictions(query: HostRecordQuery): Promise<StoredPrediction[]> {
    return queryPredictions(this.requireConnection(), query);
  }

  queryEvents(query: HostRecordQuery): Promise<EventMessage[]> {
    return queryEvents(this.requireConnection(), query);
  }

  async highestSeqPerHost(): Promise<Map<string, number>> {
    const connection = this.requireConnection();
    const reader = await connection.runAndReadAll(
      `SELECT host_id, max(seq)::DOUBLE FROM (
         SELECT host_id, seq FROM samples UNION ALL
         SELECT host_id, seq FROM predictions UNION ALL
         SELECT host_id, seq FROM events UNION ALL
         SELECT host_id, seq FROM sequence_marks)
       WHERE seq > 0 GROUP BY host_id`,
    );
    return new Map(reader.getRowsJS() as Array<[string, number]>);
  }

  /**
   * Runs a retention pass now (after a running one), whether or not the
   * background job is on: with the configured policy, or with `override`
   * (a command or test applying another policy once). Not part of
   * TelemetryStore: the DuckDB store's own maintenance.
   */
  async runRetention(override?: { policy?: RetentionPolicy; now?: () => number }): Promise<RetentionPass> {
    if (this.retention) return this.retention.runOnce(override);
    const configured = this.options.retention;
    const policy = override?.policy ?? configured?.policy;
    if (!policy) throw new CloudSenseError('NO_RETENTION_POLICY', 'no retention policy configured');
    const instance = this.requireInstance();
    const now = override?.now ?? configured?.now;
    const job = new RetentionJob({
      policy,
      connect: () => instance.connect(),
      log: configured?.log ?? createLogger({ level: 'silent', format: 'json' }),
      ...(now ? { now } : {}),
    });
    try {
      return await job.runOnce();
    } finally {
      await job.stop();
    }
  }

  /** What the background retention job did since start; undefined when it does not run. */
  retentionStats(): RetentionStats | undefined {
    return this.retention?.stats();
  }

  /** Writes a Parquet file of stored rows (parquet-export.ts); not part of TelemetryStore. */
  exportParquet(request: ParquetExport): Promise<ParquetExportResult> {
    return exportParquet(this.requireConnection(), request);
  }

  /** Raw samples only: downsampled ones are counted as aggregates, not points. */
  async countPoints(hostId?: string): Promise<number> {
    const connection = this.requireConnection();
    const reader =
      hostId === undefined
        ? await connection.runAndReadAll('SELECT count(*)::DOUBLE FROM samples')
        : await connection.runAndReadAll('SELECT count(*)::DOUBLE FROM samples WHERE host_id = $host', {
            host: hostId,
          });
    return Number(reader.getRowsJS()[0]?.[0] ?? 0);
  }

  private requireInstance(): DuckDBInstance {
    if (!this.instance || !this.connection)
      throw new CloudSenseError('STORE_CLOSED', 'the store is not open');
    return this.instance;
  }

  private requireConnection(): DuckDBConnection {
    if (!this.connection) throw new CloudSenseError('STORE_CLOSED', 'the store is not open');
    return this.connection;
  }
}

/** One row per metric point of `message`. */
function appendSamples(appender: DuckDBAppender, message: TelemetryMessage): void {
  const ts = new DuckDBTimestampMillisecondsValue(BigInt(message.timestamp));
  const seq = BigInt(message.seq);
  for (const point of message.metrics) {
    appender.appendVarchar(message.hostId);
    appender.appendUBigInt(seq);
    appender.appendTimestampMilliseconds(ts);
    appender.appendVarchar(point.name);
    appender.appendVarchar(attributesKey(point.attributes));
    appender.appendVarchar(point.unit);
    appender.appendDouble(point.value);
    appender.endRow();
  }
}
