import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { DiskQueue } from '../../agent/queue/disk-queue.js';
import type { FsyncPolicy } from '../../agent/queue/config.js';
import { BusyError } from '../../shared/errors.js';
import { isQueuePayload, queuePayload } from '../helpers/queue-payload.js';

export interface DiskQueueSettings {
  maxBytes?: number;
  maxAgeMs?: number;
  segmentBytes?: number;
  fsync?: FsyncPolicy;
  now?: () => number;
}

/** How the suite reaches one implementation. */
export interface DiskQueueUnderTest {
  /** A new, not yet started queue on `dir`; defaults: generous bounds, `fsync: interval`. */
  open(dir: string, settings?: DiskQueueSettings): DiskQueue;
  /**
   * A script (run with `node --import tsx <script> <dir> <payload bytes>`) that
   * opens the queue on `dir` with `fsync: always`, prints `open <lastSeq>`,
   * then appends `queuePayload(seq, bytes)` forever, printing each seq once
   * its append resolved.
   */
  writerScript: string;
  /** The files holding records, oldest first, to damage them. */
  segmentFiles(dir: string): string[];
}

const PAYLOAD = 200;

/**
 * The contract every DiskQueue implementation passes: sequence numbers that
 * continue across restarts and are never reused, in-order reads, confirmed
 * records released and the position kept across restarts, both bounds
 * dropping the oldest (counted), single ownership, survival of SIGKILL
 * mid-write, and recovery from torn and corrupted records.
 */
export function diskQueueContract(name: string, impl: DiskQueueUnderTest): void {
  describe(`DiskQueue contract: ${name}`, () => {
    const root = mkdtempSync(join(tmpdir(), 'cloudsense-queue-contract-'));
    let n = 0;
    const opened: DiskQueue[] = [];
    const newDir = () => join(root, `q${++n}`);
    afterEach(async () => {
      for (const q of opened.splice(0)) await q.stop();
    });
    after(() => rmSync(root, { recursive: true, force: true }));

    async function started(dir: string, settings?: DiskQueueSettings): Promise<DiskQueue> {
      const queue = impl.open(dir, settings);
      opened.push(queue);
      await queue.start();
      return queue;
    }
    async function appendMany(queue: DiskQueue, count: number): Promise<number[]> {
      const seqs: number[] = [];
      for (let i = 0; i < count; i++) seqs.push(await queue.append((seq) => queuePayload(seq, PAYLOAD)));
      return seqs;
    }
    async function readAll(queue: DiskQueue, from = 1) {
      return queue.read(from, Number.MAX_SAFE_INTEGER);
    }
    function assertIntact(records: Array<{ seq: number; payload: Buffer }>): void {
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        assert.ok(isQueuePayload(r.payload, r.seq, PAYLOAD), `record ${r.seq} comes back as written`);
        if (i > 0) assert.ok(r.seq > records[i - 1]!.seq, 'records come back in order');
      }
    }

    it('numbers records from 1, reads them back in order, and continues the numbers after a restart', async () => {
      const dir = newDir();
      const first = await started(dir);
      assert.equal(first.lastSeq, 0);
      assert.deepEqual(await appendMany(first, 5), [1, 2, 3, 4, 5]);
      const slice = await first.read(2, 3);
      assert.deepEqual(
        slice.map((r) => r.seq),
        [2, 3, 4],
      );
      assertIntact(slice);
      assert.deepEqual(await first.read(6, 10), []);
      await first.stop();
      await first.stop();

      const second = await started(dir);
      assert.equal(second.lastSeq, 5);
      assert.deepEqual(await appendMany(second, 2), [6, 7]);
      const all = await readAll(second);
      assert.deepEqual(
        all.map((r) => r.seq),
        [1, 2, 3, 4, 5, 6, 7],
      );
      assertIntact(all);
      const stats = second.stats();
      assert.equal(stats.accepted, 2);
      assert.equal(stats.written, 2);
      assert.equal(stats.pending, 7);
    });

    it('keeps each record’s tag, across a restart too, and refuses a tag outside 0..255', async () => {
      const dir = newDir();
      const first = await started(dir);
      const tags = [0, 1, 2, 255, 1];
      for (const tag of tags) await first.append((seq) => queuePayload(seq, PAYLOAD), tag);
      await first.append((seq) => queuePayload(seq, PAYLOAD));
      await assert.rejects(
        first.append((seq) => queuePayload(seq, PAYLOAD), 256),
        RangeError,
      );
      const expected = [...tags, 0];
      assert.deepEqual(
        (await readAll(first)).map((r) => r.tag),
        expected,
      );
      await first.stop();
      const second = await started(dir);
      const all = await readAll(second);
      assertIntact(all);
      assert.deepEqual(
        all.map((r) => r.tag),
        expected,
      );
    });

    it('can be stopped before it was started', async () => {
      const queue = impl.open(newDir());
      await queue.stop();
      await queue.stop();
    });

    it('releases confirmed records, keeps the confirmed position across a restart, and never reuses numbers', async () => {
      const dir = newDir();
      const queue = await started(dir, { segmentBytes: 1024 });
      await appendMany(queue, 20);
      const before = queue.stats();
      await queue.confirm(12);
      await queue.confirm(7); // confirmations never go back
      const after = queue.stats();
      assert.equal(queue.confirmedSeq, 12);
      assert.equal(after.confirmed, 12);
      assert.equal(after.pending, 8);
      assert.ok(after.bytes < before.bytes, 'whole confirmed segments are deleted');
      assert.ok((await readAll(queue, 13)).every((r) => r.seq >= 13));
      await queue.confirm(20);
      await queue.stop();

      const reopened = await started(dir, { segmentBytes: 1024 });
      assert.equal(reopened.confirmedSeq, 20);
      assert.equal(reopened.lastSeq, 20);
      assert.equal(reopened.stats().pending, 0);
      assert.deepEqual(await readAll(reopened, 21), []);
      assert.deepEqual(await appendMany(reopened, 1), [21]);
    });

    it('moves its numbers past a confirmation above anything it assigned', async () => {
      const dir = newDir();
      const queue = await started(dir);
      await appendMany(queue, 3);
      await queue.confirm(40);
      assert.equal(queue.lastSeq, 40);
      assert.equal(queue.stats().pending, 0);
      assert.deepEqual(await appendMany(queue, 2), [41, 42]);
      await queue.stop();
      const reopened = await started(dir);
      assert.deepEqual(
        (await readAll(reopened, 41)).map((r) => r.seq),
        [41, 42],
      );
      assert.deepEqual(await appendMany(reopened, 1), [43]);
    });

    it('drops the oldest records past its size bound, counts them, and reads on from the oldest kept', async () => {
      const queue = await started(newDir(), { maxBytes: 8 * 1024, segmentBytes: 1024 });
      await appendMany(queue, 200);
      const stats = queue.stats();
      assert.ok(stats.bytes <= 8 * 1024, `${stats.bytes} bytes on disk`);
      assert.ok(stats.dropped > 100, `${stats.dropped} dropped`);
      assert.equal(stats.dropped + stats.pending, 200);
      const kept = await readAll(queue);
      assert.equal(kept.length, stats.pending);
      assert.equal(kept.at(-1)!.seq, 200, 'the newest are kept');
      assert.equal(kept[0]!.seq, 200 - kept.length + 1, 'what is kept is contiguous');
      assertIntact(kept);
    });

    it('drops records older than its age bound, counted, and keeps the numbers going', async () => {
      let now = Date.UTC(2026, 0, 1);
      const dir = newDir();
      const queue = await started(dir, { maxAgeMs: 60_000, segmentBytes: 1024, now: () => now });
      await appendMany(queue, 10);
      now += 61_000;
      await appendMany(queue, 1);
      const stats = queue.stats();
      assert.equal(stats.dropped, 10);
      assert.deepEqual(
        (await readAll(queue)).map((r) => r.seq),
        [11],
      );
      await queue.stop();
      // Everything, even the newest segment, ages out while the agent is down; the numbers survive it.
      now += 61_000;
      const reopened = await started(dir, { maxAgeMs: 60_000, segmentBytes: 1024, now: () => now });
      assert.deepEqual(await readAll(reopened), []);
      assert.deepEqual(await appendMany(reopened, 1), [12]);
    });

    it('refuses a second owner while the first has it open', async () => {
      const dir = newDir();
      await started(dir);
      await assert.rejects(impl.open(dir).start(), BusyError);
    });

    it('reopens cleanly after SIGKILL mid-write, with every record it reported durable intact and in order', async () => {
      const dir = newDir();
      const bytes = 16 * 1024;
      const durable: number[] = [];
      const writer = spawn(process.execPath, ['--import', 'tsx', impl.writerScript, dir, String(bytes)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<void>((resolve) => writer.on('exit', () => resolve()));
      let rest = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`writer reported ${durable.length} records`)),
          30_000,
        );
        writer.stdout.setEncoding('utf8');
        writer.stdout.on('data', (chunk: string) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop()!;
          for (const line of lines) if (/^\d+$/.test(line)) durable.push(Number(line));
          if (durable.length >= 150) {
            clearTimeout(timer);
            writer.kill('SIGKILL');
            resolve();
          }
        });
        writer.on('exit', () => reject(new Error(`writer exited early after ${durable.length} records`)));
      });
      await exited;

      const queue = await started(dir);
      const records = await queue.read(1, Number.MAX_SAFE_INTEGER);
      const last = durable.at(-1)!;
      assert.deepEqual(
        durable,
        Array.from({ length: durable.length }, (_, i) => i + 1),
      );
      // The append in progress at the kill may or may not have made it; nothing before it is lost.
      assert.ok(records.length === last || records.length === last + 1, `${records.length} records`);
      assert.deepEqual(
        records.map((r) => r.seq),
        Array.from({ length: records.length }, (_, i) => i + 1),
      );
      for (const r of records) assert.ok(isQueuePayload(r.payload, r.seq, bytes), `record ${r.seq} intact`);
      assert.equal(queue.lastSeq, records.length);
      assert.equal(await queue.append((seq) => queuePayload(seq, PAYLOAD)), records.length + 1);
    });

    it('cuts off a torn last record and keeps everything before it', async () => {
      const dir = newDir();
      const queue = await started(dir, { segmentBytes: 1024 });
      await appendMany(queue, 12);
      await queue.stop();
      const files = impl.segmentFiles(dir);
      const newest = files.at(-1)!;
      const size = readFileSync(newest).length;
      truncateSync(newest, size - 7);

      const reopened = await started(dir, { segmentBytes: 1024 });
      assert.equal(reopened.stats().corrupt, 1);
      const records = await readAll(reopened);
      assert.deepEqual(
        records.map((r) => r.seq),
        Array.from({ length: 11 }, (_, i) => i + 1),
      );
      assertIntact(records);
      // The cut record's number is not handed out again.
      assert.equal(await reopened.append((seq) => queuePayload(seq, PAYLOAD)), 13);
    });

    it('opens despite flipped bytes in a segment: counts the bad record and keeps the good ones before it', async () => {
      const dir = newDir();
      const queue = await started(dir, { segmentBytes: 2048 });
      await appendMany(queue, 30);
      await queue.stop();
      const files = impl.segmentFiles(dir);
      assert.ok(files.length >= 2, 'the records span several segments');
      const damaged = files[0]!;
      const data = readFileSync(damaged);
      const at = Math.floor((data.length * 2) / 3);
      for (let i = at; i < at + 4; i++) data[i] = data[i]! ^ 0xff;
      writeFileSync(damaged, data);

      const reopened = await started(dir, { segmentBytes: 2048 });
      assert.equal(reopened.stats().corrupt, 1);
      const records = await readAll(reopened);
      assertIntact(records);
      const firstGap = records.findIndex((r, i) => r.seq !== i + 1);
      assert.ok(firstGap >= 1, 'the records before the damage are kept, from 1 on');
      assert.ok(records.length < 30, 'the damaged record is not returned');
      assert.equal(records.at(-1)!.seq, 30, 'later segments are untouched');
      assert.equal(await reopened.append((seq) => queuePayload(seq, PAYLOAD)), 31);
    });
  });
}
