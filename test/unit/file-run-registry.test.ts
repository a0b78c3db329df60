import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileRunRegistry, RunRecordSchema, newRunId, runIdTime } from '../../models/tracking/index.js';
import { ValidationError } from '../../shared/errors.js';
import { runRegistryContract } from '../contract/run-registry.contract.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-runs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

runRegistryContract('files', () => {
  const dir = join(root, `r${++n}`);
  return { open: () => new FileRunRegistry(dir) };
});

describe('file run registry', () => {
  it('makes time-sortable, unique run ids', () => {
    const t = Date.UTC(2026, 0, 5, 12);
    const ids = Array.from({ length: 1000 }, () => newRunId(t));
    assert.equal(new Set(ids).size, 1000);
    assert.deepEqual([...ids].sort(), ids); // same millisecond: still in creation order
    assert.ok(newRunId(t + 1) > ids.at(-1)!);
    assert.equal(runIdTime(ids[0]!), t);
  });

  it('stores each run as <root>/<runId>/run.json plus its artifact files, nothing else left behind', async () => {
    const dir = join(root, 'layout');
    const registry = new FileRunRegistry(dir);
    const run = await registry.startRun({ name: 'r', kind: 'training' });
    await run.logArtifact('model.onnx', new Uint8Array([1, 2, 3]));
    await run.finish();
    assert.deepEqual(readdirSync(dir), [run.runId]);
    assert.deepEqual(readdirSync(join(dir, run.runId)).sort(), ['artifacts', 'run.json']);
    assert.deepEqual([...readFileSync(join(dir, run.runId, 'artifacts', 'model.onnx'))], [1, 2, 3]);
    const parsed = RunRecordSchema.parse(JSON.parse(readFileSync(join(dir, run.runId, 'run.json'), 'utf8')));
    assert.equal(parsed.runId, run.runId);
  });

  it('writes run.json atomically: a reader polling during many writes always sees a whole record', async () => {
    const dir = join(root, 'atomic');
    const registry = new FileRunRegistry(dir);
    const run = await registry.startRun({ name: 'r', kind: 'training' });
    const path = join(dir, run.runId, 'run.json');
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        const record = RunRecordSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
        assert.equal(record.runId, run.runId);
        reads++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const flushes = [];
    for (let step = 0; step < 200; step++) {
      run.logMetric('loss', 1 / (step + 1), step);
      // Flushes are not awaited one by one: they must still land in order.
      flushes.push(run.flush());
    }
    await Promise.all(flushes);
    writing = false;
    await reader;
    assert.ok(reads > 0);
    const stored = await registry.getRun(run.runId);
    assert.equal(stored!.metricHistory.loss!.length, 200);
    assert.deepEqual(readdirSync(join(dir, run.runId)), ['run.json']); // no temporary files left
  });

  it('reports a corrupt run.json on getRun and leaves it out of listings', async () => {
    const dir = join(root, 'corrupt');
    const registry = new FileRunRegistry(dir);
    const good = await registry.startRun({ name: 'good', kind: 'training' });
    const badId = newRunId();
    mkdirSync(join(dir, badId));
    writeFileSync(join(dir, badId, 'run.json'), '{"schemaVersion":1,"runId":');
    mkdirSync(join(dir, newRunId())); // a run being created: no run.json yet
    await assert.rejects(registry.getRun(badId), ValidationError);
    assert.deepEqual(
      (await registry.listRuns()).map((r) => r.runId),
      [good.runId],
    );
  });

  it('refuses a parent id that is not a run id', async () => {
    const registry = new FileRunRegistry(join(root, 'parent'));
    await assert.rejects(
      registry.startRun({ name: 'r', kind: 'trial', parentRunId: '../x' }),
      ValidationError,
    );
  });
});
