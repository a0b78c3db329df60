import { createHash } from 'node:crypto';
import { z } from 'zod';
import { JsonNumberSchema } from '../io/json-number.js';
import { RUN_ID_PATTERN } from './run-id.js';

/**
 * One tracked run (MLflow's run): a training job, a search study, or one
 * trial of a study (its `parentRunId` is the study's run). Stored as JSON;
 * `RunRecordSchema` reads it back. Non-finite metric values are kept, spelled
 * "NaN" / "Infinity" / "-Infinity" in the file (see `io/json-number.ts`).
 */
export const RUN_RECORD_VERSION = 1;
export const RUN_STATUSES = ['running', 'finished', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RunIdSchema = z.string().regex(RUN_ID_PATTERN, 'not a run id (26-character ULID)');
const IsoTime = z.iso.datetime();
const Name = z.string().min(1).max(256);

export const RunParamValueSchema = z.union([z.string(), z.number(), z.boolean()]);
export type RunParamValue = z.infer<typeof RunParamValueSchema>;

/** One point of a metric's history: its value after `step` (an iteration, a boosting round, an epoch). */
export const MetricPointSchema = z.object({ step: z.number().int().min(0), value: JsonNumberSchema });
export type MetricPoint = z.infer<typeof MetricPointSchema>;

/** A file kept with the run, e.g. the exported model. */
export const ArtifactSchema = z.object({
  name: Name,
  /** Path relative to the run's directory, '/'-separated. */
  path: z.string().min(1),
  /** Hex SHA-256 of the file's bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
});
export type Artifact = z.infer<typeof ArtifactSchema>;

/** The time span of the telemetry a run trained or evaluated on; null ends are open or unknown. */
export const DataRangeSchema = z.object({ from: IsoTime.nullable(), to: IsoTime.nullable() });
export type DataRange = z.infer<typeof DataRangeSchema>;

export const RunRecordSchema = z.object({
  schemaVersion: z.literal(RUN_RECORD_VERSION),
  runId: RunIdSchema,
  /** Human-readable name, e.g. `cpu-exhaustion-30m`. */
  name: Name,
  /** What the run is, e.g. `training`, `study`, `trial`. */
  kind: Name,
  /** The run this one belongs to (a study's run for its trials); null for top-level runs. */
  parentRunId: RunIdSchema.nullable(),
  status: z.enum(RUN_STATUSES),
  startedAt: IsoTime,
  finishedAt: IsoTime.nullable(),
  /** finishedAt − startedAt in milliseconds; null while running. */
  durationMs: z.number().min(0).nullable(),
  /** Why a failed run failed. */
  error: z.string().nullable(),
  params: z.record(z.string(), RunParamValueSchema),
  /** The latest value of each metric (the one at the highest step). */
  metrics: z.record(z.string(), JsonNumberSchema),
  /** Every logged value per metric, ascending by step: the evaluation curves. */
  metricHistory: z.record(z.string(), z.array(MetricPointSchema)),
  dataRange: DataRangeSchema,
  /** Rows per split, e.g. `{ train: 120000, validation: 30000 }`. */
  rowCounts: z.record(z.string(), z.number().int().min(0)),
  /** Hash identifying the feature schema the model expects; see `featureSchemaHash`. */
  featureSchemaHash: z.string().nullable(),
  featureNames: z.array(z.string()),
  tags: z.record(z.string(), z.string()),
  artifacts: z.array(ArtifactSchema),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/**
 * A default feature-schema hash: SHA-256 over the ordered feature names. A
 * model is only valid for inputs in the same order, so order is part of it.
 * Callers that know more (types, units, window lengths) pass their own hash.
 */
export function featureSchemaHash(featureNames: readonly string[]): string {
  const hash = createHash('sha256');
  for (const name of featureNames) hash.update(`${name}\n`);
  return hash.digest('hex');
}
