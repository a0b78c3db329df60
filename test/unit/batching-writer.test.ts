import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { BatchingWriter } from '../../aggregator/storage/batching-writer.js';
import { STORE_REJECTED_DATA, type TelemetryStore } from '../../aggregator/storage/telemetry-store.js';
import { CloudSenseError } from '../../shared/errors.js';
import type { SequencedMessage } from '../../shared/wire/sequenced.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { waitFor } from '../helpers/net.js';

/**
 * A capturing store that refuses writes while `failing` is set, fails a
 * batch that holds one of `badSeqs` as data it can never take, and fails
 * every write with `permanent` (as refused credentials do).
 */
class CapturingStore implements Pick<TelemetryStore, 'write'> {
  readonly batches: number[][] = [];
  failing = false;
  badSeqs = new Set<number>();
  permanent: Error | undefined;
  attempts = 0;
  async write(batch: readonly TelemetryMessage[]): Promise<void> {
    this.attempts++;
    if (this.failing) throw new Error('store down');
    if (this.permanent) throw this.permanent;
    const bad = batch.find((m) => this.badSeqs.has(m.seq));
    if (bad) {
      throw new CloudSenseError(STORE_REJECTED_DATA, `field type conflict (seq ${bad.seq})`, {
        permanent: true,
      });
    }
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
    assert.deepEqual(w.stats(), {
      accepted: 7,
      written: 7,
      dropped: 0,
      rejected: 0,
      failedWrites: 0,
      buffered: 0,
    });
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
    assert.deepEqual(w.stats(), {
      accepted: 6,
      written: 4,
      dropped: 2,
      rejected: 0,
      failedWrites: 1,
      buffered: 0,
    });
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

  it('rejects only the messages whose data the store can never take, and writes the rest in order', async () => {
    const store = new CapturingStore();
    store.badSeqs = new Set([3, 7, 8]);
    const rejected: number[] = [];
    const written: number[] = [];
    const w = writer(store, {
      batchSize: 8,
      flushIntervalMs: 60_000,
      onRejected: (m: readonly SequencedMessage[]) => rejected.push(...m.map((x) => x.seq)),
      onWritten: (m: readonly SequencedMessage[]) => written.push(...m.map((x) => x.seq)),
    });
    w.start();
    for (let i = 1; i <= 10; i++) w.write(msg(i));
    await w.flush();
    assert.deepEqual(store.seqs, [1, 2, 4, 5, 6, 9, 10]);
    assert.deepEqual(written, [1, 2, 4, 5, 6, 9, 10]);
    assert.deepEqual(rejected, [3, 7, 8]);
    // Nothing is left behind to block what comes next, and nothing waits for a retry.
    w.write(msg(11));
    await w.flush();
    assert.deepEqual(store.seqs.at(-1), 11);
    await w.stop();
    assert.deepEqual(w.stats(), {
      accepted: 11,
      written: 8,
      dropped: 0,
      rejected: 3,
      failedWrites: 0,
      buffered: 0,
    });
  });

  it('keeps a batch whose write fails for any other reason, even a permanent one, and rejects nothing', async () => {
    const store = new CapturingStore();
    store.permanent = new CloudSenseError('INFLUX_REJECTED', 'authorization failed', { permanent: true });
    const w = writer(store, { flushIntervalMs: 60_000 });
    w.start();
    for (let i = 1; i <= 3; i++) w.write(msg(i));
    await w.flush();
    assert.equal(store.attempts, 1, 'a refused login is not split into single messages');
    assert.deepEqual(w.stats(), {
      accepted: 3,
      written: 0,
      dropped: 0,
      rejected: 0,
      failedWrites: 1,
      buffered: 3,
    });
    store.permanent = undefined;
    await w.stop();
    assert.deepEqual(store.seqs, [1, 2, 3]);
  });

  it('keeps what is left of a halved batch, in order, when the store goes down in the middle', async () => {
    const store = new CapturingStore();
    store.badSeqs = new Set([2]);
    const w = writer(store, { batchSize: 4, flushIntervalMs: 60_000 });
    const write = store.write.bind(store);
    // The store goes down after the write that isolates seq 2.
    store.write = async (batch) => {
      if (store.attempts >= 4) store.failing = true;
      return write(batch);
    };
    w.start();
    for (let i = 1; i <= 4; i++) w.write(msg(i));
    await w.flush();
    assert.equal(w.stats().rejected, 1);
    assert.deepEqual(store.seqs, [1]);
    store.failing = false;
    store.write = write;
    await w.stop();
    assert.deepEqual(store.seqs, [1, 3, 4]);
    assert.equal(w.stats().dropped, 0);
  });
});
