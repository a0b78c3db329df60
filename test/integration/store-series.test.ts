import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';
import { storedRemediationWindows } from '../../aggregator/remediation/remediation-windows.js';
import { hostsOf, readResourceSeries } from '../../aggregator/training/store-series.js';
import { buildExhaustionDataset } from '../../models/dataset/index.js';
import { DEFAULT_EXHAUSTION } from '../../shared/resources/index.js';
import type { EventMessage } from '../../shared/wire/events.js';
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
      { name: 'system.time_zone.offset', unit: 's', value: 3600 },
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
      // The host's UTC offset came with the agent's messages only: unknown for the imported stretch.
      const offsets = Array.from(root!.history.utcOffsetS!);
      assert.ok(offsets.slice(0, 90).every(Number.isNaN));
      assert.ok(offsets.slice(90).every((o) => o === 3600));
    } finally {
      await store.stop();
    }
  });

  it('keeps the rows around a stored remediation run out of the training labels', async () => {
    const store = new DuckDbTelemetryStore({
      path: join(dir, 'remediated.duckdb'),
      memoryLimit: '128MB',
      threads: 1,
    });
    await store.start();
    try {
      // Memory climbs from 50% to 99% over 10 h: an exhaustion (≥ 95%) near the end, whose
      // 30 min lead-up gives positive rows. A playbook ran 20 min before it.
      const memory = (i: number): TelemetryMessage => ({
        schemaVersion: 1,
        hostId: 'web-01',
        seq: i + 1,
        timestamp: T0 + i * 60_000,
        intervalSeconds: 60,
        metrics: [
          {
            name: 'system.memory.utilization',
            unit: '1',
            value: 0.5 + (0.49 * i) / 600,
            attributes: { 'system.memory.state': 'used' },
          },
        ],
      });
      const crossing = Math.ceil(((0.95 - 0.5) * 600) / 0.49);
      const run: EventMessage = {
        schemaVersion: 1,
        hostId: 'web-01',
        seq: 10_000,
        timestamp: T0 + (crossing - 20) * 60_000,
        type: 'remediation',
        decision: 'executed',
        playbook: 'restart-leaky',
        mode: 'enforce',
        resource: 'memory',
        trigger: { probabilityAbove: 0.8, forCycles: 3 },
        exitCode: 0,
        durationMs: 2000,
        detail: 'restarted the leaking service',
      };
      await store.write([...Array.from({ length: 600 }, (_, i) => memory(i)), run]);
      const series = await readResourceSeries(store, 'memory');
      const windows = await storedRemediationWindows(store, hostsOf(series), {
        from: 0,
        to: T0 + 86_400_000,
      });
      assert.equal(windows.length, 1);
      const plain = buildExhaustionDataset(series);
      const remediated = buildExhaustionDataset(series, { remediations: windows });
      const positives = (d: typeof plain) => d.labels.reduce((a, b) => a + b, 0);
      assert.ok(positives(plain) > 0, 'the exhaustion gives positive rows');
      // Rows whose 30 min horizon overlaps the run are left out; rows after it (the run did not
      // prevent the exhaustion) keep their labels.
      const { startMs, endMs } = windows[0]!;
      const overlapping = (t: number) => t < endMs && t + 30 * 60_000 >= startMs;
      assert.ok(Array.from(plain.timestampsMs).some(overlapping));
      assert.ok(!Array.from(remediated.timestampsMs).some(overlapping));
      assert.ok(positives(remediated) > 0 && positives(remediated) < positives(plain));
    } finally {
      await store.stop();
    }
  });
});
