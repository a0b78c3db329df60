import { z } from 'zod';

/**
 * Where the scoring model came from: `bundled` is the baseline model shipped
 * with the agent, `fleet` one the aggregator trained and distributed.
 */
export const MODEL_SOURCES = ['bundled', 'fleet'] as const;
export type ModelSource = (typeof MODEL_SOURCES)[number];

/** Which model made a forecast: on predictions, events and the agent's status. */
export const ModelRefSchema = z.object({
  source: z.enum(MODEL_SOURCES),
  /** The training run that produced the model (its `training_run_id`). */
  runId: z.string().min(1).max(128),
  /** The model's version label, when it has one (for `fleet`, the version the aggregator signed). */
  version: z.string().min(1).max(64).optional(),
});
export type ModelRef = z.infer<typeof ModelRefSchema>;
