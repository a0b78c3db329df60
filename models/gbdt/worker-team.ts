import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import {
  awaitDone,
  CONTROL,
  CONTROL_LENGTH,
  takeShares,
  type WorkerFailure,
  type WorkerInit,
} from './team-control.js';
import type { TaskState } from './thread-tasks.js';
import { startModuleWorker } from '../../shared/threads/module-worker.js';

/**
 * A task the main thread ran alone for longer than ALONE_MS, or a wait for
 * workers longer than SLOW_WAIT_MS and than its own shares, is a strike...
 * (Small tasks are often all done before a worker looks: no strike.)
 */
const ALONE_MS = 1;
const SLOW_WAIT_MS = 0.2;
/** ...and this many (net of good runs) send the team solo for a while: see WorkerTeam.judge(). */
const SOLO_AFTER_STRIKES = 8;
const MIN_SOLO_MS = 50;
const MAX_SOLO_MS = 1600;

/** Worker threads of trainers since the process started (for tests and diagnostics). */
export interface TrainingWorkerStats {
  /** Running now. */
  live: number;
  started: number;
  /** Shares of tasks they ran (counted when their training ends). */
  shares: number;
  /** Failed outside a share (e.g. could not load their code); training went on without them. */
  failed: number;
  lastError: string | undefined;
}

const stats: TrainingWorkerStats = { live: 0, started: 0, shares: 0, failed: 0, lastError: undefined };

export function trainingWorkerStats(): TrainingWorkerStats {
  return { ...stats };
}

/**
 * Worker threads that take shares of each task (thread-tasks.ts) with the
 * main thread, coordinating through shared memory (team-control.ts). A
 * trainer starts them once, before binning so that they boot meanwhile,
 * hands them the task state with `attach()`, and stops them in a `finally`.
 */
export class WorkerTeam {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH * 4));
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private seq = 0;
  private stopped = false;
  /** See judge(). */
  private strikes = 0;
  private soloUntil = 0;
  private soloMs = MIN_SOLO_MS;

  /** Starts `count` worker threads; they wait for attach(). */
  constructor(count: number) {
    try {
      for (let i = 0; i < count; i++) {
        const { port1, port2 } = new MessageChannel();
        const init: WorkerInit = { control: this.control, port: port2 };
        const worker = startWorker(init, port2);
        stats.live++;
        stats.started++;
        worker.once('exit', () => stats.live--);
        // A worker that fails to start leaves its shares to the others (and is counted); one
        // that fails in a share reports through the control block, and the training throws.
        worker.on('error', (err) => {
          stats.failed++;
          stats.lastError = err instanceof Error ? err.message : String(err);
        });
        worker.unref();
        port1.unref();
        this.workers.push(worker);
        this.ports.push(port1);
      }
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  /** Threads that take shares, the main thread included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Hands the workers the task state, whose arrays must be SharedArrayBuffer-backed. */
  attach(state: TaskState): void {
    for (const port of this.ports) port.postMessage({ state });
    Atomics.store(this.control, CONTROL.attached, 1);
    Atomics.notify(this.control, CONTROL.attached);
  }

  /**
   * Waits until every worker has started, or the timeout passes; true when
   * they have. Training never needs to wait (tasks go ahead without late
   * workers); tests do, to be sure that workers take part.
   */
  waitUntilReady(timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = Atomics.load(this.control, CONTROL.ready);
      if (ready >= this.workers.length) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.control, CONTROL.ready, ready, left);
    }
  }

  /** Makes histogram `id` available to the workers; call before a task uses it. */
  shareHistogram(id: number, hist: Float64Array): void {
    for (const port of this.ports) port.postMessage({ id, hist });
  }

  /**
   * Runs the task already written to the shared state as `shares` shares,
   * `runShare(s)` doing share s on the main thread; shares from `barrier` on
   * start once all before it are done. Returns when all are done.
   */
  run(shares: number, barrier: number, runShare: (share: number) => void): void {
    const started = performance.now();
    if (started < this.soloUntil) {
      for (let share = 0; share < shares; share++) runShare(share);
      return;
    }
    const c = this.control;
    this.seq = (this.seq + 1) & 0x7fff;
    Atomics.store(c, CONTROL.done, 0);
    Atomics.store(c, CONTROL.barrier, barrier);
    Atomics.store(c, CONTROL.claim, (this.seq << 16) | (shares << 8));
    Atomics.store(c, CONTROL.seq, this.seq);
    Atomics.notify(c, CONTROL.seq);
    let ownMs = 0;
    const own = takeShares(c, this.seq, (share) => {
      const t = performance.now();
      runShare(share);
      ownMs += performance.now() - t;
    });
    awaitDone(c, shares);
    if (Atomics.load(c, CONTROL.failed) === 1) throw this.failure();
    this.judge(own === shares, ownMs, performance.now() - started - ownMs);
  }

  /**
   * Goes solo for a while when the workers keep being of no use: the main
   * thread ran every share of a sizeable task itself (no worker came in
   * time), or waited for them longer than its own shares took. That happens
   * on an overcommitted host, whose vCPUs take turns on one core: there a
   * worker runs milliseconds late, waiting for it made training slower than
   * one thread (6 s against 3.5), and a worker that spins or is woken for
   * every task even takes time from the main thread. Solo, tasks run on the
   * main thread alone and idle workers sleep; the team tries again after a
   * while, which doubles as long as the workers stay of no use. The model
   * is the same either way.
   */
  private judge(allOwn: boolean, ownMs: number, waitMs: number): void {
    if ((allOwn && ownMs > ALONE_MS) || waitMs > Math.max(SLOW_WAIT_MS, ownMs)) {
      if (++this.strikes < SOLO_AFTER_STRIKES) return;
      this.soloUntil = performance.now() + this.soloMs;
      this.soloMs = Math.min(2 * this.soloMs, MAX_SOLO_MS);
      this.strikes = 0;
    } else if (this.strikes > 0) this.strikes--;
    else this.soloMs = MIN_SOLO_MS;
  }

  /** Stops the workers; safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const c = this.control;
    stats.shares += Atomics.load(c, CONTROL.workerShares);
    Atomics.store(c, CONTROL.stop, 1);
    Atomics.add(c, CONTROL.seq, 1);
    Atomics.notify(c, CONTROL.seq);
    Atomics.notify(c, CONTROL.attached);
    for (const worker of this.workers) void worker.terminate().catch(() => {});
    for (const port of this.ports) port.close();
  }

  private failure(): Error {
    for (const port of this.ports) {
      const message = receiveMessageOnPort(port)?.message as WorkerFailure | undefined;
      if (message?.error) return new Error(`training worker failed: ${message.error}`);
    }
    return new Error('training worker failed');
  }
}

/** A training worker (shared/threads/module-worker.ts: the compiled file, or the source through tsx). */
function startWorker(workerData: WorkerInit, port: MessagePort): Worker {
  return startModuleWorker(import.meta.url, 'training-worker', { workerData, transferList: [port] });
}
