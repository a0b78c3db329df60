import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FeatureExtractor, type FeatureExtractorOptions } from '../../shared/features/extractor.js';
import { acceptedSampleTimes, replaySeries } from '../../shared/features/replay.js';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../shared/features/schema.js';
import {
  DEFAULT_CPU_EXHAUSTION,
  DEFAULT_EXHAUSTION,
  DEFAULT_FILESYSTEM_EXHAUSTION,
} from '../../shared/resources/exhaustion.js';
import {
  DAY,
  type GeneratedSeries,
  HOUR,
  MINUTE,
  SECOND,
  T0,
  irregularSeries,
  regularSeries,
  sawtoothSeries,
} from '../helpers/series.js';

const CPU: FeatureExtractorOptions = { kind: 'cpu', exhaustion: DEFAULT_CPU_EXHAUSTION };
const FS: FeatureExtractorOptions = { kind: 'filesystem', exhaustion: DEFAULT_FILESYSTEM_EXHAUSTION };
const SWAP: FeatureExtractorOptions = { kind: 'swap', exhaustion: DEFAULT_EXHAUSTION.swap };

const SERIES: [GeneratedSeries, FeatureExtractorOptions][] = [
  // Over a day, so the 24 h window fills, expires and re-bases.
  [regularSeries('regular 1 s', SECOND, DAY + 2 * HOUR, 1), CPU],
  // Over 9 days, so one-week seasonality has data.
  [regularSeries('regular 5 min', 5 * MINUTE, 9 * DAY, 2), FS],
  [
    irregularSeries(
      'irregular with gaps, PSI, companion, out-of-order, repeated and NaN samples',
      3 * DAY,
      3,
    ),
    SWAP,
  ],
  [sawtoothSeries('sawtooth', 30 * SECOND, 3 * HOUR, 3 * DAY, 4), FS],
];

/** The agent's way: samples one by one, a vector after every accepted sample. */
function livePath(series: GeneratedSeries, options: FeatureExtractorOptions): Float32Array[] {
  const extractor = new FeatureExtractor(options);
  const rows: Float32Array[] = [];
  const {
    timestampsMs: ts,
    values,
    pressureSomeAvg10: p10,
    pressureSomeAvg60: p60,
    utcOffsetS,
    companion,
    companionCapacityRatio: ratios,
  } = series;
  for (let i = 0; i < ts.length; i++) {
    const pressure = p10 && p60 ? { someAvg10: p10[i]!, someAvg60: p60[i]! } : undefined;
    const offset = utcOffsetS?.[i];
    if (extractor.push(ts[i]!, values[i]!, pressure, offset, companion?.[i], ratios?.[i]) === 'accepted')
      rows.push(extractor.vector(ts[i]!));
  }
  return rows;
}

/** Index and name of the first differing bit pattern, or undefined. */
function firstDifference(a: Float32Array, b: Float32Array): string | undefined {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) {
      return `row ${Math.floor(i / FEATURE_COUNT)}, ${FEATURE_NAMES[i % FEATURE_COUNT]}: ${a[i]} vs ${b[i]}`;
    }
  }
  return undefined;
}

describe('feature extraction: live and replay paths', () => {
  for (const [series, options] of SERIES) {
    it(`give bitwise identical vectors (NaN included): ${series.name}`, () => {
      const live = livePath(series, options);
      const times = acceptedSampleTimes(series);
      assert.equal(times.length, live.length);
      const replay = replaySeries(series, times, options);
      assert.equal(replay.rows, live.length);
      assert.equal(replay.width, FEATURE_COUNT);

      const liveMatrix = new Float32Array(live.length * FEATURE_COUNT);
      live.forEach((row, i) => liveMatrix.set(row, i * FEATURE_COUNT));
      assert.equal(firstDifference(liveMatrix, replay.features), undefined);
      // The comparison covered NaN cells too, not only numbers.
      assert.ok(replay.features.some(Number.isNaN));
      if (series.companion) {
        // …and the companion's figures, both read and gone stale.
        for (const name of ['companion.ttt_h.1h', 'companion.capacity_ratio', 'companion.spill_ttt_h.1h']) {
          const col = FEATURE_NAMES.indexOf(name);
          const cells = Array.from(
            { length: replay.rows },
            (_, r) => replay.features[r * FEATURE_COUNT + col]!,
          );
          assert.ok(cells.some(Number.isFinite) && cells.some(Number.isNaN), name);
        }
      }
    });
  }

  it('gives the same vectors at times between samples, however often the live side asked before', () => {
    const series = irregularSeries('irregular', 2 * DAY, 5);
    const evaluation: number[] = [];
    for (let t = T0 + 7 * MINUTE; t < T0 + 2 * DAY; t += 7 * MINUTE + 13 * SECOND) evaluation.push(t);

    // Live: vectors after every sample (as the agent does) and also at the
    // evaluation times (as a dashboard might); only the latter are kept.
    const extractor = new FeatureExtractor(CPU);
    const live = new Float32Array(evaluation.length * FEATURE_COUNT);
    const { timestampsMs: ts, values } = series;
    let i = 0;
    evaluation.forEach((at, row) => {
      for (; i < ts.length && ts[i]! <= at; i++) {
        if (extractor.push(ts[i]!, values[i]!) === 'accepted') extractor.vector(ts[i]!);
      }
      extractor.vectorInto(at, live, row * FEATURE_COUNT);
      extractor.vector(at + MINUTE);
    });

    const replay = replaySeries({ timestampsMs: ts, values }, evaluation, CPU);
    assert.equal(firstDifference(live, replay.features), undefined);
  });

  it('counts what the history held that the extractor dropped, as the live path does', () => {
    const series = irregularSeries('irregular', DAY, 6);
    const extractor = new FeatureExtractor(CPU);
    for (let i = 0; i < series.timestampsMs.length; i++)
      extractor.push(series.timestampsMs[i]!, series.values[i]!);
    const replay = replaySeries(series, [T0 + 2 * DAY], CPU);
    assert.deepEqual(replay.stats, extractor.stats());
    assert.ok(replay.stats.droppedOutOfOrder > 0 && replay.stats.droppedInvalid > 0);
  });

  it('refuses evaluation times that go back, and columns of different lengths', () => {
    const history = { timestampsMs: [T0, T0 + SECOND], values: [0.1, 0.2] };
    assert.throws(() => replaySeries(history, [T0 + 2 * SECOND, T0 + SECOND], CPU), /non-decreasing/);
    assert.throws(() => replaySeries({ timestampsMs: [T0], values: [] }, [T0], CPU), /differ in length/);
  });

  it('gives NaN history features before the first sample', () => {
    const replay = replaySeries({ timestampsMs: [T0 + HOUR], values: [0.5] }, [T0, T0 + HOUR], CPU);
    const col = FEATURE_NAMES.indexOf('mean.1h');
    assert.ok(Number.isNaN(replay.features[col]!));
    assert.equal(replay.features[FEATURE_COUNT + col], 0.5);
  });
});
