/**
 * Random but well-formed GbdtModel ensembles for the ONNX parity tests and the
 * scoring benchmark, built from a seeded generator so failures repeat.
 */
import type { GbdtModel, Objective, Tree } from '../../models/gbdt/model.js';

/** Small, seedable PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draw (Box–Muller). */
export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A row-major sample of `rows` × `features` standard-normal values, as float64. */
export function normalSample(rand: () => number, rows: number, features: number): Float64Array {
  const data = new Float64Array(rows * features);
  for (let i = 0; i < data.length; i++) data[i] = normal(rand);
  return data;
}

export interface RandomModelOptions {
  objective: Objective;
  trees: number;
  features: number;
  maxDepth: number;
  /** Row-major sample with `features` columns; thresholds are float32 values taken from it (finite ones). */
  sample: Float64Array;
  /** Every branch goes to maxDepth when true; otherwise a branch stops early with probability `leafChance`. */
  full?: boolean;
  leafChance?: number;
  /** Leaf values are uniform in ±leafScale, rounded to float32. */
  leafScale: number;
  baseScore: number;
}

export function randomModel(rand: () => number, o: RandomModelOptions): GbdtModel {
  const trees: Tree[] = [];
  for (let t = 0; t < o.trees; t++) trees.push(randomTree(rand, o));
  return {
    objective: o.objective,
    ...(o.objective === 'quantile' && { alpha: 0.9 }),
    featureNames: Array.from({ length: o.features }, (_, i) => `f${i}`),
    baseScore: o.baseScore,
    trees,
  };
}

/**
 * One tree; children are allocated in pairs (left, right) after their parent,
 * a breadth-ish layout unlike the exporter's pre-order, so renumbering is exercised.
 */
export function randomTree(rand: () => number, o: RandomModelOptions): Tree {
  const nodes: Array<{ f: number; t: number; dl: number; l: number; r: number; v: number }> = [];
  const rows = o.sample.length / o.features;
  const grow = (index: number, depth: number): void => {
    const node = nodes[index]!;
    const stop = depth >= o.maxDepth || (!o.full && rand() < (o.leafChance ?? 0.25));
    if (stop) {
      node.v = Math.fround((rand() * 2 - 1) * o.leafScale);
      return;
    }
    node.f = Math.floor(rand() * o.features);
    let x = NaN;
    while (!Number.isFinite(x)) x = o.sample[Math.floor(rand() * rows) * o.features + node.f]!;
    node.t = Math.fround(x);
    node.dl = rand() < 0.5 ? 1 : 0;
    node.l = nodes.length;
    node.r = nodes.length + 1;
    nodes.push(emptyNode(), emptyNode());
    grow(node.l, depth + 1);
    grow(node.r, depth + 1);
  };
  nodes.push(emptyNode());
  grow(0, 0);

  const n = nodes.length;
  const tree: Tree = {
    feature: new Int32Array(n),
    threshold: new Float32Array(n),
    defaultLeft: new Uint8Array(n),
    left: new Int32Array(n),
    right: new Int32Array(n),
    value: new Float32Array(n),
    gain: new Float64Array(n),
    count: new Int32Array(n),
  };
  nodes.forEach((node, i) => {
    tree.feature[i] = node.f;
    tree.threshold[i] = node.t;
    tree.defaultLeft[i] = node.dl;
    tree.left[i] = node.l;
    tree.right[i] = node.r;
    tree.value[i] = node.v;
  });
  return tree;
}

function emptyNode() {
  return { f: -1, t: 0, dl: 0, l: -1, r: -1, v: 0 };
}
