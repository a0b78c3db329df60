import type { FilesystemShape } from './host-shape.js';

/** One filesystem as the host reads it in one tick. */
export interface FilesystemReading {
  readonly shape: FilesystemShape;
  /** Current size, bytes (the shape's size plus any growth of the volume). */
  readonly sizeBytes: number;
  readonly usedBytes: number;
  /** What ordinary users can still write, bytes. */
  readonly freeBytes: number;
  /** Kept for root, bytes. */
  readonly reservedBytes: number;
  /** used ÷ (used + free), as `df` shows it, 0..1. */
  readonly utilization: number;
  readonly inodesTotal: number;
  readonly inodesUsed: number;
  readonly inodesUtilization: number;
}

/** A virtual host in one tick: what a real agent would read from /proc and statfs. */
export interface HostReading {
  /** Simulated time, Unix epoch ms. */
  readonly t: number;
  /** CPU demand as a share of all CPUs, may exceed 1 (before the host clips it). */
  readonly cpuDemand: number;
  readonly cpuUtilization: number;
  readonly load1m: number;
  readonly load5m: number;
  readonly load15m: number;
  readonly memoryTotal: number;
  /** total − available: what cannot be reclaimed, bytes. */
  readonly memoryUsed: number;
  readonly memoryCached: number;
  readonly memoryFree: number;
  readonly memoryUtilization: number;
  /** 0 when the host has no swap. */
  readonly swapTotal: number;
  readonly swapUsed: number;
  /** NaN when the host has no swap. */
  readonly swapUtilization: number;
  /** True when memory and swap were both full this tick: the kernel's OOM killer fires. */
  readonly outOfMemory: boolean;
  /** Memory pressure stall (PSI), the kernel's avg10 and avg60 of "some" and "full", 0..1. */
  readonly memoryPressure: { someAvg10: number; someAvg60: number; fullAvg10: number; fullAvg60: number };
  readonly filesystems: readonly FilesystemReading[];
  readonly fdsMax: number;
  readonly fdsAllocated: number;
  readonly fdsUtilization: number;
  /** Cumulative counters since boot, bytes. */
  readonly networkReceiveBytes: number;
  readonly networkTransmitBytes: number;
}
