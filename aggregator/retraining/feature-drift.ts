/**
 * Feature drift of one resource kind: the feature vectors of its stored
 * series, replayed through the shared feature code exactly as the agent
 * computes them live, binned against the reference the model was trained
 * with (drift-statistics.ts).
 *
 * Left out of the comparison: features fixed by the definition (kind,
 * threshold, horizon, sustain: constant for a kind) and the calendar ones
 * (a two-day window covers two weekdays and says nothing about a shift of
 * day-of-week).
 */
import { evaluationTimesByStep } from '../../models/dataset/index.js';
import type { DatasetSeries } from '../../models/dataset/index.js';
import { acceptedSeries } from '../../models/labels/index.js';
import { SIDE_COLUMNS, type SeriesHistory, replaySeries } from '../../shared/features/replay.js';
import { FEATURE_SCHEMA, SEASON_SPAN_MS } from '../../shared/features/schema.js';
import { parseResourceId } from '../../shared/resources/resource-id.js';
import {
  type DriftReference,
  type FeatureShift,
  buildDriftReference,
  featureShifts,
} from './drift-statistics.js';

/** Feature name prefixes left out of drift checks (see the file comment). */
const NOT_COMPARED = ['resource.', 'exhaustion.', 'time.'];

/** Whether a feature takes part in drift checks. */
export function comparedFeature(name: string): boolean {
  return !NOT_COMPARED.some((p) => name.startsWith(p));
}

/**
 * History older than this before the first vector cannot change it: the
 * longest lookback of any feature (a week of seasonality) plus a day.
 */
const FEATURE_LOOKBACK_MS = SEASON_SPAN_MS + 86_400_000;

export interface FeatureSample {
  features: Float32Array;
  rows: number;
}

/**
 * Feature vectors of every series at one accepted sample per `stepMs` in
 * [fromMs, untilMs), each seeing only the samples up to its own time.
 */
export function sampleFeatures(
  series: readonly DatasetSeries[],
  range: { fromMs: number; untilMs: number; stepMs: number },
): FeatureSample {
  const width = FEATURE_SCHEMA.names.length;
  const parts: Float32Array[] = [];
  let rows = 0;
  for (const s of series) {
    const history = sliceHistory(s.history, range.fromMs - FEATURE_LOOKBACK_MS, range.untilMs);
    const all = evaluationTimesByStep(acceptedSeries(history), range.stepMs);
    const times = all.filter((t) => t >= range.fromMs && t < range.untilMs);
    if (times.length === 0) continue;
    const replay = replaySeries(history, times, {
      kind: parseResourceId(s.resourceId).kind,
      exhaustion: s.exhaustion,
    });
    parts.push(replay.features);
    rows += replay.rows;
  }
  const features = new Float32Array(rows * width);
  let at = 0;
  for (const part of parts) {
    features.set(part, at);
    at += part.length;
  }
  return { features, rows };
}

/** The drift reference of a training period: features sampled over [fromMs, untilMs). */
export function referenceOf(
  series: readonly DatasetSeries[],
  range: { fromMs: number; untilMs: number; stepMs: number },
): DriftReference {
  const sample = sampleFeatures(series, range);
  return buildDriftReference(sample.features, sample.rows, FEATURE_SCHEMA.names, {
    featureSchemaHash: FEATURE_SCHEMA.hash,
    include: comparedFeature,
  });
}

export interface FeatureDriftResult {
  /** Rows of live features compared. */
  rows: number;
  /** Every compared feature's PSI, largest first. */
  shifts: FeatureShift[];
  /** Features at or above the PSI threshold. */
  shifted: string[];
  drifted: boolean;
}

/** Compares the live window with the reference; `drifted` when at least `minShiftedShare` of the features shifted. */
export function checkFeatureDrift(
  reference: DriftReference,
  series: readonly DatasetSeries[],
  options: { fromMs: number; untilMs: number; stepMs: number; psiThreshold: number; minShiftedShare: number },
): FeatureDriftResult {
  const sample = sampleFeatures(series, options);
  const shifts = featureShifts(reference, sample.features, sample.rows, FEATURE_SCHEMA.names).sort(
    (a, b) => b.psi - a.psi,
  );
  const shifted = shifts.filter((s) => s.psi >= options.psiThreshold).map((s) => s.name);
  return {
    rows: sample.rows,
    shifts,
    shifted,
    drifted:
      sample.rows > 0 && shifts.length > 0 && shifted.length >= options.minShiftedShare * shifts.length,
  };
}

/** The samples of a history in [fromMs, untilMs), every column alike. */
function sliceHistory(history: DatasetSeries['history'], fromMs: number, untilMs: number) {
  const ts = history.timestampsMs;
  let lo = 0;
  while (lo < ts.length && ts[lo]! < fromMs) lo++;
  let hi = lo;
  while (hi < ts.length && ts[hi]! < untilMs) hi++;
  const cut = (column: ArrayLike<number> | undefined) =>
    column === undefined ? undefined : Float64Array.from({ length: hi - lo }, (_, i) => column[lo + i]!);
  const sliced: SeriesHistory = { timestampsMs: cut(ts)!, values: cut(history.values)! };
  for (const key of SIDE_COLUMNS) if (history[key]) sliced[key] = cut(history[key]);
  return sliced;
}
