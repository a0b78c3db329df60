/**
 * The hardware and layout of a virtual host: CPUs, memory, swap, descriptor
 * limit, time zone and filesystems. Drawn once per host from its seed.
 */
import type { SeededRandom } from '../../models/random.js';
import { pick, round } from '../signal.js';

export const GIB = 1024 ** 3;

export type FilesystemType = 'ext4' | 'xfs';

export interface FilesystemShape {
  readonly mountpoint: string;
  readonly device: string;
  readonly type: FilesystemType;
  /** Size at creation, bytes. A workload may grow the volume later (an operator's `lvextend`). */
  readonly sizeBytes: number;
  /** Share of the size reserved for root (ext4 keeps 5 %), 0..1; not usable by ordinary users. */
  readonly reservedFraction: number;
  /** Bytes of filesystem per inode: total inodes = size ÷ this (ext4's inode ratio). */
  readonly bytesPerInode: number;
  /** Share of the usable space that the OS and static files take, 0..1. */
  readonly baseUsedFraction: number;
  /** Share of the inodes that the OS and static files take, 0..1. */
  readonly baseInodesFraction: number;
}

export interface HostShape {
  readonly cpus: number;
  readonly memoryBytes: number;
  /** 0 for a host without swap (then no paging utilisation is reported, as on a real host). */
  readonly swapBytes: number;
  /** Share of swap holding long-idle pages, 0..1. */
  readonly swapBaselineFraction: number;
  /**
   * How eagerly the kernel swaps under memory pressure (`vm.swappiness`):
   * the share, 0..1, of the anonymous memory above `SWAP_PRESSURE_FROM` of
   * RAM that it has moved to swap by the time RAM is full
   * (`host/virtual-host.ts`). 0 for a host without swap.
   */
  readonly swapOutShare: number;
  /** The kernel's `fs.file-max`: system-wide open file limit. */
  readonly fileMax: number;
  /** Hours the host's local clock is ahead of UTC. */
  readonly utcOffsetHours: number;
  readonly networkInterface: string;
  readonly filesystems: readonly FilesystemShape[];
}

/** Which filesystems a host needs beyond `/`: the profile asks, the shape provides. */
export interface FilesystemNeeds {
  varLog: 'yes' | 'no' | 'maybe';
  data: boolean;
  spool: boolean;
}

export type HostSize = 'small' | 'medium' | 'large';

const SIZES: Readonly<Record<HostSize, { cpus: number[]; gibPerCpu: number[]; rootGib: [number, number] }>> =
  {
    small: { cpus: [1, 2], gibPerCpu: [2, 4], rootGib: [20, 40] },
    medium: { cpus: [4, 8], gibPerCpu: [2, 4, 8], rootGib: [40, 100] },
    large: { cpus: [16, 32], gibPerCpu: [4, 8], rootGib: [80, 200] },
  };

/** Offsets of the regions a fleet typically spans; several hosts share one. */
const UTC_OFFSETS = [-8, -5, -3, 0, 1, 2, 5.5, 8, 9] as const;
const FILE_MAX = [65_536, 131_072, 262_144, 524_288] as const;
/**
 * Share of hosts with swap tuned to a low `vm.swappiness`: their swap stays
 * nearly empty until RAM is all but full, then fills at the pace of the leak. Their
 * swap exhaustion is unheralded in the swap series itself.
 */
const LOW_SWAPPINESS_SHARE = 0.3;

export function usableBytes(fs: FilesystemShape, sizeBytes = fs.sizeBytes): number {
  return sizeBytes * (1 - fs.reservedFraction);
}

export function drawHostShape(
  rng: SeededRandom,
  sizes: readonly HostSize[],
  needs: FilesystemNeeds,
): HostShape {
  const size = pick(rng, sizes);
  const spec = SIZES[size];
  const cpus = pick(rng, spec.cpus);
  const memoryBytes = cpus * pick(rng, spec.gibPerCpu) * GIB;
  // Cloud images mostly ship without swap; where there is some, it is small next to RAM.
  const swapBytes = rng.bernoulli(0.5) ? 0 : Math.min(memoryBytes, pick(rng, [1, 2, 4, 8]) * GIB);
  const nvme = rng.bernoulli(0.6);
  const disk = (n: number) => (nvme ? `/dev/nvme${n}n1p1` : `/dev/sd${'abcdefgh'.charAt(n)}1`);

  const filesystems: FilesystemShape[] = [
    {
      mountpoint: '/',
      device: disk(0),
      type: 'ext4',
      sizeBytes: Math.round(rng.uniform(...spec.rootGib)) * GIB,
      reservedFraction: 0.05,
      bytesPerInode: 16_384,
      baseUsedFraction: round(rng.uniform(0.12, 0.45)),
      baseInodesFraction: round(rng.uniform(0.04, 0.2)),
    },
  ];
  // Each further filesystem on a disk of its own.
  const nextDisk = () => disk(filesystems.length);
  if (needs.varLog === 'yes' || (needs.varLog === 'maybe' && rng.bernoulli(0.5))) {
    filesystems.push({
      mountpoint: '/var/log',
      device: nextDisk(),
      type: 'ext4',
      sizeBytes: pick(rng, [10, 20, 30, 50]) * GIB,
      reservedFraction: 0.05,
      bytesPerInode: 16_384,
      baseUsedFraction: round(rng.uniform(0.02, 0.08)),
      baseInodesFraction: round(rng.uniform(0.001, 0.01), 5),
    });
  }
  if (needs.spool) {
    filesystems.push({
      mountpoint: '/var/spool',
      device: nextDisk(),
      type: 'ext4',
      sizeBytes: pick(rng, [8, 16, 32]) * GIB,
      reservedFraction: 0.05,
      // Spool volumes are made with a dense inode ratio for many small files, and still run out of them.
      bytesPerInode: 8_192,
      baseUsedFraction: round(rng.uniform(0.01, 0.05)),
      baseInodesFraction: round(rng.uniform(0.001, 0.01), 5),
    });
  }
  if (needs.data) {
    filesystems.push({
      mountpoint: '/data',
      device: nextDisk(),
      type: 'xfs',
      sizeBytes: pick(rng, [200, 500, 1000, 2000, 4000]) * GIB,
      reservedFraction: 0,
      bytesPerInode: 65_536,
      baseUsedFraction: round(rng.uniform(0.005, 0.03)),
      baseInodesFraction: round(rng.uniform(0.0001, 0.002), 5),
    });
  }
  return {
    cpus,
    memoryBytes,
    swapBytes,
    swapBaselineFraction: swapBytes > 0 ? round(rng.uniform(0, 0.08)) : 0,
    fileMax: pick(rng, FILE_MAX),
    utcOffsetHours: pick(rng, UTC_OFFSETS),
    networkInterface: nvme ? 'ens5' : 'eth0',
    filesystems,
    // Drawn last, so that the draws above stay what they were. Some hosts run with a low vm.swappiness
    // (databases, latency-sensitive services): they swap only when RAM is all but full.
    swapOutShare:
      swapBytes > 0
        ? round(rng.bernoulli(LOW_SWAPPINESS_SHARE) ? rng.uniform(0.01, 0.04) : rng.uniform(0.15, 0.5))
        : 0,
  };
}
