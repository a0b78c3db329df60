/**
 * Coverage of a time-to-exhaustion band: the share of true times at or below
 * each quantile, over the rows with a known time that a filter keeps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bandCoverage } from '../../models/fit/tte-band.js';

describe('time-to-exhaustion band coverage', () => {
  // Five rows: true times 60 s, 600 s, censored, 0 s (already starting), 3600 s; labels 1, 1, 0, 0, 0.
  const rows = {
    numRows: 5,
    timeToExhaustionS: Float64Array.from([60, 600, NaN, 0, 3600]),
    tteCensored: Uint8Array.from([0, 0, 1, 0, 0]),
    labels: Float64Array.from([1, 1, 0, 0, 0]),
  };
  // P10, P50, P90 per row, seconds.
  const band = Float64Array.from([
    ...[30, 60, 120], // 60 s: above P10, at P50 (counts as covered), below P90
    ...[700, 800, 900], // 600 s: below every quantile
    ...[1, 2, 3], // censored: not judged
    ...[1, 2, 3], // no time ahead: not judged
    ...[100, 200, 300], // 3600 s: above every quantile
  ]);

  it('judges only rows with a known, positive time, each quantile on its own', () => {
    const all = bandCoverage(band, rows);
    assert.equal(all.rows, 3);
    assert.deepEqual(all.coverage, { p10: 1 / 3, p50: 2 / 3, p90: 2 / 3 });
  });

  it('takes a filter, e.g. the rows an exhaustion follows within the horizon', () => {
    const positives = bandCoverage(band, rows, (row) => rows.labels[row] === 1);
    assert.equal(positives.rows, 2);
    assert.deepEqual(positives.coverage, { p10: 0.5, p50: 1, p90: 1 });
  });

  it('has no coverage without rows, and refuses a band of the wrong length', () => {
    assert.deepEqual(
      bandCoverage(band, rows, () => false),
      { rows: 0, coverage: null },
    );
    assert.throws(() => bandCoverage(band.subarray(3), rows), /12 values for 5 rows/);
  });
});
