/**
 * Our GBDT and XGBoost `hist` on the same generated datasets, each in its own
 * process so wall time and peak memory are measured alike. Used by
 * `npm run bench:train` and by the quality test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DATASETS = ['classification', 'regression'] as const;
export type DatasetName = (typeof DATASETS)[number];

/** Settings both trainers get: XGBoost's depth-wise depth 6 equals at most 64 leaves for us. */
export const SHARED_SETTINGS = { rounds: 100, depth: 6, learningRate: 0.1 } as const;

export interface TrainerRun {
  trainer: 'cloudsense' | 'xgboost';
  dataset: DatasetName;
  threads: number;
  seconds: number;
  peakMB: number;
  metric: 'auc' | 'rmse';
  value: number;
}

const PYTHON = '/usr/bin/python3';
const here = fileURLToPath(new URL('.', import.meta.url));
const MAKE_DATASETS = join(here, '../python/make_datasets.py');
const XGB_TRAIN = join(here, '../python/xgb_train.py');
const OUR_TRAIN = join(here, 'train-child.ts');

/** Writes the 200k/50k-row datasets once into a cache dir (scikit-learn, seed 7) and returns it. */
export function ensureDatasets(dir = join(tmpdir(), 'cloudsense-bench-data')): string {
  if (DATASETS.every((d) => existsSync(join(dir, `${d}.json`)))) return dir;
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(PYTHON, [MAKE_DATASETS, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_datasets.py failed: ${r.stderr || r.error?.message}`);
  return dir;
}

export function runXgboost(dir: string, dataset: DatasetName, threads: number): TrainerRun {
  const args = [
    XGB_TRAIN,
    dir,
    dataset,
    '--rounds',
    String(SHARED_SETTINGS.rounds),
    '--depth',
    String(SHARED_SETTINGS.depth),
  ];
  args.push('--eta', String(SHARED_SETTINGS.learningRate), '--threads', String(threads));
  return {
    trainer: 'xgboost',
    dataset,
    threads,
    ...lastJson(spawnSync(PYTHON, args, { encoding: 'utf8' }), 'xgb_train.py'),
  };
}

export function runCloudSense(dir: string, dataset: DatasetName, threads: number): TrainerRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', OUR_TRAIN, dir, dataset, String(threads)], {
    encoding: 'utf8',
  });
  return { trainer: 'cloudsense', dataset, threads, ...lastJson(r, 'train-child.ts') };
}

function lastJson(
  r: ReturnType<typeof spawnSync>,
  what: string,
): Omit<TrainerRun, 'trainer' | 'dataset' | 'threads'> {
  const out = String(r.stdout ?? '');
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${String(r.stderr ?? '')}${out}`);
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Omit<TrainerRun, 'trainer' | 'dataset' | 'threads'>;
}

/** Reads a dataset part written by make_datasets.py (raw little-endian float32). */
export function readPart(dir: string, dataset: DatasetName, part: string): Float32Array {
  const buf = readFileSync(join(dir, `${dataset}.${part}.f32`));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

export function featureCount(dir: string, dataset: DatasetName): number {
  return (JSON.parse(readFileSync(join(dir, `${dataset}.json`), 'utf8')) as { features: number }).features;
}
