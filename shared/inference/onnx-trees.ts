/**
 * Reads the tree ensemble out of a CloudSense ONNX model's graph, for the
 * `trees` scoring engine (tree-scorer.ts): straight from the protobuf wire
 * format (proto-wire.ts) into typed arrays, one entry per tree node, 15
 * bytes a node (the agent holds every resource's model for its life).
 *
 * Accepted graphs are the ones models/onnx/export.ts writes, and nothing
 * else, so that the engine cannot silently score another graph differently
 * from onnxruntime:
 *
 *   features float32 [N, F]
 *     [→ Cast(to=DOUBLE)]
 *     → TreeEnsembleRegressor (ai.onnx.ml, n_targets 1, SUM, post_transform NONE)
 *     → Sigmoid | Identity → the prediction output
 *
 * Node semantics follow the ONNX-ML operator: a branch node compares the
 * row's feature with its value by its mode (BRANCH_LEQ, BRANCH_LT,
 * BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ) and goes to its true node
 * when the comparison holds; a missing value (NaN) goes to the true node
 * when `nodes_missing_value_tracks_true` is 1, and otherwise fails the
 * comparison (as IEEE NaN comparisons do) except BRANCH_NEQ. A leaf adds its
 * target weight; the ensemble adds base_values. A leaf with two weights is
 * refused: the operator adds them, onnxruntime keeps the first. As
 * onnxruntime requires, each tree's nodes are listed together, root first.
 */
import {
  WIRE_FIXED32,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  expectWire,
  forEachField,
  int64,
  pushFixed,
  pushInt64s,
  text,
} from './proto-wire.js';

/** ModelProto.graph; GraphProto.node; NodeProto and AttributeProto fields (onnx.proto3). */
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTR_NAME = 1;
const ATTR_F = 2;
const ATTR_I = 3;
const ATTR_S = 4;
const ATTR_T = 5;
const ATTR_FLOATS = 7;
const ATTR_INTS = 8;
const ATTR_STRINGS = 9;
/** TensorProto fields. */
const TENSOR_DIMS = 1;
const TENSOR_DATA_TYPE = 2;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_RAW_DATA = 9;
const TENSOR_DOUBLE_DATA = 10;
const TENSOR_FLOAT = 1;
const TENSOR_DOUBLE = 11;

export const BRANCH_MODES = [
  'BRANCH_LEQ',
  'BRANCH_LT',
  'BRANCH_GTE',
  'BRANCH_GT',
  'BRANCH_EQ',
  'BRANCH_NEQ',
] as const;
/** Mode codes in `TreeEnsemble.mode`: the index in BRANCH_MODES, plus MISSING_TRUE; or LEAF. */
export const LEAF = -1;
/** Set in a branch's mode code when a missing value (NaN) goes to its true node. */
export const MISSING_TRUE = 8;
/** A mode code's BRANCH_MODES index. */
export const BRANCH_MODE_MASK = 7;
/** Features a model may have: node feature ids are 16-bit. */
export const MAX_FEATURES = 0x10000;

/**
 * The ensemble as flat arrays indexed by node, each tree in preorder with
 * its true subtree first: a branch's true node is the next node, so only its
 * false node is stored.
 */
export interface TreeEnsemble {
  /** Index of each tree's root node. */
  roots: Int32Array;
  /** Per node: BRANCH_MODES index (| MISSING_TRUE), or LEAF. */
  mode: Int8Array;
  feature: Uint16Array;
  /** A branch's value (threshold), compared in double; a leaf's weight. */
  value: Float64Array;
  /** A branch's false node; its true node is k + 1. */
  falseNode: Int32Array;
  baseValue: number;
  /** Sigmoid after the sum (binary models) or the raw sum. */
  sigmoid: boolean;
  /** Whether the ensemble reads the input cast to double (thresholds and sums in double) or float32. */
  doubleInput: boolean;
}

interface NodeProto {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Attribute>;
}

interface Attribute {
  i?: number;
  s?: string;
  f?: number;
  ints: number[];
  floats: number[];
  strings: string[];
  tensor?: number[];
}

/**
 * Decodes and checks the graph; `input` and `output` are the graph's input
 * name and the prediction output its metadata promises. Throws an Error
 * naming what does not fit.
 */
export function readTreeEnsemble(bytes: Uint8Array, input: string, output: string): TreeEnsemble {
  const nodes = readGraphNodes(bytes);
  const chain = nodes.map((n) => n.opType).join(' → ');
  let at = 0;
  let doubleInput = false;
  let current = input;
  const next = (): NodeProto | undefined => nodes[at];
  const follows = (node: NodeProto) => node.inputs.length === 1 && node.inputs[0] === current;

  const cast = next();
  if (cast?.opType === 'Cast' && cast.domain === '' && follows(cast)) {
    if (cast.attributes.get('to')?.i !== TENSOR_DOUBLE)
      throw new Error('the Cast node does not cast to double');
    doubleInput = true;
    current = cast.outputs[0] ?? '';
    at++;
  }
  const trees = next();
  if (trees?.opType !== 'TreeEnsembleRegressor' || trees.domain !== 'ai.onnx.ml' || !follows(trees)) {
    throw new Error(`the graph (${chain}) is not a tree ensemble on the input ${input}`);
  }
  current = trees.outputs[0] ?? '';
  at++;
  const last = next();
  if (!last || !['Sigmoid', 'Identity'].includes(last.opType) || last.domain !== '' || !follows(last)) {
    throw new Error(`the graph (${chain}) does not end in Sigmoid or Identity after the ensemble`);
  }
  if (last.outputs[0] !== output) throw new Error(`the last node writes ${last.outputs[0]}, not ${output}`);
  if (at + 1 !== nodes.length) throw new Error(`the graph (${chain}) has nodes after the prediction`);
  return compile(trees.attributes, last.opType === 'Sigmoid', doubleInput);
}

function compile(attrs: Map<string, Attribute>, sigmoid: boolean, doubleInput: boolean): TreeEnsemble {
  const ints = (name: string) => attrs.get(name)?.ints ?? [];
  const scalar = (name: string) => attrs.get(name);
  if ((scalar('n_targets')?.i ?? 1) !== 1) throw new Error('n_targets must be 1');
  if ((scalar('aggregate_function')?.s ?? 'SUM') !== 'SUM') throw new Error('aggregate_function must be SUM');
  if ((scalar('post_transform')?.s ?? 'NONE') !== 'NONE') throw new Error('post_transform must be NONE');
  const numbers = (name: string): number[] =>
    attrs.get(`${name}_as_tensor`)?.tensor ?? attrs.get(name)?.floats ?? [];

  const treeIds = ints('nodes_treeids');
  const nodeIds = ints('nodes_nodeids');
  const featureIds = ints('nodes_featureids');
  const modes = attrs.get('nodes_modes')?.strings ?? [];
  const values = numbers('nodes_values');
  const trueIds = ints('nodes_truenodeids');
  const falseIds = ints('nodes_falsenodeids');
  const missing = ints('nodes_missing_value_tracks_true');
  const n = treeIds.length;
  if (n === 0) throw new Error('the ensemble has no nodes');
  for (const [name, list] of [
    ['nodes_nodeids', nodeIds],
    ['nodes_featureids', featureIds],
    ['nodes_modes', modes],
    ['nodes_values', values],
    ['nodes_truenodeids', trueIds],
    ['nodes_falsenodeids', falseIds],
  ] as const) {
    if (list.length !== n) throw new Error(`${name} has ${list.length} entries for ${n} nodes`);
  }
  if (missing.length !== 0 && missing.length !== n) throw new Error('nodes_missing_value_tracks_true length');

  // (tree, node) → index; ids are small non-negative integers in any model worth scoring.
  let stride = 0;
  let trees = 0;
  for (let k = 0; k < n; k++) {
    if (!(treeIds[k]! >= 0 && nodeIds[k]! >= 0)) throw new Error('tree and node ids must be non-negative');
    stride = Math.max(stride, nodeIds[k]! + 1);
    trees = Math.max(trees, treeIds[k]! + 1);
  }
  if (!Number.isSafeInteger(trees * stride)) throw new Error('tree and node ids are too large');
  const keyOf = (tree: number, node: number) => tree * stride + node;
  const index = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const key = keyOf(treeIds[k]!, nodeIds[k]!);
    if (index.has(key)) throw new Error(`node ${treeIds[k]}:${nodeIds[k]} appears twice`);
    index.set(key, k);
  }
  // The nodes as the file gives them, checked, then laid out in preorder.
  const mode = new Int8Array(n);
  const feature = new Uint16Array(n);
  const value = new Float64Array(n);
  const trueNode = new Int32Array(n).fill(-1);
  const falseNode = new Int32Array(n).fill(-1);
  const parents = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const name = modes[k]!;
    if (name === 'LEAF') {
      mode[k] = LEAF;
      continue;
    }
    const code = BRANCH_MODES.indexOf(name as (typeof BRANCH_MODES)[number]);
    if (code < 0) throw new Error(`node mode ${name} is not supported`);
    if (!(featureIds[k]! >= 0 && featureIds[k]! < MAX_FEATURES)) {
      throw new Error(`node ${treeIds[k]}:${nodeIds[k]} reads feature ${featureIds[k]}`);
    }
    mode[k] = code | (missing[k] ? MISSING_TRUE : 0);
    feature[k] = featureIds[k]!;
    value[k] = doubleInput ? values[k]! : Math.fround(values[k]!);
    for (const [ids, into] of [
      [trueIds, trueNode],
      [falseIds, falseNode],
    ] as const) {
      const child = ids[k]! >= 0 && ids[k]! < stride ? index.get(keyOf(treeIds[k]!, ids[k]!)) : undefined;
      if (child === undefined) throw new Error(`node ${treeIds[k]}:${nodeIds[k]} points at a missing node`);
      if (++parents[child]! > 1) throw new Error(`node ${treeIds[k]}:${ids[k]} has two parents`);
      into[k] = child;
    }
  }

  const targetTrees = ints('target_treeids');
  const targetNodes = ints('target_nodeids');
  const targetIds = ints('target_ids');
  const weights = numbers('target_weights');
  if (targetNodes.length !== targetTrees.length || weights.length !== targetTrees.length) {
    throw new Error('target_* attributes differ in length');
  }
  const weighted = new Uint8Array(n);
  for (let k = 0; k < targetTrees.length; k++) {
    if ((targetIds[k] ?? 0) !== 0) throw new Error('target_ids must all be 0 (one target)');
    const leaf =
      targetNodes[k]! >= 0 && targetNodes[k]! < stride
        ? index.get(keyOf(targetTrees[k]!, targetNodes[k]!))
        : undefined;
    if (leaf === undefined || mode[leaf] !== LEAF) {
      throw new Error(`target ${targetTrees[k]}:${targetNodes[k]} is not a leaf`);
    }
    // The operator's definition adds a leaf's weights; onnxruntime, with one
    // target, keeps the first. The exporter writes one weight a leaf.
    if (weighted[leaf]) throw new Error(`leaf ${targetTrees[k]}:${targetNodes[k]} has more than one weight`);
    weighted[leaf] = 1;
    value[leaf] = weights[k]!;
  }
  const base = numbers('base_values');
  if (base.length > 1) throw new Error('base_values has more than one value');

  // onnxruntime starts each tree at its first listed node, and needs a tree's nodes listed together.
  const listed = new Set<number>();
  for (let k = 0; k < n; k++) {
    if (k > 0 && treeIds[k] === treeIds[k - 1]) continue;
    if (listed.has(treeIds[k]!)) throw new Error(`the nodes of tree ${treeIds[k]} are not listed together`);
    listed.add(treeIds[k]!);
    if (parents[k] !== 0) throw new Error(`tree ${treeIds[k]} is not listed root first`);
  }
  const roots: number[] = [];
  for (let k = 0; k < n; k++) if (parents[k] === 0) roots.push(k);
  const treeCount = new Set(treeIds).size;
  if (roots.length !== treeCount) throw new Error(`${roots.length} root nodes for ${treeCount} trees`);

  // Preorder, true subtree first. Every node but a root has one parent, so a
  // node met twice, or one never met, is on a cycle: scoring cannot loop.
  const ensemble: TreeEnsemble = {
    roots: new Int32Array(roots.length),
    mode: new Int8Array(n),
    feature: new Uint16Array(n),
    value: new Float64Array(n),
    falseNode: new Int32Array(n).fill(-1),
    baseValue: base[0] ?? 0,
    sigmoid,
    doubleInput,
  };
  const placedAt = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  let next = 0;
  for (const [t, root] of roots.entries()) {
    ensemble.roots[t] = next;
    stack.push(root);
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (placedAt[k] !== -1) throw new Error('the trees contain a cycle');
      const at = next++;
      placedAt[k] = at;
      ensemble.mode[at] = mode[k]!;
      ensemble.feature[at] = feature[k]!;
      ensemble.value[at] = value[k]!;
      if (mode[k] !== LEAF) stack.push(falseNode[k]!, trueNode[k]!);
    }
  }
  if (next !== n) throw new Error('the trees contain a cycle');
  for (let k = 0; k < n; k++) {
    if (mode[k] !== LEAF) ensemble.falseNode[placedAt[k]!] = placedAt[falseNode[k]!]!;
  }
  return ensemble;
}

function readGraphNodes(bytes: Uint8Array): NodeProto[] {
  const nodes: NodeProto[] = [];
  let graphs = 0;
  forEachField(bytes, 0, bytes.length, (field, wire, start, end) => {
    if (field !== MODEL_GRAPH) return;
    expectWire(wire, WIRE_LENGTH_DELIMITED);
    graphs++;
    forEachField(bytes, start, end, (f, w, s, e) => {
      if (f !== GRAPH_NODE) return;
      expectWire(w, WIRE_LENGTH_DELIMITED);
      nodes.push(readNode(bytes, s, e));
    });
  });
  if (graphs !== 1) throw new Error(graphs === 0 ? 'no graph' : 'more than one graph');
  return nodes;
}

function readNode(bytes: Uint8Array, from: number, to: number): NodeProto {
  const node: NodeProto = { opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  forEachField(bytes, from, to, (field, wire, start, end) => {
    if (wire !== WIRE_LENGTH_DELIMITED) return;
    if (field === NODE_INPUT) node.inputs.push(text(bytes, start, end));
    else if (field === NODE_OUTPUT) node.outputs.push(text(bytes, start, end));
    else if (field === NODE_OP_TYPE) node.opType = text(bytes, start, end);
    else if (field === NODE_DOMAIN) node.domain = text(bytes, start, end);
    else if (field === NODE_ATTRIBUTE) {
      const [name, attribute] = readAttribute(bytes, start, end);
      node.attributes.set(name, attribute);
    }
  });
  return node;
}

function readAttribute(bytes: Uint8Array, from: number, to: number): [string, Attribute] {
  let name = '';
  const recent: RecentStrings = [];
  const a: Attribute = { ints: [], floats: [], strings: [] };
  forEachField(bytes, from, to, (field, wire, start, end) => {
    switch (field) {
      case ATTR_NAME:
        name = text(bytes, start, end);
        break;
      case ATTR_F:
        expectWire(wire, WIRE_FIXED32);
        a.f = new DataView(bytes.buffer, bytes.byteOffset + start, 4).getFloat32(0, true);
        break;
      case ATTR_I:
        expectWire(wire, WIRE_VARINT);
        a.i = int64(bytes, start, end)[0];
        break;
      case ATTR_S:
        a.s = text(bytes, start, end);
        break;
      case ATTR_T:
        a.tensor = readTensor(bytes, start, end);
        break;
      case ATTR_FLOATS:
        pushFixed(bytes, wire, start, end, 4, a.floats);
        break;
      case ATTR_INTS:
        pushInt64s(bytes, wire, start, end, a.ints);
        break;
      case ATTR_STRINGS:
        a.strings.push(recentText(bytes, start, end, recent));
        break;
    }
  });
  return [name, a];
}

/** A float or double tensor's values, from its typed field or raw_data (little-endian). */
function readTensor(bytes: Uint8Array, from: number, to: number): number[] {
  let type = 0;
  const values: number[] = [];
  const dims: number[] = [];
  let raw: [number, number] | undefined;
  forEachField(bytes, from, to, (field, wire, start, end) => {
    if (field === TENSOR_DATA_TYPE) type = int64(bytes, start, end)[0];
    else if (field === TENSOR_DIMS) pushInt64s(bytes, wire, start, end, dims);
    else if (field === TENSOR_FLOAT_DATA) pushFixed(bytes, wire, start, end, 4, values);
    else if (field === TENSOR_DOUBLE_DATA) pushFixed(bytes, wire, start, end, 8, values);
    else if (field === TENSOR_RAW_DATA) raw = [start, end];
  });
  if (type !== TENSOR_FLOAT && type !== TENSOR_DOUBLE)
    throw new Error(`tensor data type ${type} is not float or double`);
  if (raw) {
    pushFixed(bytes, WIRE_LENGTH_DELIMITED, raw[0], raw[1], type === TENSOR_FLOAT ? 4 : 8, values);
  }
  const expected = dims.reduce((p, d) => p * d, 1);
  if (values.length !== expected)
    throw new Error(`tensor holds ${values.length} values for dims [${dims.join(', ')}]`);
  return values;
}

/** The few distinct strings seen so far in one attribute, with their bytes. */
type RecentStrings = Array<{ bytes: Uint8Array; value: string }>;

/**
 * `text`, reusing the string decoded for the same bytes before: `nodes_modes`
 * repeats two strings tens of thousands of times, and decoding each anew
 * would leave that many strings (and the allocator's memory) behind.
 */
function recentText(bytes: Uint8Array, start: number, end: number, recent: RecentStrings): string {
  const length = end - start;
  for (const entry of recent) {
    if (entry.bytes.length !== length) continue;
    let same = true;
    for (let i = 0; i < length && same; i++) same = entry.bytes[i] === bytes[start + i];
    if (same) return entry.value;
  }
  const value = text(bytes, start, end);
  if (recent.length < 8) recent.push({ bytes: bytes.slice(start, end), value });
  return value;
}
