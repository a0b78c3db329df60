/**
 * The ground truth: when each resource of each virtual host was exhausted,
 * by the same definitions (threshold, sustain, horizon) the models are
 * trained and evaluated on. One event per line of `ground-truth.jsonl`.
 */
import type { ResourceKind } from '../../shared/resources/index.js';

export interface ExhaustionEvent {
  hostId: string;
  /** Canonical resource id, e.g. `memory`, `filesystem:%2Fvar%2Flog`. */
  resource: string;
  kind: ResourceKind;
  /** For filesystem and inode resources. */
  mountpoint?: string;
  /** The definition the event was judged by. */
  threshold: number;
  sustainMs: number;
  horizonMs: number;
  /** Time of the first sample at or over the threshold, Unix epoch ms. */
  startMs: number;
  /** When the definition was met: `startMs + sustainMs`. */
  exhaustedAtMs: number;
  /** Time of the first sample back under the threshold; null when still exhausted as the simulation ended. */
  endMs: number | null;
  /** Highest utilisation during the event, 0..1. */
  peak: number;
  /** The workload that drove the resource when the event began (`os` for the host's baseline). */
  cause: string;
  /** Always false: the simulator runs no remediation; every reset is part of a workload. */
  remediated: false;
}
