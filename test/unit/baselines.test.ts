import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoreBaseline } from '../../models/baselines/rules.js';
import { FEATURE_COUNT, FeatureExtractor } from '../../shared/features/index.js';
import { DEFAULT_FILESYSTEM_EXHAUSTION } from '../../shared/resources/index.js';

/** Feature vectors of a filesystem filling linearly from `start` at `perHour`, sampled each minute. */
function fillingDisk(start: number, perHour: number, hours: number): Float32Array {
  const extractor = new FeatureExtractor({ kind: 'filesystem', exhaustion: DEFAULT_FILESYSTEM_EXHAUSTION });
  const t0 = Date.UTC(2026, 0, 1);
  for (let m = 0; m <= hours * 60; m++) extractor.push(t0 + m * 60_000, start + (perHour * m) / 60);
  return extractor.vector(t0 + hours * 60 * 60_000);
}

describe('baseline rules', () => {
  it('predict_linear and fill rate alert on a disk that fills within the horizon; the static rule does not yet', () => {
    // 0.60 → 0.78 over 6 h: at 3%/h it reaches 0.95 in about 5.7 h, inside the 6 h horizon.
    const v = fillingDisk(0.6, 0.03, 6);
    for (const rule of ['predict_linear', 'fill_rate'] as const) {
      assert.equal(scoreBaseline(rule, v, 1, FEATURE_COUNT).alert[0], 1, rule);
    }
    assert.equal(scoreBaseline('static_threshold', v, 1, FEATURE_COUNT).alert[0], 0);
  });

  it('stay quiet on a flat disk, and rank a faster fill as riskier', () => {
    const flat = fillingDisk(0.5, 0, 6);
    const slow = fillingDisk(0.5, 0.01, 6);
    const fast = fillingDisk(0.5, 0.05, 6);
    for (const rule of ['predict_linear', 'fill_rate', 'static_threshold'] as const) {
      assert.equal(scoreBaseline(rule, flat, 1, FEATURE_COUNT).alert[0], 0, rule);
    }
    for (const rule of ['predict_linear', 'fill_rate'] as const) {
      const score = (v: Float32Array) => scoreBaseline(rule, v, 1, FEATURE_COUNT).score[0]!;
      assert.ok(score(fast) > score(slow), rule);
    }
  });

  it('the static rule alerts on a nearly full disk', () => {
    const v = fillingDisk(0.9, 0, 2);
    assert.equal(scoreBaseline('static_threshold', v, 1, FEATURE_COUNT).alert[0], 1);
  });
});
