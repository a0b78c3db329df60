import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptedSampleTimes } from '../../shared/features/replay.js';
import type { ExhaustionDefinition } from '../../shared/resources/exhaustion.js';
import { type AcceptedSeries, acceptedSeries } from '../../models/labels/accepted-series.js';
import { CoveredTimeCursor } from '../../models/labels/covered-time.js';
import {
  EVENT_END,
  exhaustionEventList,
  findExhaustionEvents,
} from '../../models/labels/exhaustion-events.js';
import { ROW_STATUS, labelExhaustion } from '../../models/labels/exhaustion-labels.js';
import { RemediationIndex, mergeRemediations } from '../../models/labels/remediation.js';
import { HOUR, MINUTE, SECOND, T0, irregularSeries } from '../helpers/series.js';

/** A series from (minute, value) pairs, minutes after T0. */
function byMinute(points: [number, number][]): AcceptedSeries {
  return acceptedSeries({
    timestampsMs: points.map(([m]) => T0 + m * MINUTE),
    values: points.map(([, v]) => v),
  });
}

/** One sample a minute for minutes [0, n), value f(minute). */
function everyMinute(n: number, f: (minute: number) => number): AcceptedSeries {
  return byMinute(Array.from({ length: n }, (_, m) => [m, f(m)] as [number, number]));
}

const minutes = (n: number, from = 0) => Float64Array.from({ length: n }, (_, i) => T0 + (from + i) * MINUTE);
const atMinute = (ms: number) => (ms - T0) / MINUTE;

const FS: ExhaustionDefinition = { threshold: 0.95, horizonMs: 6 * HOUR, sustainMs: 0 };
const CPU: ExhaustionDefinition = { threshold: 0.9, horizonMs: HOUR, sustainMs: 5 * MINUTE };

/**
 * Fills linearly by 0.001 a minute from 0.4005; the first sample at or above
 * 0.95 is minute 550 (0.9505; minute 549 is 0.9495). Flat at 0.99 from there.
 */
const linearFill = (n = 1000) => everyMinute(n, (m) => Math.min(0.99, 0.4 + (m + 0.5) * 0.001));
const CROSSING_MIN = 550;

describe('exhaustion events', () => {
  it('start at the first sample at or above the threshold without sustain, end at the first below', () => {
    const series = byMinute([
      [0, 0.5],
      [1, 0.96],
      [2, 0.97],
      [3, 0.9],
      [4, 0.95],
    ]);
    assert.deepEqual(exhaustionEventList(findExhaustionEvents(series, FS)), [
      {
        onsetMs: T0 + MINUTE,
        startMs: T0 + MINUTE,
        endMs: T0 + 3 * MINUTE,
        peak: 0.97,
        endsBy: EVENT_END.below,
      },
      {
        onsetMs: T0 + 4 * MINUTE,
        startMs: T0 + 4 * MINUTE,
        endMs: T0 + 4 * MINUTE,
        peak: 0.95,
        endsBy: EVENT_END.endOfData,
      },
    ]);
  });

  it('with a sustain, start once the run has lasted it; shorter runs are no event', () => {
    const series = everyMinute(40, (m) => ((m >= 2 && m <= 5) || (m >= 10 && m <= 20) ? 0.95 : 0.5));
    // 2..5 lasts 3 min < 5; 10..20 reaches 5 min at minute 15 and ends at 21 (first below).
    assert.deepEqual(exhaustionEventList(findExhaustionEvents(series, CPU)), [
      {
        onsetMs: T0 + 10 * MINUTE,
        startMs: T0 + 15 * MINUTE,
        endMs: T0 + 21 * MINUTE,
        peak: 0.95,
        endsBy: EVENT_END.below,
      },
    ]);
  });

  it('a gap longer than the limit breaks continuity: the run restarts and the event ends at its last sample', () => {
    const points: [number, number][] = [];
    for (let m = 0; m <= 3; m++) points.push([m, 0.95]); // 3 min, then a 15 min gap
    for (let m = 18; m <= 30; m++) points.push([m, 0.95]);
    const events = exhaustionEventList(findExhaustionEvents(byMinute(points), CPU));
    // Without the gap, 0..30 would start at minute 5; with it, only the run from 18 counts.
    assert.deepEqual(
      events.map((e) => [atMinute(e.onsetMs), atMinute(e.startMs), atMinute(e.endMs), e.endsBy]),
      [[18, 23, 30, EVENT_END.endOfData]],
    );

    const cut = byMinute([
      [0, 0.5],
      [1, 0.96],
      [2, 0.97],
      [20, 0.4], // below, but after a gap: the end is not known
    ]);
    assert.deepEqual(
      exhaustionEventList(findExhaustionEvents(cut, FS)).map((e) => [atMinute(e.endMs), e.endsBy]),
      [[2, EVENT_END.gap]],
    );
  });

  it('a gap of exactly the limit (10 min) is still continuous, and the limit is configurable', () => {
    const series = byMinute([
      [0, 0.95],
      [10, 0.95],
    ]);
    assert.equal(findExhaustionEvents(series, CPU).count, 1);
    assert.equal(findExhaustionEvents(series, CPU, { maxGapMs: 5 * MINUTE }).count, 0);
  });

  it('read only the samples the feature extractor accepts', () => {
    const history = irregularSeries('irregular', 2 * 24 * HOUR, 7);
    const accepted = acceptedSeries(history);
    assert.deepEqual(accepted.timestampsMs, acceptedSampleTimes(history));
    assert.ok(accepted.values.every(Number.isFinite));
    assert.ok(accepted.timestampsMs.length < history.timestampsMs.length);
  });
});

describe('exhaustion labels', () => {
  it('linear fill: 1 within the horizon before the crossing, 0 before that, excluded after', () => {
    const series = linearFill();
    const labels = labelExhaustion(series, minutes(1000), FS);
    const horizonMin = FS.horizonMs / MINUTE;
    for (let i = 0; i < 1000; i++) {
      if (i >= CROSSING_MIN) {
        assert.equal(labels.status[i], ROW_STATUS.alreadyExhausted, `minute ${i}`);
        assert.ok(Number.isNaN(labels.label[i]!));
      } else {
        assert.equal(labels.status[i], ROW_STATUS.labelled, `minute ${i}`);
        assert.equal(labels.label[i], i >= CROSSING_MIN - horizonMin ? 1 : 0, `minute ${i}`);
      }
    }
    assert.deepEqual(labels.counts, {
      evaluated: 1000,
      labelled: CROSSING_MIN,
      positives: horizonMin,
      excluded: { alreadyExhausted: 1000 - CROSSING_MIN, unknownHorizon: 0, remediated: 0 },
    });
  });

  it('time to exhaustion: seconds to the next event start, right-censored beyond the look-ahead', () => {
    const lookAheadMin = 480;
    const labels = labelExhaustion(linearFill(), minutes(1000), FS, {
      maxLookAheadMs: lookAheadMin * MINUTE,
    });
    for (let i = 0; i < CROSSING_MIN; i++) {
      if (i >= CROSSING_MIN - lookAheadMin) {
        assert.equal(labels.timeToExhaustionS[i], (CROSSING_MIN - i) * 60, `minute ${i}`);
        assert.equal(labels.tteCensored[i], 0);
        // The label and the time to exhaustion agree.
        assert.equal(labels.label[i], labels.timeToExhaustionS[i]! <= FS.horizonMs / SECOND ? 1 : 0);
      } else {
        assert.ok(Number.isNaN(labels.timeToExhaustionS[i]!));
        assert.equal(labels.tteCensored[i], 1);
        assert.equal(labels.tteLowerBoundS[i], lookAheadMin * 60);
      }
    }
    // Already exhausted: no target at all.
    assert.ok(Number.isNaN(labels.timeToExhaustionS[CROSSING_MIN]!));
    assert.equal(labels.tteCensored[CROSSING_MIN], 0);
    assert.throws(
      () => labelExhaustion(linearFill(), minutes(10), FS, { maxLookAheadMs: HOUR }),
      /at least the horizon/,
    );
  });

  it('the end of the data censors time to exhaustion at what was seen', () => {
    const flat = everyMinute(600, () => 0.5);
    const labels = labelExhaustion(flat, minutes(600), FS);
    assert.equal(labels.tteCensored[500], 1);
    assert.equal(labels.tteLowerBoundS[500], 99 * 60);
  });

  it('sawtooth (log rotation): the drop resets, each cycle labels the hour before its crossing', () => {
    // Fills from ~0.5 to ~0.96 over 3 h, rotated back at each 3 h mark; the
    // first minute at or above 0.95 in each cycle is minute 176.
    const period = 180;
    const series = everyMinute(4 * period, (m) => 0.5 + (0.46 * ((m % period) + 0.5)) / period);
    const hourly: ExhaustionDefinition = { threshold: 0.95, horizonMs: HOUR, sustainMs: 0 };
    const events = exhaustionEventList(findExhaustionEvents(series, hourly));
    assert.deepEqual(
      events.map((e) => [atMinute(e.startMs), atMinute(e.endMs), e.endsBy]),
      [
        [176, 180, EVENT_END.below],
        [356, 360, EVENT_END.below],
        [536, 540, EVENT_END.below],
        [716, 719, EVENT_END.endOfData],
      ],
    );
    const labels = labelExhaustion(series, minutes(4 * period), hourly);
    for (let i = 0; i < 3 * period; i++) {
      const m = i % period;
      if (m >= 176) assert.equal(labels.status[i], ROW_STATUS.alreadyExhausted, `minute ${i}`);
      else assert.equal(labels.label[i], m >= 116 ? 1 : 0, `minute ${i}`);
    }
    // Right after a rotation the resource is fine again: labelled, and 0.
    assert.equal(labels.status[period], ROW_STATUS.labelled);
    assert.equal(labels.label[period], 0);
  });

  it('sustain: rows above the threshold before the event starts are excluded too', () => {
    const series = everyMinute(200, (m) => (m >= 100 && m < 110 ? 0.95 : 0.5));
    const labels = labelExhaustion(series, minutes(200), CPU);
    assert.equal(labels.events.startMs[0], T0 + 105 * MINUTE);
    assert.equal(labels.label[99], 1); // the event starts at 105, within the hour
    assert.equal(labels.label[44], 0); // 105 is 61 min away
    assert.equal(labels.label[45], 1);
    assert.equal(labels.status[102], ROW_STATUS.alreadyExhausted); // above, event not yet started
    assert.equal(labels.status[110], ROW_STATUS.labelled);
  });

  it('a horizon past the last sample is unknown, not 0', () => {
    const flat = everyMinute(600, () => 0.5);
    const labels = labelExhaustion(flat, minutes(600), FS);
    const lastLabelled = 599 - FS.horizonMs / MINUTE; // t + horizon = last sample is still known
    for (let i = 0; i < 600; i++) {
      const expected = i <= lastLabelled ? ROW_STATUS.labelled : ROW_STATUS.unknownHorizon;
      assert.equal(labels.status[i], expected, `minute ${i}`);
      assert.equal(labels.label[i], i <= lastLabelled ? 0 : NaN);
    }
    assert.equal(labels.counts.excluded.unknownHorizon, 600 - lastLabelled - 1);
  });

  it('a horizon with too little data (a long gap) is unknown', () => {
    // Samples every minute except a 30 min gap from minute 200 to 230.
    const points: [number, number][] = [];
    for (let m = 0; m < 400; m++) if (m <= 200 || m >= 230) points.push([m, 0.5]);
    const hourly: ExhaustionDefinition = { threshold: 0.95, horizonMs: HOUR, sustainMs: 0 };
    const labels = labelExhaustion(byMinute(points), minutes(300), hourly, { minHorizonCoverage: 0.9 });
    // (t, t + 60 min] loses min(overlap with (200, 230)): 6 min is 0.9 covered, 7 min is not.
    assert.equal(labels.status[146], ROW_STATUS.labelled); // overlap 6 min
    assert.equal(labels.status[147], ROW_STATUS.unknownHorizon); // overlap 7 min
    assert.equal(labels.status[223], ROW_STATUS.unknownHorizon); // at a gap time: overlap 7 min
    assert.equal(labels.status[224], ROW_STATUS.labelled); // overlap 6 min
  });

  it('rows whose horizon overlaps a remediation are marked, not labelled', () => {
    const index = new RemediationIndex([
      {
        hostId: 'web-1',
        resourceId: 'filesystem:/var',
        startMs: T0 + 400 * MINUTE,
        endMs: T0 + 410 * MINUTE,
      },
      { hostId: 'web-2', resourceId: 'filesystem:/var', startMs: T0, endMs: T0 + 999 * MINUTE },
      { hostId: 'web-1', resourceId: 'memory', startMs: T0, endMs: T0 + 999 * MINUTE },
    ]);
    const remediations = index.intervalsFor('web-1', 'filesystem:%2Fvar');
    assert.equal(remediations.count, 1);
    const labels = labelExhaustion(linearFill(), minutes(1000), FS, { remediations });
    // [t, t + 360 min] overlaps [400, 410] for t in [40, 410]; from 550 on the resource is exhausted.
    for (let i = 0; i < CROSSING_MIN; i++) {
      const expected = i >= 40 && i <= 410 ? ROW_STATUS.remediated : ROW_STATUS.labelled;
      assert.equal(labels.status[i], expected, `minute ${i}`);
    }
    assert.equal(labels.counts.excluded.remediated, 371);
    assert.equal(labels.counts.labelled + 371, CROSSING_MIN);
  });

  it('host-wide remediations apply to every resource; windows merge; bad windows are refused', () => {
    const index = new RemediationIndex([
      { hostId: 'db-1', startMs: 100, endMs: 200 },
      { hostId: 'db-1', resourceId: 'cpu', startMs: 150, endMs: 300 },
      { hostId: 'db-1', resourceId: 'cpu', startMs: 500, endMs: 500 },
    ]);
    const cpu = index.intervalsFor('db-1', 'cpu');
    assert.deepEqual([...cpu.startMs], [100, 500]);
    assert.deepEqual([...cpu.endMs], [300, 500]);
    assert.deepEqual([...index.intervalsFor('db-1', 'memory').startMs], [100]);
    // What was known at 160: windows started before it, cut there.
    assert.deepEqual([...index.intervalsFor('db-1', 'cpu', 160).endMs], [160]);
    assert.equal(mergeRemediations([]).count, 0);
    assert.throws(() => new RemediationIndex([{ hostId: 'a', startMs: 2, endMs: 1 }]), /end ≥ start/);
  });

  it('refuses evaluation times out of order', () => {
    assert.throws(() => labelExhaustion(linearFill(), [T0 + MINUTE, T0], FS), /non-decreasing/);
  });

  it('covered time counts sample intervals up to the gap limit', () => {
    const series = byMinute([
      [0, 0.1],
      [5, 0.1],
      [30, 0.1],
      [31, 0.1],
    ]);
    const cursor = new CoveredTimeCursor(series, 10 * MINUTE);
    assert.equal(cursor.coveredUntil(T0 - MINUTE), 0);
    assert.equal(cursor.coveredUntil(T0 + 2 * MINUTE), 2 * MINUTE);
    assert.equal(cursor.coveredUntil(T0 + 20 * MINUTE), 5 * MINUTE); // inside the 25 min gap
    assert.equal(cursor.coveredUntil(T0 + 40 * MINUTE), 6 * MINUTE); // after the last sample
  });

  it('labels a million 1 s samples in linear time', () => {
    const n = 1_000_000;
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ts[i] = T0 + i * SECOND;
      vs[i] = 0.5 + 0.46 * ((i % 7200) / 7200); // a 2 h sawtooth
    }
    const started = performance.now();
    const labels = labelExhaustion({ timestampsMs: ts, values: vs }, ts, {
      threshold: 0.95,
      horizonMs: HOUR,
      sustainMs: 0,
    });
    const elapsed = performance.now() - started;
    assert.equal(labels.rows, n);
    assert.ok(labels.counts.positives > 0);
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });
});
