import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ParamsOf } from '../../models/search/index.js';
import { NopPruner, RandomSampler, Study, TrialPruned, float } from '../../models/search/index.js';
import { FileRunRegistry, trackTrials } from '../../models/tracking/index.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-tracked-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('tracked objective', () => {
  it('records every trial of a study as a child run with its curve and how it ended', async () => {
    const registry = new FileRunRegistry(root);
    const studyRun = await registry.startRun({ name: 'search', kind: 'study' });
    const space = { x: float(0, 1) };
    const study = new Study({ space, sampler: new RandomSampler({ seed: 1 }), pruner: new NopPruner() });
    const objective = trackTrials<ParamsOf<typeof space>>(
      registry,
      { parentRunId: studyRun.runId, metric: 'validLoss' },
      async ({ x }, trial, run) => {
        for (let step = 0; step < 3; step++) trial.report(step, x + 1 / (step + 1));
        if (trial.number === 1) throw new TrialPruned();
        if (trial.number === 2) throw new Error('out of memory');
        await run.logArtifact('model.txt', new TextEncoder().encode(`x=${x}`));
        return x;
      },
    );
    await study.optimize(objective, { trials: 3 });
    await studyRun.finish();

    const runs = await registry.listRuns({ parentRunId: studyRun.runId });
    const byNumber = new Map(runs.map((r) => [r.tags['trial.number'], r]));
    const complete = byNumber.get('0')!;
    assert.equal(complete.status, 'finished');
    assert.equal(complete.tags['trial.state'], 'complete');
    assert.equal(complete.params.x, study.trials[0]!.params.x);
    assert.equal(complete.metricHistory.validLoss!.length, 3);
    assert.equal(complete.metrics['validLoss.final'], study.trials[0]!.value);
    assert.equal(complete.artifacts[0]!.name, 'model.txt');
    assert.deepEqual(
      [byNumber.get('1')!.status, byNumber.get('1')!.tags['trial.state']],
      ['finished', 'pruned'],
    );
    assert.deepEqual([byNumber.get('2')!.status, byNumber.get('2')!.error], ['failed', 'out of memory']);
    assert.deepEqual(
      study.trials.map((t) => t.state),
      ['complete', 'pruned', 'failed'],
    );
  });
});
