import { z } from 'zod';
import { ModelKeySchema, ModelVersionSchema, Sha256HexSchema } from './models.js';
import { CanonicalResourceIdSchema, ModelRefSchema } from './predictions.js';
import { PlaybookNameSchema, REMEDIATION_MODES } from './remediation.js';
import { HostIdSchema, SCHEMA_VERSION, SeqSchema } from './telemetry.js';

export const ALERT_RAISED = 'alert.raised';
export const ALERT_RESOLVED = 'alert.resolved';
export const MODEL_ADOPTED = 'model.adopted';
export const MODEL_REJECTED = 'model.rejected';
export const MODEL_ROLLED_BACK = 'model.rolled_back';
export const REMEDIATION = 'remediation';

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
 * Why a model update was refused, in the order the agent checks:
 * `size` (payload over the limit), `malformed` (not JSON, not the schema, or
 * on another model's topic), `signature` (does not verify with the agent's
 * public key), `hash` (an ONNX file's SHA-256 differs from the signed one),
 * `schema` (trained on another feature schema), `load` (onnxruntime or the
 * model contract refuses it), `smoke` (NaN or out-of-range outputs on
 * synthetic rows).
 */
export const MODEL_REJECT_REASONS = [
  'size',
  'malformed',
  'signature',
  'hash',
  'schema',
  'load',
  'smoke',
] as const;
export type ModelRejectReason = (typeof MODEL_REJECT_REASONS)[number];

/** Why an adopted model was replaced by the one before it: NaN or out-of-range outputs on live rows. */
export const ROLLBACK_REASONS = ['invalid_output'] as const;

const ModelEventFields = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  hostId: HostIdSchema,
  seq: SeqSchema,
  /** When the agent decided, Unix epoch ms. */
  timestamp: z.number().int().positive(),
  /** What the model serves: a resource kind, or a canonical resource id (the model topic's key). */
  resource: ModelKeySchema,
  detail: z.string().max(MAX_EVENT_DETAIL_LENGTH),
};

/** A verified model was swapped in; its predictions carry `model`. */
export const ModelAdoptedEventSchema = z.object({
  ...ModelEventFields,
  type: z.literal(MODEL_ADOPTED),
  /** SHA-256 of the forecast's ONNX bytes. */
  sha256: Sha256HexSchema,
  model: ModelRefSchema,
  /** The model it replaced; absent when the resource had none. */
  previous: ModelRefSchema.optional(),
});

/** A model message that failed a check; nothing was loaded, the current model stays. */
export const ModelRejectedEventSchema = z.object({
  ...ModelEventFields,
  type: z.literal(MODEL_REJECTED),
  reason: z.enum(MODEL_REJECT_REASONS),
  /** What the message claimed, when it parsed (unverified for `malformed` and `signature`). */
  version: ModelVersionSchema.optional(),
  sha256: Sha256HexSchema.optional(),
});

/** An adopted model misbehaved in its first cycles and the previous one was put back. */
export const ModelRolledBackEventSchema = z.object({
  ...ModelEventFields,
  type: z.literal(MODEL_ROLLED_BACK),
  reason: z.enum(ROLLBACK_REASONS),
  sha256: Sha256HexSchema,
  /** The model taken out. */
  model: ModelRefSchema,
  /** The model serving again; absent when the resource had none before. */
  restored: ModelRefSchema.optional(),
});

/**
 * What the agent's remediation engine decided, one event each (docs/remediation.md):
 * `recommended` (mode recommend: what would run), `dry_run` (what would run,
 * not executed), `skipped` (cooldown or rate limit), `lease_denied` (the
 * fleet's cap on concurrent remediation is taken), `lease_unanswered` (no
 * answer from the aggregator: nothing runs), `executed` (ran: exit code,
 * duration, output), `failed` (could not be started), `outcome` (the
 * resource's risk some cycles after a run).
 */
export const REMEDIATION_DECISIONS = [
  'recommended',
  'dry_run',
  'skipped',
  'lease_denied',
  'lease_unanswered',
  'executed',
  'failed',
  'outcome',
] as const;
export type RemediationDecision = (typeof REMEDIATION_DECISIONS)[number];

/**
 * Why: `skipped` → `cooldown`, `rate_limit`; `lease_denied` → `fleet_cap`;
 * `lease_unanswered` → `timeout`, `unreachable`, `unexpected_response`;
 * `failed` → `spawn_error`.
 */
export const REMEDIATION_REASONS = [
  'cooldown',
  'rate_limit',
  'fleet_cap',
  'timeout',
  'unreachable',
  'unexpected_response',
  'spawn_error',
] as const;
export type RemediationReason = (typeof REMEDIATION_REASONS)[number];

/** An outcome check's verdict: the probability is at or below the trigger level again, or not; or no forecast came. */
export const REMEDIATION_OUTCOMES = ['risk_fell', 'risk_persists', 'no_forecast'] as const;
export type RemediationOutcome = (typeof REMEDIATION_OUTCOMES)[number];

/** Most characters of a command's standard output or error kept in an event (the end of it). */
export const MAX_REMEDIATION_OUTPUT_LENGTH = 4096;
/** Most arguments of a playbook's command, and characters of each. */
export const MAX_COMMAND_ARGS = 64;
export const MAX_COMMAND_ARG_LENGTH = 1024;

export const RemediationEventSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  hostId: HostIdSchema,
  seq: SeqSchema,
  /** When the agent decided (for `executed` and `failed`: when the command ended), Unix epoch ms. */
  timestamp: z.number().int().positive(),
  type: z.literal(REMEDIATION),
  decision: z.enum(REMEDIATION_DECISIONS),
  playbook: PlaybookNameSchema,
  /** The playbook's mode at the time. */
  mode: z.enum(REMEDIATION_MODES),
  /** The resource whose forecast triggered the playbook, canonical id. */
  resource: CanonicalResourceIdSchema,
  /** The resource's probability that decided (for `outcome`: the last one seen), 0..1. */
  probability: z.number().min(0).max(1).optional(),
  /** The playbook's condition: probability above `probabilityAbove` for `forCycles` cycles in a row. */
  trigger: z.object({
    probabilityAbove: z.number().min(0).max(1),
    forCycles: z.number().int().positive(),
  }),
  /** The argv that ran, or would run; never interpreted by a shell. */
  command: z.array(z.string().max(MAX_COMMAND_ARG_LENGTH)).min(1).max(MAX_COMMAND_ARGS).optional(),
  /** The user it runs as, when the playbook names one. */
  user: z.string().min(1).max(64).optional(),
  reason: z.enum(REMEDIATION_REASONS).optional(),
  /** When the playbook will be considered again (skipped, lease refused), Unix epoch ms. */
  retryAt: z.number().int().positive().optional(),
  leaseId: z.string().min(1).max(64).optional(),
  /** `executed`: the exit code, or null when a signal ended the command. */
  exitCode: z.number().int().nullable().optional(),
  signal: z.string().max(16).optional(),
  /** `executed`: the timeout was reached and the command's process group killed. */
  timedOut: z.boolean().optional(),
  /** `executed`: wall time from start to exit, ms. */
  durationMs: z.number().nonnegative().optional(),
  /** `executed`: the end of the command's standard output and error. */
  stdout: z.string().max(MAX_REMEDIATION_OUTPUT_LENGTH).optional(),
  stderr: z.string().max(MAX_REMEDIATION_OUTPUT_LENGTH).optional(),
  outcome: z.enum(REMEDIATION_OUTCOMES).optional(),
  /** `outcome`: the `timestamp` of the `executed` event it judges. */
  executedAt: z.number().int().positive().optional(),
  /** A sentence for people: which resource, which probability, what ran or would run. */
  detail: z.string().max(MAX_EVENT_DETAIL_LENGTH),
});

/**
 * On `…/events`: one message per event, discriminated by `type`: alerts,
 * model updates, and remediation decisions.
 */
export const EventMessageSchema = z.discriminatedUnion('type', [
  AlertRaisedEventSchema,
  AlertResolvedEventSchema,
  ModelAdoptedEventSchema,
  ModelRejectedEventSchema,
  ModelRolledBackEventSchema,
  RemediationEventSchema,
]);
export type EventMessage = z.infer<typeof EventMessageSchema>;
export type AlertRaisedEvent = z.infer<typeof AlertRaisedEventSchema>;
export type AlertResolvedEvent = z.infer<typeof AlertResolvedEventSchema>;
export type ModelAdoptedEvent = z.infer<typeof ModelAdoptedEventSchema>;
export type ModelRejectedEvent = z.infer<typeof ModelRejectedEventSchema>;
export type ModelRolledBackEvent = z.infer<typeof ModelRolledBackEventSchema>;
export type RemediationEvent = z.infer<typeof RemediationEventSchema>;
