/**
 * Many small files: a mail queue, PHP sessions, a cache directory. Files
 * arrive with traffic and a cleanup job (hourly or daily `find -mtime
 * -delete`, tmpreaper) removes those older than the retention, so inode use
 * holds a sawtooth around a steady level while space barely moves. When the
 * cleanup job breaks, inodes climb by a large share a day until the
 * filesystem has space left but no inodes — every create fails with ENOSPC
 * — and an operator purges the backlog a few hours after the page.
 *
 * Exhaustion: inodes of the spool filesystem (an episode every ≈ 2 weeks per
 * host), with space far from full. Rates: docs/simulator.md.
 */
import { HOUR_MS, MINUTE_MS } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { clamp, dayCurve, logNormal, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

const PAGED_AT = 0.95;

export class InodeExhaustionWorkload implements Workload {
  readonly name = 'inode-exhaustion' as const;
  readonly params: WorkloadParams;
  private readonly retentionHours: number;
  private readonly cleanupEveryHours: 1 | 24;
  private readonly cleanupMinute: number;
  private readonly filesPerHour: number;
  private readonly fileBytes: number;
  private readonly breakChance: number;
  private readonly peakHour: number;
  /** Files created in each hour still on disk: [hour index since the epoch, count], oldest first. */
  private buckets: Array<[number, number]> = [];
  private nextCleanup = 0;
  private day: number | undefined;
  private broken = false;
  private fixAt: number | undefined;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host, fs } = init;
    const shape = host.filesystems[fs]!;
    const inodes = shape.sizeBytes / shape.bytesPerInode;
    this.retentionHours = rng.uniform(8, 48);
    this.cleanupEveryHours = rng.bernoulli(0.5) ? 1 : 24;
    this.cleanupMinute = rng.uniform(0, 60);
    const steadyShare = Math.max(0.1, rng.uniform(0.35, 0.7) - shape.baseInodesFraction);
    this.filesPerHour = (steadyShare * inodes) / (this.retentionHours + this.cleanupEveryHours);
    // Small files: at most half an inode's worth of space each, so inodes run out long before space.
    this.fileBytes = rng.uniform(0.25, 0.5) * shape.bytesPerInode;
    this.breakChance = rng.uniform(0.08, 0.16);
    this.peakHour = rng.uniform(10, 20);
    this.params = {
      mountpoint: shape.mountpoint,
      retentionHours: round(this.retentionHours, 1),
      cleanupEveryHours: this.cleanupEveryHours,
      steadyShare: round(steadyShare),
      filesPerHour: Math.round(this.filesPerHour),
      breakChancePerDay: round(this.breakChance),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng, fs } = this.init;
    if (this.day === undefined) this.prefill(ctx);
    if (ctx.local.day !== this.day) this.newDay(ctx);

    const util = ctx.previous?.filesystems[fs]?.inodesUtilization ?? 0;
    if (util >= PAGED_AT && this.fixAt === undefined) {
      this.fixAt = ctx.t + clamp(logNormal(rng, 2, 0.7), 1 / 3, 10) * HOUR_MS;
      ctx.incident('inodes-paged', { utilization: round(util, 4), cleanupBroken: this.broken });
    }
    if (this.fixAt !== undefined && ctx.t >= this.fixAt) this.purge(ctx);
    while (ctx.t >= this.nextCleanup) {
      if (!this.broken) this.cleanup(this.nextCleanup);
      this.nextCleanup += this.cleanupEveryHours * HOUR_MS;
    }

    // No inode left: creates fail, nothing is added.
    if (util < 0.9995) {
      const rate = this.filesPerHour * (0.4 + 1.2 * dayCurve(ctx.local.hour, this.peakHour, 1));
      const hour = Math.floor(ctx.t / HOUR_MS);
      const created = (rate * ctx.dtMs * (1 + 0.1 * rng.normal())) / HOUR_MS;
      const last = this.buckets[this.buckets.length - 1];
      if (last && last[0] === hour) last[1] += Math.max(0, created);
      else this.buckets.push([hour, Math.max(0, created)]);
    }
    const files = this.buckets.reduce((sum, [, n]) => sum + n, 0);
    demand.addFsInodes(fs, files, this.name);
    demand.addFsBytes(fs, files * this.fileBytes, this.name);
    demand.addCpu(0.01 + 0.01 * Math.abs(rng.normal()), this.name);
    demand.addMemory(0.03 * ctx.host.memoryBytes, this.name);
  }

  /** Starts in the steady state: files of the retention window, and the next cleanup planned. */
  private prefill(ctx: TickContext): void {
    const hour = Math.floor(ctx.t / HOUR_MS);
    const span = Math.ceil(this.retentionHours + this.cleanupEveryHours * this.init.rng.next());
    for (let h = hour - span; h < hour; h++) this.buckets.push([h, this.filesPerHour]);
    const period = this.cleanupEveryHours * HOUR_MS;
    const offset = this.cleanupMinute * MINUTE_MS;
    this.nextCleanup = Math.floor((ctx.t - offset) / period) * period + offset + period;
  }

  private newDay(ctx: TickContext): void {
    const { rng } = this.init;
    const first = this.day === undefined;
    this.day = ctx.local.day;
    if (first) return;
    if (this.broken && rng.bernoulli(0.15)) {
      this.broken = false;
      ctx.incident('cleanup-repaired', {});
    } else if (!this.broken && rng.bernoulli(this.breakChance)) {
      this.broken = true;
      ctx.incident('cleanup-broken', {});
    }
  }

  private cleanup(at: number): void {
    const oldest = Math.floor((at - this.retentionHours * HOUR_MS) / HOUR_MS);
    while (this.buckets.length > 0 && this.buckets[0]![0] < oldest) this.buckets.shift();
  }

  /** The operator deletes all but the last six hours of files and repairs the cleanup job. */
  private purge(ctx: TickContext): void {
    const before = this.buckets.reduce((sum, [, n]) => sum + n, 0);
    const keepFrom = Math.floor((ctx.t - 6 * HOUR_MS) / HOUR_MS);
    this.buckets = this.buckets.filter(([h]) => h >= keepFrom);
    const after = this.buckets.reduce((sum, [, n]) => sum + n, 0);
    this.broken = false;
    this.fixAt = undefined;
    ctx.incident('purge', { filesDeleted: Math.round(before - after) });
  }
}
