import type { Logger } from '../../shared/log.js';
import { IMPORTED_SEQ } from '../../shared/wire/telemetry.js';

/** What the ledger reads of a message: its host and sequence number (telemetry, predictions or events alike). */
export interface Sequenced {
  readonly hostId: string;
  readonly seq: number;
}

/**
 * How long a hole below stored sequence numbers may stay open before it is
 * declared lost, ms. Longer than the agent's confirmation timeout (20 s), so
 * an agent replay can fill a hole the aggregator itself made (a message the
 * writer had to drop) before the aggregator gives up on it.
 */
export const DEFAULT_GAP_TIMEOUT_MS = 60_000;
/** Stored numbers above a hole remembered per host; past this the hole is declared lost at once. */
export const DEFAULT_MAX_AHEAD = 10_000;
/** Least time between two re-sent confirmations for a host that keeps sending what is confirmed, ms. */
const RECONFIRM_INTERVAL_MS = 1000;
/** How often open holes are checked against the timeout, ms. */
const SWEEP_INTERVAL_MS = 5000;

export interface SequenceLedgerOptions {
  /** Called with a host's highest contiguous stored sequence number, to publish as its acknowledgement. */
  onConfirmed: (hostId: string, seq: number) => void;
  gapTimeoutMs?: number;
  maxAhead?: number;
  log: Logger;
  now?: () => number;
}

export interface SequenceLedgerStats {
  /** Sequence numbers declared lost: holes that stayed open past the gap timeout. */
  missing: number;
  hosts: number;
}

/** One host's position. Every number ≤ `confirmed` is stored (or was declared lost). */
interface HostLedger {
  hostId: string;
  confirmed: number;
  /** Admitted and handed to the writer, not stored yet. */
  pending: Set<number>;
  /** Stored, above a hole (`confirmed + 1` is missing). */
  ahead: Set<number>;
  /** When the current hole was first seen with nothing on its way to fill it. */
  holeSince: number | undefined;
  lastReconfirmAt: number;
}

/**
 * De-duplication and acknowledgement by (host, seq). A message whose number
 * is already stored, or on its way to the store, is a duplicate. Agents send
 * from their disk queue in order, so the numbers stored for a host normally
 * grow contiguously and `confirmed` (the acknowledgement) follows them. A
 * hole appears only when an agent's queue dropped or lost records, or when
 * the writer dropped some here; after `gapTimeoutMs` without the missing
 * numbers arriving, the hole is declared lost (counted in `missing`) and the
 * acknowledgement moves past it. Sequence number 0 (imported samples) is
 * never tracked: always admitted, never acknowledged.
 */
export class SequenceLedger {
  private readonly hosts = new Map<string, HostLedger>();
  private readonly counts = { missing: 0 };
  private readonly gapTimeoutMs: number;
  private readonly maxAhead: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SequenceLedgerOptions) {
    this.gapTimeoutMs = options.gapTimeoutMs ?? DEFAULT_GAP_TIMEOUT_MS;
    this.maxAhead = options.maxAhead ?? DEFAULT_MAX_AHEAD;
    this.now = options.now ?? Date.now;
  }

  /**
   * Takes the highest stored number per host from the store at start-up.
   * Rows are written in arrival order and agents send in order, so
   * everything below that number is stored too (or was declared lost).
   */
  restore(marks: ReadonlyMap<string, number>): void {
    for (const [hostId, seq] of marks) {
      const host = this.entry(hostId);
      host.confirmed = Math.max(host.confirmed, seq);
    }
  }

  /** Every host's acknowledgement, to announce after a restart. */
  confirmedMarks(): Array<[hostId: string, seq: number]> {
    return [...this.hosts.values()].filter((h) => h.confirmed > 0).map((h) => [h.hostId, h.confirmed]);
  }

  start(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True when the message should go to the store; false for a duplicate. */
  admit(message: Sequenced): boolean {
    if (message.seq === IMPORTED_SEQ) return true;
    const host = this.entry(message.hostId);
    const { seq } = message;
    if (seq <= host.confirmed) {
      // The agent has missed its acknowledgement (or replays after a reconnect): repeat it.
      const now = this.now();
      if (now - host.lastReconfirmAt >= RECONFIRM_INTERVAL_MS) {
        host.lastReconfirmAt = now;
        this.options.onConfirmed(host.hostId, host.confirmed);
      }
      return false;
    }
    if (host.pending.has(seq) || host.ahead.has(seq)) return false;
    host.pending.add(seq);
    return true;
  }

  /** The store's write of `batch` resolved: advance and acknowledge every host it covers. */
  stored(batch: readonly Sequenced[]): void {
    const touched = new Set<HostLedger>();
    for (const { hostId, seq } of batch) {
      if (seq === IMPORTED_SEQ) continue;
      const host = this.entry(hostId);
      host.pending.delete(seq);
      if (seq > host.confirmed) host.ahead.add(seq);
      touched.add(host);
    }
    for (const host of touched) {
      this.settle(host);
      if (host.confirmed > 0) this.options.onConfirmed(host.hostId, host.confirmed);
    }
  }

  /** The writer gave up on these messages: forget them, so a replay is taken again. */
  lost(messages: readonly Sequenced[]): void {
    const touched = new Set<HostLedger>();
    for (const { hostId, seq } of messages) {
      const host = this.hosts.get(hostId);
      if (seq === IMPORTED_SEQ || !host) continue;
      host.pending.delete(seq);
      touched.add(host);
    }
    for (const host of touched) this.settle(host);
  }

  /** Declares holes lost that stayed open past the timeout, and acknowledges past them. */
  sweep(): void {
    for (const host of this.hosts.values()) {
      if (host.holeSince === undefined) continue;
      const before = host.confirmed;
      this.settle(host);
      if (host.confirmed > before) this.options.onConfirmed(host.hostId, host.confirmed);
    }
  }

  stats(): SequenceLedgerStats {
    return { ...this.counts, hosts: this.hosts.size };
  }

  /** Moves `confirmed` over every stored number, and past a hole that has waited long enough. */
  private settle(host: HostLedger): void {
    for (;;) {
      while (host.ahead.delete(host.confirmed + 1)) host.confirmed++;
      if (host.ahead.size === 0 || host.pending.has(host.confirmed + 1)) {
        host.holeSince = undefined;
        return;
      }
      const now = this.now();
      host.holeSince ??= now;
      if (host.ahead.size <= this.maxAhead && now - host.holeSince < this.gapTimeoutMs) return;
      this.closeHole(host);
      host.holeSince = now;
    }
  }

  private closeHole(host: HostLedger): void {
    let lowest = Infinity;
    for (const seq of host.ahead) lowest = Math.min(lowest, seq);
    // Numbers in the hole that are on their way to the store are not missing.
    let missing = lowest - host.confirmed - 1;
    for (const seq of host.pending) if (seq > host.confirmed && seq < lowest) missing--;
    this.counts.missing += missing;
    this.options.log.warn(
      { hostId: host.hostId, fromSeq: host.confirmed + 1, toSeq: lowest - 1, missing },
      'sequence numbers never arrived; counted as missing and acknowledged past',
    );
    host.confirmed = lowest - 1;
  }

  private entry(hostId: string): HostLedger {
    let host = this.hosts.get(hostId);
    if (!host) {
      host = {
        hostId,
        confirmed: 0,
        pending: new Set(),
        ahead: new Set(),
        holeSince: undefined,
        lastReconfirmAt: -Infinity,
      };
      this.hosts.set(hostId, host);
    }
    return host;
  }
}
