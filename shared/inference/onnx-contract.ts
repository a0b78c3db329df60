/**
 * What a CloudSense GBDT model in ONNX form looks like from the outside: the
 * tensor names and the `metadata_props` keys the exporter (models/onnx) writes
 * and the scorer (shared/inference) reads. Both sides import these constants,
 * so a rename cannot leave one of them behind.
 *
 * Graph interface:
 * - input  `features`    float32 [N, F], F = number of feature names;
 * - output `raw_score`   float32 [N, 1], base score + Σ leaf values (margin), summed in double;
 * - output `probability` float32 [N, 1], sigmoid(raw_score), objective `binary`;
 * - output `value`       float32 [N, 1], raw_score unchanged, `regression` and `quantile`.
 */

/** Training objectives a model can carry; mirrors `OBJECTIVES` in models/gbdt/model.ts. */
export const MODEL_OBJECTIVES = ['binary', 'regression', 'quantile'] as const;
export type ModelObjective = (typeof MODEL_OBJECTIVES)[number];

export const FEATURES_INPUT = 'features';
export const RAW_SCORE_OUTPUT = 'raw_score';

/** The graph output holding the model's prediction, per objective. */
export const PREDICTION_OUTPUT: Readonly<Record<ModelObjective, string>> = {
  binary: 'probability',
  regression: 'value',
  quantile: 'value',
};

/** Operating threshold of a forecast model that does not record one. */
export const DEFAULT_OPERATING_THRESHOLD_FALLBACK = 0.5;

/** Symbolic name of the batch dimension. */
export const BATCH_DIM = 'N';

/** `metadata_props` keys. Values are strings; the comment says how each is encoded. */
export const METADATA_KEYS = {
  /** JSON array of strings, one per input column, in column order. */
  featureNames: 'feature_names',
  /** Hash of the feature schema the model was trained on; scorers refuse rows built for another. */
  featureSchemaHash: 'feature_schema_hash',
  /** One of MODEL_OBJECTIVES. */
  objective: 'objective',
  /** Quantile level 0..1 as a decimal string; only for `quantile`. */
  alpha: 'alpha',
  trainingRunId: 'training_run_id',
  /** Free-form version label; absent when the exporter was given none. */
  modelVersion: 'model_version',
  /** Number of trees, decimal. */
  numTrees: 'num_trees',
  /** Base score as a decimal string (the same float64 as the base_values_as_tensor attribute). */
  baseScore: 'base_score',
  /**
   * Exhaustion forecasts (`binary`): the probability at or above which the
   * model's users alert, chosen on the validation rows; decimal 0..1.
   */
  operatingThreshold: 'operating_threshold',
  /** Exhaustion forecasts: the resource kind or id the model was trained for, e.g. `cpu`. */
  resource: 'resource',
  /** Exhaustion forecasts: JSON `{threshold, horizonMs, sustainMs}` its labels were built with. */
  exhaustion: 'exhaustion',
} as const;
