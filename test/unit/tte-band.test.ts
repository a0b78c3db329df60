/**
 * Coverage of a time-to-exhaustion band: the share of true times at or below
 * each quantile, over the rows with a known time that a filter keeps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_TTE_ROWS, alertedRows, bandCoverage, fitTteBand, tteRows } from '../../models/fit/tte-band.js';
import { FEATURE_COUNT, featureIndex } from '../../shared/features/schema.js';
import { writeTestModel } from '../helpers/forecast-models.js';

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

describe('time-to-exhaustion band rows', () => {
  const data = {
    featureNames: ['a', 'b'],
    features: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    numRows: 5,
    timeToExhaustionS: Float64Array.from([600, 7200, NaN, 0, 86_400]),
    tteCensored: Uint8Array.from([0, 0, 1, 0, 0]),
  };

  it('are the rows with a known, positive time, labelled ln(seconds)', () => {
    const rows = tteRows(data);
    assert.equal(rows.numRows, 3);
    assert.deepEqual([...rows.features], [0, 1, 2, 3, 8, 9]);
    assert.deepEqual(Array.from(rows.labels), [Math.log(600), Math.log(7200), Math.log(86_400)]);
  });

  it('are only the rows a mask marks, when given one (the rows the classifier alerts on)', () => {
    const rows = tteRows(data, Uint8Array.from([0, 1, 1, 1, 0]));
    assert.equal(rows.numRows, 1);
    assert.deepEqual([...rows.features], [2, 3]);
  });
});

describe('rows the classifier alerts on', () => {
  it('are those whose probability from its ONNX file reaches its operating threshold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudsense-alerted-'));
    try {
      // The test classifier is sure above 80 % utilisation, and alerts at 0.5.
      const onnx = writeTestModel(dir, 'memory');
      const features = new Float32Array(3 * FEATURE_COUNT).fill(NaN);
      [0.5, 0.95, 0.81].forEach((last, row) => (features[row * FEATURE_COUNT + featureIndex('last')] = last));
      assert.deepEqual([...(await alertedRows(onnx, { features, numRows: 3 }))], [0, 1, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fitting the band', () => {
  // Time to exhaustion grows with the one feature: e^(4 + 3x) seconds, x in [0, 1).
  const rowsOf = (n: number, seed: number) => {
    const x = Float32Array.from({ length: n }, (_, i) => ((i * 7919 + seed) % n) / n);
    return {
      featureNames: ['x'],
      features: x,
      numRows: n,
      timeToExhaustionS: Float64Array.from(x, (v) => Math.exp(4 + 3 * v)),
      tteCensored: new Uint8Array(n),
    };
  };
  const train = rowsOf(600, 1);
  const valid = rowsOf(200, 2);

  it('fits on the alerted rows when there are enough of them', () => {
    const alerted = {
      train: new Uint8Array(600).fill(1).fill(0, 0, 100),
      valid: new Uint8Array(200).fill(1),
    };
    const fit = fitTteBand(train, valid, alerted);
    assert.equal(fit.on, 'alerted');
    assert.deepEqual(fit.rows, { train: 500, valid: 200 });
    assert.deepEqual(
      fit.band?.map((q) => q.name),
      ['p10', 'p50', 'p90'],
    );
  });

  it('falls back to every row with a known time when too few are alerted, rather than fit none', () => {
    const few = new Uint8Array(600).fill(0).fill(1, 0, MIN_TTE_ROWS - 1);
    const fit = fitTteBand(train, valid, { train: few, valid: new Uint8Array(200).fill(1) });
    assert.equal(fit.on, 'known');
    assert.deepEqual(fit.rows, { train: 600, valid: 200 });
    assert.ok(fit.band);
  });
});
