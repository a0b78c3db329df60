import { availableParallelism } from 'node:os';
import { ValidationError } from '../../shared/errors.js';
import { SeededRandom } from '../random.js';
import { BIN_BYTES, binMatrix, type BinnedData } from './binning.js';
import { leafIndex, type GbdtModel, type Tree } from './model.js';
import { objectiveFor, quantileOf, type ObjectiveFunction } from './objectives.js';
import { GbdtParamsSchema, type GbdtParams, type GbdtParamsInput } from './params.js';
import { TrainingWork } from './training-work.js';
import { TreeBuilder, type GrownTree } from './tree-builder.js';
import { WorkerTeam } from './worker-team.js';

/** A numeric training matrix: row-major float32 features and one label per row. */
export interface TrainingSet {
  /** numRows × featureNames.length, row-major; NaN marks a missing value. */
  features: Float32Array;
  labels: ArrayLike<number>;
  numRows: number;
  featureNames: string[];
}

export interface IterationReport {
  /** 1-based boosting round just finished. */
  iteration: number;
  trainMetric: number | undefined;
  validMetric: number | undefined;
}

export interface TrainOptions {
  /** Validation set for early stopping and the validation curve. */
  valid?: TrainingSet | undefined;
  /** Record the training-set metric every round (costs a pass over all rows). Default false. */
  trainMetric?: boolean;
  /** Called after every round; returning true stops training (e.g. a pruned search trial). */
  onIteration?: (report: IterationReport) => boolean | void;
}

export interface FeatureImportance {
  /** Times each feature was split on. */
  split: number[];
  /** Total gain of each feature's splits. */
  gain: number[];
}

export interface TrainResult {
  model: GbdtModel;
  params: GbdtParams;
  importance: FeatureImportance;
  /** Metric per round (lower is better): the evaluation curves. */
  history: { metric: string; train: number[]; valid: number[] };
  /** 1-based round kept when early stopping ran, else the last one. */
  bestIteration: number;
  durationMs: number;
}

/**
 * Trains a gradient-boosted tree ensemble on a numeric matrix: histogram
 * based and leaf-wise like LightGBM, deterministic for a given seed.
 */
export function trainGbdt(
  train: TrainingSet,
  paramsInput: GbdtParamsInput = {},
  options: TrainOptions = {},
): TrainResult {
  const started = performance.now();
  const parsed = GbdtParamsSchema.safeParse(paramsInput);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ValidationError(`parameter ${issue.path.join('.')}: ${issue.message}`, {
      path: issue.path.join('.'),
    });
  }
  const params = parsed.data;
  const F = train.featureNames.length;
  checkShape(train, 'training');
  if (options.valid) checkShape(options.valid, 'validation', F);
  const objective = objectiveFor(params.objective, params.alpha);
  const labelProblem =
    objective.checkLabels(train.labels) ?? (options.valid && objective.checkLabels(options.valid.labels));
  if (labelProblem) throw new ValidationError(labelProblem);

  // Below MIN_CELLS_FOR_THREADS starting a worker costs more than it could save.
  const small = train.numRows * F < MIN_CELLS_FOR_THREADS;
  const threads = small ? 1 : threadCount(params.numThreads);
  // Started before binning so that they boot meanwhile; stopped however training ends.
  const team = threads > 1 ? new WorkerTeam(threads - 1) : undefined;
  try {
    return boost(train, params, objective, options, team, started);
  } finally {
    team?.stop();
  }
}

/** Bins the data and grows the trees. */
function boost(
  train: TrainingSet,
  params: GbdtParams,
  objective: ObjectiveFunction,
  options: TrainOptions,
  team: WorkerTeam | undefined,
  started: number,
): TrainResult {
  const F = train.featureNames.length;
  const binned = binMatrix(
    train.features,
    train.numRows,
    F,
    params.maxBin,
    params.binSampleCount,
    undefined,
    team !== undefined,
  );
  const n = train.numRows;
  const baseScore = objective.baseScore(train.labels);
  const objectiveOf = { name: params.objective, alpha: params.alpha };
  const work = new TrainingWork(
    { binned, rules: params, objective: objectiveOf, labels: train.labels },
    team,
  );
  const scores = work.scores.fill(baseScore);
  const validScores = options.valid ? new Float64Array(options.valid.numRows).fill(baseScore) : undefined;
  const shape = { numLeaves: params.numLeaves, maxDepth: params.maxDepth };
  const builder = new TreeBuilder(binned, params, shape, work);
  const rng = new SeededRandom(params.seed);
  const random = () => rng.next();
  const splittable = Int32Array.from(binned.bins.flatMap((b, f) => (b.count > 1 ? [f] : [])));
  const bagging = params.baggingFreq > 0 && params.baggingFraction < 1;
  const inBag = new Uint8Array(n).fill(1);
  let bag: Uint32Array = Uint32Array.from({ length: n }, (_, i) => i);
  const rows = work.rows;

  const trees: Tree[] = [];
  const history = { metric: objective.metricName, train: [] as number[], valid: [] as number[] };
  let best = { iteration: 0, metric: Infinity };

  for (let iteration = 1; iteration <= params.numIterations; iteration++) {
    if (splittable.length === 0) break;
    if (bagging && (iteration - 1) % params.baggingFreq === 0)
      bag = drawBag(n, params.baggingFraction, random, inBag);
    rows.set(bag);
    const features = sampleFeatures(splittable, params.featureFraction, random);
    const grown = builder.grow(bag.length, features, params.learningRate);
    if (objective.renewsLeaves) renewLeaves(grown, rows, train.labels, scores, params);
    applyTree(grown, rows, binned, scores, bagging ? inBag : undefined);
    trees.push(grown.tree);

    const trainMetric = options.trainMetric ? objective.metric(train.labels, scores) : undefined;
    if (trainMetric !== undefined) history.train.push(trainMetric);
    let validMetric: number | undefined;
    if (options.valid && validScores) {
      addTreeScores(grown.tree, options.valid, validScores);
      validMetric = objective.metric(options.valid.labels, validScores);
      history.valid.push(validMetric);
      if (validMetric < best.metric) best = { iteration, metric: validMetric };
    }
    if (options.onIteration?.({ iteration, trainMetric, validMetric })) break;
    if (
      params.earlyStoppingRounds > 0 &&
      validMetric !== undefined &&
      iteration - best.iteration >= params.earlyStoppingRounds
    ) {
      break;
    }
  }

  const earlyStopped = params.earlyStoppingRounds > 0 && options.valid !== undefined && best.iteration > 0;
  const kept = earlyStopped ? trees.slice(0, best.iteration) : trees;
  const model: GbdtModel = {
    objective: params.objective,
    featureNames: [...train.featureNames],
    baseScore,
    trees: kept,
  };
  if (params.objective === 'quantile') model.alpha = params.alpha;
  if (earlyStopped) model.bestIteration = best.iteration;
  return {
    model,
    params,
    importance: importanceOf(kept, F),
    history,
    bestIteration: earlyStopped ? best.iteration : kept.length,
    durationMs: performance.now() - started,
  };
}

/**
 * Fewest training cells (rows × features) for worker threads: a worker takes
 * about 30 ms to start (150 ms from TypeScript source under tsx), so smaller data is
 * trained on the calling thread whatever numThreads says.
 */
const MIN_CELLS_FOR_THREADS = 100_000;

/** numThreads as given → threads to use: 0 is one per core, negative counts back from the cores (joblib). */
function threadCount(numThreads: number): number {
  const cores = availableParallelism();
  if (numThreads > 0) return numThreads;
  return Math.max(1, numThreads === 0 ? cores : cores + 1 + numThreads);
}

function checkShape(set: TrainingSet, what: string, expectedFeatures?: number): void {
  const F = set.featureNames.length;
  if (expectedFeatures !== undefined && F !== expectedFeatures) {
    throw new ValidationError(`${what} data has ${F} features, the training data ${expectedFeatures}`);
  }
  if (F === 0) throw new ValidationError(`${what} data has no features`);
  if (set.numRows === 0) throw new ValidationError(`${what} data has no rows`);
  if (set.features.length !== set.numRows * F || set.labels.length !== set.numRows) {
    throw new ValidationError(
      `${what} data: ${set.numRows} rows × ${F} features do not match the arrays' lengths`,
    );
  }
}

/** Bernoulli row sampling, as LightGBM's bagging: rows come out in order, which keeps memory access sequential. */
function drawBag(n: number, fraction: number, random: () => number, inBag: Uint8Array): Uint32Array {
  const bag = new Uint32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const take = random() < fraction;
    inBag[i] = take ? 1 : 0;
    if (take) bag[k++] = i;
  }
  return bag.slice(0, Math.max(k, 1));
}

/** A random subset of the splittable features for one tree, in ascending order. */
function sampleFeatures(splittable: Int32Array, fraction: number, random: () => number): Int32Array {
  if (fraction >= 1) return splittable;
  const k = Math.max(1, Math.round(splittable.length * fraction));
  const pool = splittable.slice();
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, k).sort();
}

/**
 * Quantile loss has a zero hessian almost everywhere, so gradient steps give
 * poor leaf values; like LightGBM, set each leaf to the alpha-quantile of the
 * residuals of its rows.
 */
function renewLeaves(
  grown: GrownTree,
  rows: Uint32Array,
  labels: ArrayLike<number>,
  scores: Float64Array,
  params: GbdtParams,
): void {
  for (const { node, begin, end } of grown.leafRanges) {
    const residuals = new Float64Array(end - begin);
    for (let i = begin; i < end; i++) residuals[i - begin] = labels[rows[i]!]! - scores[rows[i]!]!;
    grown.tree.value[node] = Math.fround(quantileOf(residuals, params.alpha) * params.learningRate);
  }
}

/**
 * Adds a new tree's output to the training scores: in-bag rows by leaf range,
 * others by a walk over their bins. One thread: shared among threads, the
 * scattered score updates ran slower (cache lines of `scores` bounce between
 * the cores).
 */
function applyTree(
  grown: GrownTree,
  rows: Uint32Array,
  binned: BinnedData,
  scores: Float64Array,
  inBag: Uint8Array | undefined,
): void {
  const { tree, splitBin, leafRanges } = grown;
  for (const { node, begin, end } of leafRanges) {
    const v = tree.value[node]!;
    for (let i = begin; i < end; i++) scores[rows[i]!]! += v;
  }
  if (!inBag) return;
  const { records, recordWords, binCount } = binned;
  const bins = new Uint8Array(records.buffer, records.byteOffset + BIN_BYTES, records.length * 4 - BIN_BYTES);
  for (let r = 0; r < scores.length; r++) {
    if (inBag[r]) continue;
    let node = 0;
    while (tree.feature[node]! >= 0) {
      const f = tree.feature[node]!;
      const b = bins[r * recordWords * 4 + f]!;
      const goLeft = b === binCount[f]! ? tree.defaultLeft[node] === 1 : b <= splitBin[node]!;
      node = goLeft ? tree.left[node]! : tree.right[node]!;
    }
    scores[r]! += tree.value[node]!;
  }
}

function addTreeScores(tree: Tree, set: TrainingSet, scores: Float64Array): void {
  const F = set.featureNames.length;
  for (let r = 0; r < set.numRows; r++) scores[r]! += tree.value[leafIndex(tree, set.features, r * F)]!;
}

function importanceOf(trees: Tree[], numFeatures: number): FeatureImportance {
  const split = new Array<number>(numFeatures).fill(0);
  const gain = new Array<number>(numFeatures).fill(0);
  for (const tree of trees) {
    for (let node = 0; node < tree.feature.length; node++) {
      const f = tree.feature[node]!;
      if (f < 0) continue;
      split[f]!++;
      gain[f]! += tree.gain[node]!;
    }
  }
  return { split, gain };
}

export type { ObjectiveFunction };
