/**
 * `aggregator.retraining`: when the aggregator retrains its models on its own
 * (schedule, drift), how much CPU a retrain may take, and the promotion rule.
 * Defaults suit a small box holding days of history: one retrain per kind a
 * day on one core, within 10 minutes of search, and only once there is
 * enough history and enough exhaustions to learn from (docs/retraining.md).
 */
import { z } from 'zod';
import { DurationSchema } from '../../shared/config/duration.js';
import { RESOURCE_KINDS, isResourceKind, parseResourceId } from '../../shared/resources/resource-id.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Scheduled retrain of each kind, ms. */
export const DEFAULT_RETRAIN_INTERVAL = '24h';
/** Drift checks of each kind, ms. */
export const DEFAULT_CHECK_INTERVAL = '6h';
/** Fewest time between two retrains of a kind, whatever triggers them. */
export const DEFAULT_MIN_RETRAIN_INTERVAL = '6h';
/** Stored history a kind needs before it is trained. */
export const DEFAULT_MIN_HISTORY = '3d';
/** Exhaustion events a kind needs in its history before it is trained. */
export const DEFAULT_MIN_EVENTS = 5;
/** TPE trials per retrain, and the wall-clock budget of the search. */
export const DEFAULT_SEARCH_TRIALS = 20;
export const DEFAULT_SEARCH_BUDGET = '10m';
/** Trainer threads (1 = the retrain's own worker thread only). */
export const DEFAULT_TRAINING_THREADS = 1;
/** Share of the evaluation times, at the end of the history, held out to compare challenger and champion. */
export const DEFAULT_HOLDOUT_FRACTION = 0.2;
/** The challenger's PR-AUC must exceed the champion's by this much. */
export const DEFAULT_MIN_PR_AUC_GAIN = 0.01;
/** The challenger's recall at its operating point may be at most this much below the champion's. */
export const DEFAULT_MAX_RECALL_LOSS = 0.02;
/** Share of hosts (by rollout bucket) that get a promoted model first. */
export const DEFAULT_CANARY_PERCENT = 10;
/** How long the canary runs before the rest of the fleet gets the model. */
export const DEFAULT_CANARY_HOLD = '1h';
/** Recent live history compared with the training reference. */
export const DEFAULT_DRIFT_WINDOW = '2d';
/** Population stability index at or above which a feature has shifted (0.25: the usual "significant shift"). */
export const DEFAULT_PSI_THRESHOLD = 0.25;
/**
 * Share of the compared features that must shift to make a drift. A real
 * change of load moves a resource's level and spread in every window (a
 * fifth of the features and more); a few shifted features alone are what
 * two days of a small fleet differ by from the days before.
 */
export const DEFAULT_MIN_SHIFTED_SHARE = 0.2;
/** Live precision or recall this far below the model's validation figure is a drift. */
export const DEFAULT_PERFORMANCE_MARGIN = 0.15;
/** Matured positive rows (and alerts) needed before live recall (precision) is judged. */
export const DEFAULT_MIN_MATURED_POSITIVES = 20;

const duration = (min: number, max: number, range: string, fallback: string) =>
  DurationSchema.refine((ms) => ms >= min && ms <= max, { message: `between ${range}` }).prefault(fallback);

export const RetrainingSectionSchema = z
  .object({
    /** Retrain on schedule and on drift. Default true (see docs/retraining.md for why). */
    enabled: z.boolean().default(true),
    /** Resource kinds (or resource ids) the loop trains. Default every kind. */
    resources: z
      .array(
        z
          .string()
          .min(1)
          .refine(isRetrainableResource, 'a resource kind (cpu, memory, …) or id (filesystem:/var)'),
      )
      .min(1)
      .default(() => [...RESOURCE_KINDS]),
    /** Scheduled retrain of each resource. Default 24h. */
    interval: duration(HOUR_MS, 366 * DAY_MS, '1h and 366d', DEFAULT_RETRAIN_INTERVAL),
    /** How often each resource is checked for drift (and a due schedule noticed). Default 6h. */
    checkInterval: duration(1000, 7 * DAY_MS, '1s and 7d', DEFAULT_CHECK_INTERVAL),
    /** Least time between two retrains of one resource, drift or not. Default 6h. */
    minRetrainInterval: duration(MINUTE_MS, 366 * DAY_MS, '1m and 366d', DEFAULT_MIN_RETRAIN_INTERVAL),
    /** Stored history (first to last sample) a resource needs before it is trained. Default 3d. */
    minHistory: duration(HOUR_MS, 366 * DAY_MS, '1h and 366d', DEFAULT_MIN_HISTORY),
    /** Exhaustion events a resource's history needs before it is trained. Default 5. */
    minEvents: z.number().int().min(1).max(100_000).default(DEFAULT_MIN_EVENTS),
    search: z
      .object({
        /** TPE trials before the final fit; 0 trains with the default parameters. Default 20. */
        trials: z.number().int().min(0).max(1000).default(DEFAULT_SEARCH_TRIALS),
        /** Wall-clock budget of the search. Default 10m. */
        budget: duration(1000, DAY_MS, '1s and 1d', DEFAULT_SEARCH_BUDGET),
        /** Seed of the sampler, for repeatable searches. Default 0. */
        seed: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    /** Trainer threads; each is one busy core while a retrain runs. Default 1. */
    threads: z.number().int().min(1).max(64).default(DEFAULT_TRAINING_THREADS),
    /** Share of the most recent evaluation times held out for the comparison, (0, 0.5]. Default 0.2. */
    holdoutFraction: z.number().gt(0).max(0.5).default(DEFAULT_HOLDOUT_FRACTION),
    promotion: z
      .object({
        /** PR-AUC points the challenger must gain over the champion, 0..1. Default 0.01. */
        minPrAucGain: z.number().min(0).max(1).default(DEFAULT_MIN_PR_AUC_GAIN),
        /** Recall points at the operating point the challenger may lose against the champion, 0..1. Default 0.02. */
        maxRecallLoss: z.number().min(0).max(1).default(DEFAULT_MAX_RECALL_LOSS),
      })
      .strict()
      .prefault({}),
    rollout: z
      .object({
        /** Sign and publish promoted models to the agents (retained model topics). Default true. */
        enabled: z.boolean().default(true),
        /** Percent of hosts that get a new model first, 0..100; 0 or 100 publishes to all at once. Default 10. */
        canaryPercent: z.number().int().min(0).max(100).default(DEFAULT_CANARY_PERCENT),
        /** How long the canary runs before it is judged. Default 1h. */
        canaryHold: duration(1000, 7 * DAY_MS, '1s and 7d', DEFAULT_CANARY_HOLD),
      })
      .strict()
      .prefault({}),
    drift: z
      .object({
        /** Recent history whose features are compared with the training reference. Default 2d. */
        window: duration(HOUR_MS, 30 * DAY_MS, '1h and 30d', DEFAULT_DRIFT_WINDOW),
        /** PSI at or above which a feature has shifted. Default 0.25. */
        psiThreshold: z.number().positive().max(10).default(DEFAULT_PSI_THRESHOLD),
        /** Share of the compared features that must shift to make a drift, (0, 1]. Default 0.2. */
        minShiftedShare: z.number().gt(0).max(1).default(DEFAULT_MIN_SHIFTED_SHARE),
        /** Live precision or recall this many points below validation is a drift, 0..1. Default 0.15. */
        performanceMargin: z.number().min(0).max(1).default(DEFAULT_PERFORMANCE_MARGIN),
        /** Matured positive rows (for recall) and alerts (for precision) before either is judged. Default 20. */
        minMaturedPositives: z.number().int().min(1).max(1_000_000).default(DEFAULT_MIN_MATURED_POSITIVES),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type RetrainingSettings = z.infer<typeof RetrainingSectionSchema>;

/** A kind, or a resource id that parses. */
function isRetrainableResource(resource: string): boolean {
  if (isResourceKind(resource)) return true;
  try {
    parseResourceId(resource);
    return true;
  } catch {
    return false;
  }
}
