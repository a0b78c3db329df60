import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TrialRecord } from '../../models/search/index.js';
import {
  RandomSampler,
  Study,
  TpeSampler,
  TrialPruned,
  categorical,
  float,
  int,
  parseStudyLog,
  readStudyLog,
} from '../../models/search/index.js';
import { ValidationError } from '../../shared/errors.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-study-'));
after(() => rmSync(root, { recursive: true, force: true }));

const space = { x: float(-2, 2), depth: int(1, 8), loss: categorical(['l2', 'huber']) };

/** A clock the objective moves forward, so time budgets are exact. */
function fakeClock(start = Date.UTC(2026, 0, 5)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('study', () => {
  it('runs the trial budget, numbers trials on across calls, and keeps the best', async () => {
    const study = new Study({ space, sampler: new RandomSampler({ seed: 1 }) });
    const first = await study.optimize(({ x }) => x * x, { trials: 7 });
    assert.equal(first.length, 7);
    await study.optimize(({ x }) => x * x, { trials: 3 });
    assert.deepEqual(
      study.trials.map((t) => t.number),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const min = Math.min(...study.trials.map((t) => t.value!));
    assert.equal(study.bestTrial!.value, min);
    assert.equal(study.bestTrial!.params.x ** 2, min);
  });

  it('stops starting trials when the time budget is spent, and at whichever limit comes first', async () => {
    const clock = fakeClock();
    const study = new Study({ space, sampler: new RandomSampler({ seed: 2 }), now: clock.now });
    const objective = async () => {
      clock.advance(300);
      return 1;
    };
    // Trials start at 0, 300, 600 and 900 ms; at 1 200 ms the second is over.
    assert.equal((await study.optimize(objective, { seconds: 1 })).length, 4);
    assert.equal((await study.optimize(objective, { seconds: 60, trials: 2 })).length, 2);
    assert.equal((await study.optimize(objective, { seconds: 0.5, trials: 100 })).length, 2);
    assert.ok(study.trials.every((t) => t.durationMs === 300));
  });

  it('refuses a budget without limits', async () => {
    const study = new Study({ space });
    await assert.rejects(
      study.optimize(() => 1, {}),
      ValidationError,
    );
    await assert.rejects(
      study.optimize(() => 1, { trials: -1 }),
      /budget.trials/,
    );
  });

  it('marks failing trials failed and goes on; TPE and the best trial ignore them', async () => {
    const study = new Study({ space, sampler: new TpeSampler({ seed: 3, nStartupTrials: 4 }) });
    await study.optimize(
      async ({ x }, trial) => {
        if (trial.number % 3 === 1) throw new Error(`disk full at trial ${trial.number}`);
        if (trial.number % 3 === 2) return Number.NaN;
        return x * x;
      },
      { trials: 15 },
    );
    const failed = study.trials.filter((t) => t.state === 'failed');
    assert.equal(failed.length, 10);
    assert.equal(failed[0]!.error, 'disk full at trial 1');
    assert.match(failed[1]!.error!, /returned NaN/);
    assert.ok(failed.every((t) => t.value === null));
    assert.equal(study.bestTrial!.state, 'complete');
  });

  it('records pruned trials with the values they reported, and a repeated step keeps its first value', async () => {
    const study = new Study({ space, sampler: new RandomSampler({ seed: 4 }) });
    await study.optimize(
      async (_params, trial) => {
        trial.report(0, 3);
        trial.report(0, 99);
        trial.report(5, 2);
        throw new TrialPruned();
      },
      { trials: 1 },
    );
    const [t] = study.trials;
    assert.equal(t!.state, 'pruned');
    assert.deepEqual(t!.intermediateValues, [
      { step: 0, value: 3 },
      { step: 5, value: 2 },
    ]);
    assert.equal(study.bestTrial, undefined);
  });

  it('writes its log as JSON lines and reads it back, non-finite values included', async () => {
    const path = join(root, 'roundtrip.jsonl');
    const study = new Study({ name: 'gbdt-cpu', space, sampler: new TpeSampler({ seed: 5 }) });
    await study.optimize(
      async ({ x }, trial) => {
        trial.report(0, Number.NaN);
        trial.report(1, Number.POSITIVE_INFINITY);
        if (trial.number === 2) throw new Error('boom');
        return trial.number === 3 ? Number.NEGATIVE_INFINITY : x;
      },
      { trials: 5 },
    );
    await study.writeLog(path);
    assert.equal(readFileSync(path, 'utf8'), study.formatLog());
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(lines.length, 6);
    const log = await readStudyLog(path);
    assert.deepEqual(log.header, study.header());
    assert.equal(log.header.sampler.seed, 5);
    assert.deepEqual(log.trials, study.trials);
    assert.equal(log.trials[3]!.value, Number.NEGATIVE_INFINITY);
  });

  it('continues from a log: history informs the sampler and numbering carries on', async () => {
    const path = join(root, 'resume.jsonl');
    const first = new Study({ space, sampler: new TpeSampler({ seed: 6 }), logPath: path });
    await first.optimize(({ x, depth }) => x * x + depth, { trials: 12 });
    // Kept up to date per trial, not only at the end.
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 13);
    const { trials } = await readStudyLog(path);
    const resumed = new Study({
      space,
      sampler: new TpeSampler({ seed: 7 }),
      history: trials,
      logPath: path,
    });
    await resumed.optimize(({ x, depth }) => x * x + depth, { trials: 3 });
    assert.deepEqual(
      resumed.trials.map((t) => t.number),
      Array.from({ length: 15 }, (_, i) => i),
    );
    assert.equal((await readStudyLog(path)).trials.length, 15);
    assert.throws(() => new Study({ space: { x: float(0, 1) }, history: trials }), /history\[0\]\.params/);
  });

  it('skips a torn last line but refuses a corrupt one in the middle', async () => {
    const study = new Study({ space, sampler: new RandomSampler({ seed: 8 }) });
    await study.optimize(({ x }) => x, { trials: 2 });
    const path = join(root, 'torn.jsonl');
    await study.writeLog(path);
    const text = readFileSync(path, 'utf8');
    assert.equal(parseStudyLog(`${text}{"type":"trial","numb`).trials.length, 2);
    const lines = text.split('\n');
    writeFileSync(path, [lines[0], '{"type":"trial","number":"one"}', lines[1], ''].join('\n'));
    await assert.rejects(readStudyLog(path), (err: ValidationError) =>
      /torn\.jsonl:2\.number/.test(err.message),
    );
  });

  it('tells a listener about every finished trial', async () => {
    const seen: TrialRecord[] = [];
    const study = new Study({
      space,
      sampler: new RandomSampler({ seed: 9 }),
      onTrialFinished: (t) => void seen.push(t),
    });
    await study.optimize(() => 1, { trials: 3 });
    assert.deepEqual(seen, study.trials);
  });
});
