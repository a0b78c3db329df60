import { z } from 'zod';
import { MAX_RESOURCE_ID_LENGTH } from '../resources/resource-id.js';
import { ModelRefSchema } from './model-ref.js';
import { HOST_ID_PATTERN } from './topics.js';

/** Bump when a change to a payload is not backwards compatible. */
export const SCHEMA_VERSION = 1;

/** Largest telemetry payload the aggregator accepts, in bytes (256 KiB). */
export const MAX_TELEMETRY_BYTES = 256 * 1024;
/** Most metric points in one telemetry message. */
export const MAX_METRICS_PER_MESSAGE = 5000;

export const HostIdSchema = z
  .string()
  .regex(HOST_ID_PATTERN, 'host id: 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');

const AttributesSchema = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((a) => Object.keys(a).length <= 16, 'at most 16 attributes');

/** A per-host sequence number; see `TelemetryMessageSchema.seq`. */
export const SeqSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** The sequence number of samples imported from elsewhere (`cloudsense import csv`); never de-duplicated. */
export const IMPORTED_SEQ = 0;

export const MetricPointSchema = z.object({
  /** OpenTelemetry metric name, e.g. `system.memory.usage`. */
  name: z
    .string()
    .max(128)
    .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, 'metric name: lower-case dotted identifier'),
  /** UCUM unit as OTel uses it: `1`, `By`, `{thread}`. */
  unit: z.string().max(32),
  value: z.number().finite(),
  attributes: AttributesSchema.optional(),
});
export type MetricPoint = z.infer<typeof MetricPointSchema>;

export const TelemetryMessageSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  hostId: HostIdSchema,
  /**
   * Per-host sequence number from the agent's disk queue: 1 for the host's
   * first message, +1 per message, continuing across agent restarts. 0 is
   * reserved for imported samples and never de-duplicated.
   */
  seq: SeqSchema,
  /** Collection time, Unix epoch milliseconds. */
  timestamp: z.number().int().positive(),
  /** The agent's collection interval, seconds. */
  intervalSeconds: z.number().positive().max(86_400),
  metrics: z.array(MetricPointSchema).min(1).max(MAX_METRICS_PER_MESSAGE),
});
export type TelemetryMessage = z.infer<typeof TelemetryMessageSchema>;

export const HOST_STATES = ['online', 'offline'] as const;

/** Retained on `…/status`; the broker publishes the `offline` form as the agent's last will. */
export const StatusMessageSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  hostId: HostIdSchema,
  state: z.enum(HOST_STATES),
  /** When this state began, Unix epoch milliseconds. */
  since: z.number().int().positive(),
  agentVersion: z.string().max(64).optional(),
  intervalSeconds: z.number().positive().max(86_400).optional(),
  /**
   * The model serving each resource kind (or resource id, for a model of one
   * resource), as the agent's predictions name it; republished when one changes.
   */
  models: z
    .record(z.string().min(1).max(MAX_RESOURCE_ID_LENGTH), ModelRefSchema)
    .refine((m) => Object.keys(m).length <= 256, 'at most 256 models')
    .optional(),
});
export type StatusMessage = z.infer<typeof StatusMessageSchema>;

/** Largest acknowledgement payload an agent accepts, bytes. */
export const MAX_ACK_BYTES = 1024;

/**
 * Retained on `…/ack`, published by the aggregator after each store write
 * that covers the host: every sequence number from the host's first up to
 * `seq` is durably stored (or was declared lost, see docs/mqtt.md), so the
 * agent may delete them from its disk queue.
 */
export const AckMessageSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  hostId: HostIdSchema,
  /** Highest contiguous sequence number durably stored for this host. */
  seq: SeqSchema,
});
export type AckMessage = z.infer<typeof AckMessageSchema>;

/** A canonical key for a point's attributes: sorted, so equal sets give equal keys. */
export function attributesKey(attributes: Record<string, string> | undefined): string {
  if (!attributes) return '{}';
  const keys = Object.keys(attributes).sort();
  if (keys.length === 0) return '{}';
  const sorted: Record<string, string> = {};
  for (const k of keys) sorted[k] = attributes[k]!;
  return JSON.stringify(sorted);
}
