/**
 * The one module that speaks to InfluxDB through the `influx` package: it
 * writes points, runs InfluxQL and creates the database, and turns the
 * package's errors into the project's, told apart by whether retrying can
 * help. Retrying itself is the caller's decision.
 */
import { InfluxDB, escape, type IPoint } from 'influx';
import { z } from 'zod';
import { CloudSenseError, errorMessage } from '../../../shared/errors.js';
import { STORE_REJECTED_DATA } from '../telemetry-store.js';
import type { InfluxLocation } from './influx-location.js';

/** The package's pool would take a failing host out of rotation for a while; one host must stay in. */
const NEVER_DISABLE = {
  getDelay: () => 0,
  next() {
    return NEVER_DISABLE;
  },
  reset() {
    return NEVER_DISABLE;
  },
};

const ResponseSchema = z.object({
  results: z.array(
    z.object({
      series: z
        .array(
          z.object({
            name: z.string().optional(),
            tags: z.record(z.string(), z.string()).optional(),
            columns: z.array(z.string()),
            values: z.array(z.array(z.unknown())).optional(),
          }),
        )
        .optional(),
      error: z.string().optional(),
    }),
  ),
});

/** One series of a query result, each row as an object keyed by column. */
export interface ResultSeries {
  name: string;
  tags: Record<string, string>;
  rows: Array<Record<string, unknown>>;
}

/** What an HTTP failure means for the store. */
export type InfluxFailure =
  /** InfluxDB is down, restarting, overloaded or too slow: retrying later can help. */
  | 'unavailable'
  /** The database does not exist (dropped, or a fresh InfluxDB behind the same address). */
  | 'database-missing'
  /** Points older than the retention policy keeps were dropped; the rest is written. */
  | 'beyond-retention'
  /**
   * A point InfluxDB cannot take (HTTP 400 to a write: a field type conflict,
   * a malformed point): writing it again cannot help, other points can be
   * written. InfluxDB has written the rest of the request.
   */
  | 'bad-data'
  /** Credentials refused, a refused statement: retrying the same request cannot help. */
  | 'rejected';

const INFLUX_ERROR_CODES: Record<InfluxFailure, string> = {
  unavailable: 'INFLUX_UNAVAILABLE',
  'database-missing': 'INFLUX_UNAVAILABLE',
  'beyond-retention': 'INFLUX_UNAVAILABLE',
  'bad-data': STORE_REJECTED_DATA,
  rejected: 'INFLUX_REJECTED',
};

export class InfluxError extends CloudSenseError {
  constructor(
    readonly failure: InfluxFailure,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(INFLUX_ERROR_CODES[failure], message, {
      cause: options.cause,
      permanent: failure === 'rejected' || failure === 'bad-data',
    });
  }
}

export class InfluxClient {
  private readonly db: InfluxDB;

  constructor(
    private readonly location: InfluxLocation,
    requestTimeoutMs: number,
  ) {
    this.db = new InfluxDB({
      host: location.host,
      port: location.port,
      protocol: location.protocol,
      database: location.database,
      username: location.username,
      password: location.password,
      pool: { maxRetries: 0, requestTimeout: requestTimeoutMs, backoff: NEVER_DISABLE },
    });
  }

  /** Creates the database; InfluxDB does nothing when it exists. */
  async createDatabase(): Promise<void> {
    await this.run(() => this.db.createDatabase(this.location.database), 'create database');
  }

  /** Writes points in one request, nanosecond timestamps. */
  async write(points: IPoint[]): Promise<void> {
    await this.run(
      () => this.db.writePoints(points, { precision: 'n' }),
      `write ${points.length} points`,
      true,
    );
  }

  /**
   * Runs InfluxQL statements in one request, times as epoch milliseconds;
   * returns each statement's series. A statement InfluxDB refused throws.
   */
  async query(statements: readonly string[]): Promise<ResultSeries[][]> {
    const raw: unknown = await this.run(
      () => this.db.queryRaw([...statements], { precision: 'ms', method: 'POST' }),
      'query',
    );
    const parsed = ResponseSchema.safeParse(raw);
    if (!parsed.success) {
      throw new InfluxError('rejected', `unexpected InfluxDB query response: ${parsed.error.message}`);
    }
    return parsed.data.results.map((result) => {
      if (result.error !== undefined) {
        throw new InfluxError(
          /database not found/.test(result.error) ? 'database-missing' : 'rejected',
          `InfluxDB refused a query: ${result.error}`,
        );
      }
      return (result.series ?? []).map((s) => ({
        name: s.name ?? '',
        tags: s.tags ?? {},
        rows: (s.values ?? []).map((values) => Object.fromEntries(s.columns.map((c, i) => [c, values[i]]))),
      }));
    });
  }

  private async run<T>(call: () => Promise<T>, what: string, isWrite = false): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw classify(err, what, isWrite);
    }
  }
}

/** Quotes a string for InfluxQL (`'…'`). */
export const stringLiteral: (value: string) => string = escape.stringLit;
/** Quotes an identifier for InfluxQL (`"…"`). */
export const identifier: (value: string) => string = escape.quoted;

/**
 * The package rejects with an error carrying the response for 4xx, a
 * `ServiceNotAvailableError` for 5xx and timeouts, Node's network errors
 * (with a `code`) as they are, and a `ResultError` when InfluxDB answered
 * but refused a statement.
 */
function classify(err: unknown, what: string, isWrite: boolean): InfluxError {
  const status = (err as { res?: { statusCode?: number } } | undefined)?.res?.statusCode;
  const message = errorMessage(err);
  const unreachable =
    (status !== undefined && status >= 500) ||
    (status === undefined &&
      err instanceof Error &&
      (typeof (err as { code?: unknown }).code === 'string' ||
        err.constructor.name === 'ServiceNotAvailableError'));
  if (unreachable) {
    return new InfluxError('unavailable', `InfluxDB unavailable (${what}): ${message}`, { cause: err });
  }
  if (/database not found/.test(message)) {
    return new InfluxError('database-missing', `InfluxDB ${what}: ${message}`, { cause: err });
  }
  if (/partial write: points beyond retention policy dropped=\d+"?\}?\s*$/.test(message)) {
    return new InfluxError('beyond-retention', `InfluxDB ${what}: ${message}`, { cause: err });
  }
  if (isWrite && status === 400) {
    return new InfluxError('bad-data', `InfluxDB refused to ${what}: ${message}`, { cause: err });
  }
  const hint =
    status === 401 || status === 403
      ? ' (check the user and password in the store URL, and its privileges)'
      : '';
  return new InfluxError('rejected', `InfluxDB refused to ${what}: ${message}${hint}`, { cause: err });
}
