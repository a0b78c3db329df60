/**
 * The remediation vocabulary both sides speak: the modes a playbook runs
 * in, a playbook's name, and the lease an agent asks the aggregator for
 * before it enforces (`POST /api/v1/remediation/leases`). A lease names a
 * playbook the host's own configuration defines; it can grant or refuse an
 * action, never define or change a command.
 */
import { z } from 'zod';
import { CanonicalResourceIdSchema } from './predictions.js';
import { HostIdSchema } from './telemetry.js';

/**
 * What a playbook does when its condition holds, in increasing order of
 * effect: `off` (not evaluated), `recommend` (an event that says what would
 * run), `dry-run` (logged and audited like a run, never executed),
 * `enforce` (executed, under a fleet-wide lease).
 */
export const REMEDIATION_MODES = ['off', 'recommend', 'dry-run', 'enforce'] as const;
export type RemediationMode = (typeof REMEDIATION_MODES)[number];

/** A playbook's name: 1-64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. */
export const PLAYBOOK_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const PlaybookNameSchema = z
  .string()
  .regex(
    PLAYBOOK_NAME_PATTERN,
    'a playbook name: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit',
  );

/** Longest lease an agent may ask for, seconds (6 h): a playbook's timeout plus a margin stays under it. */
export const MAX_LEASE_TTL_SECONDS = 6 * 3600;

/** Body of `POST /api/v1/remediation/leases`. */
export const LeaseRequestSchema = z
  .object({
    hostId: HostIdSchema,
    playbook: PlaybookNameSchema,
    /** The resource the playbook acts for, canonical id. */
    resource: CanonicalResourceIdSchema,
    /** How long the lease holds unless released first, seconds. */
    ttlSeconds: z.number().int().min(1).max(MAX_LEASE_TTL_SECONDS),
  })
  .strict();
export type LeaseRequest = z.infer<typeof LeaseRequestSchema>;

/** A granted lease: the 201 body, and one entry of `GET /api/v1/remediation/leases`. */
export const LeaseSchema = z.object({
  leaseId: z.string().min(1).max(64),
  hostId: HostIdSchema,
  playbook: PlaybookNameSchema,
  resource: CanonicalResourceIdSchema,
  /** ISO 8601 times. */
  grantedAt: z.string(),
  expiresAt: z.string(),
});
export type Lease = z.infer<typeof LeaseSchema>;
