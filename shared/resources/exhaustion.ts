/**
 * What "exhausted" means for each resource: a utilisation threshold, the
 * horizon the forecast looks ahead, and (for CPU) how long the threshold must
 * hold before it counts. The forecast is P(exhausted within the horizon); the
 * labels in training sets and the alerts on agents use these same numbers.
 */
import { z } from 'zod';
import { DurationSchema, formatDuration } from '../config/duration.js';
import { errorMessage } from '../errors.js';
import {
  type Resource,
  type ResourceKind,
  canonicalResourceId,
  formatResourceId,
  isResourceKind,
  parseResourceId,
} from './resource-id.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export interface ExhaustionDefinition {
  /** Utilisation (0..1 ratio) at or above which the resource is exhausted. */
  readonly threshold: number;
  /** How far ahead the forecast looks, ms. */
  readonly horizonMs: number;
  /**
   * How long utilisation must stay at or above the threshold for an
   * exhaustion event, ms. 0: one sample at the threshold is enough.
   */
  readonly sustainMs: number;
}

/**
 * CPU ≥ 90 % for 5 minutes within 1 hour. A CPU pegged for a few seconds is
 * normal (builds, GC, cron); only saturation that lasts hurts, through run
 * queue latency. 90 % leaves the bursts some room; 5 minutes is the `for:`
 * most CPU saturation alerts use; an hour is enough to scale out or shed load.
 */
export const DEFAULT_CPU_EXHAUSTION: ExhaustionDefinition = {
  threshold: 0.9,
  horizonMs: HOUR_MS,
  sustainMs: 5 * MINUTE_MS,
};

/**
 * Memory ≥ 95 % within 30 minutes. "Used" is total − available, so at 95 %
 * the kernel has almost nothing left to reclaim and the OOM killer is close;
 * one moment there is enough for it to fire, hence no sustain. Leaks and
 * runaway caches climb in tens of minutes; 30 minutes is time to restart the
 * culprit.
 */
export const DEFAULT_MEMORY_EXHAUSTION: ExhaustionDefinition = {
  threshold: 0.95,
  horizonMs: 30 * MINUTE_MS,
  sustainMs: 0,
};

/**
 * Swap ≥ 90 % within 1 hour. With swap full, the next allocation under
 * pressure goes to the OOM killer; swap fills more slowly than RAM, and the
 * last 10 % goes fast once the host is thrashing, so warn earlier than memory.
 */
export const DEFAULT_SWAP_EXHAUSTION: ExhaustionDefinition = {
  threshold: 0.9,
  horizonMs: HOUR_MS,
  sustainMs: 0,
};

/**
 * Filesystem space ≥ 95 % within 6 hours. Utilisation is against what users
 * can write (root's reserve left out, as `df` shows it); at 95 % databases
 * and log writers start failing, and node-mixin's "almost out of space" alert
 * fires at 5 % left. Six hours gives an on-call shift time to clean up or
 * grow the volume.
 */
export const DEFAULT_FILESYSTEM_EXHAUSTION: ExhaustionDefinition = {
  threshold: 0.95,
  horizonMs: 6 * HOUR_MS,
  sustainMs: 0,
};

/** Inodes ≥ 95 % within 6 hours: as for space (node-mixin's "almost out of files" is 5 % left). */
export const DEFAULT_INODES_EXHAUSTION: ExhaustionDefinition = {
  threshold: 0.95,
  horizonMs: 6 * HOUR_MS,
  sustainMs: 0,
};

/**
 * File descriptors ≥ 90 % of the kernel's limit within 1 hour, node-mixin's
 * critical level for `file-nr` / `file-max`. Descriptor leaks grow quickly and
 * the failure (EMFILE/ENFILE) hits every process at once, so keep a margin.
 */
export const DEFAULT_FDS_EXHAUSTION: ExhaustionDefinition = {
  threshold: 0.9,
  horizonMs: HOUR_MS,
  sustainMs: 0,
};

export const DEFAULT_EXHAUSTION: Readonly<Record<ResourceKind, ExhaustionDefinition>> = {
  cpu: DEFAULT_CPU_EXHAUSTION,
  memory: DEFAULT_MEMORY_EXHAUSTION,
  swap: DEFAULT_SWAP_EXHAUSTION,
  filesystem: DEFAULT_FILESYSTEM_EXHAUSTION,
  inodes: DEFAULT_INODES_EXHAUSTION,
  fds: DEFAULT_FDS_EXHAUSTION,
};

/**
 * Longest horizon: 7 days. Features look back at most 8 days and
 * time-to-threshold estimates are capped at 7 days, so a longer horizon would
 * ask the model for what its inputs cannot show.
 */
export const MAX_HORIZON_MS = 7 * 24 * HOUR_MS;

/** One override: any field left out keeps the value from the level below. */
export const ExhaustionOverrideSchema = z
  .object({
    /** Utilisation ratio, > 0 and ≤ 1. */
    threshold: z.number().gt(0, 'threshold must be > 0').max(1, 'threshold is a ratio, at most 1').optional(),
    /** Duration string, e.g. `30m`, `6h`; > 0 and ≤ 7d. */
    horizon: DurationSchema.optional(),
    /** Duration string, e.g. `5m`; `0s` for none; shorter than the horizon. */
    sustain: DurationSchema.optional(),
  })
  .strict()
  .transform((o) => {
    const out: { threshold?: number; horizonMs?: number; sustainMs?: number } = {};
    if (o.threshold !== undefined) out.threshold = o.threshold;
    if (o.horizon !== undefined) out.horizonMs = o.horizon;
    if (o.sustain !== undefined) out.sustainMs = o.sustain;
    return out;
  });
export type ExhaustionOverride = z.output<typeof ExhaustionOverrideSchema>;

/** Overrides by canonical key: a kind (every resource of it) or a resource id. */
export type ExhaustionConfig = Readonly<Record<string, ExhaustionOverride>>;

/**
 * Exhaustion configuration: a mapping from a resource kind (`cpu`,
 * `filesystem`, …: every resource of that kind) or a resource id
 * (`filesystem:/var/lib/docker` or its canonical `filesystem:%2Fvar%2Flib%2Fdocker`)
 * to an override. A resource id beats its kind, which beats the built-in
 * default. Keys are stored in canonical form. Default: no overrides.
 *
 * ```yaml
 * exhaustion:
 *   cpu: { threshold: 0.95, sustain: 10m }
 *   filesystem: { horizon: 12h }
 *   "filesystem:/var/lib/docker": { threshold: 0.9 }
 * ```
 */
export const ExhaustionConfigSchema = z
  .record(z.string().superRefine(checkKey), ExhaustionOverrideSchema, {
    // Say why the key is wrong, not only that it is.
    error: (issue) => (issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined),
  })
  .transform((raw, ctx) => {
    const config: Record<string, ExhaustionOverride> = {};
    /** The key as written, for problem paths. */
    const written = new Map<string, string>();
    for (const [key, override] of Object.entries(raw)) {
      const canonical = isResourceKind(key) ? key : canonicalResourceId(key);
      if (Object.hasOwn(config, canonical)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `the same resource as another key (${canonical})`,
        });
        continue;
      }
      config[canonical] = override;
      written.set(canonical, key);
    }
    for (const key of Object.keys(config)) {
      const definition = resolveKey(config, key);
      for (const problem of definitionProblems(definition)) {
        ctx.addIssue({
          code: 'custom',
          path: [written.get(key) ?? key, problem.field],
          message: problem.message,
        });
      }
    }
    return config as ExhaustionConfig;
  })
  .prefault({});

function checkKey(key: string, ctx: z.RefinementCtx): void {
  if (isResourceKind(key)) return;
  try {
    canonicalResourceId(key);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a resource kind or id: ${errorMessage(err)}` });
  }
}

/** The definition that applies to a resource: built-in default, then its kind's override, then its own. */
export function resolveExhaustion(
  config: ExhaustionConfig,
  resource: Resource | string,
): ExhaustionDefinition {
  const parsed = typeof resource === 'string' ? parseResourceId(resource) : resource;
  return resolveKey(config, formatResourceId(parsed), parsed.kind);
}

/** Human-readable form, e.g. `≥ 90% for 5m within 1h`. */
export function describeExhaustion(definition: ExhaustionDefinition): string {
  const pct = `${Math.round(definition.threshold * 1000) / 10}%`;
  const sustain = definition.sustainMs > 0 ? ` for ${formatDuration(definition.sustainMs)}` : '';
  return `≥ ${pct}${sustain} within ${formatDuration(definition.horizonMs)}`;
}

function resolveKey(config: ExhaustionConfig, key: string, kind?: ResourceKind): ExhaustionDefinition {
  const k = kind ?? (isResourceKind(key) ? key : parseResourceId(key).kind);
  const merged = { ...DEFAULT_EXHAUSTION[k] };
  for (const override of [config[k], key === k ? undefined : config[key]]) {
    if (!override) continue;
    if (override.threshold !== undefined) merged.threshold = override.threshold;
    if (override.horizonMs !== undefined) merged.horizonMs = override.horizonMs;
    if (override.sustainMs !== undefined) merged.sustainMs = override.sustainMs;
  }
  return merged;
}

function definitionProblems(d: ExhaustionDefinition): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (d.horizonMs <= 0) problems.push({ field: 'horizon', message: 'horizon must be > 0' });
  if (d.horizonMs > MAX_HORIZON_MS)
    problems.push({ field: 'horizon', message: 'horizon must be at most 7d' });
  if (d.sustainMs >= d.horizonMs) {
    problems.push({
      field: 'sustain',
      message: `sustain (${formatDuration(d.sustainMs)}) must be shorter than the horizon (${formatDuration(d.horizonMs)})`,
    });
  }
  return problems;
}
