/**
 * The DuckDB tables of what agents forecast: one row per prediction (a
 * `predictions` message holds one per resource) and one per event. Each
 * event keeps its whole message as JSON beside the columns queries filter
 * on, so event types added later need no new columns.
 */
import {
  DuckDBTimestampMillisecondsValue,
  type DuckDBAppender,
  type DuckDBConnection,
} from '@duckdb/node-api';
import { EventMessageSchema, type EventMessage } from '../../../shared/wire/events.js';
import type { ModelSource, PredictionsMessage } from '../../../shared/wire/predictions.js';
import type { HostRecordQuery, StoredPrediction } from '../telemetry-store.js';

export const FORECAST_SCHEMA = `
CREATE TABLE IF NOT EXISTS predictions (
  host_id       VARCHAR      NOT NULL,
  seq           UBIGINT      NOT NULL,
  ts            TIMESTAMP_MS NOT NULL,
  resource      VARCHAR      NOT NULL,
  probability   DOUBLE       NOT NULL,
  alert         BOOLEAN      NOT NULL,
  threshold     DOUBLE       NOT NULL,
  horizon_s     DOUBLE       NOT NULL,
  tte_p10_s     DOUBLE,
  tte_p50_s     DOUBLE,
  tte_p90_s     DOUBLE,
  model_source  VARCHAR      NOT NULL,
  model_run_id  VARCHAR      NOT NULL,
  model_version VARCHAR
);
CREATE TABLE IF NOT EXISTS events (
  host_id     VARCHAR      NOT NULL,
  seq         UBIGINT      NOT NULL,
  ts          TIMESTAMP_MS NOT NULL,
  type        VARCHAR      NOT NULL,
  resource    VARCHAR      NOT NULL,
  message     VARCHAR      NOT NULL
)`;

/** Appends one row per prediction of `message`. */
export function appendPredictions(appender: DuckDBAppender, message: PredictionsMessage): void {
  const ts = new DuckDBTimestampMillisecondsValue(BigInt(message.timestamp));
  const seq = BigInt(message.seq);
  for (const p of message.predictions) {
    appender.appendVarchar(message.hostId);
    appender.appendUBigInt(seq);
    appender.appendTimestampMilliseconds(ts);
    appender.appendVarchar(p.resource);
    appender.appendDouble(p.probability);
    appender.appendBoolean(p.alert);
    appender.appendDouble(p.threshold);
    appender.appendDouble(p.horizonS);
    for (const seconds of [p.ttBand?.p10S, p.ttBand?.p50S, p.ttBand?.p90S]) {
      if (seconds === undefined) appender.appendNull();
      else appender.appendDouble(seconds);
    }
    appender.appendVarchar(p.model.source);
    appender.appendVarchar(p.model.runId);
    if (p.model.version === undefined) appender.appendNull();
    else appender.appendVarchar(p.model.version);
    appender.endRow();
  }
}

export function appendEvent(appender: DuckDBAppender, message: EventMessage): void {
  appender.appendVarchar(message.hostId);
  appender.appendUBigInt(BigInt(message.seq));
  appender.appendTimestampMilliseconds(new DuckDBTimestampMillisecondsValue(BigInt(message.timestamp)));
  appender.appendVarchar(message.type);
  appender.appendVarchar(message.resource);
  appender.appendVarchar(JSON.stringify(message));
  appender.endRow();
}

type PredictionRow = [
  hostId: string,
  seq: number,
  ts: number,
  resource: string,
  probability: number,
  alert: boolean,
  threshold: number,
  horizonS: number,
  p10S: number | null,
  p50S: number | null,
  p90S: number | null,
  source: string,
  runId: string,
  version: string | null,
];

export async function queryPredictions(
  connection: DuckDBConnection,
  query: HostRecordQuery,
): Promise<StoredPrediction[]> {
  const { where, params } = hostRange(query);
  const reader = await connection.runAndReadAll(
    `SELECT * FROM (
       SELECT host_id, seq::DOUBLE AS seq, epoch_ms(ts)::DOUBLE AS t, resource, probability, alert, threshold,
              horizon_s, tte_p10_s, tte_p50_s, tte_p90_s, model_source, model_run_id, model_version
       FROM predictions WHERE ${where} ORDER BY ts DESC, resource DESC LIMIT $limit)
     ORDER BY t, resource`,
    params,
  );
  return (reader.getRowsJS() as PredictionRow[]).map(
    ([
      hostId,
      seq,
      timestamp,
      resource,
      probability,
      alert,
      threshold,
      horizonS,
      p10S,
      p50S,
      p90S,
      source,
      runId,
      version,
    ]) => ({
      hostId,
      seq,
      timestamp,
      resource,
      probability,
      alert,
      threshold,
      horizonS,
      ...(p10S !== null && p50S !== null && p90S !== null ? { ttBand: { p10S, p50S, p90S } } : {}),
      model: { source: source as ModelSource, runId, ...(version !== null ? { version } : {}) },
    }),
  );
}

export async function queryEvents(
  connection: DuckDBConnection,
  query: HostRecordQuery,
): Promise<EventMessage[]> {
  const { where, params } = hostRange(query);
  const reader = await connection.runAndReadAll(
    `SELECT message FROM (
       SELECT message, ts, seq FROM events WHERE ${where} ORDER BY ts DESC, seq DESC LIMIT $limit)
     ORDER BY ts, seq`,
    params,
  );
  // Stored after validation at ingest; parsed again so a row edited by hand cannot pass as an event.
  return (reader.getRowsJS() as Array<[string]>).map(([json]) => EventMessageSchema.parse(JSON.parse(json)));
}

/** The WHERE clause and parameters of a host, time range and optional resource. */
function hostRange(query: HostRecordQuery): {
  where: string;
  params: Record<string, string | number | DuckDBTimestampMillisecondsValue>;
} {
  const params: Record<string, string | number | DuckDBTimestampMillisecondsValue> = {
    host: query.hostId,
    from: new DuckDBTimestampMillisecondsValue(BigInt(query.from)),
    to: new DuckDBTimestampMillisecondsValue(BigInt(query.to)),
    limit: query.limit,
  };
  let where = 'host_id = $host AND ts >= $from AND ts < $to';
  if (query.resource !== undefined) {
    params.resource = query.resource;
    where += ' AND resource = $resource';
  }
  return { where, params };
}
