/**
 * When to build a training row. A row per sample would let a host sampled
 * every second outweigh one sampled every 5 minutes 300 to 1, so rows are
 * thinned in time: the first accepted sample in each step (buckets aligned
 * to the Unix epoch, so every host, every resource and every run shares one
 * grid, and cutting the data later never moves an earlier row). Rows sit on
 * sample times because that is when the agent scores: right after a sample,
 * with `last_age_s` = 0.
 */
import type { AcceptedSeries } from '../labels/accepted-series.js';

/** Default evaluation step: one row per minute at most. */
export const DEFAULT_EVALUATION_STEP_MS = 60_000;

/**
 * Evaluation times: the first accepted sample in each `stepMs` bucket;
 * `stepMs` 0 takes every accepted sample. O(n).
 */
export function evaluationTimesByStep(
  series: AcceptedSeries,
  stepMs: number = DEFAULT_EVALUATION_STEP_MS,
): Float64Array {
  if (!(stepMs >= 0) || !Number.isFinite(stepMs)) {
    throw new RangeError(`evaluation step must be a finite number of ms ≥ 0, got ${stepMs}`);
  }
  const ts = series.timestampsMs;
  const out = new Float64Array(ts.length);
  let n = 0;
  let lastBucket = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (stepMs === 0) {
      out[n++] = t;
      continue;
    }
    const bucket = Math.floor(t / stepMs);
    if (bucket === lastBucket) continue;
    lastBucket = bucket;
    out[n++] = t;
  }
  return out.slice(0, n);
}
