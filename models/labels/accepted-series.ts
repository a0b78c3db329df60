/**
 * A utilisation series reduced to the samples the feature extractor accepts,
 * so that labels and features read the same history: a sample whose
 * timestamp or value is not a finite number is dropped, and so is one not
 * newer than the last accepted sample (out of order or a repeated
 * timestamp: the first value for a timestamp stands). Same policy as
 * `FeatureExtractor.push` and `acceptedSampleTimes` in shared/features.
 */
import type { SeriesHistory } from '../../shared/features/replay.js';
import { ValidationError } from '../../shared/errors.js';

/** Accepted samples only, strictly increasing in time. */
export interface AcceptedSeries {
  /** Unix epoch ms, strictly increasing. */
  readonly timestampsMs: Float64Array;
  /** Utilisation, 0..1 ratio. */
  readonly values: Float64Array;
}

/** The accepted samples of a stored series, in typed arrays (histories reach millions of samples). */
export function acceptedSeries(history: Pick<SeriesHistory, 'timestampsMs' | 'values'>): AcceptedSeries {
  const { timestampsMs: ts, values: vs } = history;
  if (ts.length !== vs.length) {
    throw new ValidationError('timestamps and values differ in length', { path: 'values' });
  }
  const times = new Float64Array(ts.length);
  const values = new Float64Array(ts.length);
  let n = 0;
  let last = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const v = vs[i]!;
    if (!Number.isFinite(t) || !Number.isFinite(v) || t <= last) continue;
    times[n] = t;
    values[n] = v;
    last = t;
    n++;
  }
  return { timestampsMs: times.subarray(0, n), values: values.subarray(0, n) };
}
