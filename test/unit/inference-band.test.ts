/**
 * The agent's time-to-exhaustion band on demand (agent/inference/on-demand-band.ts):
 * checked from the files' metadata at load, sessions created on the first
 * scoring and released when idle, a band that cannot be loaded scored as
 * missing. Real onnxruntime sessions on the tiny test models.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadModelDir } from '../../agent/inference/model-dir.js';
import { OnDemandBand, type BandSources } from '../../agent/inference/on-demand-band.js';
import { FEATURE_COUNT } from '../../shared/features/index.js';
import { CloudSenseError, ValidationError } from '../../shared/errors.js';
import { writeTestModel } from '../helpers/forecast-models.js';
import { waitFor } from '../helpers/net.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-band-'));
const dir = join(root, 'models');
after(() => rmSync(root, { recursive: true, force: true }));

const band = (d: string, kind = 'filesystem'): BandSources => ({
  p10: join(d, `${kind}.tte_p10.onnx`),
  p50: join(d, `${kind}.tte_p50.onnx`),
  p90: join(d, `${kind}.tte_p90.onnx`),
});
const rows = 2;
const features = new Float32Array(rows * FEATURE_COUNT).fill(0.5);

function capturingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

before(() => {
  writeTestModel(dir, 'filesystem', { band: true });
  writeTestModel(dir, 'cpu');
});

describe('time-to-exhaustion band on demand', () => {
  it('creates no session until scored, then scores 10, 30 and 90 minutes per row', async () => {
    const b = await OnDemandBand.check(band(dir));
    assert.equal(b.loaded, false, 'checked from the metadata only');
    const seconds = await b.scoreMany(features, rows);
    assert.equal(b.loaded, true);
    assert.equal(seconds.length, rows * 3);
    for (let r = 0; r < rows; r++) {
      const got = [...seconds.subarray(r * 3, r * 3 + 3)].map((s) => Math.round(s));
      assert.deepEqual(got, [600, 1800, 5400]);
    }
    await b.release();
    await b.release();
    await assert.rejects(b.scoreMany(features, rows), (err: unknown) => err instanceof CloudSenseError);
  });

  it('releases its sessions after the idle time and loads them again when needed', async () => {
    const b = await OnDemandBand.check(band(dir), { idleMs: 50 });
    await b.scoreMany(features, rows);
    await waitFor('the idle band released', () => (b.loaded ? undefined : true), 10_000, 20);
    assert.equal(Math.round((await b.scoreMany(features, rows))[1]!), 1800);
    assert.equal(b.loaded, true);
    await b.release();
    assert.equal(b.loaded, false);
  });

  it('refuses at load files that are not this version’s quantile models', async () => {
    const wrong = join(root, 'wrong');
    writeTestModel(wrong, 'filesystem', { band: true });
    // A binary forecast where the P50 should be.
    copyFileSync(join(wrong, 'filesystem.onnx'), join(wrong, 'filesystem.tte_p50.onnx'));
    await assert.rejects(
      OnDemandBand.check(band(wrong)),
      (err: unknown) =>
        err instanceof ValidationError && /tte_p50.*not a time-to-exhaustion/.test(err.message),
    );
    const { log, lines } = capturingLog();
    const loaded = await loadModelDir(wrong, { configured: true, source: 'bundled', log });
    assert.equal(loaded.has('filesystem'), false, 'the model with a wrong band is skipped, as before');
    assert.ok(lines.some((l) => l.msg === 'cannot load the model; no predictions for this kind'));
  });

  it('scores as missing, with one error logged, when onnxruntime cannot load it later', async () => {
    const gone = join(root, 'gone');
    writeTestModel(gone, 'filesystem', { band: true });
    const { log, lines } = capturingLog();
    const b = await OnDemandBand.check(band(gone), { log });
    rmSync(join(gone, 'filesystem.tte_p90.onnx'));
    for (let i = 0; i < 3; i++) {
      const seconds = await b.scoreMany(features, rows);
      assert.ok(seconds.every(Number.isNaN), 'NaN: the forecasts go out without a band');
    }
    assert.equal(lines.filter((l) => l.level === 50).length, 1, 'reported once');
    await b.release();
  });

  it('loadModelDir gives each kind with band files an unloaded band, and none to the others', async () => {
    const loaded = await loadModelDir(dir, {
      configured: true,
      source: 'bundled',
      log: pino({ level: 'silent' }),
    });
    const fs = loaded.get('filesystem')!.band as OnDemandBand;
    assert.ok(fs instanceof OnDemandBand);
    assert.equal(fs.loaded, false);
    assert.equal(loaded.get('cpu')!.band, undefined);
    for (const model of loaded.values()) await Promise.all([model.forecast.release(), model.band?.release()]);
  });
});
