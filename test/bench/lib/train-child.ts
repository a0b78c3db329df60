/**
 * One training run of our GBDT in its own process, for a fair wall-time and
 * peak-memory comparison: `train-child.ts DIR DATASET THREADS` prints one JSON line.
 */
import { rmse, rocAuc } from '../../../models/evaluation/metrics.js';
import { predictAll } from '../../../models/fit/fit-model.js';
import { trainGbdt } from '../../../models/gbdt/train.js';
import { featureCount, readPart, SHARED_SETTINGS, type DatasetName } from './gbdt-vs-xgboost.js';

const [dir, dataset, threadsArg] = process.argv.slice(2) as [string, DatasetName, string];
const F = featureCount(dir, dataset);
const x = readPart(dir, dataset, 'train.x');
const y = readPart(dir, dataset, 'train.y');
const tx = readPart(dir, dataset, 'test.x');
const ty = readPart(dir, dataset, 'test.y');
const binary = dataset === 'classification';

const started = performance.now();
const { model } = trainGbdt(
  { features: x, labels: y, numRows: y.length, featureNames: Array.from({ length: F }, (_, i) => `f${i}`) },
  {
    objective: binary ? 'binary' : 'regression',
    numIterations: SHARED_SETTINGS.rounds,
    learningRate: SHARED_SETTINGS.learningRate,
    maxDepth: SHARED_SETTINGS.depth,
    numLeaves: 2 ** SHARED_SETTINGS.depth,
    // XGBoost's defaults: no row minimum, min_child_weight 1, lambda 1.
    minDataInLeaf: 1,
    minSumHessianInLeaf: 1,
    lambdaL2: 1,
    numThreads: Number(threadsArg),
  },
);
const seconds = (performance.now() - started) / 1000;
const pred = predictAll(model, {
  features: tx,
  labels: ty,
  numRows: ty.length,
  featureNames: model.featureNames,
});
const value = binary ? rocAuc(ty, pred) : rmse(ty, pred);
const peakMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ seconds, peakMB, metric: binary ? 'auc' : 'rmse', value }));
