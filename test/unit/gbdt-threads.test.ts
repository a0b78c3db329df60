import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binMatrix } from '../../models/gbdt/binning.js';
import type { Tree } from '../../models/gbdt/model.js';
import { TrainingWork } from '../../models/gbdt/training-work.js';
import { TreeBuilder } from '../../models/gbdt/tree-builder.js';
import { TASK, TASK_KIND } from '../../models/gbdt/thread-tasks.js';
import { CONTROL } from '../../models/gbdt/team-control.js';
import { trainingWorkerStats, WorkerTeam } from '../../models/gbdt/worker-team.js';
import { SeededRandom } from '../../models/random.js';

const F = 6;

/** Rows of F features (some NaN, one with few distinct values) and a label of the first three. */
function dataset(n: number, seed: number): { features: Float32Array; labels: Float64Array } {
  const rng = new SeededRandom(seed);
  const features = new Float32Array(n * F);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) features[i * F + f] = f === 5 ? Math.floor(rng.next() * 4) : rng.normal();
    if (rng.next() < 0.03) features[i * F + 1] = NaN;
    const x = features.subarray(i * F, i * F + F);
    labels[i] = x[0]! * x[2]! + Math.sin(3 * (x[1]! || 0)) + 0.3 * rng.normal() > 0 ? 1 : 0;
  }
  return { features, labels };
}

/** Grows `trees` trees as the trainer does, with or without a worker team; returns them. */
function grow(n: number, team: WorkerTeam | undefined, trees: number): Tree[] {
  const { features, labels } = dataset(n, 5);
  const binned = binMatrix(features, n, F, 255, 200_000, undefined, team !== undefined);
  const rules = { lambdaL1: 0, lambdaL2: 1, minDataInLeaf: 5, minSumHessianInLeaf: 1e-3, minGainToSplit: 0 };
  const input = { binned, rules, objective: { name: 'binary' as const, alpha: 0.5 }, labels };
  const work = new TrainingWork(input, team);
  const builder = new TreeBuilder(binned, rules, { numLeaves: 31, maxDepth: 8 }, work);
  const all = Int32Array.from({ length: F }, (_, f) => f);
  const grown: Tree[] = [];
  for (let t = 0; t < trees; t++) {
    work.rows.set(Uint32Array.from({ length: n }, (_, i) => i));
    const tree = builder.grow(n, all, 0.3);
    for (const { node, begin, end } of tree.leafRanges) {
      for (let i = begin; i < end; i++) work.scores[work.rows[i]!]! += tree.tree.value[node]!;
    }
    grown.push(tree.tree);
  }
  return grown;
}

describe('GBDT training with worker threads', () => {
  it('grows the same trees as one thread, with the worker doing its share', () => {
    const n = 40_000;
    const alone = grow(n, undefined, 4);
    const team = new WorkerTeam(1);
    const sharesBefore = trainingWorkerStats().shares;
    try {
      assert.ok(team.waitUntilReady(60_000), 'the worker started');
      assert.deepEqual(grow(n, team, 4), alone);
    } finally {
      team.stop();
    }
    assert.ok(trainingWorkerStats().shares > sharesBefore, 'the worker ran shares');
  });

  it('reports a failure in a worker as an error of the training', () => {
    const n = 10_000;
    const { features, labels } = dataset(n, 6);
    const team = new WorkerTeam(1);
    try {
      assert.ok(team.waitUntilReady(60_000), 'the worker started');
      const binned = binMatrix(features, n, F, 255, 200_000, undefined, true);
      const rules = { lambdaL1: 0, lambdaL2: 0, minDataInLeaf: 1, minSumHessianInLeaf: 0, minGainToSplit: 0 };
      const input = {
        binned,
        rules,
        objective: { name: 'binary' as const, alpha: 0.5 },
        labels,
      };
      const { task } = new TrainingWork(input, team).state;
      // A step that builds a histogram the worker was never given: its share throws.
      task[TASK.kind] = TASK_KIND.step;
      task[TASK.build] = 1000;
      task[TASK.shares] = 2;
      // The main thread's share waits for the worker to finish the other one, so it cannot take both.
      const done = (team as unknown as { control: Int32Array }).control;
      const waitForWorker = () => {
        const deadline = Date.now() + 30_000;
        while (Atomics.load(done, CONTROL.done) < 1 && Date.now() < deadline)
          Atomics.wait(done, CONTROL.done, 0, 10);
      };
      assert.throws(() => team.run(2, 2, waitForWorker), /training worker failed: .*histogram 1000/s);
    } finally {
      team.stop();
    }
  });
});
