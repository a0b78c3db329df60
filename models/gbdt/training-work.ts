import { histogramLength } from './histogram.js';
import { bestOfResults, type NodeSums, type SplitCandidate } from './split.js';
import {
  createTaskState,
  resultAt,
  runShare,
  TASK,
  TASK_KIND,
  taskContext,
  type TaskContext,
  type TaskState,
  type TaskStateInput,
} from './thread-tasks.js';
import type { WorkerTeam } from './worker-team.js';

/**
 * Below this much work (histogram cells plus split-search bins) a step runs
 * on the calling thread alone: waking the workers costs more than it saves.
 */
const MIN_PARALLEL_WORK = 40_000;
/** A split search per feature and bin costs about as much as this many histogram cells. */
const SEARCH_COST_PER_BIN = 12;
/** Fewest rows a partition or gradients task is shared among threads for. */
const MIN_PARALLEL_ROWS = 8192;

/** One node of a step: its histogram and totals, and whether to search its best split. */
export interface StepNode {
  hist: number;
  sums: NodeSums;
  search: boolean;
}

/**
 * The training's working state (thread-tasks.ts) and the operations a tree
 * builder runs on it: on the calling thread alone, or shared with a
 * WorkerTeam's threads when one is given and a task is big enough. Also
 * keeps the pool of histograms, which worker threads see too.
 */
export class TrainingWork {
  readonly state: TaskState;
  private readonly context: TaskContext;
  private readonly hists: Float64Array[] = [];
  private readonly freeHists: number[] = [];
  /** Shares of the last step: where its results are. */
  private shares = 1;
  /** Bins of the tree's features: a node search's work. */
  private listedBins = 0;

  constructor(
    input: TaskStateInput,
    private readonly team?: WorkerTeam,
  ) {
    this.state = createTaskState(input);
    this.context = taskContext(this.state, this.hists);
    if (team) {
      if (!(input.binned.records.buffer instanceof SharedArrayBuffer)) {
        throw new Error('threaded training needs the binned records on a SharedArrayBuffer');
      }
      team.attach(this.state);
    }
  }

  /** A tree's rows: the trainer puts them there, TreeBuilder.grow() reorders them into leaf order. */
  get rows(): Uint32Array {
    return this.state.rows;
  }

  /** Raw scores of the model so far, per row; the trainer keeps them up to date. */
  get scores(): Float64Array {
    return this.state.scores;
  }

  /** The objective's gradients and hessians of the current scores, into the row records. */
  gradients(): void {
    const threads = this.team && this.state.numRows >= MIN_PARALLEL_ROWS ? this.team.size : 1;
    this.state.task[TASK.kind] = TASK_KIND.gradients;
    this.state.task[TASK.chunks] = threads;
    this.run(threads, threads, threads > 1);
  }

  /** Sets the tree's feature list (ascending). */
  setFeatures(features: Int32Array): void {
    const { task } = this.state;
    this.state.features.set(features);
    task[TASK.numFeatures] = features.length;
    this.listedBins = 0;
    for (const f of features) this.listedBins += this.state.binCount[f]!;
  }

  hist(id: number): Float64Array {
    return this.hists[id]!;
  }

  takeHist(): number {
    const free = this.freeHists.pop();
    if (free !== undefined) return free;
    const bytes = histogramLength(this.state.numFeatures) * 8;
    const hist = new Float64Array(this.team ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    const id = this.hists.push(hist) - 1;
    this.team?.shareHistogram(id, hist);
    return id;
  }

  releaseHist(id: number): void {
    this.freeHists.push(id);
  }

  /**
   * Partitions records [begin, end) of buffer `source` into buffer `target` by
   * the split (partition.ts), or only their row indices into `rows` when
   * `target` is ROWS; returns the first right index.
   */
  partition(source: number, target: number, begin: number, end: number, split: SplitCandidate): number {
    const { task, lefts } = this.state;
    this.setGoLeft(split);
    task[TASK.kind] = TASK_KIND.partition;
    task[TASK.source] = source;
    task[TASK.target] = target;
    task[TASK.begin] = begin;
    task[TASK.end] = end;
    task[TASK.feature] = split.feature;
    const chunks = this.team && end - begin >= MIN_PARALLEL_ROWS ? this.team.size : 1;
    task[TASK.chunks] = chunks;
    this.run(2 * chunks, chunks, chunks > 1);
    let mid = begin;
    for (let c = 0; c < chunks; c++) mid += lefts[c]!;
    return mid;
  }

  /**
   * A step (thread-tasks.ts): builds histogram `build` from records [begin,
   * end) of buffer `source` (unless -1), subtracts it from `parent` (unless
   * -1), and searches the nodes that ask for it; returns their best splits.
   */
  step(
    source: number,
    begin: number,
    end: number,
    build: number,
    parent: number,
    nodes: readonly StepNode[],
  ): Array<SplitCandidate | undefined> {
    const { task, taskSums } = this.state;
    task[TASK.kind] = TASK_KIND.step;
    task[TASK.source] = source;
    task[TASK.begin] = begin;
    task[TASK.end] = end;
    task[TASK.build] = build;
    task[TASK.parent] = parent;
    let searchBins = 0;
    for (let i = 0; i < 2; i++) {
      const node = nodes[i];
      task[TASK.search0 + i] = node?.search ? node.hist : -1;
      if (node?.search) {
        taskSums.set([node.sums.g, node.sums.h, node.sums.c], i * 3);
        searchBins += this.listedBins;
      }
    }
    const cells = build >= 0 ? (end - begin) * task[TASK.numFeatures]! : 0;
    const parallel = this.team && cells + searchBins * SEARCH_COST_PER_BIN >= MIN_PARALLEL_WORK;
    // One share per thread, each a range of the feature list.
    this.shares = parallel ? Math.min(this.team!.size, task[TASK.numFeatures]!) : 1;
    task[TASK.shares] = this.shares;
    this.run(this.shares, this.shares, this.shares > 1);
    return nodes.map((node, i) => (node.search ? this.bestSplit(i, node.sums) : undefined));
  }

  /**
   * Runs the task in the state as `shares` shares, those from `barrier` on
   * after all before it (a partition's moves after its counts); on the team
   * if `parallel`.
   */
  private run(shares: number, barrier: number, parallel: boolean): void {
    const context = this.context;
    if (parallel) this.team!.run(shares, barrier, (share) => runShare(context, share));
    else for (let share = 0; share < shares; share++) runShare(context, share);
  }

  /** The best split of searched node `node` of the last step, over its shares. */
  private bestSplit(node: number, sums: NodeSums): SplitCandidate | undefined {
    const ats = Array.from({ length: this.shares }, (_, share) => resultAt(share, node));
    return bestOfResults(this.state.results, ats, sums);
  }

  /** goLeft[bin] for the split, in the shared table. */
  private setGoLeft(split: SplitCandidate): void {
    const { goLeft } = this.state;
    for (let b = 0; b < 256; b++) goLeft[b] = b <= split.bin ? 1 : 0;
    goLeft[this.state.binCount[split.feature]!] = split.defaultLeft ? 1 : 0;
  }
}
