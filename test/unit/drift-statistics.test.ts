import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DriftReferenceSchema,
  buildDriftReference,
  featureShifts,
  psi,
} from '../../aggregator/retraining/drift-statistics.js';
import {
  checkFeatureDrift,
  comparedFeature,
  referenceOf,
} from '../../aggregator/retraining/feature-drift.js';
import type { DatasetSeries } from '../../models/dataset/index.js';
import { DEFAULT_EXHAUSTION } from '../../shared/resources/exhaustion.js';
import { seededRandom } from '../helpers/random-gbdt.js';
import { DAY, MINUTE, T0, regularSeries } from '../helpers/series.js';

/** `rows` rows of two columns: a ~ N-ish(mean, 1) from a sum of uniforms, b uniform 0..1 or NaN. */
function table(rows: number, seed: number, mean: number, nanShare = 0): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    out[2 * r] = mean + (rand() + rand() + rand() + rand() - 2);
    out[2 * r + 1] = rand() < nanShare ? NaN : rand();
  }
  return out;
}

describe('population stability index', () => {
  it('is 0 for equal shares and grows with the difference, symmetric in the usual way', () => {
    assert.equal(psi([0.25, 0.25, 0.5], [0.25, 0.25, 0.5]), 0);
    const small = psi([0.5, 0.5], [0.45, 0.55]);
    const large = psi([0.5, 0.5], [0.2, 0.8]);
    assert.ok(small > 0 && small < 0.1, `small ${small}`);
    assert.ok(large > 0.25, `large ${large}`);
    assert.ok(Math.abs(psi([0.5, 0.5], [0.2, 0.8]) - psi([0.2, 0.8], [0.5, 0.5])) < 1e-12);
  });

  it('stays finite when a bin is empty on one side', () => {
    const value = psi([0.5, 0.5, 0], [0.4, 0.4, 0.2]);
    assert.ok(Number.isFinite(value) && value > 0.25, String(value));
  });

  it('refuses bins that differ', () => {
    assert.throws(() => psi([1], [0.5, 0.5]), RangeError);
  });
});

describe('drift reference and feature shifts', () => {
  const names = ['a', 'b'];

  it('cuts quantile bins with equal reference shares and a bin for missing values', () => {
    const reference = buildDriftReference(table(10_000, 1, 0, 0.1), 10_000, names, {
      featureSchemaHash: 'h',
    });
    assert.ok(DriftReferenceSchema.safeParse(reference).success);
    const a = reference.features[0]!;
    assert.equal(a.edges.length, 9);
    assert.equal(a.shares.length, 11);
    for (const share of a.shares.slice(0, 10)) assert.ok(Math.abs(share - 0.1) < 0.01, String(share));
    assert.equal(a.shares[10], 0, 'a has no missing values');
    assert.ok(
      Math.abs(reference.features[1]!.shares[10]! - 0.1) < 0.02,
      'b is missing in a tenth of the rows',
    );
  });

  it('collapses equal edges of a feature with few values', () => {
    const rows = 1000;
    const flags = new Float32Array(rows * 2).map((_, i) => (i % 2 === 0 ? (i % 6 === 0 ? 1 : 0) : 0.5));
    const reference = buildDriftReference(flags, rows, names, { featureSchemaHash: 'h' });
    assert.deepEqual(reference.features[0]!.edges, [0]);
    assert.deepEqual(reference.features[1]!.edges, [], 'a constant has one bin');
  });

  it('finds no shift in another sample of the same distribution, and a shift in a moved one', () => {
    const reference = buildDriftReference(table(5000, 1, 0), 5000, names, { featureSchemaHash: 'h' });
    const same = featureShifts(reference, table(2000, 2, 0), 2000, names);
    assert.ok(
      same.every((s) => s.psi < 0.05),
      JSON.stringify(same),
    );
    const moved = featureShifts(reference, table(2000, 3, 0.8, 0.3), 2000, names);
    assert.ok(moved[0]!.psi > 0.25, `a moved by 0.8 sd: ${moved[0]!.psi}`);
    assert.ok(moved[1]!.psi > 0.25, `b missing in 30 % of the rows: ${moved[1]!.psi}`);
  });

  it('only compares the included features and the columns present', () => {
    const reference = buildDriftReference(table(100, 1, 0), 100, names, {
      featureSchemaHash: 'h',
      include: (n) => n === 'b',
    });
    assert.deepEqual(
      reference.features.map((f) => f.name),
      ['b'],
    );
    assert.deepEqual(featureShifts(reference, new Float32Array(10), 10, ['a', 'c']), []);
  });
});

describe('feature drift of replayed series', () => {
  const exhaustion = DEFAULT_EXHAUSTION.memory;
  const series = (seed: number, scale: number): DatasetSeries => {
    const s = regularSeries(`m${seed}`, 5 * MINUTE, 6 * DAY, seed);
    return {
      hostId: `h${seed}`,
      resourceId: 'memory',
      history: { timestampsMs: s.timestampsMs, values: s.values.map((v) => v * scale) },
      exhaustion,
    };
  };

  it('leaves the definition and calendar features out', () => {
    assert.equal(comparedFeature('resource.kind'), false);
    assert.equal(comparedFeature('exhaustion.threshold'), false);
    assert.equal(comparedFeature('time.hour_of_day'), false);
    assert.equal(comparedFeature('mean.1h'), true);
    assert.equal(comparedFeature('season.value_1d'), true);
  });

  it('flags a fleet whose level halved, not one that carried on', () => {
    const fleet = [1, 2, 3].map((seed) => series(seed, 1));
    const reference = referenceOf(fleet, { fromMs: T0 + 2 * DAY, untilMs: T0 + 5 * DAY, stepMs: 5 * MINUTE });
    const options = {
      fromMs: T0 + 4 * DAY,
      untilMs: T0 + 6 * DAY,
      stepMs: 5 * MINUTE,
      psiThreshold: 0.25,
      minShiftedShare: 0.2,
    };
    const same = checkFeatureDrift(reference, fleet, options);
    assert.ok(same.rows > 1000);
    assert.equal(same.drifted, false, same.shifted.join(', '));
    const halved = checkFeatureDrift(
      reference,
      [1, 2, 3].map((seed) => series(seed, 0.5)),
      options,
    );
    assert.equal(halved.drifted, true);
    for (const name of ['last', 'mean.1h', 'headroom']) assert.ok(halved.shifted.includes(name), name);
  });

  it('does not call an empty window a drift', () => {
    const fleet = [series(1, 1)];
    const reference = referenceOf(fleet, { fromMs: T0 + 2 * DAY, untilMs: T0 + 5 * DAY, stepMs: 5 * MINUTE });
    const result = checkFeatureDrift(reference, fleet, {
      fromMs: T0 + 10 * DAY,
      untilMs: T0 + 11 * DAY,
      stepMs: 5 * MINUTE,
      psiThreshold: 0.25,
      minShiftedShare: 0.2,
    });
    assert.equal(result.rows, 0);
    assert.equal(result.drifted, false);
  });
});
