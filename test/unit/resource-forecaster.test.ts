import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadModelDir } from '../../agent/inference/model-dir.js';
import { ModelSet } from '../../agent/inference/model-set.js';
import { ResourceForecaster } from '../../agent/inference/resource-forecaster.js';
import { ConfigError, CloudSenseError } from '../../shared/errors.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import type { MetricPoint, TelemetryMessage } from '../../shared/wire/telemetry.js';
import {
  HIGH_PROBABILITY,
  LOW_PROBABILITY,
  TEST_OPERATING_THRESHOLD,
  writeTestModel,
} from '../helpers/forecast-models.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-forecaster-'));
const modelDir = join(root, 'models');
after(() => rmSync(root, { recursive: true, force: true }));

/** Log lines as objects, for checking warnings. */
function capturingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

/** onnxruntime computes the sigmoid in float32. */
function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${actual} ≈ ${expected}`);
}

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const cpu = (v: number): MetricPoint => ({ ...METRIC.cpuUtilization, value: v });
const memory = (v: number): MetricPoint => ({
  ...METRIC.memoryUtilization,
  value: v,
  attributes: { [ATTR.memoryState]: 'used' },
});
const filesystem = (mount: string, v: number): MetricPoint => ({
  ...METRIC.filesystemUtilization,
  value: v,
  attributes: { [ATTR.mountpoint]: mount },
});
const inodes = (mount: string, v: number): MetricPoint => ({
  ...METRIC.filesystemInodesUtilization,
  value: v,
  attributes: { [ATTR.mountpoint]: mount },
});
function telemetry(timestamp: number, metrics: MetricPoint[]): Omit<TelemetryMessage, 'seq'> {
  return { schemaVersion: 1, hostId: 'web-01', timestamp, intervalSeconds: 10, metrics };
}

async function modelSet(log = pino({ level: 'silent' })): Promise<ModelSet> {
  const models = new ModelSet();
  for (const [kind, model] of await loadModelDir(modelDir, { configured: true, source: 'bundled', log })) {
    await models.setModel(kind, model);
  }
  return models;
}

/** Counts the rows of each scoreMany call on every model of the set. */
function countCalls(models: ModelSet): Map<string, number[]> {
  const calls = new Map<string, number[]>();
  for (const key of models.keys()) {
    const lease = models.acquire(key, key as 'cpu')!;
    const forecast = lease.model.forecast;
    lease.release();
    const original = forecast.scoreMany.bind(forecast);
    forecast.scoreMany = (features, rows) => {
      calls.set(key, [...(calls.get(key) ?? []), rows]);
      return original(features, rows);
    };
  }
  return calls;
}

describe('resource forecaster', () => {
  before(() => {
    writeTestModel(modelDir, 'cpu', { modelVersion: 'v1' });
    writeTestModel(modelDir, 'memory');
    writeTestModel(modelDir, 'filesystem', { band: true });
  });

  it('scores every resource of a kind in one call with its kind’s model, band and model reference', async () => {
    const models = await modelSet();
    const calls = countCalls(models);
    const forecaster = new ResourceForecaster({ models, exhaustion: {}, log: pino({ level: 'silent' }) });
    try {
      const message = telemetry(T0, [cpu(0.95), memory(0.3), filesystem('/', 0.9), filesystem('/data', 0.2)]);
      const sampled = forecaster.observe(message);
      assert.deepEqual(sampled, ['cpu', 'memory', 'filesystem:%2F', 'filesystem:%2Fdata']);
      const forecasts = await forecaster.forecast(sampled, T0);
      const by = new Map(forecasts.map((f) => [f.resource, f]));
      near(by.get('cpu')!.probability, HIGH_PROBABILITY);
      near(by.get('memory')!.probability, LOW_PROBABILITY);
      near(by.get('filesystem:%2F')!.probability, HIGH_PROBABILITY);
      near(by.get('filesystem:%2Fdata')!.probability, LOW_PROBABILITY);
      for (const f of forecasts) assert.equal(f.threshold, TEST_OPERATING_THRESHOLD);
      assert.deepEqual(by.get('cpu')!.model, { source: 'bundled', runId: 'test-run-cpu', version: 'v1' });
      assert.equal(by.get('cpu')!.horizonMs, 3_600_000);
      assert.equal(by.get('filesystem:%2F')!.horizonMs, 6 * 3_600_000);
      // The band, for the resource at risk only.
      const band = by.get('filesystem:%2F')!.ttBand!;
      assert.ok(
        Math.abs(band.p10S - 600) < 1 && Math.abs(band.p50S - 1800) < 1 && Math.abs(band.p90S - 5400) < 1,
      );
      assert.equal(by.get('filesystem:%2Fdata')!.ttBand, undefined);
      assert.equal(by.get('cpu')!.ttBand, undefined, 'no band without band models');
      assert.deepEqual(Object.fromEntries(calls), { cpu: [1], memory: [1], filesystem: [2] });
      const stats = forecaster.stats();
      assert.equal(stats.cycles, 1);
      assert.ok(stats.lastCycleCpuMs >= 0);
    } finally {
      await models.close();
    }
  });

  it('applies the exhaustion configuration to each resource it forecasts', async () => {
    const models = await modelSet();
    const forecaster = new ResourceForecaster({
      models,
      exhaustion: {
        filesystem: { horizonMs: 12 * 3_600_000 },
        'filesystem:%2Fdata': { horizonMs: 3_600_000 },
      },
      log: pino({ level: 'silent' }),
    });
    try {
      const sampled = forecaster.observe(telemetry(T0, [filesystem('/', 0.5), filesystem('/data', 0.5)]));
      const horizons = (await forecaster.forecast(sampled, T0)).map((f) => [f.resource, f.horizonMs]);
      assert.deepEqual(horizons, [
        ['filesystem:%2F', 12 * 3_600_000],
        ['filesystem:%2Fdata', 3_600_000],
      ]);
    } finally {
      await models.close();
    }
  });

  it('forecasts from the history it was fed, and forgets a mount that went away', async () => {
    const models = await modelSet();
    const { log, lines } = capturingLog();
    const forecaster = new ResourceForecaster({ models, exhaustion: {}, log, forgetAfterMs: 60_000 });
    try {
      let forecasts: Awaited<ReturnType<ResourceForecaster['forecast']>> = [];
      for (let i = 0; i < 12; i++) {
        const t = T0 + i * 10_000;
        // /mnt disappears after the third cycle; inodes have no model.
        const metrics = [cpu(0.1 + i * 0.07), filesystem('/', 0.4), inodes('/', 0.1)];
        if (i < 3) metrics.push(filesystem('/mnt', 0.5));
        forecasts = await forecaster.forecast(forecaster.observe(telemetry(t, metrics)), t);
      }
      // cpu climbed from 0.1 to 0.87: the last forecasts see it above the split.
      near(forecasts.find((f) => f.resource === 'cpu')!.probability, HIGH_PROBABILITY);
      assert.deepEqual(
        forecasts.map((f) => f.resource),
        ['cpu', 'filesystem:%2F'],
      );
      // cpu, filesystem:/, inodes:/ — /mnt was last sampled 90 s ago, past the 60 s limit.
      assert.equal(forecaster.stats().resources, 3);
      const noModel = lines.filter(
        (l) => l.msg === 'no model for this resource kind; its resources get no predictions',
      );
      assert.deepEqual(
        noModel.map((l) => l.kind),
        ['inodes'],
        'warned once',
      );
    } finally {
      await models.close();
    }
  });

  it('swaps a model while scoring holds the old one, releasing the old one only afterwards', async () => {
    const models = await modelSet();
    try {
      const lease = models.acquire('cpu', 'cpu')!;
      const old = lease.model;
      const replacement = [
        ...(await loadModelDir(modelDir, {
          configured: true,
          source: 'fleet',
          log: pino({ level: 'silent' }),
        })),
      ];
      for (const [kind, model] of replacement) {
        if (kind !== 'cpu') await Promise.all([model.forecast.release(), model.band?.release()]);
      }
      const fleetCpu = replacement.find(([kind]) => kind === 'cpu')![1];
      let swapped = false;
      const swap = models.setModel('cpu', fleetCpu).then(() => (swapped = true));
      await new Promise((r) => setTimeout(r, 20));
      const fresh = models.acquire('cpu', 'cpu')!;
      assert.equal(fresh.model.ref.source, 'fleet', 'new scoring takes the new model at once');
      fresh.release();
      assert.equal(swapped, false, 'the old model waits for the scoring that holds it');
      const rows = new Float32Array(old.forecast.scorer.featureCount).fill(NaN);
      assert.equal((await old.forecast.scoreMany(rows, 1)).length, 1, 'the held model still scores');
      lease.release();
      lease.release();
      await swap;
      await assert.rejects(old.forecast.scoreMany(rows, 1), CloudSenseError, 'released after the swap');
    } finally {
      await models.close();
      await models.close();
    }
  });

  it('loads a model directory: a configured one must exist, a model for another kind is refused', async () => {
    const silent = pino({ level: 'silent' });
    await assert.rejects(
      loadModelDir(join(root, 'nowhere'), { configured: true, source: 'bundled', log: silent }),
      (err: unknown) =>
        err instanceof ConfigError && /agent\.models\.dir: no such directory/.test(err.message),
    );
    assert.equal(
      (await loadModelDir(join(root, 'nowhere'), { configured: false, source: 'bundled', log: silent })).size,
      0,
    );

    const mixed = join(root, 'mixed');
    writeTestModel(mixed, 'swap', { trainedFor: 'memory' });
    writeTestModel(mixed, 'fds');
    const { log, lines } = capturingLog();
    const loaded = await loadModelDir(mixed, { configured: true, source: 'bundled', log });
    try {
      assert.deepEqual([...loaded.keys()], ['fds']);
      const error = lines.find((l) => l.kind === 'swap')!;
      assert.match(String(error.err), /trained for memory, not swap/);
    } finally {
      for (const model of loaded.values())
        await Promise.all([model.forecast.release(), model.band?.release()]);
    }
  });
});
