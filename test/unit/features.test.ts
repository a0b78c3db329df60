import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { FeatureExtractor, type FeatureExtractorOptions } from '../../shared/features/extractor.js';
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  FEATURE_SCHEMA,
  TIME_TO_THRESHOLD_CAP_H,
  TIME_TO_THRESHOLD_NOT_RISING_H,
  featureIndex,
} from '../../shared/features/schema.js';
import {
  DEFAULT_CPU_EXHAUSTION,
  DEFAULT_EXHAUSTION,
  DEFAULT_FILESYSTEM_EXHAUSTION,
  DEFAULT_MEMORY_EXHAUSTION,
} from '../../shared/resources/exhaustion.js';
import { DAY, HOUR, MINUTE, SECOND, T0 } from '../helpers/series.js';

const FS: FeatureExtractorOptions = { kind: 'filesystem', exhaustion: DEFAULT_FILESYSTEM_EXHAUSTION };
const CPU: FeatureExtractorOptions = { kind: 'cpu', exhaustion: DEFAULT_CPU_EXHAUSTION };

/** Features by name, as float32 read back to numbers. */
function features(extractor: FeatureExtractor, atMs: number): Record<string, number> {
  const v = extractor.vector(atMs);
  return Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, v[i]!]));
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} ± ${tolerance}, got ${actual}`,
  );
}

/** Pushes value(t) every `stepMs` over [fromMs, toMs]. */
function fill(
  extractor: FeatureExtractor,
  fromMs: number,
  toMs: number,
  stepMs: number,
  value: (t: number) => number,
): void {
  for (let t = fromMs; t <= toMs; t += stepMs) assert.equal(extractor.push(t, value(t)), 'accepted');
}

/** float32 rounding of a value in 0..1000: relative 6e-8. */
const F32 = 1e-6;

describe('feature schema', () => {
  it('names every column once, and hashes the version, names and constants', () => {
    assert.equal(new Set(FEATURE_NAMES).size, FEATURE_NAMES.length);
    assert.equal(FEATURE_COUNT, FEATURE_NAMES.length);
    assert.equal(FeatureExtractor.width, FEATURE_COUNT);
    assert.match(FEATURE_SCHEMA.hash, /^[0-9a-f]{64}$/);
    assert.notEqual(FEATURE_SCHEMA.hash, createHash('sha256').update(FEATURE_NAMES.join('\n')).digest('hex'));
    assert.equal(featureIndex(FEATURE_NAMES[7]!), 7);
    assert.throws(() => featureIndex('no.such.feature'), /unknown feature/);
  });

  it('is pinned: changing any feature means a new version and a new hash here', () => {
    assert.equal(FEATURE_SCHEMA.version, 4);
    assert.equal(FEATURE_SCHEMA.hash, 'c29fcf150a9f6ef04662877ceb3c7267f8f63187e758b73144b28addaf09c873');
  });

  it('writes every column', () => {
    const extractor = new FeatureExtractor(FS);
    fill(extractor, T0, T0 + 9 * DAY, 5 * MINUTE, (t) => 0.3 + ((t - T0) / DAY) * 0.01);
    const out = new Float32Array(FEATURE_COUNT + 2).fill(-12345);
    extractor.vectorInto(T0 + 9 * DAY, out, 1);
    assert.equal(out[0], -12345);
    assert.equal(out[FEATURE_COUNT + 1], -12345);
    const unwritten = FEATURE_NAMES.filter((_, i) => out[i + 1] === -12345);
    assert.deepEqual(unwritten, []);
  });
});

describe('feature extraction', () => {
  it('gives a line its true slope in every window, at today’s epoch times', () => {
    const perHour = 0.012;
    const extractor = new FeatureExtractor(FS);
    const line = (t: number) => 0.1 + (perHour * (t - T0)) / HOUR;
    fill(extractor, T0, T0 + 30 * HOUR, 10 * SECOND, line);
    const f = features(extractor, T0 + 30 * HOUR);
    for (const w of ['5m', '1h', '6h', '24h']) {
      close(f[`slope.${w}`]!, perHour, perHour * F32, `slope.${w}`);
      close(f[`slope_change.${w === '24h' ? '6h_24h' : '5m_1h'}`]!, 0, 1e-7, 'slope change');
    }
    // Samples in (t − 1 h, t] less the 12-s bucket at the old edge whose
    // start is not inside: 359 of them, t − 59 min 40 s to t.
    assert.equal(f['count.1h'], 359);
    close(f['mean.1h']!, line(T0 + 30 * HOUR - (358 * 10 * SECOND) / 2), F32, 'mean.1h');
    close(f['last']!, line(T0 + 30 * HOUR), F32, 'last');
    assert.equal(f['coverage.1h'], 1);
  });

  it('keeps the slope exact over a month of re-basing at 1-minute samples', () => {
    const extractor = new FeatureExtractor(FS);
    const perHour = -0.0005;
    fill(extractor, T0, T0 + 30 * DAY, MINUTE, (t) => 0.9 + (perHour * (t - T0)) / HOUR);
    const f = features(extractor, T0 + 30 * DAY);
    for (const w of ['5m', '1h', '6h', '24h']) close(f[`slope.${w}`]!, perHour, 1e-10, `slope.${w}`);
  });

  it('estimates the time to the threshold of a linear fill, least-squares and from the halves', () => {
    const extractor = new FeatureExtractor(FS);
    const perHour = 0.05;
    fill(extractor, T0, T0 + 8 * HOUR, 30 * SECOND, (t) => 0.4 + (perHour * (t - T0)) / HOUR);
    const at = T0 + 8 * HOUR;
    const f = features(extractor, at);
    const expected = (0.95 - (0.4 + perHour * 8)) / perHour; // 3 h
    for (const name of ['ttt_h.1h', 'ttt_h.6h', 'ttt_halves_h.1h', 'ttt_halves_h.6h']) {
      close(f[name]!, expected, 1e-4, name);
    }
    close(f['headroom']!, 0.15, F32, 'headroom');
    // Half an hour later without new samples, the estimate counts down.
    close(features(extractor, at + 30 * MINUTE)['ttt_h.1h']!, expected - 0.5, 1e-4, 'ttt_h.1h later');
  });

  it('caps time to threshold, marks a flat or falling trend, and says 0 at the threshold', () => {
    const slow = new FeatureExtractor(FS);
    fill(slow, T0, T0 + 2 * HOUR, MINUTE, (t) => 0.1 + (1e-5 * (t - T0)) / HOUR);
    assert.equal(features(slow, T0 + 2 * HOUR)['ttt_h.1h'], TIME_TO_THRESHOLD_CAP_H);

    const falling = new FeatureExtractor(FS);
    fill(falling, T0, T0 + 2 * HOUR, MINUTE, (t) => 0.8 - (0.01 * (t - T0)) / HOUR);
    assert.equal(features(falling, T0 + 2 * HOUR)['ttt_h.1h'], TIME_TO_THRESHOLD_NOT_RISING_H);

    const full = new FeatureExtractor(FS);
    fill(full, T0, T0 + 2 * HOUR, MINUTE, () => 0.97);
    const f = features(full, T0 + 2 * HOUR);
    assert.equal(f['ttt_h.1h'], 0);
    assert.equal(f['above_frac.1h'], 1);
  });

  it('stops counting a value once it is older than the window', () => {
    const extractor = new FeatureExtractor(FS);
    extractor.push(T0, 0.9);
    extractor.push(T0 + 10 * MINUTE, 0.1);
    const at = (ms: number) => features(extractor, ms);
    // (T0 is aligned to every bucket width, so the edges are exact.)
    assert.equal(at(T0 + HOUR - 1)['count.1h'], 2);
    close(at(T0 + HOUR - 1)['mean.1h']!, 0.5, F32, 'mean.1h');
    assert.equal(at(T0 + HOUR)['count.1h'], 1);
    close(at(T0 + HOUR)['mean.1h']!, 0.1, F32, 'mean.1h');
    assert.equal(at(T0 + 10 * MINUTE)['count.5m'], 1);
    assert.equal(at(T0 + 15 * MINUTE)['count.5m'], 0);
    assert.ok(Number.isNaN(at(T0 + 15 * MINUTE)['mean.5m']!));
    assert.equal(at(T0 + 15 * MINUTE)['last'], Math.fround(0.1));
    assert.equal(at(T0 + 15 * MINUTE)['last_age_s'], 300);
  });

  it('tracks max and min over time windows, not sample counts', () => {
    const extractor = new FeatureExtractor(CPU);
    extractor.push(T0, 0.99);
    extractor.push(T0 + SECOND, 0.01);
    let t = T0 + 10 * SECOND;
    /** Pushes 0.5 every 10 s up to `ms`, then reads the features there. */
    const at = (ms: number) => {
      for (; t <= ms; t += 10 * SECOND) extractor.push(t, 0.5);
      return features(extractor, ms);
    };
    assert.equal(at(T0 + 4 * MINUTE)['max.5m'], Math.fround(0.99));
    assert.equal(at(T0 + 4 * MINUTE)['min.5m'], Math.fround(0.01));
    assert.equal(at(T0 + 6 * MINUTE)['max.5m'], 0.5);
    assert.equal(at(T0 + 6 * MINUTE)['min.5m'], 0.5);
    assert.equal(at(T0 + 59 * MINUTE)['max.1h'], Math.fround(0.99));
    assert.equal(at(T0 + 61 * MINUTE)['max.1h'], 0.5);
    assert.equal(at(T0 + 61 * MINUTE)['min.1h'], 0.5);
    assert.equal(at(T0 + 61 * MINUTE)['max.6h'], Math.fround(0.99));
    assert.equal(at(T0 + 61 * MINUTE)['min.6h'], Math.fround(0.01));
    close(at(T0 + 61 * MINUTE)['peak_headroom.6h']!, 0.9 - 0.99, F32, 'peak headroom');
    // A falling staircase: the window's max is its oldest step still inside.
    const stairs = new FeatureExtractor(CPU);
    for (let i = 0; i < 120; i++) stairs.push(T0 + i * MINUTE, 1 - i / 200);
    const g = features(stairs, T0 + 119 * MINUTE);
    assert.equal(g['max.1h'], Math.fround(1 - 60 / 200));
    assert.equal(g['min.1h'], Math.fround(1 - 119 / 200));
  });

  it('shows a gap as lost coverage', () => {
    const extractor = new FeatureExtractor(CPU);
    const gapStart = T0 + 2 * HOUR;
    fill(extractor, T0, gapStart, 10 * SECOND, () => 0.3);
    const end = gapStart + 40 * MINUTE;
    fill(extractor, gapStart + 30 * MINUTE, end, 10 * SECOND, () => 0.3);
    const f = features(extractor, end);
    assert.equal(f['coverage.5m'], 1);
    close(f['coverage.1h']!, 0.5, 0.004, 'coverage.1h'); // 20 min before the gap + 10 after, of 60
    close(f['coverage.6h']!, (2 * HOUR + 10 * MINUTE) / (6 * HOUR), 0.004, 'coverage.6h');
    // With no new sample, coverage falls as time passes.
    assert.equal(features(extractor, end + 5 * MINUTE)['coverage.5m'], 0);
    close(features(extractor, end + 5 * MINUTE)['coverage.1h']!, 25 / 60, 0.004, 'coverage.1h later');
  });

  it('looks up the same time one day and one week back', () => {
    const extractor = new FeatureExtractor(FS);
    // A distinct value per 5-minute slot: day number + time of day.
    const value = (t: number) => Math.floor((t - T0) / DAY) * 0.1 + ((t - T0) % DAY) / DAY / 20;
    const end = T0 + 8 * DAY;
    fill(extractor, T0 + DAY / 2, end, 5 * MINUTE, value);
    const f = features(extractor, end);
    close(f['season.value_1d']!, value(end - DAY), F32, 'season.value_1d');
    close(f['season.value_1w']!, value(end - 7 * DAY), F32, 'season.value_1w');
    // The maximum over the horizon (6 h) after the time one day back.
    close(f['season.next_max_1d']!, value(end - DAY + 6 * HOUR), F32, 'season.next_max_1d');
    // Before a day of history, unknown.
    const young = new FeatureExtractor(FS);
    fill(young, T0, T0 + 20 * HOUR, 5 * MINUTE, value);
    const g = features(young, T0 + 20 * HOUR);
    assert.ok(Number.isNaN(g['season.value_1d']!) && Number.isNaN(g['season.value_1w']!));
    assert.ok(Number.isNaN(g['season.next_max_1w']!));
    // …but the 6 h after one day back reach into the history it has.
    close(g['season.next_max_1d']!, value(T0 + 20 * HOUR - DAY + 6 * HOUR), F32, 'season.next_max_1d');
  });

  it('encodes time of day and of week in the local time of the offset pushed, the week starting Monday', () => {
    const extractor = new FeatureExtractor(CPU);
    extractor.push(T0 - MINUTE, 0.2, undefined, 0); // a host on UTC
    const monday = features(extractor, T0); // Monday 00:00
    close(monday['time.day_sin']!, 0, 1e-7, 'day_sin');
    close(monday['time.day_cos']!, 1, 1e-7, 'day_cos');
    close(monday['time.week_sin']!, 0, 1e-7, 'week_sin');
    close(monday['time.week_cos']!, 1, 1e-7, 'week_cos');
    assert.equal(monday['time.hour_of_day'], 0);
    assert.equal(monday['time.day_of_week'], 0);
    const six = features(extractor, T0 + 6 * HOUR);
    close(six['time.day_sin']!, 1, 1e-7, 'day_sin at 06:00');
    assert.equal(six['time.hour_of_day'], 6);
    const thursdayNoon = features(extractor, T0 + 3.5 * DAY);
    close(thursdayNoon['time.week_cos']!, -1, 1e-7, 'week_cos at mid-week');
    assert.equal(thursdayNoon['time.day_of_week'], 3);
  });

  it('follows the host: UTC+5:30 at 00:00 UTC is 05:30 local, and a daylight-saving change moves the hour', () => {
    const extractor = new FeatureExtractor(CPU);
    extractor.push(T0 - MINUTE, 0.2, undefined, 5.5 * 3600);
    const f = features(extractor, T0);
    assert.equal(f['time.hour_of_day'], 5.5);
    assert.equal(f['time.day_of_week'], 0);
    // Sunday 23:00 UTC in UTC−3 is Sunday 20:00 local.
    extractor.push(T0 + 6 * DAY + 22 * HOUR, 0.2, undefined, -3 * 3600);
    const sunday = features(extractor, T0 + 6 * DAY + 23 * HOUR);
    assert.equal(sunday['time.hour_of_day'], 20);
    assert.equal(sunday['time.day_of_week'], 6);
    // A sample without an offset (or a NaN one) keeps the last known.
    extractor.push(T0 + 6 * DAY + 23 * HOUR, 0.2, undefined, NaN);
    assert.equal(features(extractor, T0 + 6 * DAY + 23 * HOUR)['time.hour_of_day'], 20);
  });

  it('leaves the calendar features missing until a sample carries the offset', () => {
    const extractor = new FeatureExtractor(CPU);
    extractor.push(T0, 0.2);
    const f = features(extractor, T0 + MINUTE);
    for (const name of ['time.day_sin', 'time.day_cos', 'time.week_sin', 'time.week_cos']) {
      assert.ok(Number.isNaN(f[name]!), name);
    }
    assert.ok(Number.isNaN(f['time.hour_of_day']!));
    assert.ok(Number.isNaN(f['time.day_of_week']!));
  });

  it('with one sample: level and extremes, no spread, no trend, no coverage', () => {
    const extractor = new FeatureExtractor(CPU);
    extractor.push(T0, 0.42);
    const f = features(extractor, T0);
    assert.equal(f['count.1h'], 1);
    assert.equal(f['mean.1h'], Math.fround(0.42));
    assert.equal(f['max.1h'], Math.fround(0.42));
    assert.equal(f['min.1h'], Math.fround(0.42));
    for (const name of ['std.1h', 'slope.1h', 'ttt_h.1h', 'ttt_halves_h.1h', 'slope_change.5m_1h']) {
      assert.ok(Number.isNaN(f[name]!), name);
    }
    assert.equal(f['coverage.1h'], 0);
    assert.equal(f['resource.kind'], 0);
    assert.equal(f['exhaustion.sustain_min'], 5);
  });

  it('with no sample: only context and calendar are known', () => {
    const f = features(new FeatureExtractor(CPU), T0);
    const known = FEATURE_NAMES.filter((n) => !Number.isNaN(f[n]!));
    for (const n of known) assert.match(n, /^(resource|exhaustion|time)\.|^count\.|^coverage\./, n);
  });

  it('ignores NaN and infinite input, counted, and leaves the features as they were', () => {
    const extractor = new FeatureExtractor(CPU);
    extractor.push(T0, 0.5);
    const before = extractor.vector(T0 + MINUTE);
    assert.equal(extractor.push(T0 + 10 * SECOND, NaN), 'invalid');
    assert.equal(extractor.push(T0 + 20 * SECOND, Infinity), 'invalid');
    assert.equal(extractor.push(NaN, 0.5), 'invalid');
    assert.deepEqual(extractor.vector(T0 + MINUTE), before);
    assert.deepEqual(extractor.stats(), { accepted: 1, droppedOutOfOrder: 0, droppedInvalid: 3 });
  });

  it('drops samples not newer than the last one, counted; the first value for a time stands', () => {
    const a = new FeatureExtractor(CPU);
    const b = new FeatureExtractor(CPU);
    for (const x of [a, b]) {
      x.push(T0, 0.2);
      x.push(T0 + MINUTE, 0.4);
    }
    assert.equal(a.push(T0 + 30 * SECOND, 0.9), 'out_of_order');
    assert.equal(a.push(T0 + MINUTE, 0.9), 'out_of_order');
    assert.deepEqual(a.vector(T0 + 2 * MINUTE), b.vector(T0 + 2 * MINUTE));
    assert.deepEqual(a.stats(), { accepted: 2, droppedOutOfOrder: 2, droppedInvalid: 0 });
    assert.equal(a.lastTimestampMs, T0 + MINUTE);
    assert.throws(() => a.vector(T0 + 30 * SECOND), RangeError);
  });

  it('measures how long the value has been at or above the threshold, a gap breaking the run', () => {
    const extractor = new FeatureExtractor(CPU);
    fill(extractor, T0, T0 + 10 * MINUTE, 10 * SECOND, (t) => (t >= T0 + 4 * MINUTE ? 0.95 : 0.5));
    assert.equal(features(extractor, T0 + 10 * MINUTE)['above_threshold_s'], 360);
    extractor.push(T0 + 30 * MINUTE, 0.96); // after a 20-minute gap
    assert.equal(features(extractor, T0 + 30 * MINUTE)['above_threshold_s'], 0);
    extractor.push(T0 + 30 * MINUTE + 10 * SECOND, 0.5);
    assert.equal(features(extractor, T0 + 31 * MINUTE)['above_threshold_s'], 0);
  });

  it('passes pressure-stall figures through while fresh, NaN when absent or stale', () => {
    const extractor = new FeatureExtractor({ kind: 'memory', exhaustion: DEFAULT_MEMORY_EXHAUSTION });
    extractor.push(T0, 0.5);
    assert.ok(Number.isNaN(features(extractor, T0)['psi.some_avg10']!));
    extractor.push(T0 + SECOND, 0.5, { someAvg10: 0.12, someAvg60: 0.05 });
    extractor.push(T0 + 2 * SECOND, 0.5);
    const f = features(extractor, T0 + 5 * MINUTE);
    assert.equal(f['psi.some_avg10'], Math.fround(0.12));
    assert.equal(f['psi.some_avg60'], Math.fround(0.05));
    assert.ok(Number.isNaN(features(extractor, T0 + 11 * MINUTE)['psi.some_avg60']!));
  });

  it("reads the companion's level, 1 h trend and time to 95 %, NaN without one or once stale", () => {
    const swap = new FeatureExtractor({ kind: 'swap', exhaustion: DEFAULT_EXHAUSTION.swap });
    swap.push(T0, 0.05);
    for (const name of ['companion.last', 'companion.slope.1h', 'companion.ttt_h.1h']) {
      assert.ok(Number.isNaN(features(swap, T0)[name]!), name);
    }
    // Memory climbs 6 points an hour from 0.80: 0.86 at 1 h, 1.5 h from 0.95.
    for (let m = 0; m <= 60; m++) {
      const t = T0 + MINUTE + m * MINUTE;
      swap.push(t, 0.05, undefined, undefined, m === 30 ? NaN : 0.8 + (0.06 * m) / 60);
    }
    const at = T0 + 61 * MINUTE;
    const f = features(swap, at);
    close(f['companion.last']!, 0.86, 1e-6, 'companion.last');
    close(f['companion.slope.1h']!, 0.06, 1e-3, 'companion.slope.1h');
    close(f['companion.ttt_h.1h']!, 1.5, 0.02, 'companion.ttt_h.1h');
    // The swap series' own features are untouched by the companion.
    close(f['slope.1h']!, 0, 1e-9, 'slope.1h');
    // Samples without a companion reading: its figures go stale after MAX_SAMPLE_GAP_MS.
    for (let m = 1; m <= 10; m++) swap.push(at + m * MINUTE, 0.05);
    assert.equal(features(swap, at + 10 * MINUTE)['companion.last'], Math.fround(0.86));
    swap.push(at + 11 * MINUTE, 0.05);
    for (const name of ['companion.last', 'companion.slope.1h', 'companion.ttt_h.1h']) {
      assert.ok(Number.isNaN(features(swap, at + 11 * MINUTE)[name]!), name);
    }
  });

  it("turns the companion's growth into this resource's by the capacity ratio: swap's time to fill behind memory", () => {
    const threshold = DEFAULT_EXHAUSTION.swap.threshold;
    const swapWith = (ratio: number | undefined) => {
      const swap = new FeatureExtractor({ kind: 'swap', exhaustion: DEFAULT_EXHAUSTION.swap });
      // Memory climbs 6 points an hour from 0.80 (1.5 h from 0.95 at the end); swap stays at 0.10.
      for (let m = 0; m <= 60; m++)
        swap.push(T0 + m * MINUTE, 0.1, undefined, undefined, 0.8 + (0.06 * m) / 60, ratio);
      return features(swap, T0 + 60 * MINUTE);
    };
    // 8 GiB of memory behind 2 GiB of swap: memory's 0.06/h is 0.24/h of swap, 0.8 / 0.24 h to 0.90.
    const f = swapWith(4);
    assert.equal(f['companion.capacity_ratio'], 4);
    close(f['companion.spill_ttt_h.1h']!, 1.5 + (threshold - 0.1) / 0.24, 0.03, 'spill, ratio 4');
    // The same growth behind a swap as large as memory: four times as long to fill it.
    close(swapWith(1)['companion.spill_ttt_h.1h']!, 1.5 + (threshold - 0.1) / 0.06, 0.1, 'spill, ratio 1');
    // Without capacities (or with an impossible ratio) both are NaN; the other companion figures stay.
    for (const ratio of [undefined, NaN, 0, -2, Infinity]) {
      const g = swapWith(ratio);
      assert.ok(Number.isNaN(g['companion.capacity_ratio']!), String(ratio));
      assert.ok(Number.isNaN(g['companion.spill_ttt_h.1h']!), String(ratio));
      close(g['companion.ttt_h.1h']!, 1.5, 0.02, 'companion.ttt_h.1h');
    }

    // Memory falling: not rising. Swap already at its threshold: 0.
    const falling = new FeatureExtractor({ kind: 'swap', exhaustion: DEFAULT_EXHAUSTION.swap });
    const full = new FeatureExtractor({ kind: 'swap', exhaustion: DEFAULT_EXHAUSTION.swap });
    for (let m = 0; m <= 60; m++) {
      falling.push(T0 + m * MINUTE, 0.1, undefined, undefined, 0.9 - (0.06 * m) / 60, 4);
      full.push(T0 + m * MINUTE, 0.95, undefined, undefined, 0.8 + (0.06 * m) / 60, 4);
    }
    assert.equal(
      features(falling, T0 + 60 * MINUTE)['companion.spill_ttt_h.1h'],
      TIME_TO_THRESHOLD_NOT_RISING_H,
    );
    assert.equal(features(full, T0 + 60 * MINUTE)['companion.spill_ttt_h.1h'], 0);
  });

  it('refuses an impossible definition', () => {
    assert.throws(
      () => new FeatureExtractor({ kind: 'cpu', exhaustion: { ...DEFAULT_CPU_EXHAUSTION, threshold: 0 } }),
    );
    assert.throws(
      () => new FeatureExtractor({ kind: 'cpu', exhaustion: { ...DEFAULT_CPU_EXHAUSTION, horizonMs: 0 } }),
    );
  });
});
