import { confusionAt, logLoss, pinballLoss, prAuc, rmse, rocAuc } from '../evaluation/metrics.js';
import type { Objective } from '../gbdt/model.js';

/**
 * The metrics a fitted model is judged and recorded by, on its validation
 * rows. `predictions` are probabilities for `binary`, values otherwise.
 */
export function validationMetrics(
  objective: Objective,
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  alpha = 0.5,
): Record<string, number> {
  if (objective === 'binary') {
    const at = confusionAt(labels, predictions, 0.5);
    return {
      auc: rocAuc(labels, predictions),
      pr_auc: prAuc(labels, predictions),
      logloss: logLoss(labels, predictions),
      precision_at_0_5: at.precision,
      recall_at_0_5: at.recall,
      f1_at_0_5: at.f1,
    };
  }
  let absolute = 0;
  let below = 0;
  for (let i = 0; i < labels.length; i++) {
    absolute += Math.abs(predictions[i]! - labels[i]!);
    if (labels[i]! <= predictions[i]!) below++;
  }
  const metrics: Record<string, number> = {
    rmse: rmse(labels, predictions),
    mae: absolute / labels.length,
  };
  if (objective === 'quantile') {
    metrics.pinball = pinballLoss(labels, predictions, alpha);
    // Share of labels at or below the predicted quantile; ideally alpha.
    metrics.coverage = below / labels.length;
  }
  return metrics;
}
