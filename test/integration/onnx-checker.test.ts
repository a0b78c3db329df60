/**
 * Exported models must pass the reference ONNX checker of the oldest onnx we
 * support, Debian's python3-onnx 1.12 (IR 8, opset 17, ai.onnx.ml 3), with
 * full_check (strict shape and type inference).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Objective } from '../../models/gbdt/model.js';
import { exportGbdtToOnnx } from '../../models/onnx/export.js';
import { normalSample, randomModel, seededRandom } from '../helpers/random-gbdt.js';
import { PYTHON3_ONNX, requireTool } from '../helpers/require-tool.js';

const CHECK = 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-onnx-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('onnx.checker (python3-onnx)', () => {
  for (const objective of ['binary', 'regression', 'quantile'] as const satisfies readonly Objective[]) {
    it(`accepts an exported ${objective} model`, async (t) => {
      if (!(await requireTool(t, PYTHON3_ONNX))) return;
      const rand = seededRandom(11);
      const features = 7;
      const model = randomModel(rand, {
        objective,
        trees: 30,
        features,
        maxDepth: 6,
        sample: normalSample(rand, 300, features),
        leafScale: 1,
        baseScore: 0.5,
      });
      const path = join(dir, `${objective}.onnx`);
      writeFileSync(path, exportGbdtToOnnx(model, { featureSchemaHash: 'h', trainingRunId: 'r' }));
      const result = spawnSync('/usr/bin/python3', ['-c', CHECK, path], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.status, 0, `onnx.checker rejected ${objective}:\n${result.stderr}`);
    });
  }
});
