import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';
import { RetentionSectionSchema, type RetentionPolicy } from '../../aggregator/storage/duckdb/retention.js';
import { readResourceSeries } from '../../aggregator/training/store-series.js';
import { createLogger } from '../../shared/log.js';
import type { EventMessage } from '../../shared/wire/events.js';
import type { PredictionsMessage } from '../../shared/wire/predictions.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { waitFor } from '../helpers/net.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-retention-'));
after(() => rmSync(root, { recursive: true, force: true }));

const MINUTE = 60_000;
const DAY = 86_400_000;
const BUCKET = 5 * MINUTE;
/** "Now" for every pass: a bucket boundary, so the raw cutoff falls on one too. */
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const now = () => NOW;
const POLICY: RetentionPolicy = RetentionSectionSchema.parse({
  raw: '1d',
  aggregateInterval: '5m',
  aggregates: '30d',
  predictions: '2d',
  events: '2d',
});
const CPU = 'system.cpu.utilization';
const MEMORY = 'system.memory.utilization';

let dirs = 0;
function newStore(): DuckDbTelemetryStore {
  return new DuckDbTelemetryStore({
    path: join(root, `d${++dirs}`, 'telemetry.duckdb'),
    memoryLimit: '256MB',
    threads: 1,
  });
}

/** A deterministic value that varies from sample to sample (and is not monotonic). */
const cpuAt = (i: number) => Math.round(((Math.sin(i * 0.7) + 1) / 2) * 1000) / 1000;
const memAt = (i: number) => 0.4 + (i % 17) / 100;

/** One message a minute for host `hostId` from `start`, seq from `firstSeq`. */
function telemetry(hostId: string, start: number, count: number, firstSeq = 1): TelemetryMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    schemaVersion: 1 as const,
    hostId,
    seq: firstSeq + i,
    timestamp: start + i * MINUTE,
    intervalSeconds: 60,
    metrics: [
      { name: CPU, unit: '1', value: cpuAt(firstSeq + i) },
      { name: MEMORY, unit: '1', value: memAt(firstSeq + i), attributes: { 'system.memory.state': 'used' } },
    ],
  }));
}

function predictions(hostId: string, seq: number, timestamp: number): PredictionsMessage {
  return {
    schemaVersion: 1,
    hostId,
    seq,
    timestamp,
    predictions: [
      {
        resource: 'cpu',
        probability: 0.2,
        alert: false,
        threshold: 0.5,
        horizonS: 3600,
        model: { source: 'bundled', runId: 'baseline' },
      },
    ],
  };
}

function alertEvent(hostId: string, seq: number, timestamp: number): EventMessage {
  return {
    schemaVersion: 1,
    hostId,
    seq,
    timestamp,
    type: 'alert.raised',
    reason: 'risk_above_threshold',
    resource: 'cpu',
    probability: 0.9,
    threshold: 0.5,
    detail: 'probability 0.90 ≥ 0.50 for 2 cycles',
  };
}

interface Bucket {
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
}

/** The expected aggregates of `messages`' CPU values before `cutoff`, by bucket start. */
function expectedBuckets(messages: TelemetryMessage[], cutoff: number): Map<number, Bucket> {
  const buckets = new Map<number, Bucket>();
  for (const m of messages) {
    if (m.timestamp >= cutoff) continue;
    const value = m.metrics[0]!.value;
    const start = Math.floor(m.timestamp / BUCKET) * BUCKET;
    const b = buckets.get(start);
    if (!b) buckets.set(start, { min: value, max: value, sum: value, count: 1, last: value });
    else {
      b.min = Math.min(b.min, value);
      b.max = Math.max(b.max, value);
      b.sum += value;
      b.count++;
      b.last = value;
    }
  }
  return buckets;
}

type AggregateRow = [number, number, number, number, number, number, number];
async function cpuAggregates(dataDir: string, hostId: string): Promise<AggregateRow[]> {
  return (await queryClosedStore(
    dataDir,
    `SELECT epoch_ms(ts)::DOUBLE, span_ms::DOUBLE, min_value, max_value, sum_value, sample_count::DOUBLE,
            last_value FROM sample_aggregates WHERE host_id = $host AND metric = '${CPU}' ORDER BY ts`,
    { host: hostId },
  )) as AggregateRow[];
}

const dirOf = (store: DuckDbTelemetryStore) =>
  store.description.replace(/^duckdb:/, '').replace(/\/[^/]+$/, '');

describe('DuckDB retention and downsampling', () => {
  // Two days of one-minute samples up to NOW: the first day is past the raw retention (1 d).
  const START = NOW - 2 * DAY;
  const web = telemetry('web-01', START, 2 * 24 * 60);
  const CUTOFF = NOW - DAY;

  it('folds raw samples past the retention into per-bucket min/max/mean/count/last and deletes them', async () => {
    const store = newStore();
    await store.start();
    await store.write(web);
    const rawBefore = await store.countPoints('web-01');
    assert.equal(rawBefore, 2 * 2 * 24 * 60);
    const pass = await store.runRetention({ policy: POLICY, now });
    assert.equal(pass.samplesDownsampled, 2 * 24 * 60, 'one day of two metrics');
    assert.equal(pass.aggregatesWritten, 2 * 24 * 12, 'one aggregate per 5 min bucket and series');
    assert.equal(await store.countPoints('web-01'), rawBefore - pass.samplesDownsampled);
    await store.stop();

    const rows = await cpuAggregates(dirOf(store), 'web-01');
    const expected = expectedBuckets(web, CUTOFF);
    assert.equal(rows.length, expected.size);
    for (const [ts, span, min, max, sum, count, last] of rows) {
      const b = expected.get(ts);
      assert.ok(b, `bucket ${new Date(ts).toISOString()}`);
      assert.equal(span, BUCKET);
      assert.equal(count, 5);
      assert.equal(min, b.min);
      assert.equal(max, b.max);
      assert.ok(Math.abs(sum - b.sum) < 1e-9);
      assert.equal(last, b.last);
    }
    const [oldestRaw] = (await queryClosedStore(
      dirOf(store),
      'SELECT epoch_ms(min(ts))::DOUBLE FROM samples',
    )) as Array<[number]>;
    assert.equal(oldestRaw![0], CUTOFF, 'raw samples start at the cutoff');
  });

  it('answers series queries across the boundary with aggregates before it and raw samples after', async () => {
    const store = newStore();
    await store.start();
    try {
      await store.write(web);
      await store.runRetention({ policy: POLICY, now });
      const [cpu] = await store.querySeries({
        hostId: 'web-01',
        metric: CPU,
        from: CUTOFF - HOUR,
        to: CUTOFF + HOUR,
        limit: 10_000,
      });
      const expected = expectedBuckets(web, CUTOFF);
      const before = cpu!.points.filter(([t]) => t < CUTOFF);
      const afterCutoff = cpu!.points.filter(([t]) => t >= CUTOFF);
      assert.equal(before.length, 12, 'an hour of 5-minute aggregates');
      for (const [t, v] of before) {
        const b = expected.get(t)!;
        assert.ok(Math.abs(v - b.sum / b.count) < 1e-12, 'an aggregate point is its bucket mean');
      }
      assert.equal(afterCutoff.length, 60, 'an hour of one-minute raw samples');
      assert.deepEqual(
        afterCutoff,
        web
          .filter((m) => m.timestamp >= CUTOFF && m.timestamp < CUTOFF + HOUR)
          .map((m) => [m.timestamp, m.metrics[0]!.value]),
      );
      assert.deepEqual(
        cpu!.points.map(([t]) => t),
        [...cpu!.points.map(([t]) => t)].sort((a, b) => a - b),
        'oldest first',
      );
      // A limit keeps the newest points, over both kinds.
      const [limited] = await store.querySeries({
        hostId: 'web-01',
        metric: CPU,
        from: 0,
        to: NOW + 1,
        limit: 24 * 60 + 10,
      });
      assert.equal(limited!.points.length, 24 * 60 + 10);
      assert.equal(limited!.points[0]![0], CUTOFF - 10 * BUCKET);

      // Training reads the whole history: aggregates, then raw samples.
      const [history] = await readResourceSeries(store, 'cpu', { untilMs: NOW + 1 });
      assert.equal(history!.history.timestampsMs.length, 24 * 12 + 24 * 60);
      assert.equal(history!.history.timestampsMs[0], START);
    } finally {
      await store.stop();
    }
  });

  it('keeps each host’s highest sequence number after its rows are deleted, and the host itself', async () => {
    const store = newStore();
    await store.start();
    try {
      // old-01 went silent five days ago: its telemetry, predictions and events all expire.
      const oldStart = NOW - 5 * DAY;
      await store.write([
        ...telemetry('old-01', oldStart, 100),
        predictions('old-01', 101, oldStart + 100 * MINUTE),
        alertEvent('old-01', 102, oldStart + 101 * MINUTE),
        ...web,
        predictions('web-01', web.length + 1, NOW - 3 * DAY),
      ]);
      const before = await store.highestSeqPerHost();
      assert.deepEqual(Object.fromEntries(before), { 'old-01': 102, 'web-01': web.length + 1 });

      const pass = await store.runRetention({ policy: POLICY, now });
      assert.equal(pass.predictionsDeleted, 2);
      assert.equal(pass.eventsDeleted, 1);
      assert.equal(await store.countPoints('old-01'), 0, 'no raw sample of old-01 is left');
      assert.deepEqual(await store.highestSeqPerHost(), before, 'de-duplication resumes where it was');

      const old = (await store.latestPerHost()).find((h) => h.hostId === 'old-01');
      assert.ok(old, 'a host with only aggregates left is still known');
      assert.equal(old.lastSeq, 102);
      assert.equal(old.lastSeen, oldStart + 99 * MINUTE);
      assert.deepEqual(
        old.metrics.find((m) => m.name === CPU),
        { name: CPU, unit: '1', value: cpuAt(100) },
        'its last value',
      );
    } finally {
      await store.stop();
    }
    // The marks are stored, not held in memory: they survive a restart.
    const again = new DuckDbTelemetryStore({
      path: join(dirOf(store), 'telemetry.duckdb'),
      memoryLimit: '256MB',
      threads: 1,
    });
    await again.start();
    try {
      assert.equal((await again.highestSeqPerHost()).get('old-01'), 102);
    } finally {
      await again.stop();
    }
  });

  it('is idempotent, and merges late samples into the buckets they belong to', async () => {
    const store = newStore();
    await store.start();
    await store.write(web);
    await store.runRetention({ policy: POLICY, now });
    const second = await store.runRetention({ policy: POLICY, now });
    assert.deepEqual(second, {
      samplesDownsampled: 0,
      aggregatesWritten: 0,
      aggregatesDeleted: 0,
      predictionsDeleted: 0,
      eventsDeleted: 0,
    });
    // A late sample (an import, a long replay) in an already folded bucket, higher than any before.
    const late = START + 2 * MINUTE + 30_000;
    await store.write([
      {
        schemaVersion: 1,
        hostId: 'web-01',
        seq: 0,
        timestamp: late,
        intervalSeconds: 60,
        metrics: [{ name: CPU, unit: '1', value: 5 }],
      },
    ]);
    const third = await store.runRetention({ policy: POLICY, now });
    assert.equal(third.samplesDownsampled, 1);
    assert.equal(third.aggregatesWritten, 1, 'only the bucket of the late sample is rewritten');
    await store.stop();

    const rows = await cpuAggregates(dirOf(store), 'web-01');
    const expected = expectedBuckets(web, CUTOFF);
    assert.equal(rows.length, expected.size, 'no bucket is doubled');
    const [, , min, max, sum, count, last] = rows[0]!;
    const b = expected.get(START)!;
    assert.equal(count, 6);
    assert.equal(min, b.min);
    assert.equal(max, 5);
    assert.ok(Math.abs(sum - (b.sum + 5)) < 1e-9);
    assert.equal(last, b.last, 'last is the value of the latest sample time, not the latest write');
  });

  it('folds a host sampled every second in transactions of bounded size, exactly', async () => {
    const store = newStore();
    await store.start();
    try {
      // 6 h of 1 s samples of 10 series: 216,000 rows in one 6-hour chunk, folded in two transactions.
      const start = Date.UTC(2026, 2, 9, 0, 0, 0);
      const messages: TelemetryMessage[] = Array.from({ length: 6 * 3600 }, (_, i) => ({
        schemaVersion: 1,
        hostId: 'fast-01',
        seq: i + 1,
        timestamp: start + i * 1000,
        intervalSeconds: 1,
        metrics: Array.from({ length: 10 }, (_, k) => ({
          name: `test.metric.${k}`,
          unit: '1',
          value: (i % 300) + k,
        })),
      }));
      for (let i = 0; i < messages.length; i += 2000) await store.write(messages.slice(i, i + 2000));
      const pass = await store.runRetention({ policy: POLICY, now: () => start + 6 * HOUR + DAY });
      assert.equal(pass.samplesDownsampled, 216_000);
      assert.equal(pass.aggregatesWritten, 10 * 6 * 12);
      const [series] = await store.querySeries({
        hostId: 'fast-01',
        metric: 'test.metric.3',
        from: start,
        to: start + 6 * HOUR,
        limit: 1000,
      });
      assert.equal(series!.points.length, 72);
      // Each bucket holds i % 300 = 0..299 once: mean 149.5, plus the metric's offset.
      for (const [, mean] of series!.points) assert.equal(mean, 149.5 + 3);
    } finally {
      await store.stop();
    }
  });

  it('deletes aggregates past their own retention', async () => {
    const store = newStore();
    await store.start();
    try {
      await store.write(web);
      await store.runRetention({ policy: POLICY, now });
      const shorter = RetentionSectionSchema.parse({ raw: '1d', aggregates: '36h' });
      const pass = await store.runRetention({ policy: shorter, now });
      assert.equal(pass.aggregatesDeleted, 2 * 12 * 12, 'the 12 oldest hours of both series');
      const [cpu] = await store.querySeries({
        hostId: 'web-01',
        metric: CPU,
        from: 0,
        to: NOW + 1,
        limit: 10_000,
      });
      assert.equal(cpu!.points[0]![0], NOW - 36 * HOUR);
    } finally {
      await store.stop();
    }
  });

  it('lets ingest write while a pass runs, and runs at start when the store holds a policy', async () => {
    const path = join(root, 'background', 'telemetry.duckdb');
    // Five hosts × two days: the pass folds 5 × 4 chunks while ingest writes.
    const hosts = ['a', 'b', 'c', 'd', 'e'].map((h) => telemetry(`host-${h}`, START, 2 * 24 * 60));
    const seed = new DuckDbTelemetryStore({ path, memoryLimit: '256MB', threads: 1 });
    await seed.start();
    for (const messages of hosts) await seed.write(messages);
    await seed.stop();

    const store = new DuckDbTelemetryStore({
      path,
      memoryLimit: '256MB',
      threads: 1,
      retention: { policy: POLICY, log: createLogger({ level: 'silent', format: 'json' }), now },
    });
    await store.start();
    try {
      // Fresh telemetry arrives, batch by batch, while the pass that started with the store runs.
      const fresh = telemetry('host-a', NOW, 400, 2 * 24 * 60 + 1);
      let written = 0;
      do {
        await store.write(fresh.slice(written, written + 10));
        written += 10;
      } while (written < fresh.length && store.retentionStats()!.runs === 0);
      const stats = await waitFor(
        'the pass at start to finish',
        () => {
          const s = store.retentionStats();
          return s && s.runs >= 1 ? s : undefined;
        },
        120_000,
      );
      assert.equal(stats.failures, 0);
      assert.equal(stats.samplesDownsampled, 5 * 2 * 24 * 60);
      assert.ok(stats.lastSuccessMs > 0);
      assert.equal(
        await store.countPoints('host-a'),
        2 * 24 * 60 + 2 * written,
        'every fresh sample was stored',
      );
      assert.equal((await store.highestSeqPerHost()).get('host-a'), 2 * 24 * 60 + written);
    } finally {
      await store.stop();
    }
  });

  it('runs no job with enabled: false, keeping every raw sample', async () => {
    const store = new DuckDbTelemetryStore({
      path: join(root, `d${++dirs}`, 'telemetry.duckdb'),
      memoryLimit: '128MB',
      threads: 1,
      retention: {
        policy: { ...POLICY, enabled: false },
        log: createLogger({ level: 'silent', format: 'json' }),
        now,
      },
    });
    await store.start();
    try {
      await store.write(web);
      assert.equal(store.retentionStats(), undefined);
      assert.equal(await store.countPoints('web-01'), 2 * web.length);
    } finally {
      await store.stop();
    }
  });

  it('is configured under aggregator.store.retention, with defaults and checks', () => {
    const defaults = AggregatorConfigSchema.parse({}).aggregator.store.retention;
    assert.deepEqual(defaults, {
      enabled: true,
      raw: 30 * DAY,
      aggregateInterval: BUCKET,
      aggregates: 365 * DAY,
      predictions: 90 * DAY,
      events: 365 * DAY,
      every: HOUR,
    });
    const bad = AggregatorConfigSchema.safeParse({
      aggregator: { store: { retention: { raw: '90d', aggregates: '30d', aggregateInterval: '7m' } } },
    });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('aggregator.store.retention.aggregateInterval'), paths.join());
    assert.ok(paths.includes('aggregator.store.retention.aggregates'), paths.join());
  });
});

const HOUR = 3_600_000;
