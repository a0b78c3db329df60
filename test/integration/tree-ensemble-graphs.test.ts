/**
 * The `trees` engine on tree ensembles written by hand rather than by the
 * exporter: nodes listed and numbered out of order, every branch mode
 * ONNX-ML defines, NaN sent either way, scored against onnxruntime on rows
 * at, below and above every threshold; and malformed ensembles (cycles, a
 * node with two parents, a tree with two roots, a child that does not
 * exist, a weight on a branch, two on a leaf, a tree not listed together
 * and root first, an unknown mode) refused with a ValidationError before
 * anything is scored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { exportGbdtToOnnx } from '../../models/onnx/export.js';
import { ValidationError } from '../../shared/errors.js';
import { loadScorer } from '../../shared/inference/scorer.js';
import { normalSample, randomModel, seededRandom } from '../helpers/random-gbdt.js';

const { ModelProto, AttributeProto, TensorProto } = onnxProto.onnx;
const FEATURES = ['a', 'b', 'c'];

/** One node as the ONNX attributes list it: [tree, id, mode, feature, value, true id, false id, NaN goes true]. */
type NodeRow = [number, number, string, number, number, number, number, 0 | 1];
/** A leaf's weight: [tree, node id, weight]. */
type TargetRow = [number, number, number];

/** An exported binary model over FEATURES with its ensemble replaced by `nodes` and `targets`. */
function modelWith(nodes: NodeRow[], targets: TargetRow[], castToDouble = true): Uint8Array {
  const rand = seededRandom(3);
  const base = randomModel(rand, {
    objective: 'binary',
    trees: 2,
    features: FEATURES.length,
    maxDepth: 2,
    sample: normalSample(rand, 50, FEATURES.length),
    leafScale: 0.5,
    baseScore: 0.25,
  });
  const proto = ModelProto.decode(
    exportGbdtToOnnx(
      { ...base, featureNames: FEATURES },
      { featureSchemaHash: 'sha256:test', trainingRunId: 'hand-written' },
    ),
  );
  const graph = proto.graph!;
  const ensemble = graph.node!.find((n) => n.opType === 'TreeEnsembleRegressor')!;
  const column = <T>(i: number) => nodes.map((n) => n[i] as T);
  const ints = (name: string, values: number[]): onnx.IAttributeProto => ({
    name,
    type: AttributeProto.AttributeType.INTS,
    ints: values,
  });
  // Double tensors (`*_as_tensor`) for a double input, float lists for a float32 one.
  const doubles = (name: string, values: number[]): onnx.IAttributeProto =>
    castToDouble
      ? {
          name: `${name}_as_tensor`,
          type: AttributeProto.AttributeType.TENSOR,
          t: { name, dataType: TensorProto.DataType.DOUBLE, dims: [values.length], doubleData: values },
        }
      : { name, type: AttributeProto.AttributeType.FLOATS, floats: values };
  const kept = ensemble.attribute!.filter((a) => !/^(nodes|target|base_values)_/.test(a.name ?? ''));
  ensemble.attribute = [
    ...kept,
    doubles('base_values', [0.25]),
    ints('nodes_treeids', column(0)),
    ints('nodes_nodeids', column(1)),
    {
      name: 'nodes_modes',
      type: AttributeProto.AttributeType.STRINGS,
      strings: column<string>(2).map((m) => new TextEncoder().encode(m)),
    },
    ints('nodes_featureids', column(3)),
    doubles('nodes_values', column(4)),
    ints('nodes_truenodeids', column(5)),
    ints('nodes_falsenodeids', column(6)),
    ints('nodes_missing_value_tracks_true', column(7)),
    ints(
      'target_treeids',
      targets.map((t) => t[0]),
    ),
    ints(
      'target_nodeids',
      targets.map((t) => t[1]),
    ),
    ints(
      'target_ids',
      targets.map(() => 0),
    ),
    doubles(
      'target_weights',
      targets.map((t) => t[2]),
    ),
  ];
  if (!castToDouble) {
    // The ensemble reads the float32 input directly: thresholds and sums in float32.
    const cast = graph.node!.findIndex((n) => n.opType === 'Cast');
    ensemble.input = graph.node![cast]!.input;
    graph.node!.splice(cast, 1);
  }
  return ModelProto.encode(proto).finish();
}

// Two trees, each root first (as onnxruntime requires), the other nodes out
// of order and their ids not in preorder; every branch mode.
const NODES: NodeRow[] = [
  [0, 0, 'BRANCH_LT', 0, 0.5, 3, 5, 1],
  [0, 7, 'BRANCH_GT', 2, 0, 4, 8, 0],
  [0, 1, 'LEAF', 0, 0, 0, 0, 0],
  [0, 5, 'BRANCH_EQ', 2, 1, 2, 6, 1],
  [0, 3, 'BRANCH_GTE', 1, -0.25, 7, 1, 0],
  [0, 2, 'LEAF', 0, 0, 0, 0, 0],
  [0, 6, 'LEAF', 0, 0, 0, 0, 0],
  [0, 4, 'LEAF', 0, 0, 0, 0, 0],
  [0, 8, 'LEAF', 0, 0, 0, 0, 0],
  [1, 0, 'BRANCH_NEQ', 0, 0.5, 1, 2, 0],
  [1, 2, 'LEAF', 0, 0, 0, 0, 0],
  [1, 3, 'LEAF', 0, 0, 0, 0, 0],
  [1, 1, 'BRANCH_LEQ', 1, 0.75, 3, 4, 1],
  [1, 4, 'LEAF', 0, 0, 0, 0, 0],
];
const TARGETS: TargetRow[] = [
  [0, 1, -1.5],
  [0, 2, 0.75],
  [0, 6, 2.2],
  [0, 4, -0.3],
  [0, 8, 1.1],
  [1, 2, 0.4],
  [1, 3, -0.9],
  [1, 4, 0.6],
];

/** Every combination of NaN, each threshold, and values either side of it. */
function rowsAroundThresholds(): { rows: Float32Array; count: number } {
  const a = [NaN, 0.25, 0.5, 0.75];
  const b = [NaN, -0.5, -0.25, 0, 0.75, 1];
  const c = [NaN, -1, 0, 0.5, 1, 2];
  const out: number[] = [];
  for (const x of a) for (const y of b) for (const z of c) out.push(x, y, z);
  return { rows: Float32Array.from(out), count: out.length / 3 };
}

describe('trees engine on hand-written ensembles', () => {
  for (const castToDouble of [true, false]) {
    it(`scores every branch mode and NaN direction as onnxruntime does (${castToDouble ? 'double' : 'float32'} input)`, async () => {
      const bytes = modelWith(NODES, TARGETS, castToDouble);
      const { rows, count } = rowsAroundThresholds();
      const runtime = await loadScorer(bytes, { engine: 'onnxruntime' });
      const trees = await loadScorer(bytes, { engine: 'trees' });
      try {
        const expected = await runtime.score(rows, count);
        const got = await trees.score(rows, count);
        for (let r = 0; r < count; r++) {
          const scale = Math.max(1, Math.abs(expected[r]!));
          assert.ok(
            Math.abs(got[r]! - expected[r]!) / scale <= 2e-7,
            `row ${Array.from(rows.subarray(3 * r, 3 * r + 3)).join(', ')}: ${got[r]} against ${expected[r]}`,
          );
        }
        // The rows reach all 11 pairs of leaves the two trees can give together
        // (both roots read \`a\`), each pair a different sum.
        assert.equal(new Set(expected).size, 11);
      } finally {
        await runtime.release();
        await trees.release();
      }
    });
  }

  const refused: Array<[string, NodeRow[], TargetRow[], RegExp]> = [
    [
      'a cycle away from the root',
      [
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 2, 0],
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
        [0, 2, 'LEAF', 0, 0, 0, 0, 0],
        [0, 3, 'BRANCH_LEQ', 1, 0.5, 4, 5, 0],
        [0, 4, 'BRANCH_LEQ', 2, 0.5, 3, 6, 0],
        [0, 5, 'LEAF', 0, 0, 0, 0, 0],
        [0, 6, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 1, 1]],
      /the trees contain a cycle/,
    ],
    [
      'a cycle through the root',
      [
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 2, 0],
        [0, 1, 'BRANCH_LEQ', 1, 0.5, 0, 3, 0],
        [0, 2, 'LEAF', 0, 0, 0, 0, 0],
        [0, 3, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 2, 1]],
      /tree 0 is not listed root first/,
    ],
    [
      'a tree with two roots',
      [
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 2, 0],
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
        [0, 2, 'LEAF', 0, 0, 0, 0, 0],
        [0, 3, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 1, 1]],
      /2 root nodes for 1 trees/,
    ],
    [
      'a node with two parents',
      [
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 1, 0],
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 1, 1]],
      /node 0:1 has two parents/,
    ],
    [
      'a child that does not exist',
      [
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 9, 0],
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 1, 1]],
      /node 0:0 points at a missing node/,
    ],
    [
      'a weight on a branch',
      [
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 2, 0],
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
        [0, 2, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 0, 1]],
      /target 0:0 is not a leaf/,
    ],
    [
      'two weights on one leaf (onnxruntime keeps the first, the operator adds them)',
      [
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 2, 0],
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
        [0, 2, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [
        [0, 1, 1],
        [0, 1, 0.5],
      ],
      /leaf 0:1 has more than one weight/,
    ],
    [
      'a tree not listed root first',
      [
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 2, 0],
        [0, 2, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 1, 1]],
      /tree 0 is not listed root first/,
    ],
    [
      'the nodes of a tree not listed together',
      [
        [0, 0, 'BRANCH_LEQ', 0, 0.5, 1, 2, 0],
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
        [1, 0, 'LEAF', 0, 0, 0, 0, 0],
        [0, 2, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 1, 1]],
      /the nodes of tree 0 are not listed together/,
    ],
    [
      'an unknown mode',
      [
        [0, 0, 'BRANCH_SOMETIMES', 0, 0.5, 1, 2, 0],
        [0, 1, 'LEAF', 0, 0, 0, 0, 0],
        [0, 2, 'LEAF', 0, 0, 0, 0, 0],
      ],
      [[0, 1, 1]],
      /node mode BRANCH_SOMETIMES is not supported/,
    ],
  ];
  for (const [what, nodes, targets, message] of refused) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(loadScorer(modelWith(nodes, targets), { engine: 'trees' }), (err: unknown) => {
        assert.ok(err instanceof ValidationError, String(err));
        assert.match(err.message, /trees engine cannot run this model/);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
