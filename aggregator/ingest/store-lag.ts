import { SEQUENCED_TOPIC_KINDS, topicKindOf, type SequencedMessage } from '../../shared/wire/sequenced.js';
import type { SequencedTopicKind } from '../../shared/wire/sequenced.js';

export interface StoreLagStats {
  /** Age of the oldest message handed to the writer and not yet stored, ms; 0 when none waits. */
  oldestUnwrittenAgeMs: number;
  /** Messages handed to the writer and not yet stored or dropped. */
  unwritten: number;
  /** Messages durably stored, by topic kind. */
  stored: Record<SequencedTopicKind, number>;
}

export interface StoreLagOptions {
  /** Called once per stored message with the time from its arrival to the end of its store write, ms. */
  onStored?: (latencyMs: number) => void;
  now?: () => number;
}

/**
 * How far the store is behind ingest: the arrival time of every message
 * between ingest and a finished store write. The writer's callbacks feed it
 * (every message it accepts is written or dropped), so it holds no more
 * than the writer's buffer.
 */
export class StoreLag {
  /** Arrival time per message, ms. A Map keeps insertion order: the first entry is the oldest waiting. */
  private readonly arrivals = new Map<SequencedMessage, number>();
  private readonly stored = Object.fromEntries(SEQUENCED_TOPIC_KINDS.map((k) => [k, 0])) as Record<
    SequencedTopicKind,
    number
  >;
  private readonly now: () => number;

  constructor(private readonly options: StoreLagOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** The message was handed to the writer. */
  accepted(message: SequencedMessage): void {
    this.arrivals.set(message, this.now());
  }

  /** The store's write of `batch` resolved. */
  written(batch: readonly SequencedMessage[]): void {
    const now = this.now();
    for (const message of batch) {
      this.stored[topicKindOf(message)]++;
      const arrival = this.arrivals.get(message);
      if (arrival === undefined) continue;
      this.arrivals.delete(message);
      this.options.onStored?.(now - arrival);
    }
  }

  /** The writer gave up on these messages (they are counted as dropped by the writer). */
  dropped(messages: readonly SequencedMessage[]): void {
    for (const message of messages) this.arrivals.delete(message);
  }

  stats(): StoreLagStats {
    const oldest = this.arrivals.values().next();
    return {
      oldestUnwrittenAgeMs: oldest.done ? 0 : Math.max(0, this.now() - oldest.value),
      unwritten: this.arrivals.size,
      stored: { ...this.stored },
    };
  }
}
