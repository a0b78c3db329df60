/** The exported graph's shape and the exporter's refusals, read back with onnx-proto (no runtime). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { onnx } from 'onnx-proto';
import onnxProto from 'onnx-proto';
import type { GbdtModel, Tree } from '../../models/gbdt/model.js';
import { exportGbdtToOnnx, type OnnxModelMeta } from '../../models/onnx/export.js';
import { ValidationError } from '../../shared/errors.js';

const { ModelProto, AttributeProto } = onnxProto.onnx;
const META: OnnxModelMeta = { featureSchemaHash: 'h1', trainingRunId: 'run-1' };

/** root: x[1] <= 0.5 (NaN left) ? leaf 0.25 : (x[0] <= -1 (NaN right) ? leaf -0.5 : leaf 1), laid out out of order. */
function tree(): Tree {
  // Index 0 root, 1 inner split, 2..4 leaves; children listed right-first to test renumbering.
  return {
    feature: Int32Array.from([1, 0, -1, -1, -1]),
    threshold: Float32Array.from([0.5, -1, 0, 0, 0]),
    defaultLeft: Uint8Array.from([1, 0, 0, 0, 0]),
    left: Int32Array.from([4, 3, -1, -1, -1]),
    right: Int32Array.from([1, 2, -1, -1, -1]),
    value: Float32Array.from([0, 0, 1, -0.5, 0.25]),
    gain: new Float64Array(5),
    count: new Int32Array(5),
  };
}

function model(overrides: Partial<GbdtModel> = {}): GbdtModel {
  return { objective: 'binary', featureNames: ['a', 'b'], baseScore: 0.1, trees: [tree()], ...overrides };
}

/** The decoded model and its graph, repeated fields defaulted (protobufjs types them as optional). */
function decode(bytes: Uint8Array) {
  const proto = ModelProto.decode(bytes);
  const graph = proto.graph!;
  return { proto, nodes: graph.node ?? [], inputs: graph.input ?? [], outputs: graph.output ?? [] };
}

const shape = (v: onnx.IValueInfoProto) =>
  (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue));

function attributes(node: onnx.INodeProto) {
  const text = new TextDecoder();
  return Object.fromEntries(
    (node.attribute ?? []).map((a) => {
      switch (a.type) {
        case AttributeProto.AttributeType.INTS:
          return [a.name, (a.ints ?? []).map(Number)];
        case AttributeProto.AttributeType.FLOATS:
          return [a.name, a.floats];
        case AttributeProto.AttributeType.TENSOR:
          return [a.name, a.t?.doubleData];
        case AttributeProto.AttributeType.STRINGS:
          return [a.name, (a.strings ?? []).map((s) => text.decode(s))];
        case AttributeProto.AttributeType.STRING:
          return [a.name, text.decode(a.s ?? new Uint8Array())];
        default:
          return [a.name, Number(a.i)];
      }
    }),
  ) as Record<string, unknown>;
}

describe('exportGbdtToOnnx', () => {
  it('writes IR 8, opsets 17 / ai.onnx.ml 3, and the documented inputs and outputs', () => {
    const { proto, nodes, inputs, outputs } = decode(exportGbdtToOnnx(model(), META));
    assert.equal(Number(proto.irVersion), 8);
    assert.deepEqual(
      proto.opsetImport.map((o) => [o.domain, Number(o.version)]),
      [
        ['', 17],
        ['ai.onnx.ml', 3],
      ],
    );
    assert.deepEqual(
      inputs.map((v) => [v.name, shape(v)]),
      [['features', ['N', 2]]],
    );
    assert.deepEqual(
      outputs.map((v) => [v.name, shape(v)]),
      [
        ['probability', ['N', 1]],
        ['raw_score', ['N', 1]],
      ],
    );
    assert.deepEqual(
      nodes.map((n) => [n.opType, n.domain, n.input, n.output]),
      [
        ['Cast', '', ['features'], ['features_f64']],
        ['TreeEnsembleRegressor', 'ai.onnx.ml', ['features_f64'], ['raw_score']],
        ['Sigmoid', '', ['raw_score'], ['probability']],
      ],
    );

    const regression = decode(exportGbdtToOnnx(model({ objective: 'regression' }), META));
    assert.deepEqual(
      regression.nodes.map((n) => [n.opType, n.output?.[0]]),
      [
        ['Cast', 'features_f64'],
        ['TreeEnsembleRegressor', 'raw_score'],
        ['Identity', 'value'],
      ],
    );
    assert.deepEqual(
      regression.outputs.map((v) => v.name),
      ['value', 'raw_score'],
    );
  });

  it('renumbers nodes in pre-order and carries thresholds, NaN direction and leaf values', () => {
    const a = attributes(decode(exportGbdtToOnnx(model(), META)).nodes[1]!);
    // Pre-order from the root: 0 root, 1 leaf 0.25 (old 4), 2 split (old 1), 3 leaf -0.5 (old 3), 4 leaf 1 (old 2).
    assert.deepEqual(a.nodes_nodeids, [0, 1, 2, 3, 4]);
    assert.deepEqual(a.nodes_modes, ['BRANCH_LEQ', 'LEAF', 'BRANCH_LEQ', 'LEAF', 'LEAF']);
    assert.deepEqual(a.nodes_featureids, [1, 0, 0, 0, 0]);
    // Thresholds, leaves and base score as double tensors: onnxruntime then sums in double.
    assert.deepEqual(a.nodes_values_as_tensor, [0.5, 0, -1, 0, 0]);
    assert.deepEqual(a.nodes_truenodeids, [1, 0, 3, 0, 0]);
    assert.deepEqual(a.nodes_falsenodeids, [2, 0, 4, 0, 0]);
    assert.deepEqual(a.nodes_missing_value_tracks_true, [1, 0, 0, 0, 0]);
    assert.deepEqual(a.target_nodeids, [1, 3, 4]);
    assert.deepEqual(a.target_weights_as_tensor, [0.25, -0.5, 1]);
    assert.deepEqual(a.target_ids, [0, 0, 0]);
    assert.deepEqual(a.base_values_as_tensor, [0.1]);
    assert.equal(a.aggregate_function, 'SUM');
    assert.equal(a.post_transform, 'NONE');
    assert.equal(a.n_targets, 1);
  });

  it('writes the metadata_props', () => {
    const { proto } = decode(
      exportGbdtToOnnx(model({ objective: 'quantile', alpha: 0.9, trees: [tree(), tree()] }), {
        ...META,
        modelVersion: 'v3',
        extraMetadata: { horizon_minutes: '60' },
      }),
    );
    assert.deepEqual(Object.fromEntries((proto.metadataProps ?? []).map((p) => [p.key, p.value])), {
      horizon_minutes: '60',
      feature_names: '["a","b"]',
      feature_schema_hash: 'h1',
      objective: 'quantile',
      alpha: '0.9',
      training_run_id: 'run-1',
      model_version: 'v3',
      num_trees: '2',
      base_score: '0.1',
    });
  });

  it('refuses models it cannot export faithfully, saying where', () => {
    const refuses = (m: GbdtModel, message: RegExp, meta = META) =>
      assert.throws(
        () => exportGbdtToOnnx(m, meta),
        (err: unknown) => {
          assert.ok(err instanceof ValidationError);
          assert.match(err.message, message);
          return true;
        },
      );
    const broken = (edit: (t: Tree) => void) => {
      const t = tree();
      edit(t);
      return model({ trees: [t] });
    };
    refuses(model({ trees: [] }), /trees: no trees/);
    refuses(model({ featureNames: [] }), /featureNames: no features/);
    refuses(model({ featureNames: ['a', 'a'] }), /duplicate feature names/);
    refuses(model({ objective: 'quantile' }), /alpha/);
    refuses(model({ baseScore: NaN }), /baseScore/);
    refuses(
      broken((t) => (t.feature[1] = 2)),
      /tree 0, node 1: feature 2 is out of range/,
    );
    refuses(
      broken((t) => (t.left[1] = 9)),
      /tree 0, node 1: child index out of range/,
    );
    refuses(
      broken((t) => (t.right[1] = 0)),
      /tree 0, node 0: reached twice/,
    );
    refuses(
      broken((t) => (t.value[2] = Infinity)),
      /tree 0, node 2: leaf value Infinity/,
    );
    refuses(
      broken((t) => (t.threshold[0] = NaN)),
      /tree 0, node 0: threshold is NaN/,
    );
    refuses(
      broken((t) => (t.value = new Float32Array(3))),
      /tree 0: value has 3 entries, feature has 5/,
    );
    refuses(model(), /featureSchemaHash: empty/, { ...META, featureSchemaHash: '' });
    refuses(model(), /extraMetadata.objective: reserved/, { ...META, extraMetadata: { objective: 'x' } });
  });
});
