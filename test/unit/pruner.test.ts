import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PruningContext, TrialRecord } from '../../models/search/index.js';
import {
  MedianPruner,
  PercentilePruner,
  Study,
  TpeSampler,
  TrialPruned,
  float,
} from '../../models/search/index.js';

/** A complete trial whose loss curve is `offset + 1 / (step + 1)` for steps 0..9. */
function completeTrial(number: number, offset: number): TrialRecord {
  return {
    number,
    params: {},
    state: 'complete',
    value: offset + 0.1,
    intermediateValues: Array.from({ length: 10 }, (_, step) => ({ step, value: offset + 1 / (step + 1) })),
    startedAt: new Date(0).toISOString(),
    durationMs: 1,
    error: null,
  };
}

const completeTrials = [0, 0.1, 0.2, 0.3, 0.4].map((offset, i) => completeTrial(i, offset));
const at = (pairs: [number, number][], overrides: Partial<PruningContext> = {}): PruningContext => ({
  direction: 'minimize',
  intermediateValues: new Map(pairs),
  completeTrials,
  ...overrides,
});

describe('median pruner', () => {
  const pruner = new MedianPruner();

  it('prunes a clearly hopeless trial and keeps a good one', () => {
    // Median at step 2 is 0.2 + 1/3 ≈ 0.53.
    assert.equal(pruner.shouldPrune(at([[2, 5]])), true);
    assert.equal(pruner.shouldPrune(at([[2, 0.4]])), false);
    // Judged by its best value so far, as Optuna: one bad step after good ones is kept.
    assert.equal(
      pruner.shouldPrune(
        at([
          [0, 0.5],
          [1, 0.3],
          [2, 5],
        ]),
      ),
      false,
    );
  });

  it('waits for the startup trials and the warmup steps', () => {
    assert.equal(pruner.shouldPrune(at([[2, 5]], { completeTrials: completeTrials.slice(0, 4) })), false);
    assert.equal(
      new MedianPruner({ nStartupTrials: 4 }).shouldPrune(
        at([[2, 5]], { completeTrials: completeTrials.slice(0, 4) }),
      ),
      true,
    );
    const warm = new MedianPruner({ nWarmupSteps: 3 });
    assert.equal(warm.shouldPrune(at([[2, 5]])), false);
    assert.equal(
      warm.shouldPrune(
        at([
          [2, 5],
          [3, 5],
        ]),
      ),
      true,
    );
  });

  it('judges only at interval boundaries', () => {
    const pruner5 = new MedianPruner({ intervalSteps: 5 });
    assert.equal(pruner5.shouldPrune(at([[0, 5]])), true);
    assert.equal(
      pruner5.shouldPrune(
        at([
          [0, 0.1],
          [3, 5],
        ]),
      ),
      false,
    ); // step 3 is inside the first interval
    assert.equal(
      pruner5.shouldPrune(
        at([
          [0, 9],
          [5, 9],
        ]),
      ),
      true,
    );
  });

  it('flips for maximisation, prunes NaN, and leaves steps nobody else reached alone', () => {
    const flipped = completeTrials.map((t) => ({
      ...t,
      intermediateValues: t.intermediateValues.map((p) => ({ step: p.step, value: -p.value })),
    }));
    assert.equal(pruner.shouldPrune(at([[2, -5]], { direction: 'maximize', completeTrials: flipped })), true);
    assert.equal(
      pruner.shouldPrune(at([[2, -0.4]], { direction: 'maximize', completeTrials: flipped })),
      false,
    );
    assert.equal(pruner.shouldPrune(at([[2, Number.NaN]])), true);
    assert.equal(pruner.shouldPrune(at([[50, 5]])), false);
  });

  it('interpolates percentiles as numpy does', () => {
    // At step 0 the values are 1.0 … 1.4; the 25th percentile is 1.1.
    const p25 = new PercentilePruner(25);
    assert.equal(p25.shouldPrune(at([[0, 1.11]])), true);
    assert.equal(p25.shouldPrune(at([[0, 1.09]])), false);
  });

  it('stops hopeless trials of a study early and still finds a good one', async () => {
    const space = { quality: float(0, 1) };
    // A boosting-like loss curve: better quality, lower floor.
    const study = new Study({ space, sampler: new TpeSampler({ seed: 2 }), pruner: new MedianPruner() });
    await study.optimize(
      async ({ quality }, trial) => {
        let loss = Number.NaN;
        for (let step = 0; step < 20; step++) {
          loss = 1 - quality + 2 / (step + 1);
          if (trial.report(step, loss)) throw new TrialPruned();
        }
        return loss;
      },
      { trials: 40 },
    );
    const pruned = study.trials.filter((t) => t.state === 'pruned');
    assert.ok(pruned.length >= 5, `pruned ${pruned.length}`);
    for (const t of pruned) {
      assert.equal(t.value, null);
      assert.ok(t.intermediateValues.length < 20);
    }
    assert.equal(study.bestTrial!.state, 'complete');
    assert.ok(study.bestTrial!.params.quality > 0.8);
  });
});
