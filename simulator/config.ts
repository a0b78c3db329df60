/**
 * Configuration of `cloudsense simulate`: the `simulate:` section, plus the
 * shared sections it reads — `agent:` for the broker URL and credentials
 * (the virtual hosts connect as agents do) and `aggregator.store` for DuckDB
 * settings when writing history into a data dir.
 */
import { z } from 'zod';
import { AgentSectionSchema } from '../agent/config.js';
import { AggregatorSectionSchema } from '../aggregator/config.js';
import { CommonConfigShape } from '../shared/config/common.js';
import { DURATION_HINT, parseDuration } from '../shared/config/duration.js';
import { PROFILE_NAMES } from './profiles.js';

/** Virtual hosts in the fleet. */
export const DEFAULT_HOSTS = 10;
export const MAX_HOSTS = 10_000;
export const DEFAULT_SEED = 1;
/** Host ids are `<prefix>-000`, `<prefix>-001`, …. */
export const DEFAULT_HOST_PREFIX = 'sim';
/**
 * Longest host prefix: with `-` and up to four digits the host id stays
 * within the 128 characters of a host id, and the agent's client id
 * (`cloudsense-agent-<host id>`) within the embedded broker's 160.
 */
export const MAX_HOST_PREFIX_LENGTH = 100;
/** Seconds between samples in live mode: the agent's default. */
export const DEFAULT_LIVE_INTERVAL_SECONDS = 10;
/** Seconds between samples in history mode: a minute keeps weeks of history quick to write and to read. */
export const DEFAULT_HISTORY_INTERVAL_SECONDS = 60;
/** Simulated seconds per real second in live mode. */
export const DEFAULT_SPEED = 1;
export const MAX_SPEED = 1_000_000;
export const MAX_DAYS = 366;
/** Telemetry messages per store write in history mode. */
export const DEFAULT_BATCH_MESSAGES = 2000;
/**
 * Live mode with `modelKey`: how many virtual hosts (the first ones) take
 * model updates. Each of them holds its own onnxruntime sessions, as an
 * agent does (several MiB per host), so a large fleet does not multiply
 * them all.
 */
export const DEFAULT_MODEL_HOSTS = 20;
export const MAX_MODEL_HOSTS = 100;

const HOST_PREFIX_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${MAX_HOST_PREFIX_LENGTH - 1}}$`);

export const SimulateSectionSchema = z
  .object({
    /** Number of virtual hosts, 1..10000. Default 10. */
    hosts: z.number().int().min(1).max(MAX_HOSTS, `at most ${MAX_HOSTS} hosts`).default(DEFAULT_HOSTS),
    /** Seed of every random choice: equal seeds give equal fleets and series. Default 1. */
    seed: z.number().int().refine(Number.isSafeInteger, 'a safe integer').default(DEFAULT_SEED),
    /** Host ids are `<prefix>-NNN`. Default `sim`. */
    hostPrefix: z
      .string()
      .regex(
        HOST_PREFIX_PATTERN,
        `1-${MAX_HOST_PREFIX_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit`,
      )
      .default(DEFAULT_HOST_PREFIX),
    /** Profiles to draw hosts from, a list or comma-separated. Default: all, by their weights. */
    profiles: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''))
      .pipe(z.array(z.enum(PROFILE_NAMES)).min(1, 'at least one profile'))
      .optional(),
    /** Seconds between samples, 1..3600. Default 10 live, 60 history. */
    intervalSeconds: z.number().min(1, 'at least 1 s').max(3600, 'at most 3600 s').optional(),
    /** Simulated start time, ISO 8601. Default: now (live), now − days (history). */
    start: z
      .string({ error: 'an ISO 8601 time such as 2025-03-01T00:00:00Z' })
      .transform((text, ctx) => {
        const t = Date.parse(text);
        if (!Number.isFinite(t) || t <= 0) {
          ctx.addIssue({
            code: 'custom',
            message: `an ISO 8601 time such as 2025-03-01T00:00:00Z, got "${text}"`,
          });
          return z.NEVER;
        }
        return t;
      })
      .optional(),
    /** Live mode: simulated seconds per real second (60: a minute per second). Default 1. */
    speed: z.number().positive('speed must be > 0').max(MAX_SPEED).optional(),
    /** Live mode: stop after this much real time; seconds or a duration such as 10m. Default: run until Ctrl-C. */
    duration: z
      .union([z.number().positive('duration must be > 0'), z.string()])
      .transform((v, ctx) => {
        if (typeof v === 'number') return v * 1000;
        const ms = parseDuration(v);
        if (ms === undefined || ms <= 0) {
          ctx.addIssue({ code: 'custom', message: `seconds or ${DURATION_HINT}, got "${v}"` });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    /** Live mode: also write the ground truth into this directory. Default: none. */
    groundTruthDir: z.string().min(1).optional(),
    /**
     * Live mode: the aggregator's model-signing public key (a path to
     * `model-signing.pub`, or the key itself, PEM or base64). When set, the
     * first `modelHosts` virtual hosts take signed model updates as agents
     * do and report their models in their status. Default: none (no host
     * takes updates).
     */
    modelKey: z.string().min(1).optional(),
    /** Live mode with `modelKey`: how many virtual hosts (the first ones) take model updates, 1..100. Default 20. */
    modelHosts: z
      .number()
      .int()
      .min(1)
      .max(MAX_MODEL_HOSTS, `at most ${MAX_MODEL_HOSTS} hosts`)
      .default(DEFAULT_MODEL_HOSTS),
    /** History mode: days of history to write into the data dir; setting it selects history mode. */
    days: z.number().positive('days must be > 0').max(MAX_DAYS, `at most ${MAX_DAYS} days`).optional(),
    /** History mode: telemetry messages per store write. Default 2000. */
    batchMessages: z.number().int().min(1).max(100_000).default(DEFAULT_BATCH_MESSAGES),
  })
  .strict()
  .superRefine(
    (s, ctx) => {
      // Runs even when other fields failed (so every problem is listed at once): check types before use.
      if (typeof s.days !== 'number') return;
      for (const key of ['speed', 'duration'] as const) {
        if (s[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'applies to live mode only (without --days)',
          });
        }
      }
      if (s.modelKey !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['modelKey'],
          message: 'applies to live mode only (without --days): history has no model updates',
        });
      }
      if (s.groundTruthDir !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['groundTruthDir'],
          message: 'history mode writes the ground truth into <data dir>/simulation; leave this out',
        });
      }
      const interval =
        typeof s.intervalSeconds === 'number' ? s.intervalSeconds : DEFAULT_HISTORY_INTERVAL_SECONDS;
      if (s.days * 86_400 < interval) {
        ctx.addIssue({ code: 'custom', path: ['days'], message: 'shorter than one interval' });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .prefault({});
export type SimulateSection = z.output<typeof SimulateSectionSchema>;

export const SimulateConfigSchema = z
  .object({
    ...CommonConfigShape,
    agent: AgentSectionSchema,
    aggregator: AggregatorSectionSchema,
    simulate: SimulateSectionSchema,
  })
  .strict();
export type SimulateConfig = z.output<typeof SimulateConfigSchema>;

export type SimulateMode = 'live' | 'history';

export function modeOf(config: SimulateConfig): SimulateMode {
  return config.simulate.days === undefined ? 'live' : 'history';
}

export function intervalSecondsOf(config: SimulateConfig): number {
  return (
    config.simulate.intervalSeconds ??
    (modeOf(config) === 'live' ? DEFAULT_LIVE_INTERVAL_SECONDS : DEFAULT_HISTORY_INTERVAL_SECONDS)
  );
}
