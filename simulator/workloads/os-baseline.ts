/**
 * What every host carries before any workload: the kernel and system
 * daemons (a little CPU, some memory, a few descriptors), the OS on each
 * filesystem, and package caches that creep up on `/` over weeks. It never
 * exhausts anything on its own.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../clock.js';
import { BASELINE_SOURCE, type Demand } from '../host/demand.js';
import { GIB, usableBytes } from '../host/host-shape.js';
import { SmoothNoise, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

export class OsBaselineWorkload implements Workload {
  readonly name = 'os-baseline' as const;
  readonly params: WorkloadParams;
  private readonly cpu: number;
  private readonly memoryBytes: number;
  private readonly fds: number;
  /** Growth of `/`, share of its usable space per day. */
  private readonly rootGrowthPerDay: number;
  private readonly cpuNoise: SmoothNoise;
  private readonly memoryNoise: SmoothNoise;
  private readonly fsNoise: SmoothNoise;
  private startT: number | undefined;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host } = init;
    this.cpu = rng.uniform(0.01, 0.035);
    this.memoryBytes = rng.uniform(0.3, 0.8) * GIB + rng.uniform(0.03, 0.07) * host.memoryBytes;
    this.fds = host.fileMax * rng.uniform(0.004, 0.015);
    this.rootGrowthPerDay = rng.uniform(0.0001, 0.0015);
    this.cpuNoise = new SmoothNoise(rng, 0.006, 5 * MINUTE_MS);
    this.memoryNoise = new SmoothNoise(rng, 0.004 * host.memoryBytes, HOUR_MS);
    this.fsNoise = new SmoothNoise(rng, 0.0005, 2 * HOUR_MS);
    this.params = {
      cpu: round(this.cpu),
      memoryGiB: round(this.memoryBytes / GIB, 3),
      rootGrowthPerDay: round(this.rootGrowthPerDay, 5),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    this.startT ??= ctx.t;
    const { rng, host } = this.init;
    demand.addCpu(
      Math.max(0.002, this.cpu + this.cpuNoise.next(ctx.dtMs) + 0.004 * rng.normal()),
      BASELINE_SOURCE,
    );
    demand.addMemory(this.memoryBytes + this.memoryNoise.next(ctx.dtMs), BASELINE_SOURCE);
    demand.addFds(this.fds * (1 + 0.05 * rng.normal()), BASELINE_SOURCE);
    demand.addNetwork(2_000 + 500 * Math.abs(rng.normal()));
    const days = (ctx.t - this.startT) / DAY_MS;
    const wobble = this.fsNoise.next(ctx.dtMs);
    host.filesystems.forEach((fs, i) => {
      const growth = i === 0 ? this.rootGrowthPerDay * days : 0;
      const share = fs.baseUsedFraction + growth + (i === 0 ? wobble : 0);
      demand.addFsBytes(i, Math.max(0, share) * usableBytes(fs), BASELINE_SOURCE);
      const inodes = fs.sizeBytes / fs.bytesPerInode;
      demand.addFsInodes(i, (fs.baseInodesFraction + growth / 4) * inodes, BASELINE_SOURCE);
    });
  }
}
