import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParamsOf } from '../../models/search/index.js';
import {
  RandomSampler,
  TpeSampler,
  categorical,
  defineSpace,
  float,
  int,
  parseParams,
} from '../../models/search/index.js';
import type { Sampler } from '../../models/search/index.js';
import type { TrialRecord } from '../../models/search/trial.js';
import { ValidationError } from '../../shared/errors.js';

const space = defineSpace({
  learningRate: float(0.01, 0.3, { log: true }),
  numLeaves: int(8, 255),
  minDataInLeaf: int(1, 1000, { log: true }),
  baggingFraction: float(0.5, 1, { step: 0.1 }),
  maxBin: int(15, 255, { step: 16 }),
  objective: categorical(['regression', 'quantile']),
  useMissing: categorical([true, false]),
  fixed: int(4, 4),
});

/** Asserts every value is inside its definition's rules. */
function assertInSpace(params: ParamsOf<typeof space>): void {
  assert.ok(params.learningRate >= 0.01 && params.learningRate <= 0.3);
  assert.ok(Number.isInteger(params.numLeaves) && params.numLeaves >= 8 && params.numLeaves <= 255);
  assert.ok(
    Number.isInteger(params.minDataInLeaf) && params.minDataInLeaf >= 1 && params.minDataInLeaf <= 1000,
  );
  const k = (params.baggingFraction - 0.5) / 0.1;
  assert.ok(
    Math.abs(k - Math.round(k)) < 1e-9 && params.baggingFraction <= 1,
    `baggingFraction ${params.baggingFraction}`,
  );
  assert.ok((params.maxBin - 15) % 16 === 0 && params.maxBin <= 255);
  assert.ok(['regression', 'quantile'].includes(params.objective));
  assert.equal(typeof params.useMissing, 'boolean');
  assert.equal(params.fixed, 4);
}

function draw(sampler: Sampler, n: number): ParamsOf<typeof space>[] {
  const trials: TrialRecord[] = [];
  const out: ParamsOf<typeof space>[] = [];
  for (let i = 0; i < n; i++) {
    const params = sampler.sample(space, { direction: 'minimize', trials });
    out.push(params);
    trials.push({
      number: i,
      params,
      state: 'complete',
      value: Math.abs(Math.log(params.learningRate / 0.05)) + params.numLeaves / 255,
      intermediateValues: [],
      startedAt: new Date(0).toISOString(),
      durationMs: 0,
      error: null,
    });
  }
  return out;
}

describe('search space', () => {
  it('types the parameters a study hands out', () => {
    const params: ParamsOf<typeof space> = new RandomSampler({ seed: 1 }).sample(space);
    // Compile-time checks: a categorical is its union of choices, numbers are numbers.
    const objective: 'regression' | 'quantile' = params.objective;
    const leaves: number = params.numLeaves;
    assert.ok(objective && leaves);
  });

  it('refuses definitions Optuna would refuse (or silently change)', () => {
    assert.throws(() => float(1, 0), ValidationError);
    assert.throws(() => float(0, 1, { log: true }), /low > 0/);
    assert.throws(() => float(1e-3, 1, { log: true, step: 0.1 }), /both log and step/);
    assert.throws(() => int(1, 10, { log: true, step: 2 }), /step 1/);
    assert.throws(() => int(1.5, 10), /integers/);
    assert.throws(() => int(0, 10, { step: 3 }), /multiple of step/);
    assert.throws(() => categorical([]), /choices/);
    assert.throws(() => categorical(['a', 'a']), /distinct/);
    assert.throws(
      () => defineSpace({ x: { kind: 'float', low: 2, high: 1, log: false, step: null } }),
      /x: low/,
    );
  });

  it('random sampling stays in bounds, on the grid, and is uniform in log space for log parameters', () => {
    const samples = draw(new RandomSampler({ seed: 3 }), 2_000);
    samples.forEach(assertInSpace);
    // Log-uniform on [0.01, 0.3]: the median is the geometric mean √(0.01·0.3) ≈ 0.055.
    const rates = samples.map((p) => p.learningRate).sort((a, b) => a - b);
    assert.ok(Math.abs(rates[1_000]! / Math.sqrt(0.003) - 1) < 0.1, `median ${rates[1_000]}`);
    // Every value of small grids and categoricals shows up, end points included.
    assert.deepEqual(new Set(samples.map((p) => p.baggingFraction.toFixed(1))).size, 6);
    assert.ok(samples.some((p) => p.maxBin === 15) && samples.some((p) => p.maxBin === 255));
    assert.deepEqual(new Set(samples.map((p) => p.useMissing)), new Set([true, false]));
    // Log scale favours small integers: 1 owns [0.5, 1.5) of the log range, about 14 % of draws.
    const ones = samples.filter((p) => p.minDataInLeaf === 1).length / samples.length;
    assert.ok(Math.abs(ones - Math.log(3) / Math.log(1000.5 / 0.5)) < 0.03, `share of 1: ${ones}`);
  });

  it('TPE samples stay in bounds and on the grid after the startup trials', () => {
    draw(new TpeSampler({ seed: 4, nStartupTrials: 5 }), 80).forEach(assertInSpace);
    draw(new TpeSampler({ seed: 5, nStartupTrials: 5, multivariate: true }), 60).forEach(assertInSpace);
  });

  it('checks parameters read from outside against the space', () => {
    const ok = { learningRate: 0.1, numLeaves: 31, minDataInLeaf: 20, baggingFraction: 0.8, maxBin: 255 };
    const full = { ...ok, objective: 'quantile', useMissing: false, fixed: 4 };
    assert.equal(parseParams(space, full).numLeaves, 31);
    assert.throws(() => parseParams(space, { ...full, numLeaves: 31.5 }), /params.numLeaves/);
    assert.throws(() => parseParams(space, { ...full, baggingFraction: 0.85 }), /baggingFraction/);
    assert.throws(() => parseParams(space, { ...full, objective: 'binary' }), /objective/);
    assert.throws(() => parseParams(space, { ...full, extra: 1 }), /not in the search space: extra/);
  });
});
