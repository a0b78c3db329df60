import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';
import { BusyError } from '../../shared/errors.js';
import { telemetryStoreContract } from '../contract/telemetry-store.contract.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-duckdb-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const open = (path: string) => () => new DuckDbTelemetryStore({ path, memoryLimit: '128MB', threads: 1 });

telemetryStoreContract('DuckDB', () => ({ open: open(join(root, `t${++n}`, 'telemetry.duckdb')) }));

describe('DuckDB store', () => {
  it('tells a second process that the file is busy, naming the holder', async () => {
    const { spawnSync } = await import('node:child_process');
    const path = join(root, 'busy', 'telemetry.duckdb');
    const holder = open(path)();
    await holder.start();
    try {
      // DuckDB's lock is per process: open it from a second one.
      const script = `
        import { DuckDbTelemetryStore } from './aggregator/storage/duckdb/duckdb-store.ts';
        const s = new DuckDbTelemetryStore({ path: ${JSON.stringify(path)}, memoryLimit: '64MB', threads: 1 });
        try { await s.start(); console.log('OPENED'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
      const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      assert.match(
        result.stdout,
        new RegExp(`${BusyError.name}: .*held by another process \\(pid ${process.pid}\\)`),
      );
    } finally {
      await holder.stop();
    }
  });
});
