/**
 * The feature extractor for one (host, resource) series: push samples as they
 * come, ask for the feature vector at any time not before the last sample.
 * The agent drives it live; `replaySeries` drives the very same class over
 * stored history to build training sets, so the two cannot diverge.
 *
 * Input policy (each counted in `stats()`):
 * - a sample whose timestamp or value is not a finite number is ignored
 *   (`droppedInvalid`); it leaves a hole, nothing is invented for it;
 * - a sample not newer than the last accepted one (out of order or a
 *   repeated timestamp) is ignored (`droppedOutOfOrder`): windows only move
 *   forward, and the first value seen for a timestamp stands.
 *
 * Missing features are NaN (the GBDT routes NaN down a learned branch).
 * Calendar features use the host's local time: the UTC offset pushed with
 * the samples (the last one known); before any offset is known they are NaN.
 * The companion resource's utilisation (memory for swap), pushed with the
 * samples, feeds `companion.*` over a window of its own; with it, the ratio
 * of the two capacities (memory bytes ÷ swap bytes) turns the companion's
 * growth into this resource's (`companion.spill_ttt_h.1h`).
 */
import type { ExhaustionDefinition } from '../resources/exhaustion.js';
import { RESOURCE_KINDS, type ResourceKind } from '../resources/resource-id.js';
import type { PressureSample, UtilizationSample } from '../resources/utilization.js';
import {
  BUCKETS_PER_WINDOW,
  COMPANION_LEVEL,
  COMPANION_WINDOW,
  FEATURE_COUNT,
  FEATURE_WINDOWS,
  MAX_SAMPLE_GAP_MS,
  PRESSURE_MAX_AGE_MS,
  SEASON_BUCKET_MS,
  SEASON_LOOKAHEAD_MAX_MS,
  SEASON_SPAN_MS,
  SLOPE_CHANGE_PAIRS,
  TIME_TO_THRESHOLD_CAP_H,
  TIME_TO_THRESHOLD_NOT_RISING_H,
  TIME_TO_THRESHOLD_WINDOWS,
  WINDOW_STATS,
  type WindowLabel,
  type WindowStat,
  featureIndex,
} from './schema.js';
import { SeasonalBuckets } from './seasonal-buckets.js';
import { TimeWindow, type WindowStats, emptyWindowStats } from './time-window.js';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday; the week phase starts on Monday 00:00 local time. */
const EPOCH_WEEKDAY_FROM_MONDAY = 3;
const TWO_PI = 2 * Math.PI;

// Column of every feature, looked up by name once, so the writes below stay
// right whatever the order in schema.ts.
const COL = {
  kind: featureIndex('resource.kind'),
  threshold: featureIndex('exhaustion.threshold'),
  horizonH: featureIndex('exhaustion.horizon_h'),
  sustainMin: featureIndex('exhaustion.sustain_min'),
  daySin: featureIndex('time.day_sin'),
  dayCos: featureIndex('time.day_cos'),
  weekSin: featureIndex('time.week_sin'),
  weekCos: featureIndex('time.week_cos'),
  hourOfDay: featureIndex('time.hour_of_day'),
  dayOfWeek: featureIndex('time.day_of_week'),
  last: featureIndex('last'),
  lastAgeS: featureIndex('last_age_s'),
  headroom: featureIndex('headroom'),
  aboveThresholdS: featureIndex('above_threshold_s'),
  value1d: featureIndex('season.value_1d'),
  value1w: featureIndex('season.value_1w'),
  nextMax1d: featureIndex('season.next_max_1d'),
  nextMax1w: featureIndex('season.next_max_1w'),
  psiAvg10: featureIndex('psi.some_avg10'),
  psiAvg60: featureIndex('psi.some_avg60'),
  companionLast: featureIndex('companion.last'),
  companionSlope: featureIndex(`companion.slope.${COMPANION_WINDOW}`),
  companionTtt: featureIndex(`companion.ttt_h.${COMPANION_WINDOW}`),
  capacityRatio: featureIndex('companion.capacity_ratio'),
  spillTtt: featureIndex(`companion.spill_ttt_h.${COMPANION_WINDOW}`),
};
const COMPANION_WINDOW_MS = FEATURE_WINDOWS.find((w) => w.label === COMPANION_WINDOW)!.ms;
const WINDOW_COLS = FEATURE_WINDOWS.map(
  (w) =>
    Object.fromEntries(WINDOW_STATS.map((s) => [s, featureIndex(`${s}.${w.label}`)])) as Record<
      WindowStat,
      number
    >,
);
const WINDOW_POS: Readonly<Record<WindowLabel, number>> = Object.fromEntries(
  FEATURE_WINDOWS.map((w, i) => [w.label, i]),
) as Record<WindowLabel, number>;
const SLOPE_CHANGE_COLS = SLOPE_CHANGE_PAIRS.map(([short, long]) => ({
  col: featureIndex(`slope_change.${short}_${long}`),
  short: WINDOW_POS[short],
  long: WINDOW_POS[long],
}));
const TTT_COLS = TIME_TO_THRESHOLD_WINDOWS.map((w) => ({
  col: featureIndex(`ttt_h.${w}`),
  halvesCol: featureIndex(`ttt_halves_h.${w}`),
  window: WINDOW_POS[w],
}));

export interface FeatureExtractorOptions {
  kind: ResourceKind;
  /** The definition the forecast is for: its threshold drives headroom, time-to-threshold and `above_*`. */
  exhaustion: ExhaustionDefinition;
}

export interface ExtractorStats {
  accepted: number;
  /** Timestamp not newer than the last accepted sample. */
  droppedOutOfOrder: number;
  /** Timestamp or value not a finite number. */
  droppedInvalid: number;
}

export type PushOutcome = 'accepted' | 'out_of_order' | 'invalid';

export class FeatureExtractor {
  /** Columns in a vector: FEATURE_SCHEMA.names.length. */
  static readonly width = FEATURE_COUNT;

  private readonly kindCode: number;
  private readonly threshold: number;
  private readonly exhaustion: ExhaustionDefinition;
  private readonly seasonLookaheadMs: number;
  private readonly windows: TimeWindow[];
  private readonly windowStats: WindowStats[];
  private readonly season = new SeasonalBuckets(SEASON_BUCKET_MS, SEASON_SPAN_MS);
  private lastT = NaN;
  private lastV = NaN;
  /** Start of the current unbroken run at or above the threshold; NaN when not in one. */
  private runStart = NaN;
  private pressureT = NaN;
  private pressureAvg10 = NaN;
  private pressureAvg60 = NaN;
  /** The companion's window, made at its first reading (most kinds never have one). */
  private companion: TimeWindow | undefined;
  private readonly companionStats = emptyWindowStats();
  private companionT = NaN;
  private companionV = NaN;
  /** The companion's capacity ÷ this resource's, from the latest companion reading that carried both; NaN until then. */
  private capacityRatio = NaN;
  /** The host's offset from UTC, ms, from the latest sample that carried one; NaN until then. */
  private utcOffsetMs = NaN;
  private readonly counters: ExtractorStats = { accepted: 0, droppedOutOfOrder: 0, droppedInvalid: 0 };

  constructor(options: FeatureExtractorOptions) {
    const { threshold, horizonMs, sustainMs } = options.exhaustion;
    if (!(threshold > 0 && threshold <= 1))
      throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
    if (!(horizonMs > 0) || !(sustainMs >= 0)) throw new RangeError('horizon must be > 0 and sustain ≥ 0');
    this.kindCode = RESOURCE_KINDS.indexOf(options.kind);
    if (this.kindCode < 0) throw new RangeError(`unknown resource kind "${String(options.kind)}"`);
    this.threshold = threshold;
    this.exhaustion = { threshold, horizonMs, sustainMs };
    this.seasonLookaheadMs = Math.min(horizonMs, SEASON_LOOKAHEAD_MAX_MS);
    this.windows = FEATURE_WINDOWS.map((w) => new TimeWindow(w.ms, BUCKETS_PER_WINDOW));
    this.windowStats = FEATURE_WINDOWS.map(() => emptyWindowStats());
  }

  /**
   * Adds a sample: `timestampMs` Unix epoch ms, `value` the utilisation
   * (0..1 ratio; not clamped), `pressure` the resource's PSI figures when
   * known (a pressure whose figures are both NaN counts as none),
   * `utcOffsetS` the host's local-time offset from UTC in seconds when known
   * (a NaN one is ignored; the last known offset stays), `companion` the
   * companion resource's utilisation in the same reading when known (a
   * non-finite one is ignored), `capacityRatio` the companion's capacity ÷
   * this resource's in that reading (bytes ÷ bytes; taken only with a
   * companion reading, and only when finite and > 0). O(1) amortised.
   * Says whether the sample was taken (see the file comment for what is
   * dropped).
   */
  push(
    timestampMs: number,
    value: number,
    pressure?: PressureSample,
    utcOffsetS?: number,
    companion?: number,
    capacityRatio?: number,
  ): PushOutcome {
    if (!Number.isFinite(timestampMs) || !Number.isFinite(value)) {
      this.counters.droppedInvalid++;
      return 'invalid';
    }
    if (timestampMs <= this.lastT) {
      this.counters.droppedOutOfOrder++;
      return 'out_of_order';
    }
    const gap = timestampMs - this.lastT;
    const covered = gap <= MAX_SAMPLE_GAP_MS;
    const above = value >= this.threshold;
    for (const window of this.windows) {
      window.push(timestampMs, value, above, covered ? gap : 0, covered ? this.lastT : NaN);
    }
    this.season.push(timestampMs, value);
    if (!above) this.runStart = NaN;
    else if (!(covered && this.lastV >= this.threshold)) this.runStart = timestampMs;
    if (pressure && (Number.isFinite(pressure.someAvg10) || Number.isFinite(pressure.someAvg60))) {
      this.pressureT = timestampMs;
      this.pressureAvg10 = finiteOrNaN(pressure.someAvg10);
      this.pressureAvg60 = finiteOrNaN(pressure.someAvg60);
    }
    if (utcOffsetS !== undefined && Number.isFinite(utcOffsetS)) this.utcOffsetMs = utcOffsetS * SECOND_MS;
    if (companion !== undefined && Number.isFinite(companion)) {
      this.pushCompanion(timestampMs, companion);
      this.capacityRatio =
        capacityRatio !== undefined && capacityRatio > 0 && capacityRatio < Infinity ? capacityRatio : NaN;
    }
    this.lastT = timestampMs;
    this.lastV = value;
    this.counters.accepted++;
    return 'accepted';
  }

  /** `push` with one telemetry sample's figures (`extractUtilization`): the agent's way in. */
  pushSample(sample: UtilizationSample): PushOutcome {
    return this.push(
      sample.timestampMs,
      sample.value,
      sample.pressure,
      sample.utcOffsetS,
      sample.companion,
      sample.companionCapacityRatio,
    );
  }

  private pushCompanion(timestampMs: number, value: number): void {
    this.companion ??= new TimeWindow(COMPANION_WINDOW_MS, BUCKETS_PER_WINDOW);
    const gap = timestampMs - this.companionT;
    const covered = gap <= MAX_SAMPLE_GAP_MS;
    this.companion.push(
      timestampMs,
      value,
      value >= COMPANION_LEVEL,
      covered ? gap : 0,
      covered ? this.companionT : NaN,
    );
    this.companionT = timestampMs;
    this.companionV = value;
  }

  /** The feature vector at `atMs` (≥ the last accepted sample's time) in a new array. */
  vector(atMs: number): Float32Array {
    const out = new Float32Array(FEATURE_COUNT);
    this.vectorInto(atMs, out, 0);
    return out;
  }

  /**
   * Writes the feature vector at `atMs` to `out[offset … offset + width)`.
   * Read-only: asking changes nothing, so any sequence of questions gives the
   * same answers. Throws a RangeError when `atMs` is before the last sample
   * (the windows have moved past it).
   */
  vectorInto(atMs: number, out: Float32Array, offset: number): void {
    if (!Number.isFinite(atMs) || atMs < this.lastT) {
      throw new RangeError(`features asked for at ${atMs}, before the last sample at ${this.lastT}`);
    }
    if (offset < 0 || offset + FEATURE_COUNT > out.length) throw new RangeError('output row out of bounds');
    const o = offset;
    const threshold = this.threshold;

    out[o + COL.kind] = this.kindCode;
    out[o + COL.threshold] = threshold;
    out[o + COL.horizonH] = this.exhaustion.horizonMs / HOUR_MS;
    out[o + COL.sustainMin] = this.exhaustion.sustainMs / MINUTE_MS;

    // Local time: NaN throughout until the host's offset is known.
    const local = atMs + this.utcOffsetMs;
    const intoDay = positiveMod(local, DAY_MS);
    const intoWeek = positiveMod(local + EPOCH_WEEKDAY_FROM_MONDAY * DAY_MS, WEEK_MS);
    out[o + COL.daySin] = Math.sin((TWO_PI * intoDay) / DAY_MS);
    out[o + COL.dayCos] = Math.cos((TWO_PI * intoDay) / DAY_MS);
    out[o + COL.weekSin] = Math.sin((TWO_PI * intoWeek) / WEEK_MS);
    out[o + COL.weekCos] = Math.cos((TWO_PI * intoWeek) / WEEK_MS);
    out[o + COL.hourOfDay] = intoDay / HOUR_MS;
    out[o + COL.dayOfWeek] = Math.floor(intoWeek / DAY_MS);

    const last = this.lastV;
    out[o + COL.last] = last;
    out[o + COL.lastAgeS] = (atMs - this.lastT) / SECOND_MS;
    out[o + COL.headroom] = threshold - last;
    out[o + COL.aboveThresholdS] = Number.isNaN(last)
      ? NaN
      : last >= threshold
        ? (this.lastT - this.runStart) / SECOND_MS
        : 0;

    for (let i = 0; i < this.windows.length; i++) {
      const s = this.windowStats[i]!;
      this.windows[i]!.query(atMs, s);
      const c = WINDOW_COLS[i]!;
      out[o + c.mean] = s.mean;
      out[o + c.std] = s.std;
      out[o + c.min] = s.min;
      out[o + c.max] = s.max;
      out[o + c.slope] = s.slopePerMs * HOUR_MS;
      out[o + c.count] = s.count;
      out[o + c.coverage] = s.coverage;
      out[o + c.peak_headroom] = threshold - s.max;
      out[o + c.above_frac] = s.aboveFrac;
    }
    for (const p of SLOPE_CHANGE_COLS) {
      out[o + p.col] =
        (this.windowStats[p.short]!.slopePerMs - this.windowStats[p.long]!.slopePerMs) * HOUR_MS;
    }
    for (const t of TTT_COLS) {
      const s = this.windowStats[t.window]!;
      out[o + t.col] = timeToThresholdH(s.fittedAtQuery, s.slopePerMs, threshold);
      out[o + t.halvesCol] = timeToThresholdH(s.halvesLevelAtQuery, s.halvesSlopePerMs, threshold);
    }

    const lookahead = this.seasonLookaheadMs;
    out[o + COL.value1d] = this.season.meanAt(atMs - DAY_MS);
    out[o + COL.value1w] = this.season.meanAt(atMs - WEEK_MS);
    out[o + COL.nextMax1d] = this.season.maxOver(atMs - DAY_MS, atMs - DAY_MS + lookahead);
    out[o + COL.nextMax1w] = this.season.maxOver(atMs - WEEK_MS, atMs - WEEK_MS + lookahead);

    const fresh = atMs - this.pressureT <= PRESSURE_MAX_AGE_MS;
    out[o + COL.psiAvg10] = fresh ? this.pressureAvg10 : NaN;
    out[o + COL.psiAvg60] = fresh ? this.pressureAvg60 : NaN;

    const companion = this.companionStats;
    if (this.companion && atMs - this.companionT <= MAX_SAMPLE_GAP_MS) {
      this.companion.query(atMs, companion);
      out[o + COL.companionLast] = this.companionV;
      out[o + COL.companionSlope] = companion.slopePerMs * HOUR_MS;
      const toLevel = timeToThresholdH(companion.fittedAtQuery, companion.slopePerMs, COMPANION_LEVEL);
      out[o + COL.companionTtt] = toLevel;
      const ratio = this.capacityRatio;
      out[o + COL.capacityRatio] = ratio;
      out[o + COL.spillTtt] = spillTimeH(toLevel, last, companion.slopePerMs * ratio, threshold);
    } else {
      out[o + COL.companionLast] = NaN;
      out[o + COL.companionSlope] = NaN;
      out[o + COL.companionTtt] = NaN;
      out[o + COL.capacityRatio] = NaN;
      out[o + COL.spillTtt] = NaN;
    }
  }

  /** Time of the last accepted sample, Unix epoch ms; NaN before the first. */
  get lastTimestampMs(): number {
    return this.lastT;
  }

  stats(): ExtractorStats {
    return { ...this.counters };
  }
}

/**
 * Hours until `level` reaches `threshold` at `slopePerMs`: 0 when already
 * there, TIME_TO_THRESHOLD_NOT_RISING_H when the trend is flat or falling,
 * capped at TIME_TO_THRESHOLD_CAP_H, NaN when there is no trend to go by.
 */
export function timeToThresholdH(level: number, slopePerMs: number, threshold: number): number {
  if (Number.isNaN(level) || Number.isNaN(slopePerMs)) return NaN;
  const headroom = threshold - level;
  if (headroom <= 0) return 0;
  if (slopePerMs <= 0) return TIME_TO_THRESHOLD_NOT_RISING_H;
  return Math.min(TIME_TO_THRESHOLD_CAP_H, headroom / (slopePerMs * HOUR_MS));
}

/**
 * Hours until this resource reaches `threshold` from `level` when the
 * companion first takes `toLevelH` hours to fill and then all its growth
 * lands here at `spillSlopePerMs` (its slope × the capacity ratio): the
 * physics of swap behind memory. 0 when already there; not rising when the
 * companion is not; capped like every time-to-threshold; NaN without the
 * figures.
 */
function spillTimeH(toLevelH: number, level: number, spillSlopePerMs: number, threshold: number): number {
  if (Number.isNaN(toLevelH)) return NaN;
  const fill = timeToThresholdH(level, spillSlopePerMs, threshold);
  if (fill === 0) return 0;
  if (toLevelH === TIME_TO_THRESHOLD_NOT_RISING_H || fill === TIME_TO_THRESHOLD_NOT_RISING_H) return fill;
  return Math.min(TIME_TO_THRESHOLD_CAP_H, toLevelH + fill);
}

function positiveMod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r;
}

function finiteOrNaN(x: number): number {
  return Number.isFinite(x) ? x : NaN;
}
