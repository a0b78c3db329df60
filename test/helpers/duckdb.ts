import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';

/** Opens and starts `<dir>/<name>.duckdb`, small (128 MB memory limit, one thread); the test stops it. */
export async function openDuckDbStore(dir: string, name: string): Promise<DuckDbTelemetryStore> {
  const store = new DuckDbTelemetryStore({
    path: join(dir, `${name}.duckdb`),
    memoryLimit: '128MB',
    threads: 1,
  });
  await store.start();
  return store;
}

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
