/**
 * Runs one retraining job (retrain-job.ts) in a worker thread of its own,
 * started for the job and ended with it, so its memory goes back when it is
 * done and the main thread (ingest, API) is never blocked by training.
 */
import type { Worker } from 'node:worker_threads';
import { CloudSenseError } from '../../shared/errors.js';
import { startModuleWorker } from '../../shared/threads/module-worker.js';
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

/** The retraining worker (shared/threads/module-worker.ts: the compiled file, or the source through tsx). */
function startWorker(workerData: RetrainJob | DriftJob): Worker {
  return startModuleWorker(import.meta.url, 'retrain-worker', { workerData });
}
