import type { IPoint } from 'influx';
import { CloudSenseError, errorMessage } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/log.js';
import { EventMessageSchema, type EventMessage } from '../../../shared/wire/events.js';
import { ModelRefSchema } from '../../../shared/wire/predictions.js';
import type { SequencedMessage } from '../../../shared/wire/sequenced.js';
import type { MetricPoint } from '../../../shared/wire/telemetry.js';
import type {
  HostRecordQuery,
  HostSnapshot,
  Series,
  SeriesQuery,
  StoredPrediction,
  TelemetryStore,
} from '../telemetry-store.js';
import { InfluxClient, InfluxError, identifier, stringLiteral, type ResultSeries } from './influx-client.js';
import { describeInfluxLocation, type InfluxLocation } from './influx-location.js';
import { EVENTS, PREDICTIONS, TELEMETRY, nsOf, toPoints } from './influx-schema.js';

/** Points per HTTP write: InfluxDB's guidance is batches of 5,000-10,000 points. */
export const DEFAULT_POINTS_PER_WRITE = 5000;
/** Longest one HTTP request may take, ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
/**
 * How long one `write` keeps retrying while InfluxDB is unreachable, ms. Short:
 * it rides out a restart; a longer outage is the BatchingWriter's to ride
 * out (it keeps the batch and retries with its own back-off), and a stop
 * must not wait on it.
 */
export const DEFAULT_WRITE_RETRY_MS = 5000;
/** How long `start` waits for InfluxDB to answer, ms. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
/** Statements per query request when asking about every host. */
const STATEMENTS_PER_REQUEST = 200;
const FIRST_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 4000;

export interface InfluxStoreOptions {
  location: InfluxLocation;
  log?: Logger | undefined;
  pointsPerWrite?: number;
  requestTimeoutMs?: number;
  writeRetryMs?: number;
  startTimeoutMs?: number;
}

export interface InfluxStoreStats {
  /** Points InfluxDB accepted. */
  pointsWritten: number;
  /** HTTP write requests that failed (each retried or reported to the caller). */
  failedRequests: number;
  /** Points InfluxDB dropped because they are older than its retention policy keeps. */
  beyondRetention: number;
}

/**
 * Telemetry, predictions and events in an InfluxDB 1.x database (schema in
 * influx-schema.ts). A write is split into requests of `pointsPerWrite`
 * points and resolves only when InfluxDB accepted all of them. InfluxDB has
 * no transactions, so a batch that failed half-way may be partly stored;
 * every point has a key derived from its message (host, series, time and
 * sequence number), so the retry overwrites those points instead of adding
 * copies, and the batch ends up stored exactly once.
 */
export class InfluxDbTelemetryStore implements TelemetryStore {
  private readonly client: InfluxClient;
  private readonly pointsPerWrite: number;
  private readonly writeRetryMs: number;
  private readonly startTimeoutMs: number;
  private state: 'new' | 'open' | 'closed' = 'new';
  /** Wakes a retry pause early when the store stops. */
  private stopping = new AbortController();
  private readonly counts: InfluxStoreStats = { pointsWritten: 0, failedRequests: 0, beyondRetention: 0 };

  constructor(private readonly options: InfluxStoreOptions) {
    this.client = new InfluxClient(options.location, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    this.pointsPerWrite = options.pointsPerWrite ?? DEFAULT_POINTS_PER_WRITE;
    this.writeRetryMs = options.writeRetryMs ?? DEFAULT_WRITE_RETRY_MS;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  }

  get description(): string {
    return describeInfluxLocation(this.options.location);
  }

  /** Waits (up to `startTimeoutMs`) for InfluxDB, and creates the database when it is missing. */
  async start(): Promise<void> {
    if (this.state === 'open') return;
    this.stopping = new AbortController();
    await this.retrying(
      'open the database',
      this.startTimeoutMs,
      () => this.ensureDatabase(),
      (err) =>
        this.options.log?.warn(
          { store: this.description, err: err.message, waitMs: this.startTimeoutMs },
          'InfluxDB does not answer yet; waiting for it',
        ),
    );
    this.state = 'open';
  }

  async stop(): Promise<void> {
    this.state = 'closed';
    this.stopping.abort();
  }

  async write(batch: readonly SequencedMessage[]): Promise<void> {
    this.requireOpen();
    const points = toPoints(batch);
    for (let i = 0; i < points.length; i += this.pointsPerWrite) {
      const chunk = points.slice(i, i + this.pointsPerWrite);
      await this.retrying(`write ${chunk.length} points`, this.writeRetryMs, () => this.writeChunk(chunk));
    }
  }

  private async writeChunk(points: IPoint[]): Promise<void> {
    try {
      await this.client.write(points);
    } catch (err) {
      if (!(err instanceof InfluxError) || err.failure !== 'beyond-retention') throw err;
      // What the retention policy would delete at once is not kept; the rest of the request is written.
      const dropped = Number(/dropped=(\d+)/.exec(err.message)?.[1] ?? 0);
      this.counts.beyondRetention += dropped;
      this.options.log?.warn({ dropped }, 'InfluxDB dropped points older than its retention policy keeps');
    }
    this.counts.pointsWritten += points.length;
  }

  /**
   * Runs `attempt` until it succeeds; while InfluxDB is unavailable, again
   * after a pause that doubles (up to 4 s), for at most `budgetMs`. A missing
   * database is created and the attempt repeated; an error retrying cannot
   * help is thrown at once.
   */
  private async retrying(
    what: string,
    budgetMs: number,
    attempt: () => Promise<void>,
    onFirstFailure?: (err: InfluxError) => void,
  ): Promise<void> {
    const deadline = Date.now() + budgetMs;
    let failures = 0;
    let delayMs = FIRST_RETRY_DELAY_MS;
    for (;;) {
      try {
        await attempt();
        return;
      } catch (err) {
        if (!(err instanceof InfluxError) || err.permanent) throw err;
        this.counts.failedRequests++;
        if (failures++ === 0) onFirstFailure?.(err);
        if (err.failure === 'database-missing') {
          this.options.log?.warn(
            { database: this.options.location.database },
            'database missing; creating it',
          );
          await this.client.createDatabase().catch(() => undefined);
        }
        if (Date.now() + delayMs > deadline || this.stopping.signal.aborted) {
          const message = `cannot ${what} at ${this.description}: ${err.message}`;
          throw new CloudSenseError('STORE_UNAVAILABLE', message, { cause: err });
        }
        this.options.log?.debug({ err: err.message, retryInMs: delayMs }, `cannot ${what} yet; retrying`);
        await pause(delayMs, this.stopping.signal);
        delayMs = Math.min(MAX_RETRY_DELAY_MS, delayMs * 2);
      }
    }
  }

  /**
   * CREATE DATABASE needs admin rights. A user without them gets on as long
   * as the database exists, which a query on it tells.
   */
  private async ensureDatabase(): Promise<void> {
    try {
      await this.client.createDatabase();
    } catch (err) {
      if (!(err instanceof InfluxError) || err.failure !== 'rejected') throw err;
      try {
        await this.client.query([`SHOW MEASUREMENTS LIMIT 1`]);
      } catch (probe) {
        throw new InfluxError(
          'rejected',
          `the database ${this.options.location.database} cannot be used: ${errorMessage(probe)}; ` +
            `creating it failed too: ${err.message}`,
          { cause: err },
        );
      }
    }
  }

  async querySeries(query: SeriesQuery): Promise<Series[]> {
    const where = [hostIs(query.hostId), timeIn(query)];
    if (query.metric !== undefined) where.push(`"metric" = ${stringLiteral(query.metric)}`);
    const rows = await this.newest(
      `SELECT "value", "unit", "metric", "attributes" FROM ${identifier(TELEMETRY)}`,
      where,
      query.limit,
      (a, b) => compare(a.metric, b.metric) || compare(a.attributes, b.attributes),
    );
    const bySeries = new Map<string, Series>();
    for (const row of rows) {
      const metric = text(row.metric);
      const attributes = text(row.attributes);
      const key = `${metric}\u0000${attributes}`;
      let series = bySeries.get(key);
      if (!series) {
        series = { metric, unit: text(row.unit), attributes: parseAttributes(attributes), points: [] };
        bySeries.set(key, series);
      }
      series.points.push([number(row.time), number(row.value)]);
    }
    return [...bySeries.values()];
  }

  async latestPerHost(): Promise<HostSnapshot[]> {
    const [lastPerHost] = await this.query([
      `SELECT last("seq") FROM ${identifier(TELEMETRY)} GROUP BY "host"`,
    ]);
    const hosts = (lastPerHost ?? []).map((s) => ({
      hostId: s.tags.host ?? '',
      lastSeen: number(s.rows[0]?.time),
    }));
    const snapshots: HostSnapshot[] = [];
    for (let i = 0; i < hosts.length; i += STATEMENTS_PER_REQUEST) {
      const part = hosts.slice(i, i + STATEMENTS_PER_REQUEST);
      // Every point in the host's newest millisecond: that message's metrics.
      const results = await this.query(
        part.map(
          (h) =>
            `SELECT "value", "seq", "unit", "metric", "attributes" FROM ${identifier(TELEMETRY)} ` +
            `WHERE ${hostIs(h.hostId)} AND ${timeIn({ from: h.lastSeen, to: h.lastSeen + 1 })}`,
        ),
      );
      part.forEach((h, j) => {
        const rows = (results[j] ?? []).flatMap((s) => s.rows);
        rows.sort(
          (a, b) =>
            compare(text(a.metric), text(b.metric)) || compare(text(a.attributes), text(b.attributes)),
        );
        const metrics = rows.map((row) => {
          const point: MetricPoint = {
            name: text(row.metric),
            unit: text(row.unit),
            value: number(row.value),
          };
          const attributes = parseAttributes(text(row.attributes));
          if (Object.keys(attributes).length > 0) point.attributes = attributes;
          return point;
        });
        const lastSeq = Math.max(...rows.map((row) => number(row.seq)));
        snapshots.push({ hostId: h.hostId, lastSeen: h.lastSeen, lastSeq, metrics });
      });
    }
    return snapshots;
  }

  async queryPredictions(query: HostRecordQuery): Promise<StoredPrediction[]> {
    const where = [hostIs(query.hostId), timeIn(query)];
    if (query.resource !== undefined) where.push(`"resource" = ${stringLiteral(query.resource)}`);
    const rows = await this.newest(`SELECT * FROM ${identifier(PREDICTIONS)}`, where, query.limit, (a, b) =>
      compare(text(a.resource), text(b.resource)),
    );
    return rows.map((row) => {
      const p10S = optionalNumber(row.tte_p10_s);
      const p50S = optionalNumber(row.tte_p50_s);
      const p90S = optionalNumber(row.tte_p90_s);
      return {
        hostId: query.hostId,
        seq: number(row.seq),
        timestamp: number(row.time),
        resource: text(row.resource),
        probability: number(row.probability),
        alert: row.alert === true,
        threshold: number(row.threshold),
        horizonS: number(row.horizon_s),
        ...(p10S !== undefined && p50S !== undefined && p90S !== undefined
          ? { ttBand: { p10S, p50S, p90S } }
          : {}),
        model: ModelRefSchema.parse(JSON.parse(text(row.model))),
      };
    });
  }

  async queryEvents(query: HostRecordQuery): Promise<EventMessage[]> {
    const where = [hostIs(query.hostId), timeIn(query)];
    if (query.resource !== undefined) where.push(`"resource" = ${stringLiteral(query.resource)}`);
    const rows = await this.newest(
      `SELECT "seq", "message" FROM ${identifier(EVENTS)}`,
      where,
      query.limit,
      (a, b) => number(a.seq) - number(b.seq),
    );
    // Stored after validation at ingest; parsed again so a point written by hand cannot pass as an event.
    return rows.map((row) => EventMessageSchema.parse(JSON.parse(text(row.message))));
  }

  async highestSeqPerHost(): Promise<Map<string, number>> {
    const [series] = await this.query([
      `SELECT max("seq") FROM ${[TELEMETRY, PREDICTIONS, EVENTS].map(identifier).join(', ')} ` +
        `WHERE "seq" > 0 GROUP BY "host"`,
    ]);
    const marks = new Map<string, number>();
    for (const s of series ?? []) {
      const host = s.tags.host ?? '';
      const max = number(s.rows[0]?.max);
      marks.set(host, Math.max(marks.get(host) ?? 0, max));
    }
    return marks;
  }

  async countPoints(hostId?: string): Promise<number> {
    const where = hostId === undefined ? '' : ` WHERE ${hostIs(hostId)}`;
    const [series] = await this.query([`SELECT count("value") FROM ${identifier(TELEMETRY)}${where}`]);
    return number(series?.[0]?.rows[0]?.count ?? 0);
  }

  stats(): InfluxStoreStats {
    return { ...this.counts };
  }

  /**
   * The newest `limit` rows of a query, returned oldest first. InfluxDB
   * cuts a LIMIT anywhere among rows of the same time; the rows of the
   * oldest millisecond kept are read whole and ordered by `tieBreak`, so
   * the cut is the same on every call.
   */
  private async newest(
    select: string,
    where: string[],
    limit: number,
    tieBreak: (a: Record<string, unknown>, b: Record<string, unknown>) => number,
  ): Promise<Array<Record<string, unknown>>> {
    const [series] = await this.query([
      `${select} WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT ${limit}`,
    ]);
    let rows = (series ?? []).flatMap((s) => s.rows);
    if (rows.length === limit && limit > 0) {
      const oldest = number(rows[rows.length - 1]!.time);
      const [edge] = await this.query([
        `${select} WHERE ${[...where, timeIn({ from: oldest, to: oldest + 1 })].join(' AND ')}`,
      ]);
      rows = [...rows.filter((r) => number(r.time) > oldest), ...(edge ?? []).flatMap((s) => s.rows)];
    }
    const ascending = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      number(a.time) - number(b.time) || tieBreak(a, b);
    return rows
      .sort((a, b) => ascending(b, a))
      .slice(0, limit)
      .reverse();
  }

  private query(statements: string[]): Promise<ResultSeries[][]> {
    this.requireOpen();
    return this.client.query(statements).catch((err: unknown) => {
      // Nothing written yet: the database may not exist, which is an empty store.
      if (err instanceof InfluxError && err.failure === 'database-missing') return statements.map(() => []);
      throw err;
    });
  }

  private requireOpen(): void {
    if (this.state !== 'open') throw new CloudSenseError('STORE_CLOSED', 'the store is not open');
  }
}

function hostIs(hostId: string): string {
  return `"host" = ${stringLiteral(hostId)}`;
}

/** InfluxQL bounds of `[from, to)` in ms; points carry up to 999,999 ns past their millisecond. */
function timeIn(range: { from: number; to: number }): string {
  return `time >= ${nsOf(range.from)} AND time < ${nsOf(range.to)}`;
}

function compare(a: unknown, b: unknown): number {
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function parseAttributes(json: string): Record<string, string> {
  return JSON.parse(json) as Record<string, string>;
}

function text(value: unknown): string {
  if (typeof value !== 'string')
    throw new CloudSenseError('STORE_CORRUPT', `expected a string in InfluxDB, got ${String(value)}`);
  return value;
}

function number(value: unknown): number {
  if (typeof value !== 'number')
    throw new CloudSenseError('STORE_CORRUPT', `expected a number in InfluxDB, got ${String(value)}`);
  return value;
}

function optionalNumber(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : number(value);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
