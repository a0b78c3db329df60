/**
 * The feature schema: every feature's name in column order, the constants
 * that fix what each one means, a version and a hash over all of it. A model
 * records the hash it was trained with; agents refuse a model whose hash is
 * not `FEATURE_SCHEMA.hash`. Units and definitions: docs/features.md.
 *
 * Rule: any change to a name, the order, a window, a unit or one of the
 * constants below bumps `FEATURE_SCHEMA_VERSION`. The hash covers the
 * version, the names, the resource-kind codes and the constants, so a change
 * that forgets the bump still changes the hash.
 */
import { createHash } from 'node:crypto';
import { RESOURCE_KINDS } from '../resources/resource-id.js';
import { COMPANION_OF_KIND } from '../resources/utilization.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export const FEATURE_SCHEMA_VERSION = 4;

/**
 * Calendar features are in the host's local time: the UTC offset each sample
 * carries (`system.time_zone.offset`). Without one they are missing (NaN):
 * a cron job at 02:00 local is a pattern; the same job seen in UTC across
 * time zones is noise.
 */
const CALENDAR_TIME = 'local';

/** The time windows, shortest first. Labels are part of feature names. */
export const FEATURE_WINDOWS = [
  { label: '5m', ms: 5 * MINUTE_MS },
  { label: '1h', ms: HOUR_MS },
  { label: '6h', ms: 6 * HOUR_MS },
  { label: '24h', ms: DAY_MS },
] as const;
export type WindowLabel = (typeof FEATURE_WINDOWS)[number]['label'];

/**
 * Each window keeps its samples aggregated in buckets of window ÷ 300 (1 s
 * for 5 min, 12 s for 1 h, 72 s for 6 h, 288 s for 24 h), so memory and cost
 * per window are the same for a host sampled every second or every 5 minutes.
 * A window at time t covers the buckets that start after t − window, up to
 * the current one: a sample at or before t − window never counts, and one
 * that is less than a bucket (0.33 % of the window) younger may already have
 * left with its bucket.
 */
export const BUCKETS_PER_WINDOW = 300;

/**
 * Two consecutive samples further apart than this leave a gap: the time
 * between them does not count as covered, and a run above the threshold
 * restarts. Twice the slowest collection interval we support (5 min).
 */
export const MAX_SAMPLE_GAP_MS = 10 * MINUTE_MS;

/** Time-to-threshold estimates are capped at 7 days, hours. */
export const TIME_TO_THRESHOLD_CAP_H = 168;
/**
 * Time-to-threshold when the trend is flat or falling: above the cap, so
 * "not rising" sorts after "rising very slowly", and obviously not a real
 * estimate.
 */
export const TIME_TO_THRESHOLD_NOT_RISING_H = 2 * TIME_TO_THRESHOLD_CAP_H;

/** Seasonality keeps 5-minute bucket means (and maxima) for 8 days: one week back plus a day of lookahead. */
export const SEASON_BUCKET_MS = 5 * MINUTE_MS;
export const SEASON_SPAN_MS = 8 * DAY_MS;
/** `season.next_max_*` looks at most this far past the lagged time (the resource's horizon, capped). */
export const SEASON_LOOKAHEAD_MAX_MS = 6 * HOUR_MS;

/** PSI figures older than this (no fresh reading) are NaN. */
export const PRESSURE_MAX_AGE_MS = MAX_SAMPLE_GAP_MS;

/**
 * The companion resource (COMPANION_OF_KIND: memory for swap) is read over
 * this window, and its time-to-level is to this utilisation: memory all but
 * full, where the kernel starts swapping in earnest whatever the swap
 * forecast's own threshold. Its figures are NaN when the companion has no
 * reading within MAX_SAMPLE_GAP_MS, and for kinds without a companion.
 */
export const COMPANION_WINDOW = '1h' satisfies WindowLabel;
export const COMPANION_LEVEL = 0.95;
/*
 * With the companion's capacity in units of this resource's
 * (`companion.capacity_ratio`: memory bytes ÷ swap bytes), the companion's
 * growth converts to this resource's: once memory is full, what it still
 * grows by goes to swap, `capacity_ratio` times as fast as a share of swap.
 * `companion.spill_ttt_h.1h` is the companion's time to COMPANION_LEVEL plus
 * the time for its growth, so converted, to fill this resource's headroom to
 * the threshold. Both are NaN when the companion's figures are, and when a
 * reading carried no capacities.
 */

/** Windows whose trend gives a time-to-threshold estimate. */
export const TIME_TO_THRESHOLD_WINDOWS = ['1h', '6h'] as const satisfies readonly WindowLabel[];
/** Short/long window pairs for slope change. */
export const SLOPE_CHANGE_PAIRS = [
  ['5m', '1h'],
  ['1h', '6h'],
  ['6h', '24h'],
] as const satisfies readonly (readonly [WindowLabel, WindowLabel])[];

/** Per-window statistics, in column order within a window. */
export const WINDOW_STATS = [
  'mean',
  'std',
  'min',
  'max',
  'slope',
  'count',
  'coverage',
  'peak_headroom',
  'above_frac',
] as const;
export type WindowStat = (typeof WINDOW_STATS)[number];

function buildNames(): string[] {
  const names = [
    'resource.kind',
    'exhaustion.threshold',
    'exhaustion.horizon_h',
    'exhaustion.sustain_min',
    'time.day_sin',
    'time.day_cos',
    'time.week_sin',
    'time.week_cos',
    'time.hour_of_day',
    'time.day_of_week',
    'last',
    'last_age_s',
    'headroom',
    'above_threshold_s',
  ];
  for (const w of FEATURE_WINDOWS) for (const stat of WINDOW_STATS) names.push(`${stat}.${w.label}`);
  for (const [short, long] of SLOPE_CHANGE_PAIRS) names.push(`slope_change.${short}_${long}`);
  for (const w of TIME_TO_THRESHOLD_WINDOWS) names.push(`ttt_h.${w}`);
  for (const w of TIME_TO_THRESHOLD_WINDOWS) names.push(`ttt_halves_h.${w}`);
  names.push(
    'season.value_1d',
    'season.value_1w',
    'season.next_max_1d',
    'season.next_max_1w',
    'psi.some_avg10',
    'psi.some_avg60',
    'companion.last',
    `companion.slope.${COMPANION_WINDOW}`,
    `companion.ttt_h.${COMPANION_WINDOW}`,
    // Schema 4, appended so that the columns before keep their places.
    'companion.capacity_ratio',
    `companion.spill_ttt_h.${COMPANION_WINDOW}`,
  );
  return names;
}

/** Feature names in column order. */
export const FEATURE_NAMES: readonly string[] = Object.freeze(buildNames());

function schemaHash(): string {
  const canonical = JSON.stringify({
    version: FEATURE_SCHEMA_VERSION,
    names: FEATURE_NAMES,
    resourceKinds: RESOURCE_KINDS,
    constants: {
      windows: FEATURE_WINDOWS,
      bucketsPerWindow: BUCKETS_PER_WINDOW,
      maxSampleGapMs: MAX_SAMPLE_GAP_MS,
      tttCapH: TIME_TO_THRESHOLD_CAP_H,
      tttNotRisingH: TIME_TO_THRESHOLD_NOT_RISING_H,
      seasonBucketMs: SEASON_BUCKET_MS,
      seasonSpanMs: SEASON_SPAN_MS,
      seasonLookaheadMaxMs: SEASON_LOOKAHEAD_MAX_MS,
      pressureMaxAgeMs: PRESSURE_MAX_AGE_MS,
      companions: COMPANION_OF_KIND,
      companionWindow: COMPANION_WINDOW,
      companionLevel: COMPANION_LEVEL,
      calendarTime: CALENDAR_TIME,
    },
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export interface FeatureSchema {
  readonly version: number;
  readonly names: readonly string[];
  /** SHA-256 (hex) over the version, names, resource-kind codes and constants. */
  readonly hash: string;
}

export const FEATURE_SCHEMA: FeatureSchema = Object.freeze({
  version: FEATURE_SCHEMA_VERSION,
  names: FEATURE_NAMES,
  hash: schemaHash(),
});

/** Number of features (columns). */
export const FEATURE_COUNT = FEATURE_NAMES.length;

const INDEX = new Map(FEATURE_NAMES.map((name, i) => [name, i]));

/** Column of a feature; throws on an unknown name. */
export function featureIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new RangeError(`unknown feature "${name}"`);
  return i;
}
