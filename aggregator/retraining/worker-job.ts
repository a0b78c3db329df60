/**
 * Runs one retraining job (retrain-job.ts) in a worker thread of its own,
 * started for the job and ended with it, so its memory goes back when it is
 * done and the main thread (ingest, API) is never blocked by training.
 */
import { Worker } from 'node:worker_threads';
import { CloudSenseError } from '../../shared/errors.js';
import type { DriftJob, DriftOutcome, RetrainJob, RetrainOutcome } from './retrain-job.js';

export type WorkerReply =
  | { type: 'progress'; line: string }
  | { type: 'result'; result: RetrainOutcome | DriftOutcome }
  | { type: 'error'; message: string; stack: string | undefined };

/** A job running in its thread; `cancel()` ends it (its promise then rejects). */
export interface RunningJob<T> {
  result: Promise<T>;
  cancel(): Promise<void>;
}

export function startJob(job: RetrainJob, onProgress?: (line: string) => void): RunningJob<RetrainOutcome>;
export function startJob(job: DriftJob, onProgress?: (line: string) => void): RunningJob<DriftOutcome>;
export function startJob(
  job: RetrainJob | DriftJob,
  onProgress: (line: string) => void = () => undefined,
): RunningJob<RetrainOutcome | DriftOutcome> {
  const worker = startWorker(job);
  let settled = false;
  const result = new Promise<RetrainOutcome | DriftOutcome>((resolve, reject) => {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'progress') onProgress(reply.line);
      else if (reply.type === 'result') {
        settled = true;
        resolve(reply.result);
      } else {
        settled = true;
        reject(new CloudSenseError('RETRAIN_JOB_FAILED', reply.message, { cause: reply.stack }));
      }
    });
    worker.once('error', (err) => {
      settled = true;
      reject(
        new CloudSenseError('RETRAIN_JOB_FAILED', `the ${job.type} job's thread failed: ${err.message}`, {
          cause: err,
        }),
      );
    });
    worker.once('exit', (code) => {
      if (!settled) {
        reject(
          new CloudSenseError(
            'RETRAIN_JOB_FAILED',
            `the ${job.type} job's thread ended (code ${code}) without a result`,
          ),
        );
      }
    });
  });
  return {
    result,
    cancel: async () => {
      await worker.terminate();
    },
  };
}

/**
 * The worker from the compiled file, or, when running from the TypeScript
 * sources (tests, `node --import tsx`), through tsx's loader registered in
 * the thread first (the same boot as models/gbdt/worker-team.ts).
 */
function startWorker(workerData: RetrainJob | DriftJob): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./retrain-worker.js', here), { workerData });
  const entry = new URL('./retrain-worker.ts', here);
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch {
    return new Worker(entry, { workerData });
  }
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { workerData, eval: true, execArgv: withoutTsx(process.execArgv) });
}

/** Node flags without those that load tsx (`--import tsx` and the like). */
function withoutTsx(args: readonly string[]): string[] {
  const loaders = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (loaders.has(arg) && args[i + 1]?.includes('tsx')) i++;
    else if (!(arg.startsWith('-') && arg.includes('=') && arg.includes('tsx'))) kept.push(arg);
  }
  return kept;
}
