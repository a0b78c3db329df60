/**
 * A workload: something running on a virtual host that asks for CPU,
 * memory, disk, inodes or descriptors over time. Each workload is one file
 * in this folder; a host runs a mix of them, chosen by its profile.
 *
 * Workloads are deterministic: their parameters and every later draw come
 * from the SeededRandom they are built with, and they only move forward in
 * time. They see the host as it was on the previous tick, so they can react
 * as real software does: a leaking service is killed by the OOM killer, an
 * operator cleans up a disk that has filled.
 */
import type { SeededRandom } from '../../models/random.js';
import type { LocalTime } from '../clock.js';
import type { Demand } from '../host/demand.js';
import type { HostReading } from '../host/host-reading.js';
import type { HostShape } from '../host/host-shape.js';

export const WORKLOAD_NAMES = [
  'diurnal-web',
  'memory-leak',
  'log-rotation',
  'batch-bursts',
  'slow-disk-fill',
  'noisy-idle',
  'weekly-pattern',
  'inode-exhaustion',
  'fd-leak',
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** Parameters as drawn from the seed, for the run record. */
export type WorkloadParams = Readonly<Record<string, number | string | boolean>>;

export interface TickContext {
  /** Simulated time, Unix epoch ms. */
  readonly t: number;
  /** Time since the previous tick, ms. */
  readonly dtMs: number;
  /** The host's local time at `t`. */
  readonly local: LocalTime;
  readonly host: HostShape;
  /** The host as read on the previous tick; undefined on the first. */
  readonly previous: HostReading | undefined;
  /** Records something the workload did that explains the series: a restart, a failed rotation. */
  incident(kind: string, detail?: Readonly<Record<string, number | string | boolean>>): void;
}

export interface Workload {
  readonly name: WorkloadName | 'os-baseline';
  readonly params: WorkloadParams;
  /** Moves to `ctx.t` and adds what the workload holds now to `demand`. */
  step(ctx: TickContext, demand: Demand): void;
}

/** How a workload is built: its own random stream, and the host it runs on. */
export interface WorkloadInit {
  readonly rng: SeededRandom;
  readonly host: HostShape;
  /** Index of the filesystem the workload writes to (host shape order), when it writes to one. */
  readonly fs: number;
}

/** Index of the first of `mountpoints` the host has; `/` when it has none of them. */
export function filesystemIndex(host: HostShape, mountpoints: readonly string[]): number {
  for (const m of mountpoints) {
    const i = host.filesystems.findIndex((f) => f.mountpoint === m);
    if (i >= 0) return i;
  }
  return 0;
}
