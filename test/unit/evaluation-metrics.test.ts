import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prAuc, rocAuc, thresholdCounts } from '../../models/evaluation/metrics.js';

// Expected values are scikit-learn's roc_auc_score and average_precision_score
// on the same inputs (NaN and -Infinity replaced by a score below all others),
// and are worked by hand in the comments.

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);

describe('rocAuc and prAuc', () => {
  it('match scikit-learn on distinct scores', () => {
    const labels = [1, 0, 1, 0, 1, 0];
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    // Positives beat 3 + 2 + 1 of the 3 × 3 pairs.
    close(rocAuc(labels, scores), 6 / 9);
    // Precision at each positive: 1, 2/3, 3/5.
    close(prAuc(labels, scores), (1 + 2 / 3 + 3 / 5) / 3);
  });

  it('treat a block of tied scores as one threshold', () => {
    const labels = [1, 0, 1, 1, 0, 0, 1, 0];
    const scores = [0.8, 0.8, 0.5, 0.3, 0.3, 0.3, 0.1, 0.9];
    close(rocAuc(labels, scores), 0.34375);
    close(prAuc(labels, scores), 0.44047619047619047);
  });

  it('rank NaN scores lowest, tied with -Infinity, whatever their position', () => {
    const labels = [1, 0, 1, 1, 0, 0, 1, 0];
    const scores = [0.8, NaN, NaN, 0.3, 0.3, 0.9, NaN, -Infinity];
    // Descending: 0.9 (neg), 0.8 (pos), 0.3 (pos, neg), then {NaN ×3, -Inf}: 2 pos, 2 neg.
    // Precision 1/2 at every recall step: AP = 0.5.
    close(rocAuc(labels, scores), 0.46875);
    close(prAuc(labels, scores), 0.5);
    // Any order of the rows gives the same figures (the sort used to depend on it).
    for (let shift = 1; shift < labels.length; shift++) {
      const l = labels.map((_, i) => labels[(i + shift) % labels.length]!);
      const s = scores.map((_, i) => scores[(i + shift) % scores.length]!);
      close(rocAuc(l, s), 0.46875);
      close(prAuc(l, s), 0.5);
    }
  });

  it('give 0.5 and the base rate when every score is NaN', () => {
    const labels = [1, 0, 0, 1, 0];
    const scores = new Float64Array(5).fill(NaN);
    close(rocAuc(labels, scores), 0.5);
    close(prAuc(labels, scores), 2 / 5);
  });

  it('are NaN when a class is missing', () => {
    assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
    assert.ok(Number.isNaN(rocAuc([0, 0], [0.2, 0.3])));
    assert.ok(Number.isNaN(prAuc([0, 0], [0.2, 0.3])));
    close(prAuc([1, 1], [0.2, NaN]), 1);
  });

  it('accept Float32Array scores and ±0 as one score', () => {
    const labels = new Float64Array([1, 0, 1, 0]);
    const scores = new Float32Array([0, -0, 0.5, -0]);
    // 0.5 (pos), then {0, -0, -0}: 1 pos, 2 neg.
    close(rocAuc(labels, scores), (2 + 0.5 * 2) / 4);
  });
});

describe('thresholdCounts', () => {
  it('lists cumulative counts per distinct score, highest first, NaN as -Infinity', () => {
    const c = thresholdCounts([1, 0, 1, 1, 0], [0.5, NaN, 0.9, 0.5, -Infinity]);
    assert.deepEqual([...c.thresholds], [0.9, 0.5, -Infinity]);
    assert.deepEqual([...c.truePositives], [1, 3, 3]);
    assert.deepEqual([...c.falsePositives], [0, 0, 2]);
    assert.equal(c.positives, 3);
    assert.equal(c.negatives, 2);
  });

  it('rejects scores that do not match the labels', () => {
    assert.throws(() => thresholdCounts([1, 0], [0.5]), RangeError);
  });
});
