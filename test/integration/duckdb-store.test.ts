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
  it('writes a batch over its three tables all or nothing, so a retried batch cannot double rows', async () => {
    const store = open(join(root, 'atomic', 'telemetry.duckdb'))();
    await store.start();
    try {
      const t = Date.UTC(2026, 0, 5);
      const telemetry = {
        schemaVersion: 1 as const,
        hostId: 'web-01',
        seq: 1,
        timestamp: t,
        intervalSeconds: 10,
        metrics: [{ name: 'system.cpu.utilization', unit: '1', value: 0.5 }],
      };
      // A number the table cannot hold fails the batch after the telemetry rows were appended.
      const broken = {
        schemaVersion: 1 as const,
        hostId: 'web-01',
        seq: -2,
        timestamp: t,
        predictions: [
          {
            resource: 'cpu',
            probability: 0.1,
            alert: false,
            threshold: 0.3,
            horizonS: 3600,
            model: { source: 'bundled' as const, runId: 'r' },
          },
        ],
      };
      await assert.rejects(store.write([telemetry, broken]), /DuckDB write failed/);
      assert.equal(await store.countPoints(), 0, 'the telemetry of the failed batch is not kept');
      await store.write([telemetry, { ...broken, seq: 2 }]);
      assert.equal(await store.countPoints(), 1);
      assert.equal(
        (await store.queryPredictions({ hostId: 'web-01', from: t, to: t + 1, limit: 10 })).length,
        1,
      );
    } finally {
      await store.stop();
    }
  });

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
