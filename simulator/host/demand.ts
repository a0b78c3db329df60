/**
 * What the workloads of a host ask for in one tick, summed, with the
 * workload that asked most for each resource (the cause the ground truth
 * names). Levels, not increments: a workload adds what it holds now.
 */

/** Source name of the OS baseline; a cause only when no workload contributes. */
export const BASELINE_SOURCE = 'os';

class TopSource {
  source = BASELINE_SOURCE;
  amount = 0;

  offer(source: string, amount: number): void {
    if (source !== BASELINE_SOURCE && amount > this.amount) {
      this.source = source;
      this.amount = amount;
    }
  }

  reset(): void {
    this.source = BASELINE_SOURCE;
    this.amount = 0;
  }
}

export class Demand {
  /** CPU demand as a share of all CPUs; above 1 the excess waits in the run queue. */
  cpu = 0;
  /** Memory that cannot be reclaimed (anonymous, slab), bytes. */
  memoryBytes = 0;
  /** Open file descriptors wanted. */
  fds = 0;
  /** Network traffic, bytes per second, both directions. */
  networkBytesPerSecond = 0;
  /** Per filesystem (host shape order): bytes held. */
  readonly fsBytes: Float64Array;
  /** Per filesystem: inodes held. */
  readonly fsInodes: Float64Array;
  /** Per filesystem: bytes added to the volume's size (an operator grew it). */
  readonly fsExtraCapacity: Float64Array;

  private readonly top: {
    cpu: TopSource;
    memory: TopSource;
    fds: TopSource;
    fs: TopSource[];
    inodes: TopSource[];
  };

  constructor(filesystems: number) {
    this.fsBytes = new Float64Array(filesystems);
    this.fsInodes = new Float64Array(filesystems);
    this.fsExtraCapacity = new Float64Array(filesystems);
    this.top = {
      cpu: new TopSource(),
      memory: new TopSource(),
      fds: new TopSource(),
      fs: Array.from({ length: filesystems }, () => new TopSource()),
      inodes: Array.from({ length: filesystems }, () => new TopSource()),
    };
  }

  reset(): void {
    this.cpu = 0;
    this.memoryBytes = 0;
    this.fds = 0;
    this.networkBytesPerSecond = 0;
    this.fsBytes.fill(0);
    this.fsInodes.fill(0);
    this.fsExtraCapacity.fill(0);
    this.top.cpu.reset();
    this.top.memory.reset();
    this.top.fds.reset();
    for (const t of this.top.fs) t.reset();
    for (const t of this.top.inodes) t.reset();
  }

  addCpu(share: number, source: string): void {
    this.cpu += share;
    this.top.cpu.offer(source, share);
  }

  addMemory(bytes: number, source: string): void {
    this.memoryBytes += bytes;
    this.top.memory.offer(source, bytes);
  }

  addFds(count: number, source: string): void {
    this.fds += count;
    this.top.fds.offer(source, count);
  }

  addNetwork(bytesPerSecond: number): void {
    this.networkBytesPerSecond += bytesPerSecond;
  }

  addFsBytes(fs: number, bytes: number, source: string): void {
    this.fsBytes[fs]! += bytes;
    this.top.fs[fs]!.offer(source, bytes);
  }

  addFsInodes(fs: number, inodes: number, source: string): void {
    this.fsInodes[fs]! += inodes;
    this.top.inodes[fs]!.offer(source, inodes);
  }

  addFsCapacity(fs: number, bytes: number): void {
    this.fsExtraCapacity[fs]! += bytes;
  }

  /** The workload that contributes most to a resource this tick (`os` when none does). */
  causes(): DemandCauses {
    return {
      cpu: this.top.cpu.source,
      memory: this.top.memory.source,
      fds: this.top.fds.source,
      fs: this.top.fs.map((t) => t.source),
      inodes: this.top.inodes.map((t) => t.source),
    };
  }
}

export interface DemandCauses {
  readonly cpu: string;
  readonly memory: string;
  readonly fds: string;
  /** Per filesystem, host shape order. */
  readonly fs: readonly string[];
  readonly inodes: readonly string[];
}
