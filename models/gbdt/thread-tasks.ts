import { RECORD, type BinnedData } from './binning.js';
import { buildHistogram, recordViews, subtractFeatures, type RecordViews } from './histogram.js';
import type { Objective } from './model.js';
import { objectiveFor, type ObjectiveFunction } from './objectives.js';
import { countLefts, moveRecords, moveRows, useGoLeft } from './partition.js';
import { searchSplit, type SplitRules } from './split.js';

/**
 * The work of training that threads share, as the main thread and worker
 * threads both run it: a task written to shared memory, divided into shares
 * (worker-team.ts hands them out). Three kinds:
 *
 * - gradients: the objective's gradients and hessians of a range of rows,
 *   written into the row records; one share per chunk of rows.
 * - partition (partition.ts) of a node's records into the other buffer (or
 *   of their row indices into `rows`), in two phases of `chunks` shares:
 *   every chunk of rows counts its left rows, then moves its records to
 *   offsets that follow from all the counts.
 * - step: build a histogram (a root's, or the smaller child's) from
 *   contiguous records, subtract it from the parent's to get the larger
 *   child's, and search the best split of up to two nodes; one share per
 *   contiguous range of the feature list. A share does all three for its
 *   features, so the histograms it searches are the ones it built, in its
 *   own cache, and it needs no other share's result. Shares cover whole
 *   bin words (4 features), so neighbouring shares both sum the features of
 *   the word they share and keep their own. (Splitting the build by
 *   gradient and hessian sums instead, then the search by features, was no
 *   faster: a barrier more, and histograms crossing cores.)
 *
 * Every share's result is the same whoever runs it and however the task is
 * divided: rows are independent, partitions keep row order, shares touch
 * disjoint histogram slots and each (feature, bin) is summed in row order,
 * and split results are combined in feature order. So is the model.
 *
 * Everything a task reads lives in typed arrays that sit on
 * SharedArrayBuffers when there are workers: the main thread writes the
 * task, workers read it.
 */
export interface TaskState {
  numRows: number;
  numFeatures: number;
  binCount: Int32Array;
  rules: SplitRules;
  objective: { name: Objective; alpha: number };
  /**
   * Record buffers (BinnedData.records layout) by index: 0 holds every row in
   * row order, 1 and 2 are what a tree's partitions move records between, so
   * that every node's records are contiguous.
   */
  buffers: Uint32Array[];
  recordWords: number;
  labels: Float64Array;
  /** A tree's rows (ascending: all, or a bag); reordered into leaf order as the tree grows. */
  rows: Uint32Array;
  /** Raw scores of the model so far, per row. */
  scores: Float64Array;
  /** The tree's feature list (ascending); its length is in the task. */
  features: Int32Array;
  /** Indexed by TASK. */
  task: Int32Array;
  /** Gradient sum, hessian sum and row count of the searched nodes: [g0, h0, c0, g1, h1, c1]. */
  taskSums: Float64Array;
  /** Per search share and node, one search result at resultAt(share, node). */
  results: Float64Array;
  /** A partition's goLeft[bin] (each thread copies it to partition.ts's own table). */
  goLeft: Uint8Array;
  /** A partition's left rows per chunk. */
  lefts: Int32Array;
}

/** Indices into TaskState.task. */
export const TASK = {
  /** TASK_KIND. */
  kind: 0,
  /** Records [begin, end) of buffer `source` to build from, or to partition. */
  source: 1,
  begin: 2,
  end: 3,
  /** Histogram to build, or -1. */
  build: 4,
  /** Histogram to subtract the built one from (in place), or -1. */
  parent: 5,
  /** Histograms of the two nodes to search, or -1. */
  search0: 6,
  search1: 7,
  numFeatures: 8,
  /** Shares (feature ranges) of a step. */
  shares: 9,
  /** A partition's target buffer (or ROWS) and split feature. */
  target: 10,
  feature: 11,
  /** Chunks of rows a partition or gradients task is divided into. */
  chunks: 12,
} as const;
const TASK_LENGTH = 13;
export const TASK_KIND = { step: 0, partition: 1, gradients: 2 } as const;
/** A partition target: only the row indices, into TaskState.rows (for children that will not split). */
export const ROWS = -1;
/** Most shares of a task phase (result slots are allocated for this many). */
export const MAX_SHARES = 64;
/** Result slots sit 8 values (a cache line) apart so threads never write the same line. */
const RESULT_STRIDE = 8;

export function resultAt(share: number, node: number): number {
  return (share * 2 + node) * RESULT_STRIDE;
}

/** A thread's handles on the shared state. */
export interface TaskContext {
  state: TaskState;
  /** Views of the record buffers, by index. */
  views: RecordViews[];
  /** Histograms by id. */
  hists: Float64Array[];
  objective: ObjectiveFunction;
}

export function taskContext(state: TaskState, hists: Float64Array[]): TaskContext {
  return {
    state,
    views: state.buffers.map((buffer) => recordViews(buffer, state.recordWords)),
    hists,
    objective: objectiveFor(state.objective.name, state.objective.alpha),
  };
}

/** Runs share `index` of the task in the state. */
export function runShare(context: TaskContext, index: number): void {
  switch (context.state.task[TASK.kind]) {
    case TASK_KIND.gradients:
      gradientShare(context, index);
      return;
    case TASK_KIND.partition:
      partitionShare(context.state, index);
      return;
    default:
      stepShare(context, index);
  }
}

/** [from, to) of chunk `chunk` of `chunks` over [begin, end). */
function chunkOf(begin: number, end: number, chunk: number, chunks: number): [number, number] {
  const n = end - begin;
  return [begin + Math.floor((chunk * n) / chunks), begin + Math.floor(((chunk + 1) * n) / chunks)];
}

/** Gradients and hessians of a chunk of rows, into the row records (gradient, then hessian). */
function gradientShare({ state, objective, views }: TaskContext, chunk: number): void {
  const [from, to] = chunkOf(0, state.numRows, chunk, state.task[TASK.chunks]!);
  const out = views[0]!.floats.subarray(RECORD.gradient);
  objective.gradients(state.labels, state.scores, out, state.recordWords, from, to);
}

/** Phase 1 (index < chunks): count a chunk's left rows; phase 2: move the chunk. */
function partitionShare(state: TaskState, index: number): void {
  const { task, buffers, recordWords: W, lefts } = state;
  const chunks = task[TASK.chunks]!;
  const chunk = index % chunks;
  const begin = task[TASK.begin]!;
  const [from, to] = chunkOf(begin, task[TASK.end]!, chunk, chunks);
  const feature = task[TASK.feature]!;
  const src = buffers[task[TASK.source]!]!;
  useGoLeft(state.goLeft);
  if (index < chunks) {
    lefts[chunk] = countLefts(src, W, from, to, feature);
    return;
  }
  // Lefts of earlier chunks come first; rights follow all lefts, in chunk order too.
  let leftsBefore = 0;
  let allLefts = 0;
  for (let c = 0; c < chunks; c++) {
    if (c < chunk) leftsBefore += lefts[c]!;
    allLefts += lefts[c]!;
  }
  const leftAt = begin + leftsBefore;
  const rightAt = begin + allLefts + (from - begin - leftsBefore);
  const target = task[TASK.target]!;
  if (target === ROWS) moveRows(src, W, from, to, feature, leftAt, rightAt, state.rows);
  else moveRecords(src, buffers[target]!, W, from, to, feature, leftAt, rightAt);
}

/** A step for one range of the feature list: build, subtract, search. */
function stepShare({ state, views, hists }: TaskContext, share: number): void {
  const { task, features, numFeatures: F, binCount, rules, results } = state;
  const [k0, k1] = chunkOf(0, task[TASK.numFeatures]!, share, task[TASK.shares]!);
  if (k0 === k1) return;
  const build = task[TASK.build]!;
  if (build >= 0) {
    const rec = views[task[TASK.source]!]!;
    buildHistogram(rec, F, binCount, features, k0, k1, task[TASK.begin]!, task[TASK.end]!, hists[build]!);
    const parent = task[TASK.parent]!;
    if (parent >= 0) subtractFeatures(hists[parent]!, hists[build]!, F, binCount, features, k0, k1);
  }
  for (let node = 0; node < 2; node++) {
    const id = task[TASK.search0 + node]!;
    if (id < 0) continue;
    const s = state.taskSums;
    const sums = { g: s[node * 3]!, h: s[node * 3 + 1]!, c: s[node * 3 + 2]! };
    searchSplit(hists[id]!, F, binCount, sums, features, k0, k1, rules, results, resultAt(share, node));
  }
}

/** What a training's task state is made from. */
export interface TaskStateInput {
  binned: BinnedData;
  rules: SplitRules;
  objective: { name: Objective; alpha: number };
  labels: ArrayLike<number>;
}

/**
 * A training's task state. Its arrays are SharedArrayBuffer-backed when the
 * binned records are (training with worker threads).
 */
export function createTaskState({ binned, rules, objective, labels }: TaskStateInput): TaskState {
  const { records, numRows, numFeatures, recordWords, binCount } = binned;
  const shared = records.buffer instanceof SharedArrayBuffer;
  const buffer = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const sharedLabels = new Float64Array(buffer(numRows * 8));
  sharedLabels.set(labels);
  return {
    numRows,
    numFeatures,
    binCount,
    // Copied field by field: workers get this state, and the trainer's parameters hold more.
    rules: {
      lambdaL1: rules.lambdaL1,
      lambdaL2: rules.lambdaL2,
      minDataInLeaf: rules.minDataInLeaf,
      minSumHessianInLeaf: rules.minSumHessianInLeaf,
      minGainToSplit: rules.minGainToSplit,
    },
    objective: { name: objective.name, alpha: objective.alpha },
    buffers: [
      records,
      new Uint32Array(buffer(records.byteLength)),
      new Uint32Array(buffer(records.byteLength)),
    ],
    recordWords,
    labels: sharedLabels,
    rows: new Uint32Array(buffer(numRows * 4)),
    scores: new Float64Array(buffer(numRows * 8)),
    features: new Int32Array(buffer(numFeatures * 4)),
    task: new Int32Array(buffer(TASK_LENGTH * 4)),
    taskSums: new Float64Array(buffer(6 * 8)),
    results: new Float64Array(buffer(MAX_SHARES * 2 * RESULT_STRIDE * 8)),
    goLeft: new Uint8Array(buffer(256)),
    lefts: new Int32Array(buffer(MAX_SHARES * 4)),
  };
}
