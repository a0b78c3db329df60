/**
 * How exhaustion forecasts are trained when nobody says otherwise: the
 * defaults of `cloudsense train`, the retraining loop and the bundled
 * baseline models, so all three build the same kind of model.
 */
import type { ExhaustionDefinition } from '../../shared/resources/exhaustion.js';
import type { GbdtParamsInput } from '../gbdt/params.js';

/**
 * Slow shrinkage with early stopping picks the number of trees; 100 rows per
 * leaf because neighbouring rows (a minute apart) are near-copies, so a
 * smaller leaf would learn single episodes by heart; feature sampling for the
 * same reason.
 */
export const DEFAULT_FORECAST_PARAMS: GbdtParamsInput = {
  objective: 'binary',
  numIterations: 1000,
  earlyStoppingRounds: 50,
  learningRate: 0.05,
  numLeaves: 31,
  minDataInLeaf: 100,
  featureFraction: 0.8,
  lambdaL2: 1,
  numThreads: 0,
};

/** Share of the evaluation times, at the end of the data, held out for early stopping and the operating point. */
export const FORECAST_VALID_FRACTION = 0.2;

/**
 * One training row per series every this long: a thirtieth of the horizon,
 * between 1 and 5 minutes (1 min for 30 min, 2 min for 1 h, 5 min for 6 h).
 * Rows closer than that share almost all of their features and their
 * horizon, so they add cost, not information.
 */
export function trainingStepMs(exhaustion: Pick<ExhaustionDefinition, 'horizonMs'>): number {
  return Math.min(5 * 60_000, Math.max(60_000, Math.round(exhaustion.horizonMs / 30)));
}
