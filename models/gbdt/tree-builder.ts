import type { BinnedData } from './binning.js';
import { BIN_SHIFT } from './histogram.js';
import type { Tree } from './model.js';
import { gatherRecords, readRows } from './partition.js';
import { leafOutput, type NodeSums, type SplitCandidate, type SplitRules } from './split.js';
import { ROWS } from './thread-tasks.js';
import type { TrainingWork } from './training-work.js';

export interface TreeShape {
  numLeaves: number;
  /** <= 0 for no limit. */
  maxDepth: number;
}

/** A grown tree, with what the booster needs to update scores quickly. */
export interface GrownTree {
  tree: Tree;
  /** Split bin per node (internal nodes), to route binned rows without float compares. */
  splitBin: Int32Array;
  /** For each leaf node: the [begin, end) range of `rows` it holds. */
  leafRanges: Array<{ node: number; begin: number; end: number }>;
}

interface OpenLeaf {
  node: number;
  begin: number;
  end: number;
  depth: number;
  sums: NodeSums;
  /**
   * The record buffer (TaskState.buffers) holding the leaf's records at
   * [begin, end); ROWS when only its row indices are kept, in `rows`.
   */
  buffer: number;
  /** Histogram id; -1 when it has none (a leaf that cannot split needs none). */
  hist: number;
  split: SplitCandidate | undefined;
}

/**
 * Grows one tree leaf-wise (best-first), LightGBM-style: the leaf with the
 * largest gain splits next until `numLeaves` is reached or nothing gains.
 * Each split builds the histogram of the smaller child from its rows and gets
 * the larger child's by subtracting it from the parent's; histograms nobody
 * will search (children that cannot split) are not built at all.
 *
 * The records of a tree's rows move between two buffers as nodes split, so
 * that every node's records are contiguous (partition.ts). The work runs on
 * TrainingWork, alone or shared with worker threads, with the same result.
 */
export class TreeBuilder {
  constructor(
    private readonly binned: BinnedData,
    private readonly rules: SplitRules,
    private readonly shape: TreeShape,
    private readonly work: TrainingWork,
  ) {}

  /**
   * Grows a tree on the work's rows[0, count) (ascending: all rows, or a
   * bag), with the gradients of its current scores. On return rows[0, count)
   * are reordered so that every leaf's rows are contiguous.
   */
  grow(count: number, features: Int32Array, learningRate: number): GrownTree {
    const maxNodes = 2 * this.shape.numLeaves - 1;
    const feature = new Int32Array(maxNodes).fill(-1);
    const threshold = new Float32Array(maxNodes);
    const defaultLeft = new Uint8Array(maxNodes);
    const left = new Int32Array(maxNodes).fill(-1);
    const right = new Int32Array(maxNodes).fill(-1);
    const value = new Float32Array(maxNodes);
    const gain = new Float64Array(maxNodes);
    const nodeCount = new Int32Array(maxNodes);
    const splitBin = new Int32Array(maxNodes).fill(-1);

    const work = this.work;
    const { buffers, rows } = work.state;
    const W = this.binned.recordWords;
    work.gradients();
    work.setFeatures(features);

    // The root reads the records in place (buffer 0) when it has every row; a bag is gathered.
    const root = this.leaf(0, 0, count, 0, count === this.binned.numRows ? 0 : 1);
    if (root.buffer !== 0) gatherRecords(buffers[0]!, buffers[1]!, W, rows, count);
    root.hist = work.takeHist();
    work.step(root.buffer, 0, count, root.hist, -1, []);
    root.sums = sumsOf(work.hist(root.hist), this.binned, features[0]!, count);
    if (this.canSplit(root)) {
      [root.split] = work.step(root.buffer, 0, count, -1, -1, [
        { hist: root.hist, sums: root.sums, search: true },
      ]);
    }
    this.releaseIfFinal(root);
    const open: OpenLeaf[] = [root];
    let nodes = 1;
    let leaves = 1;

    while (leaves < this.shape.numLeaves) {
      let pick = -1;
      for (let i = 0; i < open.length; i++) {
        const s = open[i]!.split;
        if (s && (pick < 0 || s.gain > open[pick]!.split!.gain)) pick = i;
      }
      if (pick < 0) break;
      const leaf = open[pick]!;
      const split = leaf.split!;
      // Children go to the buffer the parent is not in, or, when they cannot split, only their
      // row indices to `rows` (buffer ROWS).
      const final = this.shape.maxDepth > 0 && leaf.depth + 1 >= this.shape.maxDepth;
      const to = final ? ROWS : leaf.buffer === 1 ? 2 : 1;
      const mid = work.partition(leaf.buffer, to, leaf.begin, leaf.end, split);
      const l = nodes++;
      const r = nodes++;
      feature[leaf.node] = split.feature;
      threshold[leaf.node] = this.binned.bins[split.feature]!.upper[split.bin]!;
      // With no NaN among its rows, a node sends unseen NaN to its larger child.
      const hadNan = this.hasNanRows(leaf.hist, split.feature);
      defaultLeft[leaf.node] = (hadNan ? split.defaultLeft : split.left.c >= split.right.c) ? 1 : 0;
      left[leaf.node] = l;
      right[leaf.node] = r;
      gain[leaf.node] = split.gain;
      splitBin[leaf.node] = split.bin;

      // Exact child counts from the partition replace the split's estimates.
      const lc = this.leaf(l, leaf.begin, mid, leaf.depth + 1, to);
      const rc = this.leaf(r, mid, leaf.end, leaf.depth + 1, to);
      lc.sums = { ...split.left, c: mid - leaf.begin };
      rc.sums = { ...split.right, c: leaf.end - mid };
      this.splitStep(leaf, lc, rc);
      open.splice(pick, 1);
      open.push(lc, rc);
      leaves++;
    }
    // Row indices in leaf order, from the records (a root that never split holds rows as they came).
    for (const leaf of open) {
      if (leaf.buffer > 0) readRows(buffers[leaf.buffer]!, W, rows, leaf.begin, leaf.end);
    }

    const leafRanges: GrownTree['leafRanges'] = [];
    for (const leaf of open) {
      value[leaf.node] = Math.fround(leafOutput(leaf.sums.g, leaf.sums.h, this.rules) * learningRate);
      leafRanges.push({ node: leaf.node, begin: leaf.begin, end: leaf.end });
      this.release(leaf);
    }
    // Node counts: leaves from their ranges, internal nodes as the sum of their children.
    for (const { node, begin, end } of leafRanges) nodeCount[node] = end - begin;
    for (let n = nodes - 1; n >= 0; n--) {
      if (feature[n]! >= 0) nodeCount[n] = nodeCount[left[n]!]! + nodeCount[right[n]!]!;
    }
    const cut = <T extends { slice(a: number, b: number): T }>(a: T) => a.slice(0, nodes);
    return {
      tree: {
        feature: cut(feature),
        threshold: cut(threshold),
        defaultLeft: cut(defaultLeft),
        left: cut(left),
        right: cut(right),
        value: cut(value),
        gain: cut(gain),
        count: cut(nodeCount),
      },
      splitBin: cut(splitBin),
      leafRanges,
    };
  }

  /**
   * Histograms and split searches for the children of `parent`, whose records
   * are partitioned already: the smaller child's histogram from its records,
   * the larger's by subtraction into the parent's buffer. Only what a search
   * needs is built.
   */
  private splitStep(parent: OpenLeaf, lc: OpenLeaf, rc: OpenLeaf): void {
    const leftSmaller = lc.end - lc.begin <= rc.end - rc.begin;
    const [small, large] = leftSmaller ? [lc, rc] : [rc, lc];
    const searchSmall = this.canSplit(small);
    const searchLarge = this.canSplit(large);
    if (!searchSmall && !searchLarge) {
      this.release(parent);
      return;
    }
    small.hist = this.work.takeHist();
    large.hist = parent.hist;
    parent.hist = -1;
    const nodes = [lc, rc].map((c) => ({ hist: c.hist, sums: c.sums, search: this.canSplit(c) }));
    const parentHist = searchLarge ? large.hist : -1;
    [lc.split, rc.split] = this.work.step(
      small.buffer,
      small.begin,
      small.end,
      small.hist,
      parentHist,
      nodes,
    );
    this.releaseIfFinal(lc);
    this.releaseIfFinal(rc);
  }

  private leaf(node: number, begin: number, end: number, depth: number, buffer: number): OpenLeaf {
    return {
      node,
      begin,
      end,
      depth,
      buffer,
      sums: { g: 0, h: 0, c: end - begin },
      hist: -1,
      split: undefined,
    };
  }

  private canSplit(leaf: OpenLeaf): boolean {
    const depthOk = this.shape.maxDepth <= 0 || leaf.depth < this.shape.maxDepth;
    return depthOk && leaf.end - leaf.begin >= 2 * this.rules.minDataInLeaf;
  }

  /** A leaf that cannot split keeps no histogram. */
  private releaseIfFinal(leaf: OpenLeaf): void {
    if (!leaf.split) this.release(leaf);
  }

  private release(leaf: OpenLeaf): void {
    if (leaf.hist >= 0) this.work.releaseHist(leaf.hist);
    leaf.hist = -1;
  }

  private hasNanRows(hist: number, feature: number): boolean {
    // The parent's histogram is still intact here (subtraction happens after).
    const S = this.binned.numFeatures << BIN_SHIFT;
    const slot = (feature << BIN_SHIFT) + this.binned.binCount[feature]!;
    // Hessians are positive, so a NaN bin holds rows exactly when its hessian sum is.
    return this.work.hist(hist)[S + slot]! > 0;
  }
}

/** A node's gradient totals, read from any one feature's slots of its histogram (every row is in one bin). */
function sumsOf(hist: Float64Array, binned: BinnedData, feature: number, count: number): NodeSums {
  const S = binned.numFeatures << BIN_SHIFT;
  let g = 0;
  let h = 0;
  const from = feature << BIN_SHIFT;
  const to = from + binned.binCount[feature]! + 1;
  for (let s = from; s < to; s++) {
    g += hist[s]!;
    h += hist[S + s]!;
  }
  return { g, h, c: count };
}
