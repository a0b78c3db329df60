/**
 * Self-supervised exhaustion labels: at each evaluation time t, did an
 * exhaustion event start within the horizon, (t, t + horizon]? The answer
 * comes from the stored future of the same series; nobody labels by hand.
 *
 * A row is one of (ROW_STATUS):
 * - labelled: 1 when an event starts in (t, t + horizon], else 0;
 * - already exhausted: the last sample at or before t is at or above the
 *   threshold (which covers every time inside an event). Predicting that a
 *   saturated resource stays saturated is trivial, so these are no rows;
 * - unknown horizon: t + horizon is after the last sample, or the data
 *   covers less than `minHorizonCoverage` of (t, t + horizon]. Not 0: an
 *   event may hide in the gap. This applies to would-be positives too; keeping
 *   the positives whose event is seen and dropping only the rest would make
 *   the last horizon before any cut-off all positive;
 * - remediated: a remediation window [start, end] overlaps [t, t + horizon]
 *   (one ending exactly at t counts: its effect shows after t); a prevented
 *   exhaustion must not teach the model that the risk was low.
 * When several apply, the first in that order is the row's status.
 *
 * Time to exhaustion (regression / quantile target): seconds from t to the
 * next event start, when one starts within `maxLookAheadMs`. Otherwise the
 * row is right-censored: the value is NaN, `tteCensored` is 1 and
 * `tteLowerBoundS` holds how far ahead the data showed no event (the true
 * value is larger). Given for every row that is not already exhausted;
 * train on the rows whose status is `labelled`.
 *
 * Everything runs in O(n + rows + events + remediations): evaluation times
 * are non-decreasing, so each lookup is a pointer that only moves forward.
 */
import { ValidationError } from '../../shared/errors.js';
import type { ExhaustionDefinition } from '../../shared/resources/exhaustion.js';
import type { AcceptedSeries } from './accepted-series.js';
import { CoveredTimeCursor, coveredPrefix } from './covered-time.js';
import {
  type ContinuityOptions,
  type ExhaustionEvents,
  checkExhaustionDefinition,
  findExhaustionEvents,
  resolveMaxGapMs,
} from './exhaustion-events.js';
import { NO_REMEDIATIONS, type RemediationIntervals } from './remediation.js';

const SECOND_MS = 1000;
const DAY_MS = 24 * 3600 * SECOND_MS;

/** A row's status: labelled, or why it is left out. */
export const ROW_STATUS = {
  labelled: 0,
  alreadyExhausted: 1,
  unknownHorizon: 2,
  remediated: 3,
} as const;
export type RowStatus = (typeof ROW_STATUS)[keyof typeof ROW_STATUS];

/** Default least share of (t, t + horizon] the data must cover for a label: 0.9. */
export const DEFAULT_MIN_HORIZON_COVERAGE = 0.9;
/**
 * Default look-ahead for time to exhaustion: 7 days, the features' cap on
 * time-to-threshold (TIME_TO_THRESHOLD_CAP_H) and the longest horizon.
 */
export const DEFAULT_MAX_LOOK_AHEAD_MS = 7 * DAY_MS;

export interface LabelOptions extends ContinuityOptions {
  /** Least share (0..1] of (t, t + horizon] the data must cover for a label. Default 0.9. */
  minHorizonCoverage?: number;
  /** How far ahead time to exhaustion looks, ms, ≥ the horizon. Default 7 days. */
  maxLookAheadMs?: number;
  /** This series' remediations (RemediationIndex.intervalsFor). Default none. */
  remediations?: RemediationIntervals;
}

export interface ExclusionCounts {
  alreadyExhausted: number;
  unknownHorizon: number;
  remediated: number;
}

export interface LabelCounts {
  /** Evaluation times looked at: labelled + every exclusion. */
  evaluated: number;
  labelled: number;
  /** Labelled rows with label 1. */
  positives: number;
  excluded: ExclusionCounts;
}

/** Labels at each evaluation time, row-parallel. */
export interface ExhaustionLabels {
  rows: number;
  /** ROW_STATUS per row. */
  status: Uint8Array;
  /** 1 or 0 where labelled, NaN elsewhere (unknown, not 0). */
  label: Float64Array;
  /** Seconds to the next event start; NaN when censored or already exhausted. */
  timeToExhaustionS: Float64Array;
  /** 1 when the time to exhaustion is right-censored (see the file comment). */
  tteCensored: Uint8Array;
  /** For censored rows, seconds seen ahead without an event start (a lower bound); NaN otherwise. */
  tteLowerBoundS: Float64Array;
  counts: LabelCounts;
  /** The events the labels came from. */
  events: ExhaustionEvents;
}

export function emptyLabelCounts(): LabelCounts {
  return {
    evaluated: 0,
    labelled: 0,
    positives: 0,
    excluded: { alreadyExhausted: 0, unknownHorizon: 0, remediated: 0 },
  };
}

/** Adds `b` into `a`. */
export function addLabelCounts(a: LabelCounts, b: LabelCounts): void {
  a.evaluated += b.evaluated;
  a.labelled += b.labelled;
  a.positives += b.positives;
  a.excluded.alreadyExhausted += b.excluded.alreadyExhausted;
  a.excluded.unknownHorizon += b.excluded.unknownHorizon;
  a.excluded.remediated += b.excluded.remediated;
}

/**
 * Labels a series (its accepted samples, see `acceptedSeries`) at the given
 * evaluation times (non-decreasing, Unix epoch ms).
 */
export function labelExhaustion(
  series: AcceptedSeries,
  evaluationTimesMs: ArrayLike<number>,
  definition: ExhaustionDefinition,
  options: LabelOptions = {},
): ExhaustionLabels {
  checkExhaustionDefinition(definition);
  const maxGapMs = resolveMaxGapMs(options);
  const minCoverage = options.minHorizonCoverage ?? DEFAULT_MIN_HORIZON_COVERAGE;
  if (!(minCoverage > 0 && minCoverage <= 1)) {
    throw new RangeError(`minHorizonCoverage must be in (0, 1], got ${minCoverage}`);
  }
  const { threshold, horizonMs } = definition;
  const lookAheadMs = options.maxLookAheadMs ?? Math.max(DEFAULT_MAX_LOOK_AHEAD_MS, horizonMs);
  if (!(lookAheadMs >= horizonMs)) {
    throw new RangeError(`maxLookAheadMs (${lookAheadMs}) must be at least the horizon (${horizonMs})`);
  }
  const remediations = options.remediations ?? NO_REMEDIATIONS;
  const events = findExhaustionEvents(series, definition, { maxGapMs });

  const { timestampsMs: ts, values: vs } = series;
  const lastSampleMs = ts.length > 0 ? ts[ts.length - 1]! : -Infinity;
  const prefix = coveredPrefix(series, maxGapMs);
  const coveredAtT = new CoveredTimeCursor(series, maxGapMs, prefix);
  const coveredAtEnd = new CoveredTimeCursor(series, maxGapMs, prefix);

  const rows = evaluationTimesMs.length;
  const status = new Uint8Array(rows);
  const label = new Float64Array(rows).fill(NaN);
  const tte = new Float64Array(rows).fill(NaN);
  const censored = new Uint8Array(rows);
  const lowerBound = new Float64Array(rows).fill(NaN);
  const counts = emptyLabelCounts();
  counts.evaluated = rows;

  let sample = -1; // last sample at or before t
  let nextEvent = 0; // first event starting after t
  let remediation = 0; // first remediation ending after t
  let previous = -Infinity;
  for (let row = 0; row < rows; row++) {
    const t = evaluationTimesMs[row]!;
    if (!Number.isFinite(t) || t < previous) {
      throw new ValidationError(`evaluation times must be finite and non-decreasing (row ${row})`, {
        path: `evaluationTimesMs.${row}`,
      });
    }
    previous = t;
    const end = t + horizonMs;
    while (sample + 1 < ts.length && ts[sample + 1]! <= t) sample++;
    while (nextEvent < events.count && events.startMs[nextEvent]! <= t) nextEvent++;
    // A remediation ending exactly at t still counts: its effect shows after t.
    while (remediation < remediations.count && remediations.endMs[remediation]! < t) remediation++;
    // Both cursors move forward with t, so every row costs O(1) amortised.
    const coverage = (coveredAtEnd.coveredUntil(end) - coveredAtT.coveredUntil(t)) / horizonMs;

    if (sample >= 0 && vs[sample]! >= threshold) {
      status[row] = ROW_STATUS.alreadyExhausted;
      counts.excluded.alreadyExhausted++;
      continue;
    }

    const nextStart = nextEvent < events.count ? events.startMs[nextEvent]! : Infinity;
    if (nextStart - t <= lookAheadMs) {
      tte[row] = (nextStart - t) / SECOND_MS;
    } else {
      censored[row] = 1;
      lowerBound[row] = Math.max(0, Math.min(lookAheadMs, lastSampleMs - t)) / SECOND_MS;
    }

    if (end > lastSampleMs || coverage < minCoverage) {
      status[row] = ROW_STATUS.unknownHorizon;
      counts.excluded.unknownHorizon++;
    } else if (remediation < remediations.count && remediations.startMs[remediation]! <= end) {
      status[row] = ROW_STATUS.remediated;
      counts.excluded.remediated++;
    } else {
      const positive = nextStart <= end;
      label[row] = positive ? 1 : 0;
      counts.labelled++;
      if (positive) counts.positives++;
    }
  }
  return {
    rows,
    status,
    label,
    timeToExhaustionS: tte,
    tteCensored: censored,
    tteLowerBoundS: lowerBound,
    counts,
    events,
  };
}
