import type { MessagePort } from 'node:worker_threads';

/**
 * How a WorkerTeam's threads coordinate, main thread and workers alike.
 *
 * Synchronisation is through a small Int32Array on a SharedArrayBuffer, no
 * message per step: the main thread writes the task, bumps SEQ and wakes the
 * workers (Atomics.notify); every thread, the main one included, claims
 * shares with a compare-and-swap on CLAIM until none are left, and counts
 * finished ones in DONE; the main thread waits for DONE to reach the number
 * of shares. Because the main thread claims too, a worker that is late (still
 * starting, or descheduled on a busy machine) costs at most its share, never
 * a stall, and training runs correctly even if no worker ever starts.
 */
export const CONTROL = {
  /** Task sequence number; workers sleep on it. */
  seq: 0,
  /**
   * seq << 16 | shares << 8 | next share to claim, in one word so that a
   * thread still looking at an older task can neither claim nor misread it.
   */
  claim: 1,
  /** Shares finished of the current task; the main thread sleeps on it. */
  done: 2,
  /** 1: workers leave their loop. */
  stop: 3,
  /** 1: a worker failed; its error is on its port. */
  failed: 4,
  /** Shares from this index on start only when all before it are done (a partition's moves). */
  barrier: 5,
  /** 1 once the task state has been posted to the workers. */
  attached: 6,
  /** Shares run by workers, for diagnostics. */
  workerShares: 7,
  /** Workers that have started (and wait for the state, or for tasks). */
  ready: 8,
} as const;
export const CONTROL_LENGTH = 16;

/** What a worker receives as workerData. */
export interface WorkerInit {
  control: Int32Array;
  /**
   * Carries the task state ({ state }) once attached, then histograms
   * ({ id, hist }) before a task uses them; a worker's error goes back on it.
   */
  port: MessagePort;
}

/** A worker's error, posted on its port. */
export interface WorkerFailure {
  error: string;
}

/**
 * How long a thread spins on a shared value before it sleeps (Atomics.wait):
 * the next task or share usually comes within microseconds, and waking a
 * sleeping thread costs far more. Measured at 2 threads on a 2-vCPU virtual
 * machine, spins of 0.05 to 0.2 ms trained fastest; 2 ms was ~15% slower
 * (a spinning vCPU takes time from the host that the other one needs).
 */
export const SPIN_MS = 0.1;

/**
 * Spins until `control[index]` differs from `value` or `ms` pass; true when
 * it changed.
 */
export function spinWhile(control: Int32Array, index: number, value: number, ms = SPIN_MS): boolean {
  const until = performance.now() + ms;
  for (;;) {
    for (let i = 0; i < 256; i++) if (Atomics.load(control, index) !== value) return true;
    if (performance.now() > until) return false;
  }
}
/** A step that makes no progress for this long means a worker died mid-share. */
const STALL_TIMEOUT_MS = 300_000;

/**
 * Claims and runs shares of task `seq` until none are left (or the task is
 * no longer current), counting each in DONE. Main thread and workers alike.
 * Returns the number of shares this thread ran.
 */
export function takeShares(control: Int32Array, seq: number, runShare: (share: number) => void): number {
  for (let taken = 0; ; taken++) {
    const c = Atomics.load(control, CONTROL.claim);
    const share = c & 0xff;
    if (c >>> 16 !== seq || share >= ((c >>> 8) & 0xff)) return taken;
    if (Atomics.compareExchange(control, CONTROL.claim, c, c + 1) !== c) {
      taken--;
      continue;
    }
    const barrier = Atomics.load(control, CONTROL.barrier);
    if (share >= barrier) awaitDone(control, barrier);
    runShare(share);
    Atomics.add(control, CONTROL.done, 1);
    Atomics.notify(control, CONTROL.done);
  }
}

/** Waits until DONE reaches `count`: spins first (shares take microseconds to milliseconds), then sleeps. */
export function awaitDone(control: Int32Array, count: number): void {
  let last = Atomics.load(control, CONTROL.done);
  let since = Date.now();
  while (last < count) {
    if (
      !spinWhile(control, CONTROL.done, last) &&
      Atomics.wait(control, CONTROL.done, last, 100) === 'timed-out' &&
      Date.now() - since > STALL_TIMEOUT_MS
    ) {
      throw new Error('a training worker thread stopped responding');
    }
    const now = Atomics.load(control, CONTROL.done);
    if (now !== last) since = Date.now();
    last = now;
  }
}
