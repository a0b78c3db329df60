import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { BatchingWriter } from '../../aggregator/storage/batching-writer.js';
import type { TelemetryStore } from '../../aggregator/storage/telemetry-store.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { waitFor } from '../helpers/net.js';

/** A capturing store that refuses writes while `failing` is set. */
class CapturingStore implements Pick<TelemetryStore, 'write'> {
  readonly batches: number[][] = [];
  failing = false;
  async write(batch: readonly TelemetryMessage[]): Promise<void> {
    if (this.failing) throw new Error('store down');
    this.batches.push(batch.map((m) => m.seq));
  }
  get seqs(): number[] {
    return this.batches.flat();
  }
}

const msg = (seq: number): TelemetryMessage => ({
  schemaVersion: 1,
  hostId: 'web-01',
  seq,
  timestamp: 1_790_000_000_000 + seq,
  intervalSeconds: 1,
  metrics: [{ name: 'system.cpu.utilization', unit: '1', value: 0.5 }],
});
const log = pino({ level: 'silent' });

function writer(
  store: CapturingStore,
  options: Partial<ConstructorParameters<typeof BatchingWriter>[1]> = {},
) {
  return new BatchingWriter(store as unknown as TelemetryStore, {
    batchSize: 3,
    flushIntervalMs: 20,
    maxBuffered: 100,
    log,
    ...options,
  });
}

describe('batching writer', () => {
  it('writes full batches at once and the rest on the interval, in order', async () => {
    const store = new CapturingStore();
    const w = writer(store);
    w.start();
    for (let i = 1; i <= 7; i++) w.write(msg(i));
    await waitFor('all written', () => (store.seqs.length === 7 ? true : undefined), 2000, 5);
    assert.deepEqual(store.seqs, [1, 2, 3, 4, 5, 6, 7]);
    assert.ok(store.batches.every((b) => b.length <= 3));
    await w.stop();
    assert.deepEqual(w.stats(), { accepted: 7, written: 7, dropped: 0, failedWrites: 0, buffered: 0 });
  });

  it('keeps batches while the store is down and writes them, in order, when it is back', async () => {
    const store = new CapturingStore();
    store.failing = true;
    const w = writer(store);
    w.start();
    for (let i = 1; i <= 5; i++) w.write(msg(i));
    await waitFor('a failed write', () => (w.stats().failedWrites > 0 ? true : undefined), 2000, 5);
    store.failing = false;
    w.write(msg(6));
    await waitFor('all written after recovery', () => (store.seqs.length === 6 ? true : undefined), 5000, 10);
    assert.deepEqual(store.seqs, [1, 2, 3, 4, 5, 6]);
    await w.stop();
    assert.equal(w.stats().dropped, 0);
  });

  it('drops the oldest past its bound, and counts them', async () => {
    const store = new CapturingStore();
    store.failing = true;
    const w = writer(store, { maxBuffered: 4, flushIntervalMs: 60_000 });
    w.start();
    for (let i = 1; i <= 6; i++) w.write(msg(i));
    store.failing = false;
    await w.stop();
    assert.deepEqual(store.seqs, [3, 4, 5, 6]);
    assert.deepEqual(w.stats(), { accepted: 6, written: 4, dropped: 2, failedWrites: 1, buffered: 0 });
  });

  it('counts what it could not write by the time it stopped', async () => {
    const store = new CapturingStore();
    store.failing = true;
    const w = writer(store, { flushIntervalMs: 60_000 });
    w.start();
    w.write(msg(1));
    await w.stop();
    await w.stop();
    assert.equal(w.stats().dropped, 1);
  });
});
