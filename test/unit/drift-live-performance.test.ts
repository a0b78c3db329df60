import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type PredictionColumns,
  judgePerformance,
  livePerformance,
  seriesKey,
} from '../../aggregator/retraining/live-performance.js';
import type { DatasetSeries } from '../../models/dataset/index.js';
import { DEFAULT_EXHAUSTION } from '../../shared/resources/exhaustion.js';
import { HOUR, MINUTE, T0 } from '../helpers/series.js';

/** A day of memory at 50 %, exhausted (99 %) from 10:00 to 12:00, sampled every 5 minutes. */
function leakDay(): DatasetSeries {
  const n = (24 * HOUR) / (5 * MINUTE);
  const timestampsMs = Float64Array.from({ length: n }, (_, i) => T0 + i * 5 * MINUTE);
  const values = timestampsMs.map((t) => (t >= T0 + 10 * HOUR && t < T0 + 12 * HOUR ? 0.99 : 0.5));
  return {
    hostId: 'web-1',
    resourceId: 'memory',
    history: { timestampsMs, values },
    exhaustion: DEFAULT_EXHAUSTION.memory,
  };
}

/** Forecasts every 5 minutes: 0.9 from 09:00 to 09:55, 0.1 elsewhere; threshold 0.5. */
function forecasts(): PredictionColumns {
  const timestampsMs = Float64Array.from({ length: 288 }, (_, i) => T0 + i * 5 * MINUTE);
  const probability = timestampsMs.map((t) => (t >= T0 + 9 * HOUR && t < T0 + 10 * HOUR ? 0.9 : 0.1));
  return { timestampsMs, probability, threshold: new Float64Array(288).fill(0.5) };
}

describe('live performance on matured labels', () => {
  it('joins each forecast with what happened within its horizon', () => {
    const series = leakDay();
    const perf = livePerformance([series], new Map([[seriesKey('web-1', 'memory'), forecasts()]]));
    // 30 minutes before 10:00 are positive (6 forecasts), all alerted; 09:00–09:25 alerted in vain.
    assert.equal(perf.positives, 6);
    assert.equal(perf.alerts, 12);
    assert.equal(perf.truePositives, 6);
    assert.equal(perf.precision, 0.5);
    assert.equal(perf.recall, 1);
    // Forecasts while exhausted, and in the last half hour (horizon not passed), have no label.
    assert.ok(perf.matured < 288 - 24 && perf.matured > 200, String(perf.matured));
  });

  it('counts nothing for series without forecasts of the serving model', () => {
    const perf = livePerformance([leakDay()], new Map([[seriesKey('web-2', 'memory'), forecasts()]]));
    assert.deepEqual(perf, {
      matured: 0,
      positives: 0,
      alerts: 0,
      truePositives: 0,
      precision: null,
      recall: null,
    });
  });
});

describe('judging live performance', () => {
  const live = { matured: 1000, positives: 50, alerts: 40, truePositives: 20, precision: 0.5, recall: 0.4 };

  it('is a drift when precision or recall falls more than the margin below validation', () => {
    const drift = judgePerformance(live, { precision: 0.8, recall: 0.45 }, { margin: 0.15, minCount: 20 });
    assert.equal(drift.drifted, true);
    assert.match(drift.notes.join('\n'), /live precision 0\.500 is below validation 0\.800/);
    const fine = judgePerformance(live, { precision: 0.6, recall: 0.5 }, { margin: 0.15, minCount: 20 });
    assert.equal(fine.drifted, false, fine.notes.join('; '));
  });

  it('does not judge on too few matured alerts or positives', () => {
    const few = { ...live, alerts: 5, positives: 3, precision: 0, recall: 0 };
    const drift = judgePerformance(few, { precision: 0.9, recall: 0.9 }, { margin: 0.1, minCount: 20 });
    assert.equal(drift.drifted, false);
    assert.match(drift.notes.join('\n'), /precision not judged: 5 matured alerts/);
    assert.match(drift.notes.join('\n'), /recall not judged: 3 matured positives/);
  });

  it('does not judge a model without validation figures', () => {
    assert.equal(judgePerformance(live, undefined, { margin: 0.1, minCount: 1 }).drifted, false);
  });
});
