/**
 * History mode: days of a fleet's telemetry written straight into a
 * telemetry store in batches, as fast as the store takes them. Batches are
 * written one after another (each awaited), so memory stays bounded and the
 * store's pace sets the generator's.
 */
import type { TelemetryStore } from '../../aggregator/storage/telemetry-store.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import type { Simulation } from '../simulation.js';

export interface HistoryProgress {
  ticksDone: number;
  ticks: number;
  messages: number;
  points: number;
  /** Simulated time reached, Unix epoch ms. */
  simulatedMs: number;
}

export interface HistoryOptions {
  simulation: Simulation;
  /** An open store. */
  store: TelemetryStore;
  /** Ticks to simulate (each one message per host). */
  ticks: number;
  /** Messages per store write. */
  batchMessages: number;
  /** Called after each batch is written. */
  onProgress?: (progress: HistoryProgress) => void;
  /** Stops after the batch in flight (Ctrl-C); the result says how far it got. */
  signal?: AbortSignal;
}

export interface HistoryResult extends HistoryProgress {
  completed: boolean;
  seconds: number;
}

export async function writeHistory(options: HistoryOptions): Promise<HistoryResult> {
  const { simulation, store, ticks, batchMessages, signal } = options;
  const started = performance.now();
  let batch: TelemetryMessage[] = [];
  let written = 0;
  let points = 0;
  const progress = (): HistoryProgress => ({
    ticksDone: simulation.counts.ticks,
    ticks,
    messages: written,
    points,
    simulatedMs: simulation.nextTickMs,
  });
  const flush = async () => {
    if (batch.length === 0) return;
    await store.write(batch);
    written += batch.length;
    for (const m of batch) points += m.metrics.length;
    batch = [];
    options.onProgress?.(progress());
    // The store's write may complete without a turn of the event loop (DuckDB's appender is synchronous):
    // yield one, so that signals (Ctrl-C) and timers are handled between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  };

  while (simulation.counts.ticks < ticks && !signal?.aborted) {
    for (const message of simulation.tick()) batch.push(message);
    if (batch.length >= batchMessages) await flush();
  }
  await flush();
  // Everything simulated is written, so the ground truth may close here even when interrupted.
  simulation.finish();
  const completed = simulation.counts.ticks >= ticks;
  return { ...progress(), completed, seconds: (performance.now() - started) / 1000 };
}
