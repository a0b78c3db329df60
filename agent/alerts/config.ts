import { z } from 'zod';

/**
 * Cycles in a row with the probability at or above the model's operating
 * threshold before an alert is raised. 2: one cycle's spike (a burst that
 * moves `last` and the short-window slope at once) does not page anyone,
 * and at the default 10 s interval the alert comes 10 s later, nothing
 * against horizons of 30 minutes to 6 hours.
 */
export const DEFAULT_RAISE_AFTER_CYCLES = 2;
/**
 * Cycles in a row below the resolve level before a raised alert is
 * resolved. 3, more than `raiseAfter`: a resolve followed by a new raise is
 * two more notifications, while a resolve that comes 30 s late costs nothing.
 */
export const DEFAULT_RESOLVE_AFTER_CYCLES = 3;
/**
 * Resolve level = operating threshold × this ratio. 0.8: a tree model's
 * probability moves in steps as features cross split points, and cycle to
 * cycle noise of ±10-20 % of the threshold is common near it; a band of 20 %
 * keeps a probability hovering at the threshold from raising and resolving
 * in turn, and is still well above the probability of a calm resource.
 */
export const DEFAULT_RESOLVE_RATIO = 0.8;
/**
 * A raised alert whose resource gets no forecast for this long is resolved
 * (reason `no_forecast`), ms: 10 minutes, the gap after which the features
 * no longer count a series as covered. The resource was unmounted, lost its
 * model, or the agent was down while it recovered.
 */
export const NO_FORECAST_RESOLVE_MS = 10 * 60_000;

const Cycles = z.number().int('a whole number of cycles').min(1).max(100);

export const AlertsSectionSchema = z
  .object({
    /** Cycles in a row with probability ≥ the model's operating threshold to raise an alert, 1..100. Default 2. */
    raiseAfter: Cycles.default(DEFAULT_RAISE_AFTER_CYCLES),
    /** Cycles in a row with probability < threshold × resolveRatio to resolve it, 1..100. Default 3. */
    resolveAfter: Cycles.default(DEFAULT_RESOLVE_AFTER_CYCLES),
    /** The resolve level as a share of the operating threshold, ratio in (0, 1]. Default 0.8. */
    resolveRatio: z
      .number()
      .gt(0, 'resolveRatio must be > 0')
      .max(1, 'resolveRatio is at most 1 (the threshold itself)')
      .default(DEFAULT_RESOLVE_RATIO),
  })
  .strict()
  .prefault({});
export type AlertsSection = z.infer<typeof AlertsSectionSchema>;
