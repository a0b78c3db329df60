/**
 * A data volume that fills slowly: a database, object store or metrics
 * store that grows by a share of the disk per day (days to months to fill),
 * mostly in business hours, with a weekly compaction that gives a little
 * back. When it passes an operator's comfort level, someone usually grows
 * the volume or purges old data in time; sometimes nobody acts, it crosses
 * 95 % and is fixed only hours after the page.
 *
 * Exhaustion: the data filesystem, when nobody acts in time (a fill takes
 * 5–60 days; an episode every ≈ 2 months per host). Rates: docs/simulator.md.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { usableBytes } from '../host/host-shape.js';
import { SmoothNoise, clamp, dayCurve, logNormal, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

const PAGED_AT = 0.95;
/** Average object size, bytes: the data grows in inodes too, slowly. */
const BYTES_PER_FILE = 8 * 1024 * 1024;

type Action = 'expand' | 'purge';

export class SlowDiskFillWorkload implements Workload {
  readonly name = 'slow-disk-fill' as const;
  readonly params: WorkloadParams;
  private readonly startShare: number;
  private readonly bytesPerDay: number;
  private readonly actAt: number;
  private readonly actChance: number;
  private readonly noise: SmoothNoise;
  private data = 0;
  private extraCapacity = 0;
  private day: number | undefined;
  private dayRate = 1;
  private compactFrom = 0;
  private compactUntil = 0;
  private compactBytesPerMs = 0;
  /** Set once the comfort level was passed in this fill cycle; the planned action and when. */
  private plan: { at: number; action: Action } | 'none' | undefined;
  private paged = false;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host, fs } = init;
    const shape = host.filesystems[fs]!;
    const usable = usableBytes(shape);
    const startTotal = rng.uniform(0.35, 0.9);
    this.startShare = Math.max(0.02, startTotal - shape.baseUsedFraction);
    const daysToFull = rng.uniform(5, 60);
    this.bytesPerDay = ((1 - startTotal) * usable) / daysToFull;
    this.actAt = rng.uniform(0.82, 0.93);
    this.actChance = rng.uniform(0.4, 0.75);
    this.noise = new SmoothNoise(rng, 0.002 * usable, 30 * MINUTE_MS);
    this.params = {
      mountpoint: shape.mountpoint,
      startUtilization: round(startTotal),
      sharePerDay: round(this.bytesPerDay / usable, 5),
      actAt: round(this.actAt, 3),
      actChance: round(this.actChance),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng, host, fs } = this.init;
    const shape = host.filesystems[fs]!;
    const usable = usableBytes(shape, shape.sizeBytes + this.extraCapacity);
    if (this.day === undefined) this.data = this.startShare * usableBytes(shape);
    if (ctx.local.day !== this.day) this.newDay(ctx, usable);

    const util = ctx.previous?.filesystems[fs]?.utilization ?? 0;
    if (this.plan === undefined && util >= this.actAt) {
      this.plan = rng.bernoulli(this.actChance)
        ? {
            at: ctx.t + clamp(logNormal(rng, 6, 0.8), 1, 72) * HOUR_MS,
            action: rng.bernoulli(0.5) ? 'expand' : 'purge',
          }
        : 'none';
    }
    if (util >= PAGED_AT && !this.paged) {
      this.paged = true;
      ctx.incident('disk-paged', { utilization: round(util, 4) });
      const fixAt = ctx.t + clamp(logNormal(rng, 4, 0.8), 0.5, 24) * HOUR_MS;
      if (this.plan === undefined || this.plan === 'none' || this.plan.at > fixAt) {
        this.plan = { at: fixAt, action: rng.bernoulli(0.5) ? 'expand' : 'purge' };
      }
    }
    if (this.plan !== undefined && this.plan !== 'none' && ctx.t >= this.plan.at)
      this.act(ctx, this.plan.action, usable);

    // Writes follow business hours; a full disk accepts none.
    if (util < 0.9995) {
      const rate = (this.bytesPerDay * this.dayRate * (0.4 + 1.2 * dayCurve(ctx.local.hour, 14, 1))) / DAY_MS;
      this.data += rate * ctx.dtMs;
    }
    if (ctx.t >= this.compactFrom && ctx.t < this.compactUntil)
      this.data = Math.max(0, this.data - this.compactBytesPerMs * ctx.dtMs);

    demand.addFsCapacity(fs, this.extraCapacity);
    demand.addFsBytes(fs, Math.max(0, this.data + this.noise.next(ctx.dtMs)), this.name);
    demand.addFsInodes(fs, this.data / BYTES_PER_FILE, this.name);
    demand.addCpu(0.02 + 0.01 * Math.abs(rng.normal()), this.name);
    demand.addMemory(0.05 * host.memoryBytes, this.name);
  }

  private newDay(ctx: TickContext, usable: number): void {
    const { rng } = this.init;
    this.day = ctx.local.day;
    this.dayRate = clamp(logNormal(rng, 1, 0.25), 0.4, 2);
    // Sunday 03:00: compaction gives back a little over half an hour.
    if (ctx.local.dayOfWeek === 0) {
      const reclaim = rng.uniform(0.005, 0.02) * usable;
      this.compactFrom = ctx.t + Math.max(0, 3 - ctx.local.hour) * HOUR_MS;
      this.compactUntil = this.compactFrom + 30 * MINUTE_MS;
      this.compactBytesPerMs = reclaim / (30 * MINUTE_MS);
    }
  }

  private act(ctx: TickContext, action: Action, usable: number): void {
    const { rng, host, fs } = this.init;
    const shape = host.filesystems[fs]!;
    if (action === 'expand') {
      const added = rng.uniform(0.3, 1) * (shape.sizeBytes + this.extraCapacity);
      this.extraCapacity += added;
      ctx.incident('volume-expanded', { addedGiB: round(added / 2 ** 30, 1), late: this.paged });
    } else {
      const freed = Math.min(this.data * 0.8, rng.uniform(0.1, 0.3) * usable);
      this.data -= freed;
      ctx.incident('data-purged', { freedGiB: round(freed / 2 ** 30, 1), late: this.paged });
    }
    this.plan = undefined;
    this.paged = false;
  }
}
