/**
 * Retention and downsampling of the DuckDB store, in the manner of
 * Prometheus' `--storage.tsdb.retention.time` plus InfluxDB's continuous
 * queries: raw samples older than `raw` are folded into per-interval
 * aggregates (min, max, sum, count, last) and deleted; aggregates, predictions
 * and events are deleted past their own durations. The job runs at start and
 * then on a schedule, one host and time chunk per transaction on a
 * connection of its own: ingest appends on the store's connection meanwhile
 * (appends never conflict with the job's deletes), and readers see a chunk
 * either before or after, never half folded.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DuckDBTimestampMillisecondsValue, type DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { DurationSchema } from '../../../shared/config/duration.js';
import { errorMessage } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/log.js';
import { markSequencesSql } from './aggregate-tables.js';

const DAY_MS = 86_400_000;

/** Raw samples kept, unless configured: about a month at full resolution. */
export const DEFAULT_RAW_RETENTION = '30d';
/** Aggregates kept, unless configured: a year of history for trends and seasonality. */
export const DEFAULT_AGGREGATE_RETENTION = '365d';
/** Width of one aggregate bucket, unless configured. */
export const DEFAULT_AGGREGATE_INTERVAL = '5m';
export const DEFAULT_PREDICTION_RETENTION = '90d';
export const DEFAULT_EVENT_RETENTION = '365d';
/** Time between two passes of the job, unless configured; it also runs at start. */
export const DEFAULT_RETENTION_EVERY = '1h';

/** Raw samples folded per transaction: at most this span of one host (rounded up to whole buckets)… */
const FOLD_CHUNK_MS = 6 * 3_600_000;
/** …and about this many rows, down to one bucket: a host sampled every second stays in short transactions. */
const FOLD_CHUNK_ROWS = 200_000;
/** Rows deleted per transaction when expiring: at most this span of one host. */
const EXPIRE_CHUNK_MS = DAY_MS;

const duration = (min: number, max: number, hint: string) =>
  DurationSchema.refine((ms) => ms >= min && ms <= max, { message: hint });

export const RetentionSectionSchema = z
  .object({
    /** Run the job at all. Default true; false keeps everything forever. */
    enabled: z.boolean().default(true),
    /** Raw samples older than this are folded into aggregates. Duration, 1h..10y. Default 30d. */
    raw: duration(3_600_000, 3650 * DAY_MS, 'between 1h and 3650d').prefault(DEFAULT_RAW_RETENTION),
    /** Width of one aggregate bucket; must divide a day. Duration, 1s..1d. Default 5m. */
    aggregateInterval: duration(1_000, DAY_MS, 'between 1s and 1d')
      .refine((ms) => ms % 1000 === 0 && DAY_MS % ms === 0, {
        message: 'a whole number of seconds that divides a day (1m, 5m, 15m, 1h…)',
      })
      .prefault(DEFAULT_AGGREGATE_INTERVAL),
    /** Aggregates older than this are deleted; at least `raw`. Duration, up to 100y. Default 365d. */
    aggregates: duration(3_600_000, 36_500 * DAY_MS, 'between 1h and 36500d').prefault(
      DEFAULT_AGGREGATE_RETENTION,
    ),
    /** Predictions older than this are deleted. Duration, 1h..100y. Default 90d. */
    predictions: duration(3_600_000, 36_500 * DAY_MS, 'between 1h and 36500d').prefault(
      DEFAULT_PREDICTION_RETENTION,
    ),
    /** Events (alerts, remediation, model updates) older than this are deleted. Duration, 1h..100y. Default 365d. */
    events: duration(3_600_000, 36_500 * DAY_MS, 'between 1h and 36500d').prefault(DEFAULT_EVENT_RETENTION),
    /** Time between passes of the job. Duration, 1m..1d. Default 1h. */
    every: duration(60_000, DAY_MS, 'between 1m and 1d').prefault(DEFAULT_RETENTION_EVERY),
  })
  .strict()
  .superRefine((section, ctx) => {
    if (section.aggregates < section.raw) {
      ctx.addIssue({
        code: 'custom',
        path: ['aggregates'],
        message: 'must be at least as long as raw: aggregates are made from expiring raw samples',
      });
    }
  })
  .prefault({});
/** The retention policy, every duration in ms. */
export type RetentionPolicy = z.infer<typeof RetentionSectionSchema>;

/** What the job has done since the store opened, for logs and /metrics. */
export interface RetentionStats {
  /** Completed passes. */
  runs: number;
  /** Passes stopped by an error (the next pass resumes where it stopped). */
  failures: number;
  /** Raw sample rows folded into aggregates and deleted. */
  samplesDownsampled: number;
  /** Aggregate rows written (a bucket that received late samples is rewritten, and counted again). */
  aggregatesWritten: number;
  aggregatesDeleted: number;
  predictionsDeleted: number;
  eventsDeleted: number;
  /** End of the last pass that completed, Unix epoch ms; 0 before the first. */
  lastSuccessMs: number;
  /** Duration of the last completed pass, ms. */
  lastDurationMs: number;
}

/** The counts of one pass. */
export type RetentionPass = Pick<
  RetentionStats,
  'samplesDownsampled' | 'aggregatesWritten' | 'aggregatesDeleted' | 'predictionsDeleted' | 'eventsDeleted'
>;

export interface RetentionJobOptions {
  policy: RetentionPolicy;
  /** Opens the job's own connection to the store's database. */
  connect: () => Promise<DuckDBConnection>;
  log: Logger;
  /** The clock retention ages are measured against. Default Date.now. */
  now?: () => number;
}

/** Adds committed rows to a pass's count. */
type Tally = (key: keyof RetentionPass, rows: number) => void;
type Params = Record<string, string | number | DuckDBTimestampMillisecondsValue>;
const at = (ms: number) => new DuckDBTimestampMillisecondsValue(BigInt(ms));

/**
 * The background job. `start()` runs a pass at once and then every
 * `policy.every`; `runOnce()` runs a pass now (after the running one).
 * Passes are idempotent: a pass finds only what the last one left, and a
 * pass cut short by stop or an error is finished by the next.
 */
export class RetentionJob {
  private connection: DuckDBConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionPass> | undefined;
  private stopping = false;
  private readonly now: () => number;
  private readonly counts: RetentionStats = {
    runs: 0,
    failures: 0,
    samplesDownsampled: 0,
    aggregatesWritten: 0,
    aggregatesDeleted: 0,
    predictionsDeleted: 0,
    eventsDeleted: 0,
    lastSuccessMs: 0,
    lastDurationMs: 0,
  };

  constructor(private readonly options: RetentionJobOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer || this.stopping) return;
    this.schedule(0);
  }

  /** Stops the schedule and waits for a running pass to reach the end of its chunk. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    this.connection?.closeSync();
    this.connection = undefined;
  }

  stats(): RetentionStats {
    return { ...this.counts };
  }

  /**
   * One pass now, after the running one; resolves with what it did, rejects
   * when a chunk failed (nothing of that chunk is kept). `override` applies
   * another policy or clock to this pass only.
   */
  runOnce(override: { policy?: RetentionPolicy; now?: () => number } = {}): Promise<RetentionPass> {
    const previous = this.running?.catch(() => undefined) ?? Promise.resolve();
    const run = previous.then(() =>
      this.pass(override.policy ?? this.options.policy, (override.now ?? this.now)()),
    );
    this.running = run;
    return run;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch(() => undefined)
        .finally(() => {
          if (!this.stopping) this.schedule(this.options.policy.every);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async pass(policy: RetentionPolicy, now: number): Promise<RetentionPass> {
    const { log } = this.options;
    const started = Date.now();
    const done: RetentionPass = {
      samplesDownsampled: 0,
      aggregatesWritten: 0,
      aggregatesDeleted: 0,
      predictionsDeleted: 0,
      eventsDeleted: 0,
    };
    if (this.stopping) return done;
    // Counted per committed chunk, so /metrics follows a long first pass as it goes.
    const count: Tally = (key, rows) => {
      done[key] += rows;
      this.counts[key] += rows;
    };
    try {
      this.connection ??= await this.options.connect();
      const span = policy.aggregateInterval;
      // Whole buckets only: a bucket is folded once all of it is past the raw retention.
      await this.fold(Math.floor((now - policy.raw) / span) * span, span, count);
      await this.expire('sample_aggregates', now - policy.aggregates, false, (n) =>
        count('aggregatesDeleted', n),
      );
      await this.expire('predictions', now - policy.predictions, true, (n) => count('predictionsDeleted', n));
      await this.expire('events', now - policy.events, true, (n) => count('eventsDeleted', n));
    } catch (err) {
      this.counts.failures++;
      log.warn({ err: errorMessage(err), ...done }, 'retention pass failed; the next pass resumes');
      throw err;
    }
    if (!this.stopping) {
      this.counts.runs++;
      this.counts.lastSuccessMs = Date.now();
      this.counts.lastDurationMs = Date.now() - started;
    }
    const changed = Object.values(done).some((n) => n > 0);
    (changed ? log.info.bind(log) : log.debug.bind(log))(
      { ...done, durationMs: Date.now() - started },
      'retention pass',
    );
    return done;
  }

  /** Raw samples before `cutoff` (a bucket boundary) become aggregates, chunk by chunk. */
  private async fold(cutoff: number, span: number, count: Tally): Promise<void> {
    const chunkMs = Math.ceil(FOLD_CHUNK_MS / span) * span;
    for (const [hostId, start, rows] of await this.chunksBefore('samples', cutoff, chunkMs)) {
      const end = Math.min(start + chunkMs, cutoff);
      const stepMs = Math.max(span, Math.ceil(chunkMs / Math.ceil(rows / FOLD_CHUNK_ROWS) / span) * span);
      for (let from = start; from < end; from += stepMs) {
        if (this.stopping) return;
        await this.foldChunk(hostId, from, Math.min(from + stepMs, end), span, count);
        // Between chunks, the event loop serves ingest acknowledgements and API requests.
        await nextTurn();
      }
    }
  }

  /** One transaction: the raw samples of one host in [from, to) (bucket boundaries) become aggregates. */
  private async foldChunk(
    hostId: string,
    from: number,
    to: number,
    span: number,
    count: Tally,
  ): Promise<void> {
    const params: Params = { host: hostId, from: at(from), to: at(to) };
    const where = 'host_id = $host AND ts >= $from AND ts < $to';
    const inChunk = 'a.host_id = $host AND a.ts >= $from AND a.ts < $to';
    await this.inTransaction(async (c) => {
      // Late raw rows of buckets folded before (an import, a long replay) merge with their aggregate.
      await c.run(
        `CREATE OR REPLACE TEMP TABLE folding AS
         WITH raw AS (
           SELECT host_id, epoch_ms(ts) // $span::BIGINT AS bucket, metric, attributes, unit,
                  value AS min_value, value AS max_value, value AS sum_value, 1 AS sample_count,
                  value AS last_value, ts AS last_ts
           FROM samples WHERE ${where}),
         earlier AS (
           SELECT a.host_id, epoch_ms(a.ts) // $span::BIGINT AS bucket, a.metric, a.attributes, a.unit,
                  a.min_value, a.max_value, a.sum_value, a.sample_count, a.last_value, a.last_ts
           FROM sample_aggregates a
           SEMI JOIN (SELECT DISTINCT bucket, metric, attributes FROM raw) r
             ON epoch_ms(a.ts) // $span::BIGINT = r.bucket AND a.metric = r.metric AND a.attributes = r.attributes
           WHERE ${inChunk})
         SELECT host_id, epoch_ms(bucket * $span::BIGINT)::TIMESTAMP_MS AS ts, $span::UINTEGER AS span_ms,
                metric, attributes, arg_max(unit, last_ts) AS unit,
                min(min_value) AS min_value, max(max_value) AS max_value, sum(sum_value) AS sum_value,
                sum(sample_count)::UBIGINT AS sample_count,
                arg_max(last_value, last_ts) AS last_value, max(last_ts) AS last_ts
         FROM (SELECT * FROM raw UNION ALL SELECT * FROM earlier)
         GROUP BY host_id, bucket, metric, attributes`,
        { ...params, span },
      );
      // The aggregates merged above are replaced by their merge; buckets without late samples stay as they are.
      await c.run(
        `DELETE FROM sample_aggregates a USING folding f
         WHERE ${inChunk} AND a.metric = f.metric
           AND a.attributes = f.attributes AND epoch_ms(a.ts) // $span::BIGINT = epoch_ms(f.ts) // $span::BIGINT`,
        { ...params, span },
      );
      const written = await c.run('INSERT INTO sample_aggregates SELECT * FROM folding');
      await c.run(markSequencesSql('samples', where), params);
      const deleted = await c.run(`DELETE FROM samples WHERE ${where}`, params);
      await c.run('DROP TABLE folding');
      return () => {
        count('aggregatesWritten', written.rowsChanged);
        count('samplesDownsampled', deleted.rowsChanged);
      };
    });
  }

  /** Deletes the rows of `table` before `cutoff`, chunk by chunk, marking their sequence numbers first. */
  private async expire(
    table: string,
    cutoff: number,
    sequenced: boolean,
    count: (rows: number) => void,
  ): Promise<void> {
    for (const [hostId, from] of await this.chunksBefore(table, cutoff, EXPIRE_CHUNK_MS)) {
      if (this.stopping) return;
      const params: Params = {
        host: hostId,
        from: at(from),
        to: at(Math.min(from + EXPIRE_CHUNK_MS, cutoff)),
      };
      const where = 'host_id = $host AND ts >= $from AND ts < $to';
      await this.inTransaction(async (c) => {
        if (sequenced) await c.run(markSequencesSql(table, where), params);
        const deleted = await c.run(`DELETE FROM ${table} WHERE ${where}`, params);
        return () => count(deleted.rowsChanged);
      });
      await nextTurn();
    }
  }

  /**
   * Each host and chunk start (a multiple of `chunkMs`) that holds rows of
   * `table` before `cutoff`, with its number of rows, oldest first.
   */
  private async chunksBefore(
    table: string,
    cutoff: number,
    chunkMs: number,
  ): Promise<Array<[hostId: string, start: number, rows: number]>> {
    const reader = await this.requireConnection().runAndReadAll(
      `SELECT host_id, (epoch_ms(ts) // $chunk::BIGINT * $chunk::BIGINT)::DOUBLE AS chunk, count(*)::DOUBLE
       FROM ${table} WHERE ts < $cutoff GROUP BY ALL ORDER BY chunk, host_id`,
      { chunk: chunkMs, cutoff: at(cutoff) },
    );
    return reader.getRowsJS() as Array<[string, number, number]>;
  }

  /** Runs `work` in one transaction; its returned callback records counts only once the commit succeeded. */
  private async inTransaction(work: (c: DuckDBConnection) => Promise<() => void>): Promise<void> {
    const c = this.requireConnection();
    await c.run('BEGIN TRANSACTION');
    let record: () => void;
    try {
      record = await work(c);
      await c.run('COMMIT');
    } catch (err) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    record();
  }

  private requireConnection(): DuckDBConnection {
    if (!this.connection) throw new Error('retention job has no connection');
    return this.connection;
  }
}
