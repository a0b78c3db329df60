import { defineSpace, float, int, type ParamsOf } from '../search/index.js';
import type { GbdtParamsInput } from '../gbdt/params.js';

/**
 * What a hyperparameter search varies, after Optuna's LightGBM tuner: shrinkage,
 * tree size, leaf minimum, L1/L2, bagging and feature sampling. The number of
 * rounds is not searched; early stopping on the validation rows picks it.
 */
export const GBDT_SEARCH_SPACE = defineSpace({
  learningRate: float(0.01, 0.3, { log: true }),
  numLeaves: int(4, 255, { log: true }),
  minDataInLeaf: int(5, 200, { log: true }),
  lambdaL1: float(1e-8, 10, { log: true }),
  lambdaL2: float(1e-8, 10, { log: true }),
  featureFraction: float(0.4, 1),
  baggingFraction: float(0.4, 1),
});
export type GbdtSearchParams = ParamsOf<typeof GBDT_SEARCH_SPACE>;

/** Trainer parameters for one trial: the sampled values over the fixed ones. */
export function trialParams(fixed: GbdtParamsInput, sampled: GbdtSearchParams): GbdtParamsInput {
  return { ...fixed, ...sampled, baggingFreq: sampled.baggingFraction < 1 ? 1 : 0 };
}
