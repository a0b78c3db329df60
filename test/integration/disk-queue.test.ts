import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { FileDiskQueue } from '../../agent/queue/disk-queue.js';
import { segmentFileName } from '../../agent/queue/record-format.js';
import { diskQueueContract } from '../contract/disk-queue.contract.js';
import { isQueuePayload, queuePayload } from '../helpers/queue-payload.js';

diskQueueContract('FileDiskQueue', {
  open: (dir, settings = {}) =>
    new FileDiskQueue({
      dir,
      maxBytes: settings.maxBytes ?? 64 * 1024 * 1024,
      maxAgeMs: settings.maxAgeMs ?? 86_400_000,
      fsync: settings.fsync ?? 'interval',
      fsyncIntervalMs: 1000,
      segmentBytes: settings.segmentBytes,
      now: settings.now,
    }),
  writerScript: fileURLToPath(new URL('../helpers/disk-queue-writer.ts', import.meta.url)),
  segmentFiles: (dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.seg'))
      .sort()
      .map((name) => join(dir, name)),
});

describe('FileDiskQueue segment formats', () => {
  const root = mkdtempSync(join(tmpdir(), 'cloudsense-queue-format-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A segment as format 1 wrote it: magic `CSQUEUE1`, 24-byte record headers, no tag. */
  function formatOneSegment(firstSeq: number, payloads: Buffer[], appendedAt: number): Buffer {
    const records = payloads.map((payload, i) => {
      const record = Buffer.alloc(24 + payload.length);
      record.writeUInt32LE(payload.length, 0);
      record.writeBigUInt64LE(BigInt(firstSeq + i), 8);
      record.writeBigUInt64LE(BigInt(appendedAt), 16);
      payload.copy(record, 24);
      record.writeUInt32LE(crc32(record.subarray(8)), 4);
      return record;
    });
    return Buffer.concat([Buffer.from('CSQUEUE1', 'latin1'), ...records]);
  }

  it('reads a queue written before records had tags (tag 0), and appends after it in the current format', async () => {
    const dir = join(root, 'v1');
    mkdirSync(dir);
    const old = [1, 2, 3].map((seq) => queuePayload(seq));
    writeFileSync(join(dir, segmentFileName(1)), formatOneSegment(1, old, Date.now()));
    const open = () =>
      new FileDiskQueue({
        dir,
        maxBytes: 16 * 1024 * 1024,
        maxAgeMs: 86_400_000,
        fsync: 'never',
        fsyncIntervalMs: 1000,
      });

    const queue = open();
    await queue.start();
    try {
      assert.equal(queue.lastSeq, 3);
      assert.equal(queue.stats().corrupt, 0);
      assert.equal(await queue.append((seq) => queuePayload(seq), 2), 4);
    } finally {
      await queue.stop();
    }
    const segments = readdirSync(dir)
      .filter((n) => n.endsWith('.seg'))
      .sort();
    assert.deepEqual(
      segments,
      [segmentFileName(1), segmentFileName(4)],
      'the old segment is not appended to',
    );
    assert.equal(
      readFileSync(join(dir, segmentFileName(4)))
        .subarray(0, 8)
        .toString('latin1'),
      'CSQUEUE2',
    );

    const reopened = open();
    await reopened.start();
    try {
      const records = await reopened.read(1, 10);
      assert.deepEqual(
        records.map((r) => [r.seq, r.tag]),
        [
          [1, 0],
          [2, 0],
          [3, 0],
          [4, 2],
        ],
      );
      for (const r of records) assert.ok(isQueuePayload(r.payload, r.seq), `record ${r.seq} intact`);
    } finally {
      await reopened.stop();
    }
  });
});
