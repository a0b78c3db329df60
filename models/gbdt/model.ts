/**
 * A trained gradient-boosted tree ensemble, in the flat typed-array form the
 * trainer produces and the ONNX exporter and the TypeScript scorer read.
 *
 * Numeric semantics (shared with the ONNX export, so both score alike):
 * - inputs are compared as float32: `Math.fround(x) <= threshold` goes left
 *   (ONNX BRANCH_LEQ, true branch = left); thresholds are float32 values;
 * - NaN goes left when `defaultLeft[node]` is 1 (ONNX
 *   `nodes_missing_value_tracks_true`), right otherwise;
 * - leaf values are float32 values, already scaled by the learning rate;
 * - the raw score is `baseScore + Σ leaf values`; for `binary` the
 *   probability is `1 / (1 + exp(-raw))`.
 */
export const OBJECTIVES = ['binary', 'regression', 'quantile'] as const;
export type Objective = (typeof OBJECTIVES)[number];

export interface Tree {
  /** Split feature index per node; -1 marks a leaf. */
  feature: Int32Array;
  /** Split threshold per node (a float32 value); unused for leaves. */
  threshold: Float32Array;
  /** 1 when a missing value (NaN) goes to the left child. */
  defaultLeft: Uint8Array;
  /** Child node indices; -1 for leaves. Node 0 is the root. */
  left: Int32Array;
  right: Int32Array;
  /** Leaf output per node (float32, learning rate applied); 0 for internal nodes. */
  value: Float32Array;
  /** Split gain per internal node, for importance; 0 for leaves. */
  gain: Float64Array;
  /** Training rows that reached each node. */
  count: Int32Array;
}

export interface GbdtModel {
  objective: Objective;
  /** Quantile level for the `quantile` objective, 0..1. */
  alpha?: number;
  featureNames: string[];
  /** Initial raw score added to every prediction. */
  baseScore: number;
  trees: Tree[];
  /** Iteration with the best validation score when early stopping ran; trees beyond it are already cut. */
  bestIteration?: number;
}

/** Raw score (margin) for one row; `row[f]` is feature f. */
export function rawScore(model: GbdtModel, row: ArrayLike<number>): number {
  let sum = model.baseScore;
  for (const tree of model.trees) sum += tree.value[leafIndex(tree, row)]!;
  return sum;
}

/** The leaf a row reaches in one tree; the row is `row[offset + feature]`. */
export function leafIndex(tree: Tree, row: ArrayLike<number>, offset = 0): number {
  let node = 0;
  const { feature, threshold, defaultLeft, left, right } = tree;
  while (feature[node]! >= 0) {
    const x = row[offset + feature[node]!]!;
    if (Number.isNaN(x)) node = defaultLeft[node] ? left[node]! : right[node]!;
    else node = Math.fround(x) <= threshold[node]! ? left[node]! : right[node]!;
  }
  return node;
}

/** The model's output for one row: probability for `binary`, value otherwise. */
export function predictRow(model: GbdtModel, row: ArrayLike<number>): number {
  const raw = rawScore(model, row);
  return model.objective === 'binary' ? sigmoid(raw) : raw;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
