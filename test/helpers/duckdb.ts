import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** Runs one query on a data dir's DuckDB file, read-only, after the process that held it has exited. */
export async function queryClosedStore(
  dataDir: string,
  sql: string,
  params: Record<string, string> = {},
): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(join(dataDir, 'telemetry.duckdb'), { access_mode: 'READ_ONLY' });
  try {
    const connection = await db.connect();
    try {
      return (await connection.runAndReadAll(sql, params)).getRowsJS();
    } finally {
      connection.closeSync();
    }
  } finally {
    db.closeSync();
  }
}
