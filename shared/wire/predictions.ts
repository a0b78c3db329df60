import { z } from 'zod';
import { MAX_HORIZON_MS } from '../resources/exhaustion.js';
import { MAX_RESOURCE_ID_LENGTH, isCanonicalResourceId } from '../resources/resource-id.js';
import { ModelRefSchema } from './model-ref.js';
import { HostIdSchema, SCHEMA_VERSION, SeqSchema } from './telemetry.js';

/**
 * Most predictions in one message. An agent with more resources (hundreds
 * of mounts) splits a cycle's predictions over several messages; at about
 * 250 bytes each, 500 stay well under the aggregator's 256 KiB limit.
 */
export const MAX_PREDICTIONS_PER_MESSAGE = 500;

/** A resource id in canonical form (docs/features.md); ids on the wire are never raw mountpoints. */
export const CanonicalResourceIdSchema = z
  .string()
  .max(MAX_RESOURCE_ID_LENGTH)
  .refine(isCanonicalResourceId, 'a canonical resource id such as cpu or filesystem:%2Fvar');

export { MODEL_SOURCES, ModelRefSchema, type ModelRef, type ModelSource } from './model-ref.js';

const Seconds = z.number().finite().nonnegative();

/** Time until the exhaustion, should one come: P10, P50 and P90 in seconds, in that order. */
export const TimeToExhaustionBandSchema = z
  .object({ p10S: Seconds, p50S: Seconds, p90S: Seconds })
  .refine((b) => b.p10S <= b.p50S && b.p50S <= b.p90S, 'the band must satisfy p10S ≤ p50S ≤ p90S');
export type TimeToExhaustionBandWire = z.infer<typeof TimeToExhaustionBandSchema>;

export const PredictionSchema = z.object({
  resource: CanonicalResourceIdSchema,
  /** Probability (0..1) that the resource is exhausted within `horizonS`. */
  probability: z.number().min(0).max(1),
  /** True while an alert is raised for the resource (after hysteresis; see the `events` topic). */
  alert: z.boolean(),
  /** The model's operating threshold: the probability at or above which it counts as a warning, 0..1. */
  threshold: z.number().min(0).max(1),
  /** The horizon of the forecast, seconds (the resource's exhaustion definition). */
  horizonS: z
    .number()
    .positive()
    .max(MAX_HORIZON_MS / 1000),
  ttBand: TimeToExhaustionBandSchema.optional(),
  model: ModelRefSchema,
});
export type Prediction = z.infer<typeof PredictionSchema>;

/**
 * On `…/predictions`, once per collection cycle: the forecast for every
 * resource of the host that has a model. Numbered in the host's one
 * sequence, like telemetry and events.
 */
export const PredictionsMessageSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  hostId: HostIdSchema,
  /** Per-host sequence number, shared with telemetry and events (see TelemetryMessageSchema.seq). */
  seq: SeqSchema,
  /** The time the features were computed for (the cycle's collection time), Unix epoch ms. */
  timestamp: z.number().int().positive(),
  predictions: z.array(PredictionSchema).min(1).max(MAX_PREDICTIONS_PER_MESSAGE),
});
export type PredictionsMessage = z.infer<typeof PredictionsMessageSchema>;
