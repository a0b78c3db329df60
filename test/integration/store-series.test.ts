import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { storedRemediationWindows } from '../../aggregator/remediation/remediation-windows.js';
import { hostsOf, readResourceSeries } from '../../aggregator/training/store-series.js';
import { buildExhaustionDataset } from '../../models/dataset/index.js';
import { FeatureExtractor, featureIndex, replaySeries } from '../../shared/features/index.js';
import { DEFAULT_EXHAUSTION, type ExhaustionDefinition } from '../../shared/resources/index.js';
import { extractUtilization } from '../../shared/resources/utilization.js';
import type { EventMessage } from '../../shared/wire/events.js';
import type { MetricPoint, TelemetryMessage } from '../../shared/wire/telemetry.js';
import { openDuckDbStore } from '../helpers/duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-store-series-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 0, 5);

const openStore = (name: string) => openDuckDbStore(dir, name);

/** One message of `hostId`'s, a minute apart from the last: memory at `value`, and `extra` points. */
function memoryMessage(
  hostId: string,
  i: number,
  value: number,
  extra: MetricPoint[] = [],
): TelemetryMessage {
  return {
    schemaVersion: 1,
    hostId,
    seq: i + 1,
    timestamp: T0 + i * 60_000,
    intervalSeconds: 60,
    metrics: [
      { name: 'system.memory.utilization', unit: '1', value, attributes: { 'system.memory.state': 'used' } },
      ...extra,
    ],
  };
}
/**
 * The agent's path: each message's samples of `options.kind` (a host-wide resource), with their
 * pressure, UTC offset, companion and capacity ratio, into one extractor; a feature vector at every message's time.
 */
function agentFeatures(
  messages: readonly TelemetryMessage[],
  options: { kind: 'memory' | 'swap'; exhaustion: ExhaustionDefinition },
): { times: number[]; expected: number[] } {
  const live = new FeatureExtractor(options);
  const times: number[] = [];
  const expected: number[] = [];
  for (const m of messages) {
    for (const sample of extractUtilization(m)) {
      if (sample.resourceId !== options.kind) continue;
      live.pushSample(sample);
    }
    times.push(m.timestamp);
    expected.push(...live.vector(m.timestamp));
  }
  return { times, expected };
}

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

/** One message of `hostId`'s: cpu, memory, two mountpoints (`/` filling slowly) and a UTC offset. */
function message(hostId: string, i: number): TelemetryMessage {
  return memoryMessage(hostId, i, 0.5, [
    { name: 'system.cpu.utilization', unit: '1', value: 0.2 },
    fs('/', 0.5 + i / 10_000),
    fs('/var/log', 0.3),
    { name: 'system.time_zone.offset', unit: 's', value: 3600 },
  ]);
}

describe('reading training series from the store', () => {
  it('gives one series per host and resource, each mountpoint its own, before --until only', async () => {
    const store = await openStore('telemetry');
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
    const store = await openStore('merged');
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

  it('reads the pressure stalls each message carried, so replayed features equal the agent’s, PSI included', async () => {
    const store = await openStore('pressure');
    try {
      const psi = (resource: string, scope: string, avg10: number, avg60: number): MetricPoint[] =>
        [
          ['system.linux.pressure.avg10', avg10],
          ['system.linux.pressure.avg60', avg60],
        ].map(([name, value]) => ({
          name: name as string,
          unit: '1',
          value: value as number,
          attributes: { 'system.linux.pressure.resource': resource, 'system.linux.pressure.scope': scope },
        }));
      // Memory climbing under pressure; every third message without PSI (a gap in /proc/pressure), and
      // cpu and "full" figures that the memory features must not take.
      const messages = Array.from({ length: 240 }, (_, i) =>
        memoryMessage(
          'db-01',
          i,
          0.6 + (0.3 * i) / 240,
          i % 3 === 2
            ? []
            : [
                ...psi('memory', 'some', 0.001 * i, 0.0008 * i),
                ...psi('memory', 'full', 0.5, 0.5),
                ...psi('cpu', 'some', 0.9, 0.9),
              ],
        ),
      );
      await store.write(messages);

      const [series] = await readResourceSeries(store, 'memory');
      assert.ok(series?.history.pressureSomeAvg10, 'the pressure is read');
      assert.equal(series.history.pressureSomeAvg10![3], 0.001 * 3);
      assert.equal(series.history.pressureSomeAvg60![3], 0.0008 * 3);
      assert.ok(Number.isNaN(series.history.pressureSomeAvg10![2]!), 'NaN where the message had none');

      const options = { kind: 'memory' as const, exhaustion: DEFAULT_EXHAUSTION.memory };
      const { times, expected } = agentFeatures(messages, options);
      const replayed = replaySeries(series.history, times, options);
      assert.deepEqual(Array.from(replayed.features), Array.from(Float32Array.from(expected)));
      const psiColumn = featureIndex('psi.some_avg10');
      assert.equal(replayed.features[3 * replayed.width + psiColumn], Math.fround(0.001 * 3));
    } finally {
      await store.stop();
    }
  });

  it('reads memory with swap, so replayed swap features equal the agent’s, companion and capacities included', async () => {
    const store = await openStore('companion');
    try {
      const swapPoint = (value: number): MetricPoint => ({
        name: 'system.paging.utilization',
        unit: '1',
        value,
        attributes: { 'system.paging.state': 'used' },
      });
      const freeMemory: MetricPoint = {
        name: 'system.memory.utilization',
        unit: '1',
        value: 0.01,
        attributes: { 'system.memory.state': 'free' },
      };
      const GIB = 2 ** 30;
      const bytes = (name: string, value: number, state?: string): MetricPoint => ({
        name,
        unit: 'By',
        value,
        ...(state && { attributes: { 'system.paging.state': state } }),
      });
      // Memory all but full and climbing while swap starts to fill; every fifth message has swap alone,
      // and every message a "free" memory figure that is not the companion. 16 GiB of memory, resized
      // to 32 GiB halfway, behind 2 GiB of swap; every seventh message lacks swap's free bytes.
      const messages = Array.from({ length: 240 }, (_, i) => {
        const used = (0.02 + i / 1000) * 2 * GIB;
        const withMemory = memoryMessage('db-01', i, 0.85 + (0.1 * i) / 240, [
          swapPoint(0.02 + i / 1000),
          freeMemory,
          bytes('system.memory.limit', (i < 120 ? 16 : 32) * GIB),
          bytes('system.paging.usage', used, 'used'),
          ...(i % 7 === 6 ? [] : [bytes('system.paging.usage', 2 * GIB - used, 'free')]),
        ]);
        return i % 5 === 4 ? { ...withMemory, metrics: withMemory.metrics.slice(1) } : withMemory;
      });
      await store.write(messages);

      const [series] = await readResourceSeries(store, 'swap');
      assert.ok(series?.history.companion, 'the companion is read');
      assert.equal(series.history.companion![3], 0.85 + (0.1 * 3) / 240);
      assert.ok(Number.isNaN(series.history.companion![4]!), 'NaN where the message had no memory figure');
      const ratios = series.history.companionCapacityRatio!;
      assert.deepEqual([ratios[3], ratios[200]], [8, 16], 'memory bytes ÷ swap bytes, resized halfway');
      assert.ok(Number.isNaN(ratios[6]!), 'NaN where the message lacked a part');
      const [memory] = await readResourceSeries(store, 'memory');
      assert.equal(memory?.history.companion, undefined, 'memory has no companion');

      const options = { kind: 'swap' as const, exhaustion: DEFAULT_EXHAUSTION.swap };
      const { times, expected } = agentFeatures(messages, options);
      const replayed = replaySeries(series.history, times, options);
      assert.deepEqual(Array.from(replayed.features), Array.from(Float32Array.from(expected)));
      const last = featureIndex('companion.last');
      assert.equal(replayed.features[238 * replayed.width + last], Math.fround(0.85 + (0.1 * 238) / 240));
      assert.ok(
        Number.isFinite(replayed.features[239 * replayed.width + featureIndex('companion.ttt_h.1h')]!),
      );
      assert.equal(replayed.features[238 * replayed.width + featureIndex('companion.capacity_ratio')], 16);
      assert.ok(
        Number.isFinite(replayed.features[239 * replayed.width + featureIndex('companion.spill_ttt_h.1h')]!),
      );
    } finally {
      await store.stop();
    }
  });

  it('keeps the rows around a stored remediation run out of the training labels', async () => {
    const store = await openStore('remediated');
    try {
      // Memory climbs from 50% to 99% over 10 h: an exhaustion (≥ 95%) near the end, whose
      // 30 min lead-up gives positive rows. A playbook ran 20 min before it.
      const memory = (i: number) => memoryMessage('web-01', i, 0.5 + (0.49 * i) / 600);
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
