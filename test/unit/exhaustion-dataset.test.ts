import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SeriesHistory, replaySeries } from '../../shared/features/replay.js';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { DEFAULT_CPU_EXHAUSTION, type ExhaustionDefinition } from '../../shared/resources/exhaustion.js';
import { evaluationTimesByStep } from '../../models/dataset/evaluation-times.js';
import {
  type DatasetSeries,
  type ExhaustionDataset,
  buildExhaustionDataset,
} from '../../models/dataset/exhaustion-dataset.js';
import { historyBefore, historyFromPoints } from '../../models/dataset/series-history.js';
import { buildTimeSplit, splitTimeByFraction } from '../../models/dataset/time-split.js';
import { acceptedSeries } from '../../models/labels/accepted-series.js';
import { ROW_STATUS, labelExhaustion } from '../../models/labels/exhaustion-labels.js';
import type { RemediationWindow } from '../../models/labels/remediation.js';
import {
  DAY,
  HOUR,
  MINUTE,
  SECOND,
  T0,
  irregularSeries,
  regularSeries,
  sawtoothSeries,
} from '../helpers/series.js';

/** 0.2 → 0.97 over 3 h then rotated: crosses 0.95 once per cycle. */
const FS_1H: ExhaustionDefinition = { threshold: 0.95, horizonMs: HOUR, sustainMs: 0 };
const F = FEATURE_SCHEMA.names.length;

function fleet(): DatasetSeries[] {
  return [
    {
      hostId: 'web-1',
      resourceId: 'filesystem:/var/log',
      history: sawtoothSeries('sawtooth', 30 * SECOND, 3 * HOUR, 2 * DAY, 11),
      exhaustion: FS_1H,
    },
    {
      hostId: 'web-2',
      resourceId: 'cpu',
      history: irregularSeries('irregular', 2 * DAY, 12),
      exhaustion: { ...DEFAULT_CPU_EXHAUSTION, threshold: 0.55 },
    },
  ];
}

/** Bit patterns, so that NaN cells compare too. */
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Every row-parallel column of a dataset, for whole-dataset comparisons. */
function columns(ds: ExhaustionDataset) {
  return {
    features: bits(ds.features),
    labels: ds.labels,
    seriesIndex: ds.seriesIndex,
    timestampsMs: ds.timestampsMs,
    timeToExhaustionS: ds.timeToExhaustionS,
    tteCensored: ds.tteCensored,
    tteLowerBoundS: ds.tteLowerBoundS,
    counts: ds.counts,
    numRows: ds.numRows,
  };
}

describe('exhaustion dataset', () => {
  it('has one column per feature, and the very vectors replaySeries gives', () => {
    const series = fleet();
    const ds = buildExhaustionDataset(series);
    assert.equal(ds.featureNames.length, FEATURE_SCHEMA.names.length);
    assert.deepEqual(ds.featureNames, [...FEATURE_SCHEMA.names]);
    assert.equal(ds.featureSchemaHash, FEATURE_SCHEMA.hash);
    assert.equal(ds.features.length, ds.numRows * F);
    assert.ok(ds.numRows > 1000);

    for (const [i, summary] of ds.series.entries()) {
      const s = series[i]!;
      const rows = { begin: summary.firstRow, end: summary.firstRow + summary.rows };
      const times = ds.timestampsMs.subarray(rows.begin, rows.end);
      assert.ok(ds.seriesIndex.subarray(rows.begin, rows.end).every((x) => x === i));
      const direct = replaySeries(s.history, times, { kind: summary.kind, exhaustion: s.exhaustion });
      assert.deepEqual(bits(ds.features.subarray(rows.begin * F, rows.end * F)), bits(direct.features));

      const labels = labelExhaustion(acceptedSeries(s.history), times, s.exhaustion);
      assert.deepEqual(ds.labels.subarray(rows.begin, rows.end), labels.label);
      assert.ok(labels.status.every((x) => x === ROW_STATUS.labelled));
    }
    assert.deepEqual(
      ds.series.map((s) => [s.hostId, s.resourceId, s.kind]),
      [
        ['web-1', 'filesystem:%2Fvar%2Flog', 'filesystem'],
        ['web-2', 'cpu', 'cpu'],
      ],
    );
  });

  it('reports rows, positives and exclusions, and labels are 0/1 only', () => {
    const ds = buildExhaustionDataset(fleet());
    const positives = ds.labels.reduce((n, y) => n + y, 0);
    assert.ok(ds.labels.every((y) => y === 0 || y === 1));
    assert.equal(ds.counts.labelled, ds.numRows);
    assert.equal(ds.counts.positives, positives);
    assert.ok(positives > 0 && positives < ds.numRows);
    const { alreadyExhausted, unknownHorizon, remediated } = ds.counts.excluded;
    assert.equal(ds.counts.evaluated, ds.numRows + alreadyExhausted + unknownHorizon + remediated);
    assert.ok(alreadyExhausted > 0 && unknownHorizon > 0);
    assert.equal(remediated, 0);
    assert.equal(
      ds.series.reduce((n, s) => n + s.rows, 0),
      ds.numRows,
    );
  });

  it('thins rows by time: one a minute for a 1 s host, one a sample for a 5 min host', () => {
    const fast = regularSeries('1 s', SECOND, 6 * HOUR, 1);
    const slow = regularSeries('5 min', 5 * MINUTE, 6 * HOUR, 2);
    const perMinute = evaluationTimesByStep(acceptedSeries(fast), MINUTE);
    assert.equal(perMinute.length, 6 * 60 + 1);
    assert.ok(perMinute.every((t) => (t - T0) % MINUTE === 0));
    assert.equal(evaluationTimesByStep(acceptedSeries(slow), MINUTE).length, slow.timestampsMs.length);
    assert.equal(evaluationTimesByStep(acceptedSeries(fast), 0).length, fast.timestampsMs.length);

    const cpu: ExhaustionDefinition = { threshold: 0.9, horizonMs: HOUR, sustainMs: 5 * MINUTE };
    const ds = buildExhaustionDataset(
      [
        { hostId: 'fast', resourceId: 'cpu', history: fast, exhaustion: cpu },
        { hostId: 'slow', resourceId: 'cpu', history: slow, exhaustion: cpu },
      ],
      { evaluationStepMs: MINUTE },
    );
    assert.equal(ds.series[0]!.counts.evaluated, 6 * 60 + 1);
    assert.equal(ds.series[1]!.counts.evaluated, slow.timestampsMs.length);
  });

  it('remediations for the series take its overlapping rows out of the labels', () => {
    const series = fleet();
    const plain = buildExhaustionDataset(series);
    const remediations: RemediationWindow[] = [
      {
        hostId: 'web-1',
        resourceId: 'filesystem:%2Fvar%2Flog',
        startMs: T0 + 10 * HOUR,
        endMs: T0 + 10 * HOUR,
      },
      { hostId: 'web-9', startMs: T0, endMs: T0 + 2 * DAY },
    ];
    const ds = buildExhaustionDataset(series, { remediations });
    const [fs, cpu] = ds.series;
    // [t, t + 1 h] overlaps the instant at 10 h for t in [9 h, 10 h]: those rows leave, no others.
    const overlaps = (t: number) => t >= T0 + 9 * HOUR && t <= T0 + 10 * HOUR;
    const before = plain.timestampsMs.subarray(0, plain.series[0]!.rows);
    const after = ds.timestampsMs.subarray(fs!.firstRow, fs!.firstRow + fs!.rows);
    assert.equal(fs!.counts.excluded.remediated, 60); // one row a minute
    assert.deepEqual(
      after,
      before.filter((t) => !overlaps(t)),
    );
    assert.equal(cpu!.counts.excluded.remediated, 0);
    assert.equal(cpu!.rows, plain.series[1]!.rows);
  });

  it('with until, nothing at or after it changes any row (no leakage)', () => {
    const untilMs = T0 + DAY + 7 * HOUR + 17 * MINUTE;
    const series = fleet();
    const altered = series.map((s) => {
      const ts = Float64Array.from(s.history.timestampsMs);
      const vs = Float64Array.from(s.history.values);
      // After the cut: saturate everything (events right after `until`) and add samples.
      for (let i = 0; i < ts.length; i++) if (ts[i]! >= untilMs) vs[i] = 0.99;
      const extraT = Array.from({ length: 100 }, (_, i) => untilMs + i * SECOND);
      const history: SeriesHistory = {
        timestampsMs: [...ts, ...extraT],
        values: [...vs, ...extraT.map(() => 0.2)],
      };
      const { pressureSomeAvg10: p10, pressureSomeAvg60: p60 } = s.history;
      const late = (p: ArrayLike<number>) => [
        ...Array.from(p, (x, i) => (ts[i]! >= untilMs ? 0.9 : x)),
        ...extraT.map(() => 0.5),
      ];
      if (p10) history.pressureSomeAvg10 = late(p10);
      if (p60) history.pressureSomeAvg60 = late(p60);
      if (s.history.companion) history.companion = late(s.history.companion);
      if (s.history.companionCapacityRatio) {
        history.companionCapacityRatio = late(s.history.companionCapacityRatio);
      }
      // A time-zone change after the cut must not move any calendar feature before it.
      const offsets = s.history.utcOffsetS;
      if (offsets) {
        history.utcOffsetS = [
          ...Array.from(offsets, (x, i) => (ts[i]! >= untilMs ? x + 3600 : x)),
          ...extraT.map(() => -7200),
        ];
      }
      return { ...s, history };
    });
    const lateRemediation: RemediationWindow[] = [
      { hostId: 'web-1', startMs: untilMs, endMs: untilMs + HOUR },
      { hostId: 'web-2', resourceId: 'cpu', startMs: untilMs + 5 * MINUTE, endMs: untilMs + DAY },
    ];
    const a = buildExhaustionDataset(series, { untilMs });
    const b = buildExhaustionDataset(altered, { untilMs, remediations: lateRemediation });
    assert.deepEqual(columns(a), columns(b));
    assert.ok(a.counts.positives > 0 && a.counts.positives < a.numRows);
    assert.ok(
      a.timestampsMs.every((t, i) => t + a.series[a.seriesIndex[i]!]!.exhaustion.horizonMs < untilMs),
    );

    // And the rows built with `until` are the same rows, feature for feature
    // and label for label, as in the build over all the data.
    const full = buildExhaustionDataset(series);
    const fullRow = new Map<string, number>();
    for (let i = 0; i < full.numRows; i++) fullRow.set(`${full.seriesIndex[i]}@${full.timestampsMs[i]}`, i);
    for (let i = 0; i < a.numRows; i++) {
      const j = fullRow.get(`${a.seriesIndex[i]}@${a.timestampsMs[i]}`);
      assert.ok(j !== undefined, `row ${i} missing from the full build`);
      assert.equal(a.labels[i], full.labels[j]);
      assert.deepEqual(
        bits(a.features.subarray(i * F, (i + 1) * F)),
        bits(full.features.subarray(j * F, (j + 1) * F)),
      );
    }
  });

  it('splits by time: training sees nothing from the split on, validation starts there', () => {
    const series = fleet();
    const splitAtMs = splitTimeByFraction(series, 0.25);
    assert.ok(splitAtMs > T0 + DAY && splitAtMs < T0 + 2 * DAY);
    const { train, valid } = buildTimeSplit(series, { validFraction: 0.25 });
    assert.deepEqual(columns(train), columns(buildExhaustionDataset(series, { untilMs: splitAtMs })));
    assert.ok(train.timestampsMs.every((t) => t < splitAtMs));
    assert.ok(valid.timestampsMs.every((t) => t >= splitAtMs));
    assert.ok(train.numRows > valid.numRows && valid.numRows > 0);
    // Validation rows are the full build's rows from the split on.
    const full = buildExhaustionDataset(series);
    const fromSplit = full.timestampsMs.filter((t) => t >= splitAtMs);
    assert.deepEqual(valid.timestampsMs, fromSplit);
    assert.throws(() => buildTimeSplit(series, { validFraction: 1.5 }), /between 0 and 1/);
    assert.throws(() => buildTimeSplit(series, { validFraction: 0.2, splitAtMs: T0 }), /exactly one/);

    // A split time off the evaluation grid: still the full build's rows from there on.
    const odd = buildTimeSplit(series, { splitAtMs: T0 + DAY + 12_345 });
    assert.deepEqual(
      odd.valid.timestampsMs,
      full.timestampsMs.filter((t) => t >= T0 + DAY + 12_345),
    );
  });

  it('reads the store shape and cuts every column at until', () => {
    const history = historyFromPoints([
      [T0, 0.1],
      [T0 + SECOND, 0.2],
      [T0 + 2 * SECOND, 0.3],
    ]);
    assert.deepEqual(Array.from(history.values), [0.1, 0.2, 0.3]);
    const cut = historyBefore(
      { ...history, pressureSomeAvg10: [0.01, 0.02, 0.03], pressureSomeAvg60: [NaN, NaN, NaN] },
      T0 + 2 * SECOND,
    );
    assert.deepEqual(Array.from(cut.timestampsMs), [T0, T0 + SECOND]);
    assert.deepEqual(Array.from(cut.pressureSomeAvg10!), [0.01, 0.02]);
    assert.equal(cut.pressureSomeAvg60!.length, 2);
    assert.throws(() => historyBefore({ timestampsMs: [1, 2], values: [1] }, 3), /values/);
  });
});
