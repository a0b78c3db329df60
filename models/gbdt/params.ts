import { z } from 'zod';
import { OBJECTIVES } from './model.js';

/**
 * Trainer parameters. Names are camelCase here; `LIGHTGBM_NAMES` maps
 * LightGBM's names onto them so settings can be brought over as they are.
 * Defaults follow LightGBM's.
 */
export const GbdtParamsSchema = z
  .object({
    objective: z.enum(OBJECTIVES).default('binary'),
    /** Quantile level for `quantile`, 0 < alpha < 1. Default 0.5 (median). */
    alpha: z.number().gt(0).lt(1).default(0.5),
    /** Boosting rounds (trees). Default 100. */
    numIterations: z.number().int().min(1).max(100_000).default(100),
    /** Shrinkage applied to each tree's leaves. Default 0.1. */
    learningRate: z.number().gt(0).max(1).default(0.1),
    /** Most leaves per tree (leaf-wise growth). Default 31. */
    numLeaves: z.number().int().min(2).max(131_072).default(31),
    /** Deepest a leaf may be; -1 or 0 for no limit. Default -1. */
    maxDepth: z.number().int().min(-1).max(64).default(-1),
    /**
     * Fewest training rows in a leaf. Default 20. Exact for a constant hessian (L2, quantile); for
     * logloss the rows on each side of a candidate split are estimated from its hessian share, as
     * LightGBM does, so a leaf may end up slightly smaller.
     */
    minDataInLeaf: z.number().int().min(1).default(20),
    /** Smallest hessian sum in a leaf. Default 1e-3. */
    minSumHessianInLeaf: z.number().min(0).default(1e-3),
    /** Smallest gain for a split to be made. Default 0. */
    minGainToSplit: z.number().min(0).default(0),
    /** L1 regularisation of leaf values. Default 0. */
    lambdaL1: z.number().min(0).default(0),
    /** L2 regularisation of leaf values. Default 0. */
    lambdaL2: z.number().min(0).default(0),
    /** Share of rows drawn (without replacement) for a tree when bagging. Default 1 (off). */
    baggingFraction: z.number().gt(0).max(1).default(1),
    /** Redraw the bag every k iterations; 0 disables bagging. Default 0. */
    baggingFreq: z.number().int().min(0).default(0),
    /** Share of features a tree may split on. Default 1. */
    featureFraction: z.number().gt(0).max(1).default(1),
    /** Most value bins per feature (a further bin holds NaN). 2..255. Default 255. */
    maxBin: z.number().int().min(2).max(255).default(255),
    /** Rows sampled to find bin boundaries. Default 200000. */
    binSampleCount: z.number().int().min(100).default(200_000),
    /** Stop when the validation metric has not improved for this many rounds; 0 disables. Default 0. */
    earlyStoppingRounds: z.number().int().min(0).default(0),
    /**
     * Threads that build histograms and search splits: the calling thread plus
     * numThreads - 1 worker threads, started for the training and stopped
     * after it. 0 means one per core (os.availableParallelism()); a negative
     * n means cores + 1 + n, as joblib's n_jobs (-1: all cores). At most 64.
     * Data under 100k cells (rows × features) trains on one thread. The model
     * does not depend on it. Default 1.
     */
    numThreads: z.number().int().min(-64).max(64).default(1),
    /** Seed for bagging and feature sampling; equal seeds and data give equal models. Default 0. */
    seed: z.number().int().default(0),
  })
  .strict();
export type GbdtParams = z.infer<typeof GbdtParamsSchema>;
export type GbdtParamsInput = z.input<typeof GbdtParamsSchema>;

/** LightGBM parameter names (and common aliases) → ours. */
export const LIGHTGBM_NAMES: Readonly<Record<string, keyof GbdtParams>> = {
  objective: 'objective',
  alpha: 'alpha',
  num_iterations: 'numIterations',
  num_iteration: 'numIterations',
  n_estimators: 'numIterations',
  num_boost_round: 'numIterations',
  learning_rate: 'learningRate',
  shrinkage_rate: 'learningRate',
  eta: 'learningRate',
  num_leaves: 'numLeaves',
  max_depth: 'maxDepth',
  min_data_in_leaf: 'minDataInLeaf',
  min_child_samples: 'minDataInLeaf',
  min_sum_hessian_in_leaf: 'minSumHessianInLeaf',
  min_child_weight: 'minSumHessianInLeaf',
  min_gain_to_split: 'minGainToSplit',
  lambda_l1: 'lambdaL1',
  reg_alpha: 'lambdaL1',
  lambda_l2: 'lambdaL2',
  reg_lambda: 'lambdaL2',
  bagging_fraction: 'baggingFraction',
  subsample: 'baggingFraction',
  bagging_freq: 'baggingFreq',
  subsample_freq: 'baggingFreq',
  feature_fraction: 'featureFraction',
  colsample_bytree: 'featureFraction',
  max_bin: 'maxBin',
  bin_construct_sample_cnt: 'binSampleCount',
  early_stopping_round: 'earlyStoppingRounds',
  early_stopping_rounds: 'earlyStoppingRounds',
  num_threads: 'numThreads',
  nthread: 'numThreads',
  n_jobs: 'numThreads',
  seed: 'seed',
  random_state: 'seed',
};

/** LightGBM's objective names → ours. */
const LIGHTGBM_OBJECTIVES: Readonly<Record<string, (typeof OBJECTIVES)[number]>> = {
  binary: 'binary',
  regression: 'regression',
  regression_l2: 'regression',
  l2: 'regression',
  mse: 'regression',
  quantile: 'quantile',
};

/**
 * Translates a LightGBM-style parameter object. Unknown names are errors:
 * a silently ignored setting is worse than a refused one.
 */
export function fromLightGbmParams(input: Record<string, unknown>): {
  params: GbdtParamsInput;
  unknown: string[];
} {
  const params: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    const key = LIGHTGBM_NAMES[name];
    if (!key) {
      unknown.push(name);
      continue;
    }
    params[key] =
      key === 'objective' && typeof value === 'string' ? (LIGHTGBM_OBJECTIVES[value] ?? value) : value;
  }
  return { params: params as GbdtParamsInput, unknown };
}
