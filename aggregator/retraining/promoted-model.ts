/**
 * What a promotion hands to the rollout: everything needed to sign and
 * publish the model on `cloudsense/v1/models/{key}` (the files are in the
 * run registry, so a promoted model is always a recorded run).
 */
export interface PromotedModel {
  /** Catalog key and model topic key: a kind (`memory`) or a canonical resource id. */
  key: string;
  /** The version agents report once they adopt it: the training run id (a ULID, so versions sort by time). */
  version: string;
  runId: string;
  /** The ONNX file, absolute. */
  modelPath: string;
  sha256: string;
  /** Time-to-exhaustion band models, absolute, when trained. */
  band: { p10: string; p50: string; p90: string } | undefined;
  featureSchemaHash: string;
  operatingThreshold: number | undefined;
  /** ISO 8601. */
  promotedAt: string;
}
