/**
 * Parity on models the trainer produced (not only random ensembles): each
 * objective, with missing values in training and test rows, exported and
 * scored by onnxruntime, agrees with the TypeScript model on every test row.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predictRow } from '../../models/gbdt/model.js';
import type { GbdtParamsInput } from '../../models/gbdt/params.js';
import { trainGbdt } from '../../models/gbdt/train.js';
import { exportGbdtToOnnx } from '../../models/onnx/export.js';
import { SeededRandom } from '../../models/random.js';
import { OnnxScorer } from '../../shared/inference/onnx-scorer.js';

const F = 6;

function dataset(n: number, seed: number) {
  const rng = new SeededRandom(seed);
  const features = new Float32Array(n * F);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) features[i * F + f] = rng.next() < 0.08 ? NaN : rng.normal() * (f + 1);
    const x0 = Number.isNaN(features[i * F]!) ? 2 : features[i * F]!;
    value[i] = Math.sin(x0) * 50 + (features[i * F + 1]! > 0 ? 30 : -10) + 5 * rng.normal();
  }
  return { features, value, n };
}

const CASES: Array<{ name: string; params: GbdtParamsInput; label: (v: number) => number }> = [
  {
    name: 'binary',
    params: { objective: 'binary', numIterations: 80, numLeaves: 31 },
    label: (v) => (v > 10 ? 1 : 0),
  },
  {
    name: 'binary with bagging and feature sampling',
    params: {
      objective: 'binary',
      numIterations: 50,
      baggingFraction: 0.7,
      baggingFreq: 1,
      featureFraction: 0.5,
      seed: 9,
    },
    label: (v) => (v > 0 ? 1 : 0),
  },
  {
    name: 'regression',
    params: { objective: 'regression', numIterations: 120, numLeaves: 63, lambdaL2: 1 },
    label: (v) => v * 1000,
  },
  { name: 'quantile P90', params: { objective: 'quantile', alpha: 0.9, numIterations: 60 }, label: (v) => v },
];

describe('ONNX parity on trained models', () => {
  for (const c of CASES) {
    it(`${c.name}: onnxruntime agrees with the TypeScript model to 1e-5 on every row`, async () => {
      const train = dataset(5000, 1);
      const test = dataset(2000, 2);
      const { model } = trainGbdt(
        {
          features: train.features,
          labels: Array.from(train.value, c.label),
          numRows: train.n,
          featureNames: ['a', 'b', 'c', 'd', 'e', 'f'],
        },
        c.params,
      );
      const scorer = await OnnxScorer.load(
        exportGbdtToOnnx(model, { featureSchemaHash: 'test', trainingRunId: 'test' }),
      );
      try {
        const onnx = await scorer.score(test.features, test.n);
        let worst = 0;
        for (let i = 0; i < test.n; i++) {
          const expected = predictRow(model, test.features.subarray(i * F, (i + 1) * F));
          const diff = Math.abs(onnx[i]! - expected) / Math.max(1, Math.abs(expected));
          worst = Math.max(worst, diff);
          assert.ok(diff <= 1e-5, `row ${i}: onnxruntime ${onnx[i]} vs ${expected}`);
        }
        assert.ok(model.trees.length > 10 && worst >= 0);
      } finally {
        await scorer.release();
      }
    });
  }
});
