import type { Logger } from '../../shared/log.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import type { SequencedMessage } from '../../shared/wire/sequenced.js';
import { STORE_REJECTED_DATA, type TelemetryStore } from './telemetry-store.js';

export interface BatchingWriterOptions {
  /** Messages per store write; a full batch is written at once. */
  batchSize: number;
  /** Longest a message waits in the buffer before a write, milliseconds. */
  flushIntervalMs: number;
  /** Buffer bound, messages; past it the oldest are dropped and counted. */
  maxBuffered: number;
  log: Logger;
  /** Called after each store write resolved, with what it wrote (now durably stored). */
  onWritten?: (batch: readonly SequencedMessage[]) => void;
  /** Called with messages the writer gives up on (buffer bound, or still unwritten at stop). */
  onDropped?: (messages: readonly SequencedMessage[]) => void;
  /**
   * Called with messages the store refused as data it can never take
   * (STORE_REJECTED_DATA): settled, never retried.
   */
  onRejected?: (messages: readonly SequencedMessage[]) => void;
}

export interface BatchingWriterStats {
  accepted: number;
  written: number;
  dropped: number;
  /** Messages the store refused as data it can never take. */
  rejected: number;
  failedWrites: number;
  buffered: number;
}

/** Longest pause between retries while the store refuses writes, milliseconds. */
const MAX_RETRY_DELAY_MS = 30_000;
/** Rejected messages named in the log line, host#seq. */
const REJECTED_NAMED = 5;

/**
 * The one place that makes store writes reliable: batches messages by size
 * and time, retries failed writes with back-off while keeping the batch, and
 * bounds its buffer. A batch the store refuses for its data
 * (STORE_REJECTED_DATA, e.g. an InfluxDB field type conflict) is halved until
 * the messages at fault are found: those are rejected, logged and counted,
 * the rest is written, and nothing blocks the messages behind them. Every
 * other failure (the store down, credentials refused) keeps the batch for a
 * retry. Everything it accepts is written, rejected, or counted as dropped.
 */
export class BatchingWriter {
  private buffer: SequencedMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private retryDelayMs = 0;
  private stopped = false;
  private readonly counts = { accepted: 0, written: 0, dropped: 0, rejected: 0, failedWrites: 0 };

  constructor(
    private readonly store: TelemetryStore,
    private readonly options: BatchingWriterOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.options.flushIntervalMs);
  }

  write(message: SequencedMessage): void {
    this.counts.accepted++;
    this.buffer.push(message);
    this.enforceBound();
    if (this.buffer.length >= this.options.batchSize && !this.flushing && this.retryDelayMs === 0) {
      void this.flush();
    }
  }

  /** Writes everything buffered; resolves when done or when a write failed (it will be retried). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.batchSize);
      const failure = await this.writeBatch(batch);
      if (failure) {
        this.buffer.unshift(...failure.unwritten);
        this.enforceBound();
        this.counts.failedWrites++;
        this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(500, this.retryDelayMs * 2));
        this.options.log.warn(
          { err: errorMessage(failure.err), buffered: this.buffer.length, retryInMs: this.retryDelayMs },
          'store write failed; keeping the batch and retrying',
        );
        this.schedule(this.retryDelayMs);
        return;
      }
      this.retryDelayMs = 0;
    }
  }

  /**
   * Writes `batch` in order, halving the parts the store refuses for their
   * data until the messages at fault are alone, and rejecting those. On any
   * other failure, returns it with the messages not written yet, in order.
   */
  private async writeBatch(
    batch: SequencedMessage[],
  ): Promise<{ err: unknown; unwritten: SequencedMessage[] } | undefined> {
    const parts = [batch];
    const rejected: SequencedMessage[] = [];
    let reason = '';
    try {
      while (parts.length > 0) {
        const part = parts[0]!;
        try {
          await this.store.write(part);
        } catch (err) {
          if (!(err instanceof CloudSenseError && err.code === STORE_REJECTED_DATA)) {
            return { err, unwritten: parts.flat() };
          }
          parts.shift();
          if (part.length === 1) {
            rejected.push(part[0]!);
            reason = err.message;
          } else {
            const half = Math.ceil(part.length / 2);
            parts.unshift(part.slice(0, half), part.slice(half));
          }
          continue;
        }
        parts.shift();
        this.counts.written += part.length;
        this.options.onWritten?.(part);
      }
      return undefined;
    } finally {
      if (rejected.length > 0) this.reject(rejected, reason);
    }
  }

  private reject(messages: SequencedMessage[], reason: string): void {
    this.counts.rejected += messages.length;
    this.options.log.error(
      {
        rejected: messages.length,
        messages: messages.slice(0, REJECTED_NAMED).map((m) => `${m.hostId}#${m.seq}`),
        err: reason,
      },
      'the store refused these messages as data it can never take; they are dropped',
    );
    this.options.onRejected?.(messages);
  }

  private enforceBound(): void {
    const excess = this.buffer.length - this.options.maxBuffered;
    if (excess <= 0) return;
    const lost = this.buffer.splice(0, excess);
    this.counts.dropped += excess;
    this.options.onDropped?.(lost);
    this.options.log.error({ dropped: excess }, 'write buffer full; oldest messages dropped');
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.flush().finally(() => {
        if (this.retryDelayMs === 0) this.schedule(this.options.flushIntervalMs);
      });
    }, ms);
  }

  /** Stops the timer and writes what is buffered; what still fails to write is counted as dropped. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flushing;
    this.retryDelayMs = 0;
    await this.flush();
    if (this.buffer.length > 0) {
      this.counts.dropped += this.buffer.length;
      this.options.log.error({ lost: this.buffer.length }, 'stopping with messages the store did not accept');
      this.options.onDropped?.(this.buffer);
      this.buffer = [];
    }
  }

  stats(): BatchingWriterStats {
    return { ...this.counts, buffered: this.buffer.length };
  }
}
