/**
 * The exported ONNX model, scored by onnxruntime, must agree with the
 * TypeScript walk in models/gbdt/model.ts on every row, including the cases
 * where the numeric rules matter: NaN (defaultLeft), values exactly on a
 * threshold and one float32 step either side, float64 values that round onto
 * a threshold, ±Infinity, and values beyond float32's range.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predictRow, type GbdtModel, type Objective } from '../../models/gbdt/model.js';
import { exportGbdtToOnnx } from '../../models/onnx/export.js';
import { OnnxScorer } from '../../shared/inference/onnx-scorer.js';
import { normal, normalSample, randomModel, seededRandom } from '../helpers/random-gbdt.js';

/** Agreement bound: absolute below 1, relative above (float32 accumulation in onnxruntime). */
const TOLERANCE = 1e-5;
const FLT_MAX = 3.4028234663852886e38;

const SCALES: Record<Objective, { baseScore: number; leafScale: number }> = {
  binary: { baseScore: -1.3, leafScale: 0.4 },
  regression: { baseScore: 123_456.75, leafScale: 2_000 },
  quantile: { baseScore: -3.25, leafScale: 2 },
};

interface Case {
  name: string;
  seed: number;
  objective: Objective;
  features: number;
  trees: number;
  maxDepth: number;
  /** Sample values rounded to integers, so test rows land on thresholds often. */
  discrete?: boolean;
}

const CASES: Case[] = [
  { name: 'binary, deep', seed: 1, objective: 'binary', features: 12, trees: 40, maxDepth: 8 },
  {
    name: 'binary, discrete',
    seed: 2,
    objective: 'binary',
    features: 5,
    trees: 25,
    maxDepth: 6,
    discrete: true,
  },
  { name: 'binary, one feature', seed: 3, objective: 'binary', features: 1, trees: 10, maxDepth: 7 },
  {
    name: 'regression, large values',
    seed: 4,
    objective: 'regression',
    features: 20,
    trees: 60,
    maxDepth: 7,
  },
  {
    name: 'regression, discrete',
    seed: 5,
    objective: 'regression',
    features: 8,
    trees: 30,
    maxDepth: 8,
    discrete: true,
  },
  { name: 'regression, stumps', seed: 6, objective: 'regression', features: 30, trees: 50, maxDepth: 1 },
  { name: 'quantile', seed: 7, objective: 'quantile', features: 16, trees: 35, maxDepth: 6 },
  {
    name: 'quantile, discrete',
    seed: 8,
    objective: 'quantile',
    features: 3,
    trees: 20,
    maxDepth: 8,
    discrete: true,
  },
];

describe('ONNX export parity with predictRow', () => {
  for (const c of CASES) {
    it(`agrees on every row: ${c.name}`, async (t) => {
      const rand = seededRandom(c.seed);
      const model = buildModel(rand, c);
      const rows = testRows(rand, model);
      const worst = await assertParity(model, rows);
      t.diagnostic(`${rows.length} rows, worst scaled difference ${worst.toExponential(2)}`);
    });
  }

  it('agrees with single-leaf trees, stumps and deep trees mixed, bases of both signs', async () => {
    const rand = seededRandom(99);
    const features = 6;
    const sample = normalSample(rand, 500, features);
    for (const objective of ['binary', 'regression', 'quantile'] as const) {
      const trees = [0, 1, 8, 0, 3].flatMap(
        (maxDepth) =>
          randomModel(rand, {
            objective,
            trees: 4,
            features,
            maxDepth,
            sample,
            leafScale: 1,
            baseScore: 0,
          }).trees,
      );
      const base = randomModel(rand, {
        objective,
        trees: 1,
        features,
        maxDepth: 0,
        sample,
        leafScale: 1,
        baseScore: 0,
      });
      for (const baseScore of [0.75, -42.5]) {
        const model = { ...base, trees, baseScore };
        await assertParity(model, testRows(rand, model));
      }
    }
  });
});

function buildModel(rand: () => number, c: Case): GbdtModel {
  const sample = normalSample(rand, 1000, c.features);
  if (c.discrete) for (let i = 0; i < sample.length; i++) sample[i] = Math.round(sample[i]! * 3);
  return randomModel(rand, {
    objective: c.objective,
    trees: c.trees,
    features: c.features,
    maxDepth: c.maxDepth,
    sample,
    leafChance: 0.2,
    ...SCALES[c.objective],
  });
}

/** Test rows as float64 (predictRow rounds with Math.fround; onnxruntime gets the Float32Array copy). */
function testRows(rand: () => number, model: GbdtModel): number[][] {
  const F = model.featureNames.length;
  const rows: number[][] = [];
  const normalRow = () => Array.from({ length: F }, () => normal(rand) * (rand() < 0.5 ? 1 : 3));
  for (let i = 0; i < 200; i++) rows.push(normalRow());

  // On, next to, and rounding onto the thresholds of internal nodes.
  const splits = model.trees.flatMap((tree) =>
    Array.from(tree.feature).flatMap((f, node) => (f >= 0 ? [{ f, t: tree.threshold[node]! }] : [])),
  );
  for (let i = 0; i < Math.min(splits.length, 300); i++) {
    const { f, t } = splits[Math.floor(rand() * splits.length)]!;
    const up = nextFloat32(t, 1);
    const down = nextFloat32(t, -1);
    for (const x of [t, up, down, t + (up - t) / 4, t - (t - down) / 4]) {
      const row = normalRow();
      row[f] = x;
      rows.push(row);
    }
  }
  // Every split feature on one of its thresholds at once.
  for (let i = 0; i < 50 && splits.length > 0; i++) {
    const row = normalRow();
    for (let k = 0; k < 4 * F; k++) {
      const { f, t } = splits[Math.floor(rand() * splits.length)]!;
      row[f] = t;
    }
    rows.push(row);
  }

  const special = [NaN, Infinity, -Infinity, FLT_MAX, -FLT_MAX, 1e30, -1e30, 1e39, -1e300, 1e-45, -0];
  for (let i = 0; i < 150; i++) {
    const row = normalRow();
    for (let f = 0; f < F; f++) if (rand() < 0.3) row[f] = special[Math.floor(rand() * special.length)]!;
    rows.push(row);
  }
  for (let i = 0; i < 50; i++) rows.push(normalRow().map((x) => (rand() < 0.4 ? NaN : x)));
  for (const x of special) rows.push(Array.from({ length: F }, () => x));
  return rows;
}

/** The float32 next to `x` (a float32 value) towards +∞ (dir 1) or −∞ (dir −1). */
function nextFloat32(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * 1e-45;
  const f = new Float32Array([x]);
  const bits = new Int32Array(f.buffer);
  bits[0]! += x > 0 === dir > 0 ? 1 : -1;
  return f[0]!;
}

/** Fails on the first row out of tolerance; resolves with the worst |Δ| / max(1, |expected|). */
async function assertParity(model: GbdtModel, rows: number[][]): Promise<number> {
  const F = model.featureNames.length;
  const scorer = await OnnxScorer.load(
    exportGbdtToOnnx(model, { featureSchemaHash: 'parity', trainingRunId: 'parity-run' }),
  );
  try {
    const matrix = new Float32Array(rows.length * F);
    rows.forEach((row, r) => matrix.set(row, r * F));
    const got = await scorer.score(matrix, rows.length);
    let worst = 0;
    for (let r = 0; r < rows.length; r++) {
      const expected = predictRow(model, rows[r]!);
      const diff = Math.abs(got[r]! - expected);
      worst = Math.max(worst, diff / Math.max(1, Math.abs(expected)));
      if (!(diff <= TOLERANCE * Math.max(1, Math.abs(expected)))) {
        assert.fail(
          `row ${r} [${rows[r]!.join(', ')}]: onnxruntime ${got[r]}, predictRow ${expected} (diff ${diff})`,
        );
      }
    }
    return worst;
  } finally {
    await scorer.release();
  }
}
