/**
 * The batch path: feature vectors at chosen times from a stored series, for
 * training sets. It drives the same FeatureExtractor the agent runs live —
 * push every sample up to an evaluation time, then ask — so a vector built
 * here equals, bit for bit, the one the agent built at that time from the
 * same samples (test/unit/feature-replay.test.ts proves it).
 */
import { ValidationError } from '../errors.js';
import { type ExtractorStats, FeatureExtractor, type FeatureExtractorOptions } from './extractor.js';
import { FEATURE_COUNT } from './schema.js';

/** One series, columnar, in time order (samples out of order are dropped as the live path drops them). */
export interface SeriesHistory {
  /** Unix epoch ms. */
  timestampsMs: ArrayLike<number>;
  /** Utilisation, 0..1. */
  values: ArrayLike<number>;
  /** PSI "some" avg10 / avg60 aligned with the samples; NaN (or the arrays left out) where unknown. */
  pressureSomeAvg10?: ArrayLike<number>;
  pressureSomeAvg60?: ArrayLike<number>;
  /** The host's offset from UTC in seconds at each sample (local-time calendar features); NaN where unknown. */
  utcOffsetS?: ArrayLike<number>;
  /** The companion resource's utilisation (COMPANION_OF_KIND) at each sample; NaN where unknown. */
  companion?: ArrayLike<number>;
  /** The companion's capacity ÷ this resource's (memory bytes ÷ swap bytes) at each sample; NaN where unknown. */
  companionCapacityRatio?: ArrayLike<number>;
}

/** The columns a history may carry beside its timestamps and values, each one entry per sample. */
export const SIDE_COLUMNS = [
  'pressureSomeAvg10',
  'pressureSomeAvg60',
  'utcOffsetS',
  'companion',
  'companionCapacityRatio',
] as const;

export interface ReplayResult {
  /** Row-major, `rows × width`: row i holds the features at `evaluationTimesMs[i]`. */
  features: Float32Array;
  rows: number;
  width: number;
  /** What the extractor took and dropped from the history. */
  stats: ExtractorStats;
}

/**
 * Feature vectors at each evaluation time (non-decreasing, Unix epoch ms),
 * each from the samples at or before it. An evaluation time before the first
 * sample gives a row of NaN history features.
 */
export function replaySeries(
  history: SeriesHistory,
  evaluationTimesMs: ArrayLike<number>,
  options: FeatureExtractorOptions,
): ReplayResult {
  const { timestampsMs: ts, values } = history;
  if (ts.length !== values.length) {
    throw new ValidationError('timestamps and values differ in length', { path: 'values' });
  }
  for (const key of SIDE_COLUMNS) {
    const column = history[key];
    if (column && column.length !== ts.length) {
      throw new ValidationError(`${key} differs in length from the timestamps`, { path: key });
    }
  }
  const {
    pressureSomeAvg10: p10,
    pressureSomeAvg60: p60,
    utcOffsetS: offsets,
    companion,
    companionCapacityRatio: ratios,
  } = history;
  // One scratch object: the extractor copies the figures, and ignores a sample's PSI when both are NaN.
  const pressure = p10 !== undefined || p60 !== undefined ? { someAvg10: NaN, someAvg60: NaN } : undefined;

  const extractor = new FeatureExtractor(options);
  const rows = evaluationTimesMs.length;
  const features = new Float32Array(rows * FEATURE_COUNT);
  let next = 0;
  let previous = -Infinity;
  for (let row = 0; row < rows; row++) {
    const at = evaluationTimesMs[row]!;
    if (!(at >= previous)) {
      throw new ValidationError(`evaluation times must be non-decreasing (row ${row})`, {
        path: `evaluationTimesMs.${row}`,
      });
    }
    previous = at;
    for (; next < ts.length && ts[next]! <= at; next++) {
      if (pressure) {
        pressure.someAvg10 = p10 ? p10[next]! : NaN;
        pressure.someAvg60 = p60 ? p60[next]! : NaN;
      }
      extractor.push(
        ts[next]!,
        values[next]!,
        pressure,
        offsets ? offsets[next]! : undefined,
        companion ? companion[next]! : undefined,
        ratios ? ratios[next]! : undefined,
      );
    }
    extractor.vectorInto(at, features, row * FEATURE_COUNT);
  }
  return { features, rows, width: FEATURE_COUNT, stats: extractor.stats() };
}

/** The times of the samples the live path would accept: for building rows "at every sample". */
export function acceptedSampleTimes(history: SeriesHistory): Float64Array {
  const out: number[] = [];
  let last = -Infinity;
  for (let i = 0; i < history.timestampsMs.length; i++) {
    const t = history.timestampsMs[i]!;
    if (Number.isFinite(t) && Number.isFinite(history.values[i]!) && t > last) {
      out.push(t);
      last = t;
    }
  }
  return Float64Array.from(out);
}
