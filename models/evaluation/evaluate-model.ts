/**
 * A forecast model and today's rules, judged on the same rows: the one
 * comparison `cloudsense evaluate`, the bundled-model build and (later) the
 * promotion gate all make. The model is scored through onnxruntime, as the
 * agent scores it, not through the trainer's tree walk.
 */
import type { ForecastModel } from '../../shared/inference/forecast-model.js';
import { BASELINE_RULES, scoreBaseline } from '../baselines/rules.js';
import type { ExhaustionDataset } from '../dataset/index.js';
import {
  type Contender,
  type ForecastEvaluation,
  type ForecastEvaluationOptions,
  evaluateForecasts,
} from './forecast-evaluation.js';

/** Contender name of the model in evaluations. */
export const MODEL_CONTENDER = 'model';

export async function evaluateModelAndRules(
  model: ForecastModel,
  dataset: ExhaustionDataset,
  options: ForecastEvaluationOptions = {},
): Promise<ForecastEvaluation> {
  const probability = await model.scoreMany(dataset.features, dataset.numRows);
  const threshold = model.operatingThreshold;
  const contenders: Contender[] = [
    {
      name: MODEL_CONTENDER,
      kind: 'model',
      score: probability,
      probability,
      alert: Uint8Array.from(probability, (p) => (p >= threshold ? 1 : 0)),
      operatingThreshold: threshold,
    },
  ];
  const width = dataset.featureNames.length;
  for (const rule of BASELINE_RULES) {
    const out = scoreBaseline(rule, dataset.features, dataset.numRows, width);
    contenders.push({ name: rule, kind: 'rule', score: out.score, alert: out.alert });
  }
  return evaluateForecasts(dataset, contenders, options);
}
