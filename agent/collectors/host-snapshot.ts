/**
 * One reading of the host, whatever it was read from (/proc on Linux,
 * systeminformation elsewhere), before it is turned into metric points.
 * Anything a platform cannot tell is undefined or empty, and has no points.
 */
import type { FileDescriptorReading } from './procfs/file-nr.js';
import type { MemoryReading, SwapReading } from './procfs/meminfo.js';
import type { PressureAverages, PressureScope } from './procfs/pressure.js';
import type { PressureResource } from '../../shared/resources/utilization.js';

export type { FileDescriptorReading, MemoryReading, SwapReading };

export interface FilesystemReading {
  /** Mount source, e.g. `/dev/nvme0n1p2`. */
  readonly device: string;
  /** Path on the host. */
  readonly mountpoint: string;
  readonly type: string;
  /** Whole filesystem, bytes. sizeBytes = usedBytes + freeBytes + reservedBytes. */
  readonly sizeBytes: number;
  readonly usedBytes: number;
  /** What ordinary users can still write, bytes. */
  readonly freeBytes: number;
  /** Free but kept for root (ext4's 5 %), bytes. */
  readonly reservedBytes: number;
  /** Inodes, where the filesystem has a fixed table (not btrfs, not vfat). */
  readonly inodes?: { readonly total: number; readonly free: number };
}

export interface PressureReading {
  readonly resource: PressureResource;
  readonly scope: PressureScope;
  readonly averages: PressureAverages;
}

export interface NetworkReading {
  readonly name: string;
  /** Cumulative since the interface came up, bytes. */
  readonly receiveBytes: number;
  readonly transmitBytes: number;
}

export interface HostSnapshot {
  /** Busy share of all CPUs since the previous reading, 0..1; undefined when unknown. */
  readonly cpuUtilization: number | undefined;
  readonly logicalCpus: number;
  /** 1, 5 and 15 minute load averages. */
  readonly loadAverage: readonly number[];
  readonly memory: MemoryReading | undefined;
  readonly swap: SwapReading | undefined;
  readonly filesystems: readonly FilesystemReading[];
  readonly fileDescriptors: FileDescriptorReading | undefined;
  readonly pressure: readonly PressureReading[];
  readonly network: readonly NetworkReading[];
}

/** Reads the host; `prime` takes the baselines that rates need (CPU time) and probes what exists. */
export interface HostReader {
  prime(): Promise<void>;
  read(): Promise<HostSnapshot>;
}
