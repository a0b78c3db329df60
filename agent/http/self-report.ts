/**
 * What the agent knows about its own cycles, for `/healthz` and `/metrics`:
 * how many ran and how they ended, how long the last one took, and the
 * newest forecast of every resource. The agent notes these as it goes
 * (plain counters, no Prometheus objects), so the bookkeeping costs nothing
 * when the local endpoint is off.
 */
import type { SequencedMessage, SequencedTopicKind } from '../../shared/wire/sequenced.js';
import type { Prediction, PredictionsMessage } from '../../shared/wire/predictions.js';

/**
 * How a cycle ended: `ok`; `collection_failed`, the collector threw;
 * `telemetry_lost`, the sample could not be queued (disk full, queue closed).
 * A failed forecast does not fail the cycle (telemetry went out), it is
 * counted apart.
 */
export type CycleOutcome = 'ok' | 'collection_failed' | 'telemetry_lost';
export const CYCLE_OUTCOMES: readonly CycleOutcome[] = ['ok', 'collection_failed', 'telemetry_lost'];

export interface LastCycle {
  /** When it finished, Unix epoch ms. */
  at: number;
  durationMs: number;
  outcome: CycleOutcome;
}

export interface CycleStats {
  /** Finished cycles by outcome. */
  cycles: Record<CycleOutcome, number>;
  /** Cycles whose forecast step threw (their telemetry was still queued). */
  forecastFailures: number;
  last: LastCycle | undefined;
}

/** Called once per finished cycle: the Prometheus histogram observes here. */
export type CycleListener = (cycle: LastCycle) => void;

export class AgentSelfReport {
  private readonly counts: Record<CycleOutcome, number> = { ok: 0, collection_failed: 0, telemetry_lost: 0 };
  private forecastFailures = 0;
  private last: LastCycle | undefined;
  /** The running cycle's outcome when it is not `ok` (set by `telemetryLost`). */
  private current: CycleOutcome | undefined;
  /** Number of the running (or last) cycle, and of the cycle the forecasts below belong to. */
  private cycleNo = 0;
  private forecastsCycleNo = 0;
  private forecasts = new Map<string, Prediction>();
  private readonly listeners = new Set<CycleListener>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Runs one cycle and records it: a throw is a failed collection (the
   * cycle's other failures are caught inside it and noted through
   * `telemetryLost` / `forecastFailed`). The throw is passed on.
   */
  async cycle<T>(run: () => Promise<T>): Promise<T> {
    const started = this.now();
    this.cycleNo++;
    this.current = undefined;
    let outcome: CycleOutcome = 'collection_failed';
    try {
      const result = await run();
      outcome = this.current ?? 'ok';
      return result;
    } finally {
      this.finish(started, outcome);
    }
  }

  /** The running cycle's sample could not be queued. */
  telemetryLost(): void {
    this.current = 'telemetry_lost';
  }

  /** The running cycle's forecast step failed. */
  forecastFailed(): void {
    this.forecastFailures++;
  }

  /**
   * Notes a message as it is queued and hands it back, so the agent can
   * wrap its encoding: a predictions message updates the newest forecasts.
   */
  queued<M extends SequencedMessage>(kind: SequencedTopicKind, message: M): M {
    if (kind === 'predictions') {
      // A cycle's forecasts can span several messages; the first of a new cycle starts afresh,
      // so a resource that is gone (unmounted) leaves the report with its cycle.
      if (this.forecastsCycleNo !== this.cycleNo) {
        this.forecasts = new Map();
        this.forecastsCycleNo = this.cycleNo;
      }
      for (const p of (message as PredictionsMessage).predictions) this.forecasts.set(p.resource, p);
    }
    return message;
  }

  /** The newest cycle's forecast of each resource; empty when that cycle made none. */
  latestForecasts(): ReadonlyMap<string, Prediction> {
    return this.forecasts;
  }

  stats(): CycleStats {
    return { cycles: { ...this.counts }, forecastFailures: this.forecastFailures, last: this.last };
  }

  /** Adds a listener for finished cycles; returns its removal. */
  onCycle(listener: CycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private finish(started: number, outcome: CycleOutcome): void {
    const at = this.now();
    this.counts[outcome]++;
    this.last = { at, durationMs: at - started, outcome };
    // A cycle without forecasts (collection failed, no models) leaves none standing.
    if (this.forecastsCycleNo !== this.cycleNo) this.forecasts = new Map();
    for (const listener of this.listeners) listener(this.last);
  }
}
