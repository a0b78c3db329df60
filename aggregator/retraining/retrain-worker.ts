/**
 * Worker-thread entry of the retraining loop: runs the one job it was
 * started with (workerData) and posts progress lines and the result back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type DriftJob, type RetrainJob, runDriftJob, runRetrainJob } from './retrain-job.js';
import type { WorkerReply } from './worker-job.js';

const port = parentPort;
if (!port) throw new Error('retrain-worker.ts runs as a worker thread only');
const post = (reply: WorkerReply) => port.postMessage(reply);
const job = workerData as RetrainJob | DriftJob;
try {
  const result =
    job.type === 'retrain'
      ? await runRetrainJob(job, (line) => post({ type: 'progress', line }))
      : runDriftJob(job);
  post({ type: 'result', result });
} catch (err) {
  post({
    type: 'error',
    message: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
}
