/**
 * The `trees` engine against onnxruntime on every bundled model (the six
 * forecasts and their eighteen band models): rows built around the models'
 * own split values, so each branch is taken both ways, with values exactly
 * at a threshold and NaN, must score the same to float32 rounding.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUNDLED_MODELS_DIR } from '../../shared/inference/model-files.js';
import { FEATURES_INPUT, PREDICTION_OUTPUT } from '../../shared/inference/onnx-contract.js';
import { readOnnxMetadata } from '../../shared/inference/onnx-metadata.js';
import { LEAF, readTreeEnsemble } from '../../shared/inference/onnx-trees.js';
import { loadScorer } from '../../shared/inference/scorer.js';
import { seededRandom } from '../helpers/random-gbdt.js';

const ROWS = 2000;
const dir = BUNDLED_MODELS_DIR!;
const files = readdirSync(dir).filter((f) => f.endsWith('.onnx'));

/** Per feature, the split values the model uses, and its number of leaves over all trees. */
function splitValues(bytes: Uint8Array): { perFeature: number[][]; leaves: number } {
  const metadata = readOnnxMetadata(bytes);
  const trees = readTreeEnsemble(bytes, FEATURES_INPUT, PREDICTION_OUTPUT[metadata.objective]);
  const perFeature: number[][] = metadata.featureNames.map(() => []);
  let leaves = 0;
  for (let k = 0; k < trees.mode.length; k++) {
    if (trees.mode[k] !== LEAF) perFeature[trees.feature[k]!]!.push(trees.value[k]!);
    else leaves++;
  }
  return { perFeature, leaves };
}

function rowsAround(splits: number[][], seed: number): Float32Array {
  const rand = seededRandom(seed);
  const width = splits.length;
  const rows = new Float32Array(ROWS * width);
  for (let r = 0; r < ROWS; r++) {
    for (let f = 0; f < width; f++) {
      const values = splits[f]!;
      const u = rand();
      let x: number;
      if (u < 0.08 || values.length === 0) x = NaN;
      else {
        const t = values[Math.floor(rand() * values.length)]!;
        // At the threshold (its float32, as the features are), just below or just above it.
        x = u < 0.3 ? t : t + (rand() - 0.5) * Math.max(1e-3, Math.abs(t) * 0.05);
      }
      rows[r * width + f] = x;
    }
  }
  return rows;
}

describe('trees engine against onnxruntime on the bundled models', () => {
  it('finds the bundled models', () => {
    assert.ok(files.length >= 24, `expected 6 forecasts and 18 band models in ${dir}, found ${files.length}`);
  });

  for (const [i, file] of files.entries()) {
    it(`scores ${file} as onnxruntime does`, async () => {
      const bytes = readFileSync(join(dir, file));
      const { perFeature, leaves } = splitValues(bytes);
      const rows = rowsAround(perFeature, 1000 + i);
      const runtime = await loadScorer(bytes, { engine: 'onnxruntime' });
      const trees = await loadScorer(bytes, { engine: 'trees' });
      try {
        const expected = await runtime.score(rows, ROWS);
        const got = await trees.score(rows, ROWS);
        let worst = 0;
        for (let r = 0; r < ROWS; r++) {
          const scale = Math.max(1, Math.abs(expected[r]!));
          worst = Math.max(worst, Math.abs(got[r]! - expected[r]!) / scale);
        }
        assert.ok(worst <= 2e-7, `${file}: largest difference ${worst} (relative)`);
        // The rows really do spread the scores: not all one leaf path (a model of one small tree has
        // only as many scores as leaves).
        assert.ok(
          new Set(expected).size > Math.min(ROWS / 10, leaves / 2),
          `${file}: the rows reach too few distinct scores`,
        );
      } finally {
        await runtime.release();
        await trees.release();
      }
    });
  }
});
