import type { BinnedData } from './binning.js';
import { HIST_STRIDE, buildHistogram, subtractHistogram } from './histogram.js';
import type { Tree } from './model.js';
import { findBestSplit, leafOutput, type NodeSums, type SplitCandidate, type SplitRules } from './split.js';

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
  hist: Float64Array;
  split: SplitCandidate | undefined;
}

/**
 * Grows one tree leaf-wise (best-first), LightGBM-style: the leaf with the
 * largest gain splits next until `numLeaves` is reached or nothing gains.
 * Each split builds the histogram of the smaller child from its rows and gets
 * the larger child's by subtracting it from the parent's.
 *
 * `rows[0, count)` are the rows of this tree (the bag); they are reordered in
 * place so every leaf's rows are contiguous.
 */
export class TreeBuilder {
  private readonly histPool: Float64Array[] = [];
  private readonly scratch: Uint32Array;

  constructor(
    private readonly binned: BinnedData,
    private readonly rules: SplitRules,
    private readonly shape: TreeShape,
  ) {
    this.scratch = new Uint32Array(binned.numRows);
  }

  grow(
    rows: Uint32Array,
    count: number,
    grad: Float32Array,
    hess: Float32Array,
    features: Int32Array,
    learningRate: number,
  ): GrownTree {
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

    const rootHist = this.takeHist();
    buildHistogram(this.binned, rows, 0, count, grad, hess, features, rootHist);
    const rootSums = sumsOf(this.binned, rootHist, features[0] ?? 0, count);
    const open: OpenLeaf[] = [this.open(0, 0, count, 0, rootSums, rootHist, features)];
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
      const mid = this.partition(rows, leaf.begin, leaf.end, split);
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

      // Smaller child from its rows; larger child = parent − smaller, reusing the parent's buffer.
      const leftSmaller = mid - leaf.begin <= leaf.end - mid;
      const small = this.takeHist();
      if (leftSmaller) buildHistogram(this.binned, rows, leaf.begin, mid, grad, hess, features, small);
      else buildHistogram(this.binned, rows, mid, leaf.end, grad, hess, features, small);
      subtractHistogram(this.binned, leaf.hist, small, features);
      const [lh, rh] = leftSmaller ? [small, leaf.hist] : [leaf.hist, small];
      open.splice(pick, 1);
      // Exact child counts from the partition replace the split's estimates.
      const leftSums = { ...split.left, c: mid - leaf.begin };
      const rightSums = { ...split.right, c: leaf.end - mid };
      open.push(this.open(l, leaf.begin, mid, leaf.depth + 1, leftSums, lh, features));
      open.push(this.open(r, mid, leaf.end, leaf.depth + 1, rightSums, rh, features));
      leaves++;
    }

    const leafRanges: GrownTree['leafRanges'] = [];
    for (const leaf of open) {
      value[leaf.node] = Math.fround(leafOutput(leaf.sums.g, leaf.sums.h, this.rules) * learningRate);
      leafRanges.push({ node: leaf.node, begin: leaf.begin, end: leaf.end });
      this.histPool.push(leaf.hist);
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

  private open(
    node: number,
    begin: number,
    end: number,
    depth: number,
    sums: NodeSums,
    hist: Float64Array,
    features: Int32Array,
  ): OpenLeaf {
    const depthOk = this.shape.maxDepth <= 0 || depth < this.shape.maxDepth;
    const sizeOk = end - begin >= 2 * this.rules.minDataInLeaf;
    const split =
      depthOk && sizeOk ? findBestSplit(this.binned, hist, sums, features, this.rules) : undefined;
    return { node, begin, end, depth, sums, hist, split };
  }

  /** Stable in-place partition of rows[begin, end) by the split; returns the first right index. */
  private partition(rows: Uint32Array, begin: number, end: number, split: SplitCandidate): number {
    const { columns, numRows } = this.binned;
    const nanBin = this.binned.bins[split.feature]!.count;
    const f = split.feature;
    const column = columns.subarray(f * numRows, (f + 1) * numRows);
    const bin = split.bin;
    const nanLeft = split.defaultLeft;
    const scratch = this.scratch;
    let l = begin;
    let r = 0;
    for (let i = begin; i < end; i++) {
      const row = rows[i]!;
      const b = column[row]!;
      const goLeft = b === nanBin ? nanLeft : b <= bin;
      if (goLeft) rows[l++] = row;
      else scratch[r++] = row;
    }
    rows.set(scratch.subarray(0, r), l);
    return l;
  }

  private hasNanRows(hist: Float64Array, feature: number): boolean {
    // The parent's histogram is still intact here (subtraction happens after).
    const slot = this.binned.histOffset[feature]! + this.binned.bins[feature]!.count;
    // Hessians are positive, so a NaN bin holds rows exactly when its hessian sum is.
    return hist[slot * HIST_STRIDE + 1]! > 0;
  }

  private takeHist(): Float64Array {
    const h = this.histPool.pop();
    if (h) {
      h.fill(0);
      return h;
    }
    return new Float64Array(this.binned.histSize * HIST_STRIDE);
  }
}

/** A node's gradient totals, read from any one feature's slots of its histogram (every row is in one bin). */
function sumsOf(binned: BinnedData, hist: Float64Array, feature: number, count: number): NodeSums {
  let g = 0;
  let h = 0;
  const from = binned.histOffset[feature]! * HIST_STRIDE;
  const to = from + (binned.bins[feature]!.count + 1) * HIST_STRIDE;
  for (let s = from; s < to; s += HIST_STRIDE) {
    g += hist[s]!;
    h += hist[s + 1]!;
  }
  return { g, h, c: count };
}
