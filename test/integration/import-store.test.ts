import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveTarget } from '../../aggregator/import/import-target.js';
import { IMPORTED_SEQ, OverlapError, planImport, writeSeries } from '../../aggregator/import/store-import.js';
import { readResourceSeries } from '../../aggregator/training/store-series.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { openDuckDbStore } from '../helpers/duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-import-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 0, 5);
const MINUTE = 60_000;

const openStore = (name: string) => openDuckDbStore(dir, name);

/** `n` samples a minute apart from `start`, values rising from 0.4. */
function minutes(start: number, n: number): { timestampsMs: Float64Array; values: Float64Array } {
  return {
    timestampsMs: Float64Array.from({ length: n }, (_, i) => start + i * MINUTE),
    values: Float64Array.from({ length: n }, (_, i) => 0.4 + i / 100_000),
  };
}

/** What an agent on web-01 stores for /var: device and type attributes too, every 10 s. */
function agentMessage(i: number, start: number): TelemetryMessage {
  return {
    schemaVersion: 1,
    hostId: 'web-01',
    seq: i + 1,
    timestamp: start + i * 10_000,
    intervalSeconds: 10,
    metrics: [
      {
        name: 'system.filesystem.utilization',
        unit: '1',
        value: 0.5,
        attributes: {
          'system.device': '/dev/sda2',
          'system.filesystem.mountpoint': '/var',
          'system.filesystem.type': 'ext4',
        },
      },
    ],
  };
}

describe('importing a series into the store', () => {
  it('writes seq-0 messages in batches that training reads as the resource, and never writes a time twice', async () => {
    const store = await openStore('fresh');
    try {
      const target = resolveTarget({ metric: 'filesystem:/var', attributes: [] });
      const series = minutes(T0, 12_345);
      const plan = await planImport(store, { hostId: 'web-01', target, series, mode: 'refuse' });
      assert.equal(plan.timestampsMs.length, 12_345);
      assert.equal(plan.stored, undefined);
      const batches: number[] = [];
      const result = await writeSeries({
        store,
        hostId: 'web-01',
        target,
        ...plan,
        intervalSeconds: 60,
        batchRows: 5000,
        onProgress: (p) => batches.push(p.written),
      });
      assert.deepEqual(result, { written: 12_345, completed: true });
      assert.deepEqual(batches, [5000, 10_000, 12_345]);
      assert.equal(await store.countPoints('web-01'), 12_345);
      const [latest] = await store.latestPerHost();
      assert.equal(latest!.lastSeq, IMPORTED_SEQ);
      assert.equal(latest!.lastSeen, T0 + 12_344 * MINUTE);

      const [fs] = await readResourceSeries(store, 'filesystem');
      assert.equal(fs!.hostId, 'web-01');
      assert.equal(fs!.resourceId, 'filesystem:%2Fvar');
      assert.deepEqual(Array.from(fs!.history.timestampsMs), Array.from(series.timestampsMs));
      assert.deepEqual(Array.from(fs!.history.values), Array.from(series.values));

      // The same import again: every row is already stored, whatever the overlap mode.
      const again = await planImport(store, { hostId: 'web-01', target, series, mode: 'refuse' });
      assert.equal(again.timestampsMs.length, 0);
      assert.equal(again.alreadyStored, 12_345);
      assert.equal(again.inside, 0);
      // Paging through the store a page at a time finds the same.
      const paged = await planImport(store, {
        hostId: 'web-01',
        target,
        series,
        mode: 'refuse',
        pageSize: 1000,
      });
      assert.equal(paged.alreadyStored, 12_345);
    } finally {
      await store.stop();
    }
  });

  it('resumes an interrupted import: the second run writes only what the first did not', async () => {
    const store = await openStore('resume');
    try {
      const target = resolveTarget({ metric: 'cpu', attributes: [] });
      const series = minutes(T0, 3000);
      const controller = new AbortController();
      const first = await writeSeries({
        store,
        hostId: 'db-01',
        target,
        ...series,
        intervalSeconds: 60,
        batchRows: 1000,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      });
      assert.deepEqual(first, { written: 1000, completed: false });
      const plan = await planImport(store, { hostId: 'db-01', target, series, mode: 'refuse' });
      assert.equal(plan.alreadyStored, 1000);
      assert.equal(plan.timestampsMs.length, 2000);
      assert.equal(plan.timestampsMs[0], T0 + 1000 * MINUTE);
      await writeSeries({ store, hostId: 'db-01', target, ...plan, intervalSeconds: 60, batchRows: 1000 });
      assert.equal(await store.countPoints('db-01'), 3000);
    } finally {
      await store.stop();
    }
  });

  it("refuses to interleave with the agent's samples of the same resource, or skips or merges them when told", async () => {
    const store = await openStore('overlap');
    try {
      // The agent ran for an hour, from 10:00.
      const agentStart = T0 + 10 * 60 * MINUTE;
      await store.write(Array.from({ length: 360 }, (_, i) => agentMessage(i, agentStart)));
      const target = resolveTarget({ metric: 'filesystem:/var', attributes: [] });
      // A day of history a minute apart, 5 s off the agent's grid, with one row on it at 10:30:00.
      const series = minutes(T0 + 5000, 24 * 60);
      series.timestampsMs[630] = agentStart + 30 * MINUTE;
      const request = { hostId: 'web-01', target, series };
      await assert.rejects(
        planImport(store, { ...request, mode: 'refuse' }),
        (err: unknown) =>
          err instanceof OverlapError &&
          err.permanent &&
          /web-01 already has system\.filesystem\.utilization \{system\.filesystem\.mountpoint=\/var\} from 2026-01-05T10:00:00\.000Z to 2026-01-05T10:59:50\.000Z \(360 samples in the time range of the import\), and 59 rows of the import fall in between/.test(
            err.message,
          ) &&
          /--overlap skip/.test(err.message),
      );
      const skip = await planImport(store, { ...request, mode: 'skip' });
      assert.equal(skip.alreadyStored, 1);
      assert.equal(skip.inside, 59);
      assert.equal(skip.timestampsMs.length, 24 * 60 - 60);
      assert.deepEqual(skip.stored, { fromMs: agentStart, toMs: agentStart + 3590_000, points: 360 });
      assert.ok(skip.timestampsMs.every((t) => t < agentStart || t > agentStart + 3590_000));
      const merge = await planImport(store, { ...request, mode: 'merge' });
      assert.equal(merge.alreadyStored, 1);
      assert.equal(merge.timestampsMs.length, 24 * 60 - 1);

      // Another mountpoint, or another host, is another series: no overlap.
      const other = resolveTarget({ metric: 'filesystem:/home', attributes: [] });
      const home = await planImport(store, { hostId: 'web-01', target: other, series, mode: 'refuse' });
      assert.equal(home.timestampsMs.length, 24 * 60);
      const db = await planImport(store, { hostId: 'db-01', target, series, mode: 'refuse' });
      assert.equal(db.timestampsMs.length, 24 * 60);
    } finally {
      await store.stop();
    }
  });
});
