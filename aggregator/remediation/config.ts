import { z } from 'zod';

/**
 * Hosts of the fleet that may remediate at once. 1: a playbook that goes
 * wrong (a bad cleanup, a restart that does not come back) hits one host,
 * not the fleet, before someone looks.
 */
export const DEFAULT_MAX_CONCURRENT_LEASES = 1;

/** `aggregator.remediation`: the fleet-wide cap on concurrent remediation (docs/remediation.md). */
export const LeasesSectionSchema = z
  .object({
    /** Remediation leases held at once over the fleet, 1..10000. Default 1. */
    maxConcurrent: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_CONCURRENT_LEASES),
  })
  .strict()
  .prefault({});
export type LeasesSection = z.infer<typeof LeasesSectionSchema>;
