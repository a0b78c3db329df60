import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { QueueForwarder, type ForwarderOptions } from '../../agent/publish/queue-forwarder.js';
import { FileDiskQueue } from '../../agent/queue/disk-queue.js';
import { waitFor } from '../helpers/net.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-forwarder-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const seqOf = (payload: Buffer) => (JSON.parse(payload.toString()) as { seq: number }).seq;

/** A forwarder over a real queue with `count` records, publishing into a capturing sink. */
async function setup(count: number, options: Partial<ForwarderOptions> & { manualAcks?: boolean } = {}) {
  const queue = new FileDiskQueue({
    dir: join(root, `f${++n}`),
    maxBytes: 16 * 1024 * 1024,
    maxAgeMs: 86_400_000,
    fsync: 'never',
    fsyncIntervalMs: 1000,
  });
  await queue.start();
  // Tags cycle 0, 1, 2 (telemetry, predictions, events in the agent): the forwarder passes each one on.
  for (let i = 0; i < count; i++) await queue.append((seq) => Buffer.from(JSON.stringify({ seq })), i % 3);
  const sent: number[] = [];
  const tags: number[] = [];
  const pendingAcks: Array<() => void> = [];
  const forwarder = new QueueForwarder({
    queue,
    send: (payload, tag) => {
      sent.push(seqOf(payload));
      tags.push(tag);
      if (!options.manualAcks) return Promise.resolve();
      return new Promise<void>((resolve) => pendingAcks.push(resolve));
    },
    renumber: (payload, seq) => Buffer.from(JSON.stringify({ ...JSON.parse(payload.toString()), seq })),
    log: pino({ level: 'silent' }),
    ...options,
  });
  forwarder.start();
  cleanups.push(async () => {
    forwarder.stop();
    await queue.stop();
  });
  return { queue, forwarder, sent, tags, pendingAcks };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('queue forwarder', () => {
  it('publishes nothing until connected, then everything in order; confirmations trim the queue', async () => {
    const { queue, forwarder, sent, tags } = await setup(10);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(sent, []);
    forwarder.connected();
    await waitFor('ten published', () => (sent.length === 10 ? true : undefined), 2000, 5);
    assert.deepEqual(sent, range(1, 10));
    assert.deepEqual(tags, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'each with its record’s tag');
    const settled = forwarder.settled(2000);
    await forwarder.acknowledged(10, false);
    assert.equal(await settled, true);
    assert.equal(queue.stats().pending, 0);
    await queue.append((seq) => Buffer.from(JSON.stringify({ seq })));
    forwarder.appended();
    await waitFor('the new record', () => (sent.length === 11 ? true : undefined), 2000, 5);
    assert.equal(sent.at(-1), 11);
  });

  it('keeps at most maxInFlight awaiting the broker, and at most maxUnconfirmed awaiting the aggregator', async () => {
    const inFlight = await setup(20, { maxInFlight: 4, manualAcks: true });
    inFlight.forwarder.connected();
    await waitFor('four published', () => (inFlight.sent.length === 4 ? true : undefined), 2000, 5);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(inFlight.sent.length, 4);
    inFlight.pendingAcks.shift()!();
    await waitFor('one more', () => (inFlight.sent.length === 5 ? true : undefined), 2000, 5);

    const unconfirmed = await setup(20, { maxUnconfirmed: 6 });
    unconfirmed.forwarder.connected();
    await waitFor('six published', () => (unconfirmed.sent.length === 6 ? true : undefined), 2000, 5);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(unconfirmed.sent.length, 6);
    await unconfirmed.forwarder.acknowledged(3, false);
    await waitFor('three more', () => (unconfirmed.sent.length === 9 ? true : undefined), 2000, 5);
    assert.deepEqual(unconfirmed.sent, range(1, 9));
  });

  it('replays from the last confirmed number after a reconnect', async () => {
    const { forwarder, sent } = await setup(10);
    forwarder.connected();
    await waitFor('ten published', () => (sent.length === 10 ? true : undefined), 2000, 5);
    await forwarder.acknowledged(4, false);
    forwarder.disconnected();
    sent.length = 0;
    forwarder.connected();
    await waitFor('the replay', () => (sent.length === 6 ? true : undefined), 2000, 5);
    assert.deepEqual(sent, range(5, 10));
  });

  it('replays when the aggregator stops confirming', async () => {
    const { forwarder, sent } = await setup(3, { ackTimeoutMs: 300 });
    forwarder.connected();
    await waitFor('a replay after the timeout', () => (sent.length >= 6 ? true : undefined), 3000, 20);
    assert.deepEqual(sent.slice(0, 6), [1, 2, 3, 1, 2, 3]);
    assert.ok(forwarder.stats().replays >= 2);
  });

  it('renumbers a fresh queue above a retained confirmation from an earlier installation of the host', async () => {
    const { queue, forwarder, sent } = await setup(3);
    await forwarder.acknowledged(100, true);
    assert.equal(queue.confirmedSeq, 100);
    const records = await queue.read(1, 10);
    assert.deepEqual(
      records.map((r) => [r.seq, seqOf(r.payload), r.tag]),
      [
        [101, 101, 0],
        [102, 102, 1],
        [103, 103, 2],
      ],
    );
    forwarder.connected();
    await waitFor('the renumbered records', () => (sent.length === 3 ? true : undefined), 2000, 5);
    assert.deepEqual(sent, [101, 102, 103]);
  });

  it('only moves its numbers past a confirmation above them once it has been confirmed before', async () => {
    const { queue, forwarder } = await setup(3);
    await forwarder.acknowledged(2, false);
    await forwarder.acknowledged(50, true);
    assert.equal(queue.lastSeq, 50);
    assert.equal(queue.stats().pending, 0);
    assert.deepEqual(await queue.read(1, 10), []);
  });
});
