import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { TelemetryStore } from '../../aggregator/storage/telemetry-store.js';
import type { EventMessage } from '../../shared/wire/events.js';
import type { Prediction, PredictionsMessage } from '../../shared/wire/predictions.js';
import type { MetricPoint, TelemetryMessage } from '../../shared/wire/telemetry.js';

/**
 * The contract every TelemetryStore implementation passes. `open` returns a
 * new, not yet started store on the same location each time it is called
 * within one test, so durability across a restart can be checked.
 */
export function telemetryStoreContract(
  name: string,
  newLocation: () => { open: () => TelemetryStore },
): void {
  describe(`TelemetryStore contract: ${name}`, () => {
    const opened: TelemetryStore[] = [];
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.stop();
    });
    async function started(location: { open: () => TelemetryStore }): Promise<TelemetryStore> {
      const store = location.open();
      opened.push(store);
      await store.start();
      return store;
    }

    const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
    function message(
      hostId: string,
      seq: number,
      timestamp: number,
      metrics: MetricPoint[],
    ): TelemetryMessage {
      return { schemaVersion: 1, hostId, seq, timestamp, intervalSeconds: 10, metrics };
    }
    const mem = (state: string, value: number): MetricPoint => ({
      name: 'system.memory.usage',
      unit: 'By',
      value,
      attributes: { 'system.memory.state': state },
    });
    const cpu = (value: number): MetricPoint => ({ name: 'system.cpu.utilization', unit: '1', value });

    it('returns written points by series, oldest first, with units and attributes', async () => {
      const store = await started(newLocation());
      await store.write([
        message('web-01', 1, T0, [cpu(0.25), mem('used', 100), mem('free', 900)]),
        message('web-01', 2, T0 + 10_000, [cpu(0.5), mem('used', 150), mem('free', 850)]),
        message('db-01', 1, T0, [cpu(0.9)]),
      ]);
      const series = await store.querySeries({
        hostId: 'web-01',
        metric: 'system.memory.usage',
        from: T0,
        to: T0 + 60_000,
        limit: 100,
      });
      const byState = new Map(series.map((s) => [s.attributes['system.memory.state'], s]));
      assert.equal(series.length, 2);
      assert.deepEqual(byState.get('used')!.points, [
        [T0, 100],
        [T0 + 10_000, 150],
      ]);
      assert.equal(byState.get('free')!.unit, 'By');
      assert.equal(byState.get('free')!.metric, 'system.memory.usage');
      const all = await store.querySeries({ hostId: 'web-01', from: T0, to: T0 + 60_000, limit: 100 });
      assert.equal(all.length, 3);
      assert.deepEqual(all.find((s) => s.metric === 'system.cpu.utilization')!.attributes, {});
      assert.equal(await store.countPoints('web-01'), 6);
      assert.equal(await store.countPoints(), 7);
    });

    it('treats from as inclusive and to as exclusive, and keeps the newest points under a limit', async () => {
      const store = await started(newLocation());
      await store.write([0, 1, 2, 3, 4].map((i) => message('web-01', i + 1, T0 + i * 1000, [cpu(i / 10)])));
      const range = await store.querySeries({ hostId: 'web-01', from: T0 + 1000, to: T0 + 3000, limit: 100 });
      assert.deepEqual(range[0]!.points, [
        [T0 + 1000, 0.1],
        [T0 + 2000, 0.2],
      ]);
      const limited = await store.querySeries({ hostId: 'web-01', from: T0, to: T0 + 10_000, limit: 2 });
      assert.deepEqual(limited[0]!.points, [
        [T0 + 3000, 0.3],
        [T0 + 4000, 0.4],
      ]);
      const other = await store.querySeries({ hostId: 'nobody', from: T0, to: T0 + 10_000, limit: 10 });
      assert.deepEqual(other, []);
    });

    it('reports each host’s latest message', async () => {
      const store = await started(newLocation());
      await store.write([
        message('web-01', 1, T0, [cpu(0.1), mem('used', 1)]),
        message('web-01', 2, T0 + 10_000, [cpu(0.2), mem('used', 2)]),
        message('db-01', 8, T0 + 5_000, [cpu(0.8)]),
      ]);
      const latest = (await store.latestPerHost()).sort((a, b) => a.hostId.localeCompare(b.hostId));
      assert.deepEqual(
        latest.map((h) => [h.hostId, h.lastSeen, h.lastSeq]),
        [
          ['db-01', T0 + 5_000, 8],
          ['web-01', T0 + 10_000, 2],
        ],
      );
      const web = latest[1]!.metrics.sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(web, [cpu(0.2), mem('used', 2)]);
    });

    it('keeps everything written across a stop and a new start', async () => {
      const location = newLocation();
      const first = await started(location);
      await first.write([message('web-01', 1, T0, [cpu(0.3)]), message('web-01', 2, T0 + 1, [cpu(0.4)])]);
      await first.write([]);
      await first.stop();
      await first.stop();
      const second = await started(location);
      assert.equal(await second.countPoints(), 2);
    });

    const prediction = (
      resource: string,
      probability: number,
      extra: Partial<Prediction> = {},
    ): Prediction => ({
      resource,
      probability,
      alert: false,
      threshold: 0.3,
      horizonS: 3600,
      model: { source: 'bundled', runId: '01M8E83VMT0WWYWZDK0FFA4830' },
      ...extra,
    });
    function predictions(
      hostId: string,
      seq: number,
      timestamp: number,
      list: Prediction[],
    ): PredictionsMessage {
      return { schemaVersion: 1, hostId, seq, timestamp, predictions: list };
    }
    const raised: EventMessage = {
      schemaVersion: 1,
      hostId: 'web-01',
      seq: 4,
      timestamp: T0 + 20_000,
      type: 'alert.raised',
      reason: 'risk_above_threshold',
      resource: 'filesystem:%2Fvar',
      probability: 0.41,
      threshold: 0.3,
      detail: 'probability 0.410 ≥ threshold 0.300 for 2 cycles',
      model: { source: 'fleet', runId: 'run-7', version: 'v7' },
    };
    const resolved: EventMessage = {
      schemaVersion: 1,
      hostId: 'web-01',
      seq: 9,
      timestamp: T0 + 90_000,
      type: 'alert.resolved',
      reason: 'risk_below_resolve_level',
      resource: 'filesystem:%2Fvar',
      probability: 0.05,
      threshold: 0.3,
      detail: 'probability 0.050 < 0.240 (threshold 0.300 × 0.8) for 3 cycles',
      raisedAt: T0 + 20_000,
    };

    it('stores predictions and events with telemetry in one numbering, and returns them as written', async () => {
      const location = newLocation();
      const first = await started(location);
      const band = { p10S: 600, p50S: 1800, p90S: 5400 };
      await first.write([
        message('web-01', 1, T0, [cpu(0.5)]),
        predictions('web-01', 2, T0, [
          prediction('cpu', 0.01),
          prediction('filesystem:%2Fvar', 0.35, {
            ttBand: band,
            model: { source: 'fleet', runId: 'run-7', version: 'v7' },
          }),
        ]),
        message('web-01', 3, T0 + 10_000, [cpu(0.6)]),
        raised,
        predictions('web-01', 5, T0 + 20_000, [
          prediction('filesystem:%2Fvar', 0.41, { alert: true, ttBand: band }),
        ]),
        predictions('db-01', 12, T0, [prediction('memory', 0.2)]),
      ]);
      await first.write([resolved]);
      await first.stop();

      const store = await started(location);
      const range = { from: T0, to: T0 + 3_600_000, limit: 100 };
      const web = await store.queryPredictions({ hostId: 'web-01', ...range });
      assert.deepEqual(
        web.map((p) => [p.seq, p.timestamp, p.resource, p.probability, p.alert]),
        [
          [2, T0, 'cpu', 0.01, false],
          [2, T0, 'filesystem:%2Fvar', 0.35, false],
          [5, T0 + 20_000, 'filesystem:%2Fvar', 0.41, true],
        ],
      );
      assert.deepEqual(web[1], {
        hostId: 'web-01',
        seq: 2,
        timestamp: T0,
        ...prediction('filesystem:%2Fvar', 0.35, {
          ttBand: band,
          model: { source: 'fleet', runId: 'run-7', version: 'v7' },
        }),
      });
      assert.equal(web[0]!.ttBand, undefined);
      const fs = await store.queryPredictions({
        hostId: 'web-01',
        resource: 'filesystem:%2Fvar',
        ...range,
        limit: 1,
      });
      assert.deepEqual(
        fs.map((p) => p.seq),
        [5],
        'the newest under a limit',
      );
      assert.deepEqual(await store.queryEvents({ hostId: 'web-01', ...range }), [raised, resolved]);
      assert.deepEqual(await store.queryEvents({ hostId: 'web-01', ...range, from: T0 + 30_000 }), [
        resolved,
      ]);
      assert.deepEqual(await store.queryEvents({ hostId: 'db-01', ...range }), []);
      assert.deepEqual(
        [...(await store.highestSeqPerHost())].sort(),
        [
          ['db-01', 12],
          ['web-01', 9],
        ],
        'the highest number counts every kind of message',
      );
      assert.equal(await store.countPoints('web-01'), 2, 'points are telemetry only');
    });

    it('keeps two messages of a host that carry the same time, and imported samples beside live ones', async () => {
      const store = await started(newLocation());
      await store.write([
        message('web-01', 0, T0, [cpu(0.1)]),
        message('web-01', 0, T0 + 1000, [cpu(0.2)]),
        message('web-01', 7, T0, [cpu(0.3)]),
        message('web-01', 8, T0, [cpu(0.4)]),
        message('import-only', 0, T0, [cpu(0.5)]),
      ]);
      assert.equal(await store.countPoints('web-01'), 4, 'no sample overwrites another');
      const [series] = await store.querySeries({ hostId: 'web-01', from: T0, to: T0 + 2000, limit: 100 });
      assert.deepEqual(
        series!.points.map(([t, v]) => [t, v]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!),
        [
          [T0, 0.1],
          [T0, 0.3],
          [T0, 0.4],
          [T0 + 1000, 0.2],
        ],
      );
      assert.deepEqual(
        [...(await store.highestSeqPerHost())],
        [['web-01', 8]],
        'imported samples (seq 0) do not count',
      );
    });

    it('returns attributes, units and values exactly as written, whatever characters they hold', async () => {
      const store = await started(newLocation());
      const odd: Record<string, string> = {
        'system.filesystem.mountpoint': '/mnt/a b,c=d\\\'e"f',
        'emoji and accents': 'café ☕',
        'line\nbreak': 'x\ny',
        empty: '',
        host: 'not the host tag',
      };
      const points: MetricPoint[] = [
        { name: 'system.filesystem.usage', unit: 'By', value: 1.5e21, attributes: odd },
        { name: 'system.filesystem.usage', unit: 'By', value: -2.25e-7, attributes: { empty: '' } },
        { name: 'system.filesystem.usage', unit: 'By', value: 0, attributes: {} },
        { name: 'process.count', unit: '{process}', value: 12, attributes: { "it's": "o'clock\\" } },
      ];
      await store.write([message('web-01', 1, T0, points)]);
      const series = await store.querySeries({ hostId: 'web-01', from: T0, to: T0 + 1, limit: 100 });
      const key = (s: { metric: string; attributes: Record<string, string> }) =>
        `${s.metric} ${JSON.stringify(Object.entries(s.attributes).sort())}`;
      assert.deepEqual(
        series.map((s) => [key(s), s.unit, s.points]).sort(),
        points
          .map((p) => [key({ metric: p.name, attributes: p.attributes ?? {} }), p.unit, [[T0, p.value]]])
          .sort(),
      );
      const [latest] = await store.latestPerHost();
      assert.deepEqual(
        latest!.metrics.map((m) => key({ metric: m.name, attributes: m.attributes ?? {} })).sort(),
        points.map((p) => key({ metric: p.name, attributes: p.attributes ?? {} })).sort(),
      );
    });

    it('may be stopped before it was started', async () => {
      const store = newLocation().open();
      await store.stop();
    });
  });
}
