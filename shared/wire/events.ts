import { z } from 'zod';
import { CanonicalResourceIdSchema, ModelRefSchema } from './predictions.js';
import { HostIdSchema, SCHEMA_VERSION, SeqSchema } from './telemetry.js';

export const ALERT_RAISED = 'alert.raised';
export const ALERT_RESOLVED = 'alert.resolved';

/**
 * Why an alert was raised: the probability stayed at or above the model's
 * operating threshold for the configured number of cycles.
 */
export const RAISE_REASONS = ['risk_above_threshold'] as const;
/**
 * Why an alert was resolved: the probability stayed below the resolve level
 * (threshold × resolve ratio) for the configured number of cycles; or no
 * forecast was made for the resource for a while (it is no longer reported,
 * or lost its model), so the alert cannot be held up any more.
 */
export const RESOLVE_REASONS = ['risk_below_resolve_level', 'no_forecast'] as const;

/** Most characters of an event's human-readable `detail`. */
export const MAX_EVENT_DETAIL_LENGTH = 512;

const AlertFields = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  hostId: HostIdSchema,
  /** Per-host sequence number, shared with telemetry and predictions. */
  seq: SeqSchema,
  /** When the transition happened (the cycle's collection time), Unix epoch ms. */
  timestamp: z.number().int().positive(),
  resource: CanonicalResourceIdSchema,
  /** The probability of the cycle that made the transition, 0..1. */
  probability: z.number().min(0).max(1),
  /** The model's operating threshold at the time, 0..1. */
  threshold: z.number().min(0).max(1),
  /** A sentence for people, e.g. `probability 0.41 ≥ 0.31 for 2 cycles`. */
  detail: z.string().max(MAX_EVENT_DETAIL_LENGTH),
  model: ModelRefSchema.optional(),
};

export const AlertRaisedEventSchema = z.object({
  ...AlertFields,
  type: z.literal(ALERT_RAISED),
  reason: z.enum(RAISE_REASONS),
});

export const AlertResolvedEventSchema = z.object({
  ...AlertFields,
  type: z.literal(ALERT_RESOLVED),
  reason: z.enum(RESOLVE_REASONS),
  /** The `timestamp` of the `alert.raised` event this one ends: (host, resource, raisedAt) names an alert. */
  raisedAt: z.number().int().positive(),
});

/**
 * On `…/events`: one message per event, discriminated by `type`. Alerts
 * today; remediation decisions will join the union as further types.
 */
export const EventMessageSchema = z.discriminatedUnion('type', [
  AlertRaisedEventSchema,
  AlertResolvedEventSchema,
]);
export type EventMessage = z.infer<typeof EventMessageSchema>;
export type AlertRaisedEvent = z.infer<typeof AlertRaisedEventSchema>;
export type AlertResolvedEvent = z.infer<typeof AlertResolvedEventSchema>;
