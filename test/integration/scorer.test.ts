import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { predictRow, type GbdtModel } from '../../models/gbdt/model.js';
import { exportGbdtToOnnx, type OnnxModelMeta } from '../../models/onnx/export.js';
import { CloudSenseError, NotFoundError, ValidationError } from '../../shared/errors.js';
import { SCORING_ENGINES, loadScorer, type ScorerOptions } from '../../shared/inference/scorer.js';
import { normalSample, randomModel, seededRandom } from '../helpers/random-gbdt.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-onnx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FEATURES = ['cpu.util.mean_5m', 'mem.used.slope_15m', 'disk.free.min_1h'];
const META: OnnxModelMeta = {
  featureSchemaHash: 'sha256:5f1c0d',
  trainingRunId: 'run-2026-05-01T10:00:00Z',
  modelVersion: '7',
  producerVersion: '9.9.9-test',
  extraMetadata: { horizon_minutes: '30' },
};

function model(objective: GbdtModel['objective'], seed = 1): GbdtModel {
  const rand = seededRandom(seed);
  const m = randomModel(rand, {
    objective,
    trees: 8,
    features: FEATURES.length,
    maxDepth: 4,
    sample: normalSample(rand, 100, FEATURES.length),
    leafScale: 0.5,
    baseScore: 0.25,
  });
  return { ...m, featureNames: FEATURES, ...(objective === 'quantile' && { alpha: 0.95 }) };
}

/** Rejects with an error of `type` whose message matches `message`. */
async function rejectsWith(
  p: Promise<unknown>,
  type: new (...args: never[]) => Error,
  message: RegExp,
): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

for (const engine of SCORING_ENGINES) {
  describe(`Scorer, ${engine} engine`, () => {
    const load = (model: Uint8Array | string, options: ScorerOptions = {}) =>
      loadScorer(model, { ...options, engine });
    const byEngine = (patterns: Record<typeof engine, RegExp>) => patterns[engine];

    it('round-trips the metadata of every objective', async () => {
      for (const objective of ['binary', 'regression', 'quantile'] as const) {
        const m = model(objective);
        const scorer = await load(exportGbdtToOnnx(m, META));
        try {
          assert.deepEqual(
            { ...scorer.metadata, props: undefined },
            {
              featureNames: FEATURES,
              featureSchemaHash: META.featureSchemaHash,
              objective,
              ...(objective === 'quantile' && { alpha: 0.95 }),
              trainingRunId: META.trainingRunId,
              modelVersion: '7',
              numTrees: 8,
              baseScore: 0.25,
              producerName: 'cloudsense',
              producerVersion: '9.9.9-test',
              props: undefined,
            },
          );
          assert.equal(scorer.metadata.props.horizon_minutes, '30');
          assert.equal(scorer.metadata.props.feature_names, JSON.stringify(FEATURES));
          assert.equal(scorer.engine, engine);
          assert.equal(scorer.outputName, objective === 'binary' ? 'probability' : 'value');
          assert.equal(scorer.featureCount, FEATURES.length);
        } finally {
          await scorer.release();
        }
      }
    });

    it('leaves model_version and alpha out when they do not apply', async () => {
      const scorer = await load(exportGbdtToOnnx(model('regression'), { ...META, modelVersion: undefined }));
      assert.equal('modelVersion' in scorer.metadata, false);
      assert.equal('alpha' in scorer.metadata, false);
      assert.equal(scorer.metadata.props.alpha, undefined);
      await scorer.release();
    });

    it('loads from a file path and scores rows given as a view into a larger buffer', async () => {
      const m = model('binary', 2);
      const path = join(dir, 'binary.onnx');
      writeFileSync(path, exportGbdtToOnnx(m, META));
      const scorer = await load(path, { intraOpNumThreads: 2 });
      try {
        const F = FEATURES.length;
        const backing = new Float32Array(10 * F).map((_, i) => Math.sin(i) * 2);
        const rows = backing.subarray(3 * F, 7 * F); // rows 3..6, byteOffset ≠ 0
        const got = await scorer.score(rows, 4);
        assert.equal(got.length, 4);
        for (let r = 0; r < 4; r++) {
          const expected = predictRow(m, rows.subarray(r * F, (r + 1) * F));
          assert.ok(Math.abs(got[r]! - expected) < 1e-6, `row ${r}: ${got[r]} vs ${expected}`);
        }
        assert.deepEqual(await scorer.score(new Float32Array(0), 0), new Float32Array(0));
      } finally {
        await scorer.release();
      }
    });

    it('rejects rows of the wrong length, a bad row count and non-float32 input with ValidationError', async () => {
      const scorer = await load(exportGbdtToOnnx(model('binary'), META));
      try {
        await rejectsWith(
          scorer.score(new Float32Array(7), 2),
          ValidationError,
          /rows has 7 values, expected nRows × features = 2 × 3 = 6/,
        );
        await rejectsWith(scorer.score(new Float32Array(3), 1.5), ValidationError, /nRows must be/);
        await rejectsWith(scorer.score(new Float32Array(0), -1), ValidationError, /nRows must be/);
        const notFloat32 = new Float64Array(3) as unknown as Float32Array;
        await rejectsWith(scorer.score(notFloat32, 1), ValidationError, /Float32Array/);
        // Still usable after bad calls.
        assert.equal((await scorer.score(new Float32Array(3), 1)).length, 1);
      } finally {
        await scorer.release();
      }
    });

    it('refuses to score after release, and release is safe twice', async () => {
      const scorer = await load(exportGbdtToOnnx(model('regression'), META));
      await scorer.release();
      await scorer.release();
      await rejectsWith(scorer.score(new Float32Array(3), 1), CloudSenseError, /after release/);
    });

    it('rejects garbage bytes, an empty buffer and foreign ONNX models with ValidationError', async () => {
      const rand = seededRandom(5);
      const garbage = new Uint8Array(4096).map(() => Math.floor(rand() * 256));
      await rejectsWith(load(garbage), ValidationError, /not an ONNX model|metadata_props/);
      await rejectsWith(load(new Uint8Array(0)), ValidationError, /not an ONNX model \(0 bytes\)/);
      await rejectsWith(
        load(new TextEncoder().encode('this is not a model')),
        ValidationError,
        /not an ONNX model|metadata_props/,
      );

      const { ModelProto, StringStringEntryProto } = onnxProto.onnx;
      const exported = exportGbdtToOnnx(model('binary'), META);
      const withProps = (edit: (props: Record<string, string>) => void) => {
        const proto = ModelProto.decode(exported);
        const props: Record<string, string> = {};
        for (const p of proto.metadataProps) props[p.key ?? ''] = p.value ?? '';
        edit(props);
        proto.metadataProps = Object.entries(props).map(([key, value]) =>
          StringStringEntryProto.create({ key, value }),
        );
        return ModelProto.encode(proto).finish();
      };
      await rejectsWith(
        load(withProps((p) => delete p.feature_names)),
        ValidationError,
        /metadata_props: feature_names: missing/,
      );
      await rejectsWith(load(withProps((p) => (p.objective = 'ranking'))), ValidationError, /objective/);
      await rejectsWith(
        load(withProps((p) => (p.feature_names = '["a","b"]'))),
        ValidationError,
        byEngine({
          onnxruntime: /input shape \[N, 3\] does not fit 2 feature names/,
          trees: /a node reads feature 2, the model has 2/,
        }),
      );
      await rejectsWith(
        load(withProps((p) => (p.objective = 'regression'))),
        ValidationError,
        byEngine({ onnxruntime: /needs output value/, trees: /writes probability, not value/ }),
      );

      // Valid metadata, broken graph: the engine's own error, wrapped.
      const broken = ModelProto.decode(exported);
      broken.graph!.node![0]!.opType = 'NoSuchOperator';
      await rejectsWith(
        load(ModelProto.encode(broken).finish()),
        ValidationError,
        byEngine({
          onnxruntime: /onnxruntime cannot load the model: .*NoSuchOperator/,
          trees: /trees engine cannot run this model \(the graph \(NoSuchOperator → TreeEnsembleRegressor/,
        }),
      );
    });

    it('names the path of a missing model file', async () => {
      await rejectsWith(load(join(dir, 'absent.onnx')), NotFoundError, /absent\.onnx/);
    });

    if (engine === 'onnxruntime') {
      it('rejects bad thread counts before creating a session', async () => {
        const bytes = exportGbdtToOnnx(model('binary'), META);
        await rejectsWith(load(bytes, { intraOpNumThreads: -1 }), ValidationError, /intraOpNumThreads/);
        await rejectsWith(load(bytes, { interOpNumThreads: 1.5 }), ValidationError, /interOpNumThreads/);
      });
    }
  });
}
