/**
 * The DuckDB tables that outlive raw samples: per-interval aggregates of
 * every series (written by the retention job, retention.ts) and each host's
 * sequence high-water mark over deleted rows. Raw samples and aggregates
 * never cover the same bucket for long (the job replaces one with the
 * other in one transaction), so readers take the union of both.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export const AGGREGATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS sample_aggregates (
  host_id      VARCHAR      NOT NULL,
  ts           TIMESTAMP_MS NOT NULL,
  span_ms      UINTEGER     NOT NULL,
  metric       VARCHAR      NOT NULL,
  attributes   VARCHAR      NOT NULL,
  unit         VARCHAR      NOT NULL,
  min_value    DOUBLE       NOT NULL,
  max_value    DOUBLE       NOT NULL,
  sum_value    DOUBLE       NOT NULL,
  sample_count UBIGINT      NOT NULL,
  last_value   DOUBLE       NOT NULL,
  last_ts      TIMESTAMP_MS NOT NULL
);
CREATE TABLE IF NOT EXISTS sequence_marks (
  host_id VARCHAR PRIMARY KEY,
  seq     UBIGINT NOT NULL
)`;

/**
 * The rows of `sample_aggregates` shaped like `samples` for a series query:
 * one point per bucket at the bucket's start, valued at the bucket's mean.
 * `where` filters on host_id, ts and metric, as for samples.
 */
export function aggregatePointsSql(where: string): string {
  return `SELECT metric, attributes, unit, epoch_ms(ts)::DOUBLE AS t, sum_value / sample_count AS value
          FROM sample_aggregates WHERE ${where}`;
}

/**
 * SQL upserting each host's highest sequence number among the rows of
 * `table` that match `where`, before they are deleted: highestSeqPerHost
 * reads the marks too, so de-duplication resumes past deleted messages.
 */
export function markSequencesSql(table: string, where: string): string {
  return `INSERT INTO sequence_marks
          SELECT host_id, max(seq) FROM ${table} WHERE ${where} AND seq > 0 GROUP BY host_id
          ON CONFLICT (host_id) DO UPDATE SET seq = greatest(sequence_marks.seq, excluded.seq)`;
}

/** One row of a host whose raw samples are all gone: its last bucket's last values. */
type AggregateLatestRow = [
  hostId: string,
  lastTs: number,
  seq: number,
  metric: string,
  attributes: string,
  unit: string,
  value: number,
];

/**
 * The latest aggregated values of hosts that have aggregates but no raw
 * samples any more (silent for longer than the raw retention), so they stay
 * known to live state and training after a restart.
 */
export async function latestOfAggregatedOnlyHosts(
  connection: DuckDBConnection,
): Promise<AggregateLatestRow[]> {
  const reader = await connection.runAndReadAll(
    `WITH silent AS (
       SELECT host_id, max(ts) AS ts FROM sample_aggregates
       WHERE host_id NOT IN (SELECT DISTINCT host_id FROM samples) GROUP BY host_id),
     last AS (
       SELECT a.* FROM sample_aggregates a JOIN silent USING (host_id, ts))
     SELECT host_id, epoch_ms(max(last_ts) OVER (PARTITION BY host_id))::DOUBLE,
            coalesce(m.seq, 0)::DOUBLE, metric, attributes, unit, last_value
     FROM last LEFT JOIN sequence_marks m USING (host_id)
     ORDER BY host_id, metric, attributes`,
  );
  return reader.getRowsJS() as AggregateLatestRow[];
}
