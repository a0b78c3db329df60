import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rocAuc, rmse } from '../../models/evaluation/metrics.js';
import { predictAll } from '../../models/fit/fit-model.js';
import { binOf, findBins } from '../../models/gbdt/binning.js';
import { predictRow } from '../../models/gbdt/model.js';
import { fromLightGbmParams } from '../../models/gbdt/params.js';
import { trainGbdt, type TrainingSet } from '../../models/gbdt/train.js';
import { trainingWorkerStats } from '../../models/gbdt/worker-team.js';
import { SeededRandom } from '../../models/random.js';
import { ValidationError } from '../../shared/errors.js';

/** y = 1 when a noisy non-linear function of x0, x1 is positive; x2 is noise; 5% NaN in x0. */
function classification(n: number, seed: number): TrainingSet {
  const rng = new SeededRandom(seed);
  const features = new Float32Array(n * 3);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x0 = rng.normal();
    const x1 = rng.normal();
    features[i * 3] = rng.next() < 0.05 ? NaN : x0;
    features[i * 3 + 1] = x1;
    features[i * 3 + 2] = rng.normal();
    labels[i] = Math.sin(2 * x0) + x1 * x1 - 1 + 0.3 * rng.normal() > 0 ? 1 : 0;
  }
  return { features, labels, numRows: n, featureNames: ['x0', 'x1', 'noise'] };
}

function regression(n: number, seed: number): TrainingSet {
  const rng = new SeededRandom(seed);
  const features = new Float32Array(n * 2);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.uniform(-3, 3);
    const b = rng.uniform(-3, 3);
    features[i * 2] = a;
    features[i * 2 + 1] = b;
    labels[i] = 10 * Math.sin(a) + b * b + rng.normal();
  }
  return { features, labels, numRows: n, featureNames: ['a', 'b'] };
}

describe('GBDT trainer', () => {
  it('learns a non-linear classification with missing values', () => {
    const train = classification(20_000, 1);
    const test = classification(5_000, 2);
    const { model, importance } = trainGbdt(train, { objective: 'binary', numIterations: 80, numLeaves: 15 });
    const auc = rocAuc(test.labels, predictAll(model, test));
    assert.ok(auc > 0.93, `test AUC ${auc}`);
    assert.ok(
      importance.gain[2]! < importance.gain[0]! && importance.gain[2]! < importance.gain[1]!,
      'noise matters least',
    );
    assert.equal(importance.split.length, 3);
  });

  it('learns a regression', () => {
    const train = regression(20_000, 3);
    const test = regression(5_000, 4);
    const { model } = trainGbdt(train, { objective: 'regression', numIterations: 150, numLeaves: 31 });
    const error = rmse(test.labels, predictAll(model, test));
    assert.ok(error < 1.3, `test RMSE ${error} (noise sd 1)`);
  });

  it('fits quantiles that bracket the data', () => {
    const train = regression(10_000, 5);
    const test = regression(4_000, 6);
    const share = (alpha: number) => {
      const { model } = trainGbdt(train, { objective: 'quantile', alpha, numIterations: 100 });
      const pred = predictAll(model, test);
      let below = 0;
      for (let i = 0; i < test.numRows; i++) if (test.labels[i]! <= pred[i]!) below++;
      return below / test.numRows;
    };
    const p10 = share(0.1);
    const p90 = share(0.9);
    assert.ok(Math.abs(p10 - 0.1) < 0.03, `P10 covers ${p10}`);
    assert.ok(Math.abs(p90 - 0.9) < 0.03, `P90 covers ${p90}`);
  });

  it('is deterministic for a seed, with bagging and feature sampling', () => {
    const train = classification(5_000, 7);
    const params = {
      numIterations: 20,
      baggingFraction: 0.7,
      baggingFreq: 1,
      featureFraction: 0.67,
      seed: 42,
    };
    const a = trainGbdt(train, params).model;
    const b = trainGbdt(train, params).model;
    const c = trainGbdt(train, { ...params, seed: 43 }).model;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('trains the same trees when columns it cannot split on are added after the others', () => {
    // A new feature that a resource kind never has (all NaN, or one value) must not move that kind's
    // model: feature sampling draws only from splittable columns.
    const train = classification(5_000, 11);
    const wide = new Float32Array(train.numRows * 5);
    for (let i = 0; i < train.numRows; i++) {
      wide.set(train.features.subarray(i * 3, i * 3 + 3), i * 5);
      wide[i * 5 + 3] = NaN;
      wide[i * 5 + 4] = 0.25;
    }
    const params = {
      numIterations: 20,
      featureFraction: 0.67,
      baggingFraction: 0.7,
      baggingFreq: 1,
      seed: 5,
    };
    const narrow = trainGbdt(train, params).model;
    const widened = trainGbdt(
      { ...train, features: wide, featureNames: [...train.featureNames, 'never', 'constant'] },
      params,
    ).model;
    assert.deepEqual(widened.trees, narrow.trees);
  });

  it('stops early on a validation set and keeps the best iteration', () => {
    const train = classification(3_000, 8);
    const valid = classification(2_000, 9);
    const result = trainGbdt(
      train,
      { numIterations: 500, learningRate: 0.3, numLeaves: 63, minDataInLeaf: 2, earlyStoppingRounds: 10 },
      { valid },
    );
    assert.ok(result.bestIteration < 200, `stopped at ${result.bestIteration}`);
    assert.equal(result.model.trees.length, result.bestIteration);
    assert.equal(result.history.valid.length, result.bestIteration + 10);
    const best = Math.min(...result.history.valid);
    assert.equal(result.history.valid[result.bestIteration - 1], best);
  });

  it('respects numLeaves, maxDepth and minDataInLeaf', () => {
    // With a constant hessian (L2) leaf counts are exact; with logloss they are estimated
    // from the hessian share, as LightGBM does, so the bound is approximate there.
    for (const [objective, floor] of [
      ['regression', 300],
      ['binary', 240],
    ] as const) {
      const train = objective === 'regression' ? regression(5_000, 10) : classification(5_000, 10);
      const { model } = trainGbdt(train, {
        objective,
        numIterations: 5,
        numLeaves: 7,
        maxDepth: 2,
        minDataInLeaf: 300,
      });
      for (const tree of model.trees) {
        const leaves = [...tree.feature].filter((f) => f < 0).length;
        assert.ok(leaves <= 4, 'depth 2 allows at most 4 leaves');
        for (let n = 0; n < tree.feature.length; n++) {
          if (tree.feature[n]! < 0)
            assert.ok(tree.count[n]! >= floor, `${objective} leaf of ${tree.count[n]} rows`);
        }
      }
    }
  });

  it('sends missing values where training found them best', () => {
    // y = 1 exactly when x is missing: the learned default direction must separate NaN.
    const n = 2000;
    const features = new Float32Array(n);
    const labels = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const missing = i % 4 === 0;
      features[i] = missing ? NaN : (i % 100) / 10;
      labels[i] = missing ? 1 : 0;
    }
    const { model } = trainGbdt({ features, labels, numRows: n, featureNames: ['x'] }, { numIterations: 20 });
    assert.ok(predictRow(model, [NaN]) > 0.9);
    assert.ok(predictRow(model, [5]) < 0.1);
  });

  it('gives the same model with numThreads 2 as with 1', () => {
    // Large enough that steps are shared with the worker once it has started (gbdt-threads.test.ts
    // checks the worker's part with a worker known to run).
    const train = classification(50_000, 12);
    const params = { numIterations: 40, numLeaves: 31, minDataInLeaf: 5 };
    const one = trainGbdt(train, { ...params, numThreads: 1 }).model;
    const two = trainGbdt(train, { ...params, numThreads: 2 }).model;
    assert.deepEqual(two, one);
    // Bagging, feature sampling and a regression objective take the other paths.
    const reg = regression(60_000, 13);
    const sampled = {
      numIterations: 10,
      baggingFraction: 0.6,
      baggingFreq: 1,
      featureFraction: 0.5,
      seed: 3,
    };
    assert.deepEqual(
      trainGbdt(reg, { ...sampled, objective: 'regression', numThreads: 2 }).model,
      trainGbdt(reg, { ...sampled, objective: 'regression', numThreads: 1 }).model,
    );
  });

  it('stops its worker threads however training ends', async () => {
    const train = classification(40_000, 14);
    const startedBefore = trainingWorkerStats().started;
    trainGbdt(train, { numIterations: 3, numThreads: 2 });
    assert.throws(
      () =>
        trainGbdt(
          train,
          { numIterations: 50, numThreads: 2 },
          {
            onIteration: ({ iteration }) => {
              if (iteration === 2) throw new Error('caller gave up');
            },
          },
        ),
      /caller gave up/,
    );
    // Termination completes asynchronously; the workers must all be gone shortly after.
    const deadline = Date.now() + 10_000;
    while (trainingWorkerStats().live > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(trainingWorkerStats().live, 0);
    assert.equal(trainingWorkerStats().started, startedBefore + 2);
  });

  it('rejects bad labels and shapes with clear errors', () => {
    const set = classification(100, 11);
    assert.throws(
      () => trainGbdt({ ...set, labels: Float64Array.from(set.labels, (v, i) => (i === 7 ? 2 : v)) }),
      (err: unknown) => err instanceof ValidationError && /row 8 has 2/.test(err.message),
    );
    assert.throws(() => trainGbdt({ ...set, numRows: 99 }), ValidationError);
    assert.throws(() => trainGbdt(set, { numLeaves: 1 }), /numLeaves/);
  });
});

describe('quantile binning', () => {
  it('puts each distinct value in its own bin when there are few, with float32 thresholds', () => {
    const bins = findBins(Float32Array.of(3, 1, 2, 2, NaN, 1), 255);
    assert.equal(bins.count, 3);
    assert.deepEqual([...bins.upper], [1.5, 2.5, Infinity]);
    assert.equal(binOf(bins, 1), 0);
    assert.equal(binOf(bins, 2.5), 1);
    assert.equal(binOf(bins, 2.6), 2);
    assert.equal(binOf(bins, NaN), 3);
  });

  it('caps the number of bins and keeps them roughly equally full', () => {
    const rng = new SeededRandom(1);
    const values = Float32Array.from({ length: 50_000 }, () => rng.normal());
    const bins = findBins(values, 32);
    assert.ok(bins.count <= 32 && bins.count >= 30, `${bins.count} bins`);
    const fill = new Array<number>(bins.count).fill(0);
    for (const v of values) fill[binOf(bins, v)]!++;
    assert.ok(Math.max(...fill) < 3 * (values.length / bins.count));
  });
});

describe('LightGBM parameter names', () => {
  it('maps known names and reports unknown ones', () => {
    const { params, unknown } = fromLightGbmParams({
      num_iterations: 50,
      learning_rate: 0.05,
      objective: 'regression_l2',
      colsample: 1,
      bagging_fraction: 0.8,
      num_threads: 2,
    });
    assert.deepEqual(params, {
      numIterations: 50,
      learningRate: 0.05,
      objective: 'regression',
      baggingFraction: 0.8,
      numThreads: 2,
    });
    assert.deepEqual(fromLightGbmParams({ nthread: 4, n_jobs: -1 }).params, { numThreads: -1 });
    assert.deepEqual(unknown, ['colsample']);
  });
});
