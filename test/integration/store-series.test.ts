import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';
import { readResourceSeries } from '../../aggregator/training/store-series.js';
import { buildExhaustionDataset } from '../../models/dataset/index.js';
import { DEFAULT_EXHAUSTION } from '../../shared/resources/index.js';
import type { MetricPoint, TelemetryMessage } from '../../shared/wire/telemetry.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-store-series-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 0, 5);
const fs = (mount: string, value: number): MetricPoint => ({
  name: 'system.filesystem.utilization',
  unit: '1',
  value,
  attributes: {
    'system.device': '/dev/x',
    'system.filesystem.mountpoint': mount,
    'system.filesystem.type': 'ext4',
  },
});

function message(hostId: string, i: number): TelemetryMessage {
  return {
    schemaVersion: 1,
    hostId,
    seq: i + 1,
    timestamp: T0 + i * 60_000,
    intervalSeconds: 60,
    metrics: [
      { name: 'system.cpu.utilization', unit: '1', value: 0.2 },
      {
        name: 'system.memory.utilization',
        unit: '1',
        value: 0.5,
        attributes: { 'system.memory.state': 'used' },
      },
      fs('/', 0.5 + i / 10_000),
      fs('/var/log', 0.3),
    ],
  };
}

describe('reading training series from the store', () => {
  it('gives one series per host and resource, each mountpoint its own, before --until only', async () => {
    const store = new DuckDbTelemetryStore({
      path: join(dir, 'telemetry.duckdb'),
      memoryLimit: '128MB',
      threads: 1,
    });
    await store.start();
    try {
      await store.write([
        ...Array.from({ length: 600 }, (_, i) => message('web-01', i)),
        message('db-01', 0),
      ]);
      const filesystems = await readResourceSeries(store, 'filesystem', { untilMs: T0 + 300 * 60_000 });
      const ids = filesystems.map((s) => `${s.hostId} ${s.resourceId}`).sort();
      assert.deepEqual(ids, [
        'db-01 filesystem:%2F',
        'db-01 filesystem:%2Fvar%2Flog',
        'web-01 filesystem:%2F',
        'web-01 filesystem:%2Fvar%2Flog',
      ]);
      const root = filesystems.find((s) => s.hostId === 'web-01' && s.resourceId === 'filesystem:%2F')!;
      assert.equal(root.history.timestampsMs.length, 300, 'samples at or after until are left out');
      assert.deepEqual(root.exhaustion, DEFAULT_EXHAUSTION.filesystem);
      const memory = await readResourceSeries(store, 'memory');
      assert.equal(memory.length, 2);
      // Ten hours of memory history, a 30 min horizon: rows for the first 9.5 h (one a minute, none positive).
      const dataset = buildExhaustionDataset(memory.filter((s) => s.hostId === 'web-01'));
      assert.ok(dataset.numRows >= 560 && dataset.numRows <= 571, `${dataset.numRows} rows`);
      assert.equal(
        dataset.labels.reduce((a, b) => a + b, 0),
        0,
      );
    } finally {
      await store.stop();
    }
  });

  it('merges the series of one resource stored under different attributes (imported and collected)', async () => {
    const store = new DuckDbTelemetryStore({
      path: join(dir, 'merged.duckdb'),
      memoryLimit: '128MB',
      threads: 1,
    });
    await store.start();
    try {
      // Imported history (mountpoint only, seq 0) up to T0 + 100 min, then the agent's (with device and type)
      // from T0 + 90 min: the overlap keeps the first value of each time.
      const imported = (i: number): TelemetryMessage => ({
        schemaVersion: 1,
        hostId: 'web-01',
        seq: 0,
        timestamp: T0 + i * 60_000,
        intervalSeconds: 60,
        metrics: [
          {
            name: 'system.filesystem.utilization',
            unit: '1',
            value: 0.1,
            attributes: { 'system.filesystem.mountpoint': '/' },
          },
        ],
      });
      await store.write([
        ...Array.from({ length: 100 }, (_, i) => imported(i)),
        ...Array.from({ length: 50 }, (_, i) => message('web-01', 90 + i)),
      ]);
      const [root, ...rest] = (await readResourceSeries(store, 'filesystem')).filter(
        (s) => s.resourceId === 'filesystem:%2F',
      );
      assert.equal(rest.length, 0, 'one series for one resource');
      const ts = Array.from(root!.history.timestampsMs);
      assert.equal(ts.length, 140);
      assert.ok(
        ts.every((t, i) => i === 0 || t > ts[i - 1]!),
        'strictly increasing times',
      );
    } finally {
      await store.stop();
    }
  });
});
