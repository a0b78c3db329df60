/**
 * Worker thread entry (see worker-team.ts): waits for the task state, then
 * for tasks (thread-tasks.ts), and takes shares of them until told to stop. It never
 * returns to its event loop while running, so messages are read from its
 * port synchronously.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { runShare, TASK, TASK_KIND, taskContext, type TaskState } from './thread-tasks.js';
import {
  CONTROL,
  SPIN_MS,
  spinWhile,
  takeShares,
  type WorkerFailure,
  type WorkerInit,
} from './team-control.js';

const { control, port } = workerData as WorkerInit;
const stopped = () => Atomics.load(control, CONTROL.stop) === 1;
Atomics.add(control, CONTROL.ready, 1);
Atomics.notify(control, CONTROL.ready);

while (Atomics.load(control, CONTROL.attached) === 0 && !stopped())
  Atomics.wait(control, CONTROL.attached, 0);
if (!stopped()) serve((receiveMessageOnPort(port)!.message as { state: TaskState }).state);
port.close();

function serve(state: TaskState): void {
  const hists: Float64Array[] = [];
  const context = taskContext(state, hists);

  /** Reads histogram announcements until histogram `id` is known. */
  const need = (id: number): void => {
    while (hists[id] === undefined) {
      const received = receiveMessageOnPort(port);
      if (!received) throw new Error(`histogram ${id} was used before it was announced`);
      const { id: at, hist } = received.message as { id: number; hist: Float64Array };
      hists[at] = hist;
    }
  };

  const runTaskShare = (share: number): void => {
    const task = state.task;
    try {
      if (task[TASK.kind] === TASK_KIND.step) {
        for (const field of [TASK.build, TASK.parent, TASK.search0, TASK.search1]) {
          if (task[field]! >= 0) need(task[field]!);
        }
      }
      runShare(context, share);
      Atomics.add(control, CONTROL.workerShares, 1);
    } catch (err) {
      // Reported through the control block; the share still counts as done so the main thread wakes.
      const failure: WorkerFailure = {
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      };
      port.postMessage(failure);
      Atomics.store(control, CONTROL.failed, 1);
    }
  };

  // A worker that finds every share of a task already taken by the time it looks spins less after
  // it (halving down to not at all), and back to SPIN_MS once it gets one: where the main thread
  // does everything itself (a starved virtual machine, a worker late to start), a spinning worker
  // only takes CPU time the main thread could use.
  let seen = -1;
  let spinMs = SPIN_MS;
  while (!stopped()) {
    const seq = Atomics.load(control, CONTROL.seq);
    if (seq !== seen) {
      seen = seq;
      spinMs = takeShares(control, seq, runTaskShare) > 0 ? SPIN_MS : spinMs < 0.01 ? 0 : spinMs / 2;
      continue;
    }
    if (!(spinMs > 0 && spinWhile(control, CONTROL.seq, seen, spinMs)))
      Atomics.wait(control, CONTROL.seq, seen);
  }
}
