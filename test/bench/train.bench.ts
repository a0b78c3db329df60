/**
 * `npm run bench:train`: our GBDT against XGBoost `hist` (Debian
 * python3-xgboost) on scikit-learn's make_classification and a regression
 * set, 200k train / 50k test rows, 20 features, depth 6, 100 rounds,
 * learning rate 0.1 — single-threaded and with all cores. Prints wall time,
 * peak memory and test quality for both, and the time ratio. Never fails on
 * time: the target (ours at most 1.5x XGBoost's) is printed, not asserted.
 */
import { availableParallelism } from 'node:os';
import {
  DATASETS,
  ensureDatasets,
  runCloudSense,
  runXgboost,
  type TrainerRun,
} from './lib/gbdt-vs-xgboost.js';
import { printTable } from './lib/table.js';

const dir = ensureDatasets();
const threadCounts = [...new Set([1, availableParallelism()])];
const rows: string[][] = [];
for (const threads of threadCounts) {
  for (const dataset of DATASETS) {
    const xgb = runXgboost(dir, dataset, threads);
    const ours = runCloudSense(dir, dataset, threads);
    const ratio = ours.seconds / xgb.seconds;
    for (const run of [ours, xgb]) rows.push(row(run, run === ours ? ratio : undefined));
    console.error(`done: ${dataset}, ${threads} thread(s)`);
  }
}
const header = ['dataset', 'threads', 'trainer', 'wall s', 'peak MB', 'test metric', 'time vs XGBoost'];
printTable(header, rows);
console.log(
  '\nTarget: CloudSense wall time <= 1.5x XGBoost at the same thread count; quality: AUC within 0.003, RMSE within 2%.',
);

function row(run: TrainerRun, ratio: number | undefined): string[] {
  return [
    run.dataset,
    String(run.threads),
    run.trainer,
    run.seconds.toFixed(2),
    run.peakMB.toFixed(0),
    `${run.metric} ${run.value.toFixed(run.metric === 'auc' ? 5 : 4)}`,
    ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
  ];
}
