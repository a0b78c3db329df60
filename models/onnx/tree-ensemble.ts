/**
 * Flattens a GbdtModel's trees into the parallel arrays of an ONNX
 * `ai.onnx.ml` TreeEnsembleRegressor node (opset 3): one entry per node in
 * the `nodes_*` arrays, one per leaf in the `target_*` arrays.
 *
 * Semantics carried over from models/gbdt/model.ts:
 * - internal node: BRANCH_LEQ on the float32 threshold; the true branch
 *   (`x <= threshold`) is the left child;
 * - NaN follows the left (true) child when `defaultLeft` is 1, through
 *   `nodes_missing_value_tracks_true`; otherwise the comparison is false and
 *   it goes right, as in `leafIndex`;
 * - leaf: one target weight, the float32 leaf value.
 *
 * Nodes are renumbered in depth-first pre-order from the root, so the export
 * does not depend on how the trainer laid out its arrays, and nodes the root
 * cannot reach are left out. A tree whose links are broken (index out of
 * range, a node reached twice) is rejected rather than exported.
 */
import { ValidationError } from '../../shared/errors.js';
import type { Tree } from '../gbdt/model.js';

export type NodeMode = 'BRANCH_LEQ' | 'LEAF';

export interface TreeEnsembleArrays {
  nodesTreeIds: number[];
  nodesNodeIds: number[];
  nodesFeatureIds: number[];
  nodesModes: NodeMode[];
  /** Float32 thresholds; 0 for leaves. */
  nodesValues: number[];
  nodesTrueNodeIds: number[];
  nodesFalseNodeIds: number[];
  nodesMissingValueTracksTrue: number[];
  targetTreeIds: number[];
  targetNodeIds: number[];
  /** Always 0: one target. */
  targetIds: number[];
  targetWeights: number[];
}

export function flattenTrees(trees: readonly Tree[], featureCount: number): TreeEnsembleArrays {
  const out: TreeEnsembleArrays = {
    nodesTreeIds: [],
    nodesNodeIds: [],
    nodesFeatureIds: [],
    nodesModes: [],
    nodesValues: [],
    nodesTrueNodeIds: [],
    nodesFalseNodeIds: [],
    nodesMissingValueTracksTrue: [],
    targetTreeIds: [],
    targetNodeIds: [],
    targetIds: [],
    targetWeights: [],
  };
  trees.forEach((tree, treeId) => appendTree(out, tree, treeId, featureCount));
  return out;
}

function appendTree(out: TreeEnsembleArrays, tree: Tree, treeId: number, featureCount: number): void {
  const { feature, threshold, defaultLeft, left, right, value } = tree;
  const order = preorder(tree, treeId, featureCount);
  // Old index → new (pre-order) id; -1 for nodes the root cannot reach.
  const newId = new Int32Array(feature.length).fill(-1);
  order.forEach((node, id) => (newId[node] = id));

  order.forEach((node, id) => {
    out.nodesTreeIds.push(treeId);
    out.nodesNodeIds.push(id);
    if (feature[node]! >= 0) {
      out.nodesFeatureIds.push(feature[node]!);
      out.nodesModes.push('BRANCH_LEQ');
      out.nodesValues.push(threshold[node]!);
      out.nodesTrueNodeIds.push(newId[left[node]!]!);
      out.nodesFalseNodeIds.push(newId[right[node]!]!);
      out.nodesMissingValueTracksTrue.push(defaultLeft[node] ? 1 : 0);
    } else {
      out.nodesFeatureIds.push(0);
      out.nodesModes.push('LEAF');
      out.nodesValues.push(0);
      out.nodesTrueNodeIds.push(0);
      out.nodesFalseNodeIds.push(0);
      out.nodesMissingValueTracksTrue.push(0);
      out.targetTreeIds.push(treeId);
      out.targetNodeIds.push(id);
      out.targetIds.push(0);
      out.targetWeights.push(value[node]!);
    }
  });
}

/** Node indices reachable from the root, depth-first pre-order, after checking every link. */
function preorder(tree: Tree, treeId: number, featureCount: number): number[] {
  const { feature, threshold, left, right, value } = tree;
  const n = feature.length;
  const bad = (node: number, why: string) =>
    new ValidationError(`tree ${treeId}, node ${node}: ${why}`, { path: `trees.${treeId}` });
  for (const [name, arr] of Object.entries({
    threshold,
    defaultLeft: tree.defaultLeft,
    left,
    right,
    value,
  })) {
    if (arr.length !== n) {
      throw new ValidationError(`tree ${treeId}: ${name} has ${arr.length} entries, feature has ${n}`, {
        path: `trees.${treeId}.${name}`,
      });
    }
  }
  if (n === 0) throw new ValidationError(`tree ${treeId} has no nodes`, { path: `trees.${treeId}` });

  const seen = new Uint8Array(n);
  const order: number[] = [];
  const stack = [0];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen[node]) throw bad(node, 'reached twice (the links do not form a tree)');
    seen[node] = 1;
    order.push(node);
    const f = feature[node]!;
    if (f < 0) {
      if (!Number.isFinite(value[node]!)) throw bad(node, `leaf value ${value[node]} is not finite`);
      continue;
    }
    if (f >= featureCount) throw bad(node, `feature ${f} is out of range (${featureCount} features)`);
    if (Number.isNaN(threshold[node]!)) throw bad(node, 'threshold is NaN');
    const l = left[node]!;
    const r = right[node]!;
    if (!(l >= 0 && l < n && r >= 0 && r < n)) throw bad(node, `child index out of range (${l}, ${r})`);
    // Right first, so the left child is popped, and numbered, next.
    stack.push(r, l);
  }
  return order;
}
