import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunRegistry } from '../../models/tracking/index.js';
import { featureSchemaHash } from '../../models/tracking/index.js';
import { ValidationError } from '../../shared/errors.js';

/**
 * The contract every RunRegistry implementation passes. `open` returns a new
 * registry on the same location each time it is called within one test, so
 * that what one instance wrote is read back by another (as the aggregator
 * reads what a training process wrote).
 */
export function runRegistryContract(name: string, newLocation: () => { open: () => RunRegistry }): void {
  describe(`RunRegistry contract: ${name}`, () => {
    const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

    it('reads back a finished run with params, metric curves, dataset, tags and artifacts', async () => {
      const location = newLocation();
      const registry = location.open();
      const run = await registry.startRun({
        name: 'cpu-exhaustion-30m',
        kind: 'training',
        params: { learningRate: 0.05, numLeaves: 31, objective: 'binary', bagging: false },
        tags: { host_group: 'web' },
        dataset: {
          dataRange: { from: '2026-01-01T00:00:00Z', to: null },
          rowCounts: { train: 1200, validation: 300 },
          featureNames: ['cpu.mean.5m', 'mem.slope.30m'],
        },
      });
      for (let round = 0; round < 5; round++)
        run.logMetrics({ trainLoss: 1 / (round + 1), validLoss: 1.2 / (round + 1) });
      run.logMetric('validLoss', Number.NaN, 5); // a diverged round is kept, not dropped
      run.logMetric('auc', 0.91);
      run.setTag('stage', 'candidate');
      const model = new TextEncoder().encode('onnx bytes');
      const artifact = await run.logArtifact('model/model.onnx', model);
      assert.deepEqual(artifact, {
        name: 'model/model.onnx',
        path: 'artifacts/model/model.onnx',
        sha256: sha256(model),
        bytes: 10,
      });
      const finished = await run.finish();

      const stored = await location.open().getRun(run.runId);
      assert.deepEqual(stored, finished);
      assert.equal(stored!.status, 'finished');
      assert.ok(stored!.durationMs! >= 0 && stored!.finishedAt! >= stored!.startedAt);
      assert.deepEqual(stored!.params, {
        learningRate: 0.05,
        numLeaves: 31,
        objective: 'binary',
        bagging: false,
      });
      assert.deepEqual(
        stored!.metricHistory.trainLoss!.map((p) => p.step),
        [0, 1, 2, 3, 4],
      );
      assert.ok(Number.isNaN(stored!.metrics.validLoss!));
      assert.equal(stored!.metrics.trainLoss, 0.2);
      assert.deepEqual(stored!.dataRange, { from: '2026-01-01T00:00:00.000Z', to: null });
      assert.deepEqual(stored!.rowCounts, { train: 1200, validation: 300 });
      assert.equal(stored!.featureSchemaHash, featureSchemaHash(['cpu.mean.5m', 'mem.slope.30m']));
      assert.deepEqual(stored!.tags, { host_group: 'web', stage: 'candidate' });
    });

    it('copies a file artifact with its hash, and replaces an artifact of the same name', async () => {
      const registry = newLocation().open();
      const run = await registry.startRun({ name: 'export', kind: 'training' });
      const source = join(tmpdir(), `cloudsense-artifact-${process.pid}-${Date.now()}.bin`);
      const bytes = new Uint8Array(3 << 20).map((_, i) => (i * 31) & 255); // spans several copy chunks
      writeFileSync(source, bytes);
      const copied = await run.logArtifact('data.bin', source).finally(() => rmSync(source, { force: true }));
      assert.deepEqual(copied, {
        name: 'data.bin',
        path: 'artifacts/data.bin',
        sha256: sha256(bytes),
        bytes: bytes.length,
      });
      await run.logArtifact('data.bin', new Uint8Array([1, 2, 3]));
      const stored = await registry.getRun(run.runId);
      assert.equal(stored!.artifacts.length, 1);
      assert.equal(stored!.artifacts[0]!.bytes, 3);
      await assert.rejects(run.logArtifact('../escape', new Uint8Array(1)), ValidationError);
      await assert.rejects(run.logArtifact('/etc/passwd', new Uint8Array(1)), ValidationError);
    });

    it('lists runs newest first, filtered by kind, status, parent and tags', async () => {
      const location = newLocation();
      const registry = location.open();
      const study = await registry.startRun({ name: 'search', kind: 'study' });
      const trials = [];
      for (let i = 0; i < 3; i++) {
        const trial = await registry.startRun({
          name: `trial-${i}`,
          kind: 'trial',
          parentRunId: study.runId,
          params: { i },
          tags: { seed: String(i % 2) },
        });
        await trial.finish(i === 1 ? 'failed' : 'finished', i === 1 ? new Error('out of memory') : undefined);
        trials.push(trial);
      }
      const reader = location.open();
      assert.deepEqual(
        (await reader.listRuns()).map((r) => r.name),
        ['trial-2', 'trial-1', 'trial-0', 'search'],
      );
      assert.deepEqual(
        (await reader.listRuns({ parentRunId: study.runId, status: 'finished' })).map((r) => r.name),
        ['trial-2', 'trial-0'],
      );
      assert.deepEqual(
        (await reader.listRuns({ parentRunId: null })).map((r) => r.runId),
        [study.runId],
      );
      assert.deepEqual(
        (await reader.listRuns({ tags: { seed: '0' } })).map((r) => r.name),
        ['trial-2', 'trial-0'],
      );
      assert.equal((await reader.listRuns({ kind: 'trial', limit: 2 })).length, 2);
      assert.equal((await reader.getRun(trials[1]!.runId))!.error, 'out of memory');
      // A running run is visible while it runs.
      assert.equal((await reader.getRun(study.runId))!.status, 'running');
    });

    it('answers undefined for unknown or malformed ids', async () => {
      const registry = newLocation().open();
      assert.equal(await registry.getRun('01HZZZZZZZZZZZZZZZZZZZZZZZ'), undefined);
      assert.equal(await registry.getRun('../../etc/passwd'), undefined);
      assert.deepEqual(await registry.listRuns(), []);
    });

    it('refuses logging to a finished run, and a second finish changes nothing', async () => {
      const registry = newLocation().open();
      const run = await registry.startRun({ name: 'r', kind: 'training' });
      const first = await run.finish('failed', new Error('killed'));
      assert.throws(() => run.logMetric('loss', 1), ValidationError);
      assert.deepEqual(await run.finish('finished'), first);
      assert.throws(() => run.logParams({ bad: Number.POSITIVE_INFINITY }), ValidationError);
    });

    it('keeps metric points ordered by step, one per step', async () => {
      const registry = newLocation().open();
      const run = await registry.startRun({ name: 'r', kind: 'training' });
      run.logMetric('loss', 0.5, 10);
      run.logMetric('loss', 0.9, 0);
      run.logMetric('loss', 0.7, 5);
      run.logMetric('loss', 0.6, 5);
      run.logMetric('loss', 0.4); // next after the last step: 11
      assert.deepEqual(run.snapshot().metricHistory.loss, [
        { step: 0, value: 0.9 },
        { step: 5, value: 0.6 },
        { step: 10, value: 0.5 },
        { step: 11, value: 0.4 },
      ]);
      assert.equal(run.snapshot().metrics.loss, 0.4);
      assert.throws(() => run.logMetric('loss', 1, -1), ValidationError);
    });
  });
}
