/**
 * Parquet export of the DuckDB store (`cloudsense export parquet`): DuckDB's
 * own `COPY (SELECT …) TO … (FORMAT parquet)`, one documented column layout
 * per kind of row (docs/storage.md). Times are UTC `TIMESTAMP`s (microsecond,
 * no zone annotation); attributes and event messages are JSON text;
 * sequence numbers are signed 64-bit, which every Parquet reader takes.
 */
import { DuckDBTimestampMillisecondsValue, type DuckDBConnection } from '@duckdb/node-api';

export const EXPORT_KINDS = ['samples', 'aggregates', 'predictions', 'events'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export interface ParquetExport {
  what: ExportKind;
  /** The file DuckDB writes; replaced when it exists. */
  file: string;
  /** Unix epoch ms, inclusive; undefined for the first stored. */
  from?: number | undefined;
  /** Unix epoch ms, exclusive; undefined for the last stored. */
  to?: number | undefined;
  hostId?: string | undefined;
  /** OTel metric name, for samples and aggregates. */
  metric?: string | undefined;
}

export interface ParquetExportResult {
  rows: number;
  hosts: number;
  /** First and last row time, Unix epoch ms; undefined when no row matched. */
  firstMs: number | undefined;
  lastMs: number | undefined;
}

/** Per kind: its table, and the columns written, in order. */
const LAYOUTS: Record<ExportKind, { table: string; columns: string; order: string }> = {
  samples: {
    table: 'samples',
    columns: `host_id AS host, ts::TIMESTAMP AS time, metric, unit, attributes, value, seq::BIGINT AS seq`,
    order: 'host, time, metric, attributes',
  },
  aggregates: {
    table: 'sample_aggregates',
    columns: `host_id AS host, ts::TIMESTAMP AS time, (span_ms // 1000)::INTEGER AS interval_s, metric, unit,
              attributes, min_value AS min, max_value AS max, sum_value / sample_count AS mean,
              last_value AS last, sample_count::BIGINT AS count, last_ts::TIMESTAMP AS last_time`,
    order: 'host, time, metric, attributes',
  },
  predictions: {
    table: 'predictions',
    columns: `host_id AS host, ts::TIMESTAMP AS time, seq::BIGINT AS seq, resource, probability, alert,
              threshold, horizon_s, tte_p10_s, tte_p50_s, tte_p90_s, model_source, model_run_id, model_version`,
    order: 'host, time, resource',
  },
  events: {
    table: 'events',
    columns: `host_id AS host, ts::TIMESTAMP AS time, seq::BIGINT AS seq, type, resource, message`,
    order: 'host, time, seq',
  },
};

/**
 * Writes the matching rows of one kind to `request.file` and reads the file
 * back (its Parquet metadata and time range), so the figures reported are
 * those of the file, not of the query.
 */
export async function exportParquet(
  connection: DuckDBConnection,
  request: ParquetExport,
): Promise<ParquetExportResult> {
  const layout = LAYOUTS[request.what];
  const conditions: string[] = [];
  const params: Record<string, string | DuckDBTimestampMillisecondsValue> = {};
  if (request.from !== undefined) {
    conditions.push('ts >= $from');
    params.from = new DuckDBTimestampMillisecondsValue(BigInt(request.from));
  }
  if (request.to !== undefined) {
    conditions.push('ts < $to');
    params.to = new DuckDBTimestampMillisecondsValue(BigInt(request.to));
  }
  if (request.hostId !== undefined) {
    conditions.push('host_id = $host');
    params.host = request.hostId;
  }
  if (request.metric !== undefined) {
    conditions.push('metric = $metric');
    params.metric = request.metric;
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  // COPY takes no parameter for its target: the path goes in as a quoted literal.
  await connection.run(
    `COPY (SELECT ${layout.columns} FROM ${layout.table} ${where} ORDER BY ${layout.order})
     TO ${sqlString(request.file)} (FORMAT parquet)`,
    params,
  );
  const reader = await connection.runAndReadAll(
    `SELECT count(*)::DOUBLE, count(DISTINCT host)::DOUBLE, epoch_ms(min(time))::DOUBLE, epoch_ms(max(time))::DOUBLE
     FROM read_parquet(${sqlString(request.file)})`,
  );
  const [rows, hosts, first, last] = reader.getRowsJS()[0] as [number, number, number | null, number | null];
  return { rows, hosts, firstMs: first ?? undefined, lastMs: last ?? undefined };
}

/** A SQL string literal. */
function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
