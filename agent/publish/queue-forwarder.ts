import type { Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import type { DiskQueue } from '../queue/disk-queue.js';

/** Published records awaiting the broker's PUBACK, at most. */
export const DEFAULT_MAX_IN_FLIGHT = 32;
/** Published records awaiting the aggregator's confirmation before the forwarder waits. */
export const DEFAULT_MAX_UNCONFIRMED = 500;
/**
 * With published records unconfirmed and no confirmation for this long, ms,
 * the forwarder replays from the last confirmed number: the broker took them
 * but the aggregator did not store them (restarted, or an external broker
 * with no aggregator subscribed). Shorter than the aggregator's gap timeout,
 * so a replay can fill a hole before the aggregator gives up on it.
 */
export const DEFAULT_ACK_TIMEOUT_MS = 20_000;
/** Most records given new numbers when a re-installed host meets its old numbers (see `acknowledged`). */
const MAX_RENUMBERED = 2000;

export interface ForwarderOptions {
  queue: DiskQueue;
  /**
   * Publishes one payload; resolves when the broker acknowledged it (QoS 1).
   * `tag` is the record's tag from the queue: which topic the payload goes to.
   */
  send: (payload: Buffer, tag: number) => Promise<void>;
  /** The payload of a record under a new sequence number (the number is inside the payload). */
  renumber: (payload: Buffer, seq: number) => Uint8Array;
  maxInFlight?: number;
  maxUnconfirmed?: number;
  ackTimeoutMs?: number;
  log: Logger;
  now?: () => number;
}

export interface ForwarderStats {
  /** Records handed to the broker, replays included. */
  published: number;
  /** Times the forwarder went back to the last confirmed number (reconnects, confirmation timeouts). */
  replays: number;
  inFlight: number;
}

/**
 * Moves the host's messages from the disk queue to the broker, oldest
 * first, while connected: at most `maxInFlight` awaiting PUBACK and
 * `maxUnconfirmed` awaiting the aggregator's confirmation. After a reconnect, or when
 * confirmations stall, it replays from the last confirmed number; the
 * aggregator drops what it already has. The queue is trimmed only by the
 * aggregator's confirmations, never by PUBACKs.
 */
export class QueueForwarder {
  private online = false;
  private stopped = false;
  /** Next sequence number to publish. */
  private cursor = 1;
  private inFlight = 0;
  /** Published in this pass and not confirmed yet, oldest first. */
  private unconfirmed: number[] = [];
  /** Bumped on every replay and disconnect: completions of older sends are ignored. */
  private generation = 0;
  private pumping = false;
  private pumpAgain = false;
  private lastProgressAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly settledWaiters = new Set<() => void>();
  private readonly counts = { published: 0, replays: 0 };
  private readonly maxInFlight: number;
  private readonly maxUnconfirmed: number;
  private readonly ackTimeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ForwarderOptions) {
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.maxUnconfirmed = options.maxUnconfirmed ?? DEFAULT_MAX_UNCONFIRMED;
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  /** Call after the queue has started. */
  start(): void {
    this.cursor = this.options.queue.confirmedSeq + 1;
    this.lastProgressAt = this.now();
    this.timer = setInterval(() => this.checkStall(), Math.max(100, this.ackTimeoutMs / 4));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.online = false;
    this.generation++;
    clearInterval(this.timer);
    for (const wake of this.settledWaiters) wake();
  }

  /** The broker connection is up: replay from the last confirmed number. */
  connected(): void {
    if (this.stopped) return;
    this.online = true;
    this.replay();
  }

  /** The broker connection is down: stop publishing; what was in flight is replayed after the reconnect. */
  disconnected(): void {
    this.online = false;
    this.generation++;
    this.inFlight = 0;
  }

  /** A record was appended to the queue. */
  appended(): void {
    void this.pump();
  }

  /**
   * The aggregator has durably stored every number up to `seq`. A retained
   * confirmation above anything this queue ever assigned, arriving before the
   * queue's first confirmation, means the host id was used before (a
   * re-installed host, a wiped data dir): the aggregator would take this
   * queue's records for duplicates, so they are given numbers above `seq`.
   * Any other confirmation above the last assigned number (a tail lost in a
   * power cut after it was delivered) just moves the numbering past it.
   */
  async acknowledged(seq: number, retained: boolean): Promise<void> {
    const { queue, log } = this.options;
    if (this.stopped || seq <= queue.confirmedSeq) return;
    try {
      if (retained && queue.confirmedSeq === 0 && seq > queue.lastSeq) await this.renumber(seq);
      else {
        if (seq > queue.lastSeq) {
          log.warn(
            { confirmedSeq: seq, lastSeq: queue.lastSeq },
            'the aggregator confirmed numbers this queue no longer has (a lost unflushed tail); continuing above them',
          );
        }
        await queue.confirm(seq);
      }
    } catch (err) {
      log.error({ seq, err: errorMessage(err) }, 'cannot record a confirmation in the telemetry queue');
      return;
    }
    this.lastProgressAt = this.now();
    while (this.unconfirmed.length > 0 && this.unconfirmed[0]! <= seq) this.unconfirmed.shift();
    if (this.cursor <= seq) this.cursor = seq + 1;
    if (this.isSettled()) for (const wake of this.settledWaiters) wake();
    void this.pump();
  }

  /** True when everything appended so far is confirmed. */
  isSettled(): boolean {
    return this.options.queue.confirmedSeq >= this.options.queue.lastSeq;
  }

  /** Resolves true once everything appended so far is confirmed, false after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.isSettled()) return true;
    if (this.stopped) return false;
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.settledWaiters.delete(wake);
        resolve(value);
      };
      const wake = () => done(this.isSettled());
      const timer = setTimeout(() => done(false), timeoutMs);
      this.settledWaiters.add(wake);
    });
  }

  stats(): ForwarderStats {
    return { ...this.counts, inFlight: this.inFlight };
  }

  private replay(): void {
    this.generation++;
    this.inFlight = 0;
    this.unconfirmed = [];
    this.cursor = this.options.queue.confirmedSeq + 1;
    this.lastProgressAt = this.now();
    this.counts.replays++;
    void this.pump();
  }

  private checkStall(): void {
    if (!this.online || this.unconfirmed.length === 0) return;
    if (this.now() - this.lastProgressAt < this.ackTimeoutMs) return;
    this.options.log.warn(
      { fromSeq: this.options.queue.confirmedSeq + 1, waitedMs: this.now() - this.lastProgressAt },
      'no confirmation from the aggregator; replaying unconfirmed telemetry',
    );
    this.replay();
  }

  /** Publishes from the cursor while the connection and both windows allow. One runs at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.publishWhatFits();
      } while (this.pumpAgain);
    } catch (err) {
      this.options.log.error({ err: errorMessage(err) }, 'cannot read the telemetry queue');
    } finally {
      this.pumping = false;
    }
  }

  private async publishWhatFits(): Promise<void> {
    const { queue } = this.options;
    for (;;) {
      const room = Math.min(this.maxInFlight - this.inFlight, this.maxUnconfirmed - this.unconfirmed.length);
      if (!this.online || room <= 0 || this.cursor > queue.lastSeq) return;
      const generation = this.generation;
      const records = await queue.read(this.cursor, room);
      if (generation !== this.generation) continue;
      if (records.length === 0) {
        // Dropped by a bound, or damaged: nothing left at or after the cursor.
        this.cursor = queue.lastSeq + 1;
        return;
      }
      for (const record of records) {
        this.cursor = record.seq + 1;
        this.inFlight++;
        this.unconfirmed.push(record.seq);
        this.counts.published++;
        this.options.send(record.payload, record.tag).then(
          () => this.sendSettled(generation),
          (err: unknown) => {
            this.options.log.debug(
              { seq: record.seq, err: errorMessage(err) },
              'publish failed; will replay',
            );
            this.sendSettled(generation);
          },
        );
      }
    }
  }

  private sendSettled(generation: number): void {
    if (generation !== this.generation) return;
    this.inFlight--;
    void this.pump();
  }

  /** Gives the unconfirmed records numbers above `seq` (newest `MAX_RENUMBERED` at most), then confirms `seq`. */
  private async renumber(seq: number): Promise<void> {
    const { queue, log } = this.options;
    this.generation++;
    this.inFlight = 0;
    this.unconfirmed = [];
    const pending = queue.stats().pending;
    const from = Math.max(queue.confirmedSeq + 1, queue.lastSeq - MAX_RENUMBERED + 1);
    const records = await queue.read(from, MAX_RENUMBERED);
    // Confirming past every assigned number moves the numbering above `seq`; the copies follow.
    await queue.confirm(seq);
    for (const record of records) {
      await queue.append((next) => this.options.renumber(record.payload, next), record.tag);
    }
    log.warn(
      { aggregatorSeq: seq, renumbered: records.length, dropped: pending - records.length },
      'this host id has history at the aggregator from an earlier installation; queued telemetry renumbered above it',
    );
    this.cursor = seq + 1;
  }
}
