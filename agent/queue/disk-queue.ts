import { mkdir, open, readdir, readFile, rm, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { readCheckpoint, syncDirectory, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import type { FsyncPolicy } from './config.js';
import { lockQueueDirectory } from './queue-lock.js';
import {
  SEGMENT_FILE_PATTERN,
  SEGMENT_FORMAT,
  SEGMENT_MAGIC_BYTES,
  type SegmentFormat,
  decodeRecord,
  encodeRecord,
  scanSegment,
  segmentFileName,
} from './record-format.js';

/** One queued message as read back. */
export interface QueueRecord {
  seq: number;
  /** When it was appended, Unix epoch ms. */
  appendedAt: number;
  /** The tag given to `append` (0 for records from before tags existed). */
  tag: number;
  payload: Buffer;
}

export interface DiskQueueStats {
  /** `append` calls. */
  accepted: number;
  /** Records written to a segment file. */
  written: number;
  /** Records lost before the aggregator confirmed them: size or age bound, or a failed write. */
  dropped: number;
  /** Records the aggregator confirmed (and the queue may delete). */
  confirmed: number;
  /** Damaged records found and cut off when opening, plus any that failed their CRC on reading. */
  corrupt: number;
  /** Records on disk not confirmed yet. */
  pending: number;
  /** Bytes of all segment files. */
  bytes: number;
  segments: number;
  /** Highest sequence number assigned so far (0 before the first). */
  lastSeq: number;
  /** Highest sequence number the aggregator has confirmed (0 before the first confirmation). */
  confirmedSeq: number;
}

/**
 * A durable FIFO of the host's messages (telemetry, predictions, events)
 * that owns the per-host sequence numbers: each appended record gets the
 * next number (continuing across restarts, never reused), records are read
 * back in order, and are deleted only once confirmed — or dropped, oldest
 * first and counted, when a bound is hit.
 * Every implementation passes test/contract/disk-queue.contract.ts.
 */
export interface DiskQueue {
  /** Opens the queue and recovers its state; fails when another process holds it. */
  start(): Promise<void>;
  /** Flushes and closes; safe to call twice and before start. */
  stop(): Promise<void>;
  /**
   * Appends one record under the next sequence number, which `encode`
   * receives (so the payload can carry it). Resolves with that number once
   * the record is written, and flushed to disk under `fsync: always`.
   * `tag` (0..255, default 0) is kept with the record and handed back by
   * `read`: what the payload is, for its reader (the queue does not look).
   */
  append(encode: (seq: number) => Uint8Array, tag?: number): Promise<number>;
  /** Up to `maxRecords` records with seq ≥ `fromSeq`, in order (dropped ones are skipped). */
  read(fromSeq: number, maxRecords: number): Promise<QueueRecord[]>;
  /**
   * Marks every record up to `seq` as delivered; segments holding only
   * confirmed records are deleted. A `seq` above the last assigned number
   * moves the next number above it too: those numbers are taken elsewhere
   * (a lost unflushed tail, a re-installed host) and must not be reused.
   * Calls after stop are ignored.
   */
  confirm(seq: number): Promise<void>;
  /** Highest sequence number assigned so far. */
  readonly lastSeq: number;
  /** Highest sequence number confirmed so far. */
  readonly confirmedSeq: number;
  stats(): DiskQueueStats;
}

export interface FileDiskQueueOptions {
  dir: string;
  /** Bound on the bytes of all segments; the oldest segments are dropped past it. */
  maxBytes: number;
  /** Segments whose newest record is older than this are dropped, ms. */
  maxAgeMs: number;
  fsync: FsyncPolicy;
  /** Time between flushes under `fsync: interval`, ms. */
  fsyncIntervalMs: number;
  /** Size at which a new segment file is started. Default: maxBytes ÷ 8, within 4 KiB..16 MiB. */
  segmentBytes?: number;
  log?: Logger | undefined;
  now?: () => number;
}

/**
 * Least time between two checkpoint writes when nothing forces one, ms. A
 * stale confirmed position only means a few confirmed records are replayed
 * after a crash (the aggregator drops them), so it is not worth a flush per
 * acknowledgement. Deleting a segment, the first confirmation and a jump in
 * the numbering write it at once.
 */
const CHECKPOINT_PERIOD_MS = 10_000;
/** Timer period when the fsync policy does not set one: checkpoint and age bound, ms. */
const HOUSEKEEPING_PERIOD_MS = 1000;

/** A segment file in memory: where each record starts. Record i has seq `firstSeq + i`. */
interface Segment {
  firstSeq: number;
  path: string;
  /** Record layout; only segments in the current format are appended to. */
  format: SegmentFormat;
  offsets: number[];
  bytes: number;
  newestAppendedAt: number;
}

function lastSeqOf(segment: Segment): number {
  return segment.firstSeq + segment.offsets.length - 1;
}

/**
 * The disk queue as append-only segment files (format in record-format.ts)
 * plus a checkpoint file with the confirmed position and the last assigned
 * number. Opening scans every segment and cuts each one off at its first
 * torn or corrupt record. All operations run one at a time.
 */
export class FileDiskQueue implements DiskQueue {
  private segments: Segment[] = [];
  private totalBytes = 0;
  private active: { segment: Segment; handle: FileHandle } | undefined;
  /** Appended since the last flush of the active segment. */
  private unsynced = false;
  private checkpointStale = false;
  private lastCheckpointAt = 0;
  private nextSeq = 1;
  private confirmed = 0;
  private state: 'new' | 'open' | 'stopping' | 'stopped' = 'new';
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private unlock: (() => Promise<void>) | undefined;
  private readonly counts = { accepted: 0, written: 0, dropped: 0, confirmed: 0, corrupt: 0 };
  private readonly segmentBytes: number;
  private readonly now: () => number;

  constructor(private readonly options: FileDiskQueueOptions) {
    this.segmentBytes =
      options.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(4096, Math.floor(options.maxBytes / 8)));
    this.now = options.now ?? Date.now;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get confirmedSeq(): number {
    return this.confirmed;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    const { dir } = this.options;
    await mkdir(dir, { recursive: true });
    this.unlock = await lockQueueDirectory(dir);
    try {
      await this.recover();
      this.state = 'open';
      await this.exclusive(() => this.enforceBounds());
    } catch (err) {
      await this.unlock();
      this.state = 'stopped';
      throw err;
    }
    const period = this.options.fsync === 'interval' ? this.options.fsyncIntervalMs : HOUSEKEEPING_PERIOD_MS;
    this.timer = setInterval(() => void this.exclusive(() => this.housekeeping()), period);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.state !== 'open') {
      if (this.state === 'new') this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    clearInterval(this.timer);
    try {
      await this.exclusive(async () => {
        await this.closeActive();
        await this.writeCheckpoint();
      });
    } finally {
      this.state = 'stopped';
      await this.unlock?.();
    }
  }

  append(encode: (seq: number) => Uint8Array, tag = 0): Promise<number> {
    return this.exclusive(async () => {
      this.requireOpen();
      this.counts.accepted++;
      const now = this.now();
      await this.dropExpired(now);
      const seq = this.nextSeq;
      let record: Buffer;
      try {
        record = encodeRecord(seq, now, encode(seq), tag);
      } catch (err) {
        this.counts.dropped++;
        throw err;
      }
      const { segment, handle } = await this.activeFor(record.length).catch((err: unknown) => {
        this.counts.dropped++;
        const message = `cannot start a queue segment in ${this.options.dir}: ${errorMessage(err)}`;
        throw new CloudSenseError('QUEUE_WRITE_FAILED', message, { cause: err });
      });
      try {
        await writeFully(handle, record, segment.bytes);
      } catch (err) {
        this.counts.dropped++;
        await this.discardPartialWrite(segment);
        const message = `cannot write to the queue in ${this.options.dir}: ${errorMessage(err)}`;
        throw new CloudSenseError('QUEUE_WRITE_FAILED', message, { cause: err });
      }
      segment.offsets.push(segment.bytes);
      segment.bytes += record.length;
      segment.newestAppendedAt = now;
      this.totalBytes += record.length;
      this.nextSeq = seq + 1;
      this.counts.written++;
      this.unsynced = true;
      if (this.options.fsync === 'always') await this.syncActive();
      await this.enforceBounds();
      return seq;
    });
  }

  read(fromSeq: number, maxRecords: number): Promise<QueueRecord[]> {
    return this.exclusive(async () => {
      this.requireOpen();
      const out: QueueRecord[] = [];
      for (const segment of this.segments) {
        if (out.length >= maxRecords) break;
        const count = segment.offsets.length;
        if (count === 0 || lastSeqOf(segment) < fromSeq) continue;
        const start = Math.max(fromSeq, segment.firstSeq) - segment.firstSeq;
        const end = Math.min(count, start + maxRecords - out.length);
        const from = segment.offsets[start]!;
        const to = end < count ? segment.offsets[end]! : segment.bytes;
        const data = await this.readRange(segment, from, to);
        for (let i = start; i < end; i++) {
          const record = decodeRecord(data, segment.offsets[i]! - from, segment.format);
          if (record) out.push(record);
          else this.counts.corrupt++;
        }
      }
      return out;
    });
  }

  confirm(seq: number): Promise<void> {
    return this.exclusive(async () => {
      if (!this.usable || seq <= this.confirmed) return;
      const firstEver = this.confirmed === 0;
      const last = this.lastSeq;
      this.counts.confirmed += this.countStored(this.confirmed + 1, Math.min(seq, last));
      this.confirmed = seq;
      let persistNow = firstEver;
      if (seq > last) {
        // Numbers up to `seq` are taken: continue above them, in a new segment (segments are contiguous).
        this.nextSeq = seq + 1;
        await this.closeActive();
        persistNow = true;
      }
      const releasable = this.segments.filter(
        (s) => lastSeqOf(s) <= this.confirmed && s !== this.active?.segment,
      );
      if (persistNow || releasable.length > 0) await this.writeCheckpoint();
      else this.checkpointStale = true;
      for (const segment of releasable) await this.deleteSegment(segment);
    });
  }

  stats(): DiskQueueStats {
    return {
      ...this.counts,
      pending: this.countStored(this.confirmed + 1, this.lastSeq),
      bytes: this.totalBytes,
      segments: this.segments.length,
      lastSeq: this.lastSeq,
      confirmedSeq: this.confirmed,
    };
  }

  /** Reads the checkpoint and every segment, cutting off damage, and works out the next number. */
  private async recover(): Promise<void> {
    const { dir, log } = this.options;
    let checkpoint: Checkpoint | undefined;
    try {
      checkpoint = await readCheckpoint(dir);
    } catch (err) {
      // Without it everything still on disk is replayed; the aggregator drops what it already has.
      log?.warn({ dir, err: errorMessage(err) }, 'queue checkpoint unreadable; replaying every record');
    }
    const names = (await readdir(dir)).sort();
    for (const name of names) if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
    let previousLast = 0;
    for (const name of names.filter((n) => SEGMENT_FILE_PATTERN.test(n))) {
      const path = join(dir, name);
      const data = await readFile(path);
      const scan = scanSegment(data, previousLast);
      if (scan.damage) {
        this.counts.corrupt++;
        log?.warn(
          {
            segment: path,
            damage: scan.damage,
            keptRecords: scan.offsets.length,
            cutBytes: data.length - scan.validBytes,
          },
          'damaged queue record; cut off the segment there',
        );
      }
      if (scan.firstSeq === undefined || !scan.format) {
        await unlink(path);
        continue;
      }
      if (scan.validBytes < data.length) await truncateDurably(path, scan.validBytes);
      const segment: Segment = {
        firstSeq: scan.firstSeq,
        path,
        format: scan.format,
        offsets: scan.offsets,
        bytes: scan.validBytes,
        newestAppendedAt: scan.newestAppendedAt,
      };
      this.segments.push(segment);
      this.totalBytes += segment.bytes;
      previousLast = lastSeqOf(segment);
    }
    this.confirmed = checkpoint?.confirmedSeq ?? 0;
    this.nextSeq = Math.max(previousLast, checkpoint?.lastSeq ?? 0, this.confirmed) + 1;
    // A crash between a checkpoint and the deletions it allowed leaves confirmed segments behind.
    for (const segment of this.segments.filter((s) => lastSeqOf(s) <= this.confirmed)) {
      await this.deleteSegment(segment);
    }
  }

  /** The segment to append a record of `bytes` to: the current one, the last one on disk, or a new one. */
  private async activeFor(bytes: number): Promise<{ segment: Segment; handle: FileHandle }> {
    if (this.active && this.active.segment.offsets.length > 0) {
      if (this.active.segment.bytes + bytes > this.segmentBytes) await this.closeActive();
    }
    if (this.active) return this.active;
    const last = this.segments.at(-1);
    if (
      last &&
      last.format === SEGMENT_FORMAT &&
      last.offsets.length > 0 &&
      lastSeqOf(last) + 1 === this.nextSeq &&
      last.bytes + bytes <= this.segmentBytes
    ) {
      this.active = { segment: last, handle: await open(last.path, 'r+') };
      return this.active;
    }
    const path = join(this.options.dir, segmentFileName(this.nextSeq));
    const handle = await open(path, 'w+');
    try {
      await writeFully(handle, SEGMENT_FORMAT.magic, 0);
      if (this.options.fsync !== 'never') {
        await handle.datasync();
        await syncDirectory(this.options.dir);
      }
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
      throw err;
    }
    const segment: Segment = {
      firstSeq: this.nextSeq,
      path,
      format: SEGMENT_FORMAT,
      offsets: [],
      bytes: SEGMENT_MAGIC_BYTES,
      newestAppendedAt: 0,
    };
    this.segments.push(segment);
    this.totalBytes += segment.bytes;
    this.active = { segment, handle };
    return this.active;
  }

  /** After a failed write: cut the segment back to its last whole record, or stop appending to it. */
  private async discardPartialWrite(segment: Segment): Promise<void> {
    try {
      await this.active?.handle.truncate(segment.bytes);
    } catch (err) {
      this.options.log?.error(
        { segment: segment.path, err: errorMessage(err) },
        'cannot cut a failed write off the queue segment; starting a new one',
      );
      await this.active?.handle.close().catch(() => undefined);
      this.active = undefined;
    }
  }

  private async syncActive(): Promise<void> {
    if (!this.active || !this.unsynced) return;
    this.unsynced = false;
    try {
      await this.active.handle.datasync();
    } catch (err) {
      this.unsynced = true;
      this.options.log?.error({ err: errorMessage(err) }, 'cannot flush the telemetry queue to disk');
    }
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    if (!active) return;
    if (this.options.fsync !== 'never') await this.syncActive();
    this.unsynced = false;
    this.active = undefined;
    await active.handle.close();
    if (active.segment.offsets.length === 0) await this.deleteSegment(active.segment);
  }

  /** Runs on a timer: flush (interval policy), persist a moved confirmed position, apply the age bound. */
  private async housekeeping(): Promise<void> {
    if (this.state !== 'open') return;
    try {
      if (this.options.fsync === 'interval') await this.syncActive();
      if (this.checkpointStale && this.now() - this.lastCheckpointAt >= CHECKPOINT_PERIOD_MS) {
        await this.writeCheckpoint();
      }
      await this.dropExpired(this.now());
    } catch (err) {
      this.options.log?.error({ err: errorMessage(err) }, 'telemetry queue housekeeping failed');
    }
  }

  private async enforceBounds(): Promise<void> {
    await this.dropExpired(this.now());
    // Never the newest segment: it holds what was just appended.
    while (this.totalBytes > this.options.maxBytes && this.segments.length > 1) {
      await this.dropOldest('size');
    }
  }

  private async dropExpired(now: number): Promise<void> {
    const cutoff = now - this.options.maxAgeMs;
    for (;;) {
      const oldest = this.segments[0];
      if (!oldest || oldest.offsets.length === 0 || oldest.newestAppendedAt >= cutoff) return;
      await this.dropOldest('age');
    }
  }

  /** Deletes the oldest segment, counting its unconfirmed records as dropped. */
  private async dropOldest(bound: 'size' | 'age'): Promise<void> {
    const oldest = this.segments[0]!;
    if (oldest === this.active?.segment) await this.closeActive();
    const lost = this.countIn(oldest, this.confirmed + 1, lastSeqOf(oldest));
    this.counts.dropped += lost;
    if (lost > 0) {
      this.options.log?.warn(
        {
          bound,
          dropped: lost,
          fromSeq: Math.max(oldest.firstSeq, this.confirmed + 1),
          toSeq: lastSeqOf(oldest),
          maxBytes: this.options.maxBytes,
          maxAgeMs: this.options.maxAgeMs,
        },
        'telemetry queue full; oldest unconfirmed telemetry dropped',
      );
    }
    // The checkpoint must know the last number before the segment holding it can go.
    await this.writeCheckpoint();
    await this.deleteSegment(oldest);
  }

  private async deleteSegment(segment: Segment): Promise<void> {
    await rm(segment.path, { force: true });
    const index = this.segments.indexOf(segment);
    if (index >= 0) {
      this.segments.splice(index, 1);
      this.totalBytes -= segment.bytes;
    }
  }

  private async writeCheckpoint(): Promise<void> {
    this.checkpointStale = false;
    this.lastCheckpointAt = this.now();
    await writeCheckpoint(
      this.options.dir,
      { version: 1, confirmedSeq: this.confirmed, lastSeq: this.lastSeq },
      this.options.fsync !== 'never',
    );
  }

  private async readRange(segment: Segment, from: number, to: number): Promise<Buffer> {
    const data = Buffer.alloc(to - from);
    const own = segment === this.active?.segment ? undefined : await open(segment.path, 'r');
    const handle = own ?? this.active!.handle;
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesRead } = await handle.read(data, done, data.length - done, from + done);
        if (bytesRead === 0)
          throw new CloudSenseError('QUEUE_READ_FAILED', `${segment.path} is shorter than expected`);
        done += bytesRead;
      }
    } finally {
      await own?.close();
    }
    return data;
  }

  /** Records on disk with seq in [from, to]. */
  private countStored(from: number, to: number): number {
    let n = 0;
    for (const segment of this.segments) n += this.countIn(segment, from, to);
    return n;
  }

  private countIn(segment: Segment, from: number, to: number): number {
    return Math.max(0, Math.min(to, lastSeqOf(segment)) - Math.max(from, segment.firstSeq) + 1);
  }

  /** Open, or stopping with operations queued before `stop` still to run. */
  private get usable(): boolean {
    return this.state === 'open' || this.state === 'stopping';
  }

  private requireOpen(): void {
    if (!this.usable) {
      throw new CloudSenseError('QUEUE_CLOSED', `the telemetry queue ${this.options.dir} is not open`);
    }
  }

  /** Runs `task` after every operation queued before it: the queue's state changes one step at a time. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

async function truncateDurably(path: string, bytes: number): Promise<void> {
  await truncate(path, bytes);
  const handle = await open(path, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
