/**
 * Cron and batch bursts. An hourly cron job pegs the CPU for a few minutes
 * (too short to count as exhaustion, whatever its height: the sustain rule
 * exists for exactly this). A nightly batch job (ETL, backup, report) runs
 * for tens of minutes to hours; how hard and how long depends on the day's
 * data volume, so on heavy nights it holds the CPU above 90 % long enough to
 * count, and its memory and scratch files grow with it.
 *
 * Exhaustion: CPU on heavy nights (≈ 2 nights in 5 per host), memory on the
 * rare night the job outgrows RAM. Rates: docs/simulator.md.
 */
import { HOUR_MS, MINUTE_MS, localDayTime } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { usableBytes } from '../host/host-shape.js';
import { clamp, logNormal, pulse, pulseMean, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

interface Job {
  start: number;
  durationMs: number;
  cpu: number;
  memoryBytes: number;
  scratchBytes: number;
  volume: number;
  announced: boolean;
}

export class BatchBurstsWorkload implements Workload {
  readonly name = 'batch-bursts' as const;
  readonly params: WorkloadParams;
  private readonly cronMinute: number;
  private readonly cronMinutes: number;
  private readonly cronCpu: number;
  private readonly nightlyHour: number;
  private readonly nightlyMinutes: number;
  private readonly nightlyCpu: number;
  private readonly nightlyMemoryShare: number;
  private readonly scratchShare: number;
  private day: number | undefined;
  private job: Job | undefined;
  private cronScale = 1;
  private cronHour = -1;

  constructor(private readonly init: WorkloadInit) {
    const { rng } = init;
    this.cronMinute = rng.int(0, 59);
    this.cronMinutes = rng.uniform(1, 4);
    this.cronCpu = rng.uniform(0.2, 0.55);
    this.nightlyHour = rng.uniform(0.5, 4);
    this.nightlyMinutes = rng.uniform(25, 90);
    this.nightlyCpu = rng.uniform(0.55, 0.85);
    this.nightlyMemoryShare = rng.uniform(0.1, 0.35);
    this.scratchShare = rng.uniform(0.03, 0.12);
    this.params = {
      cronMinute: this.cronMinute,
      cronMinutes: round(this.cronMinutes, 2),
      cronCpu: round(this.cronCpu),
      nightlyHour: round(this.nightlyHour, 2),
      nightlyMinutes: round(this.nightlyMinutes, 1),
      nightlyCpu: round(this.nightlyCpu),
      mountpoint: init.host.filesystems[init.fs]!.mountpoint,
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng, host, fs } = this.init;
    if (ctx.local.day !== this.day) this.newDay(ctx);

    // Hourly cron: a few minutes from its minute past the hour, a little different each hour.
    const hourIndex = Math.floor(ctx.t / HOUR_MS);
    if (hourIndex !== this.cronHour) {
      this.cronHour = hourIndex;
      this.cronScale = logNormal(rng, 1, 0.15);
    }
    const cronStart = hourIndex * HOUR_MS + this.cronMinute * MINUTE_MS;
    const cronMs = this.cronMinutes * this.cronScale * MINUTE_MS;
    // The interval may span the previous hour's run too.
    const cron =
      pulseMean(ctx.t - ctx.dtMs, ctx.t, cronStart, cronMs, 30_000) +
      pulseMean(ctx.t - ctx.dtMs, ctx.t, cronStart - HOUR_MS, cronMs, 30_000);
    let cpu = cron * this.cronCpu * this.cronScale;

    const job = this.job;
    if (job) {
      const on = pulse(ctx.t, job.start, job.durationMs, 3 * MINUTE_MS);
      if (on > 0 && !job.announced) {
        job.announced = true;
        ctx.incident('nightly-job', {
          volume: round(job.volume, 3),
          minutes: Math.round(job.durationMs / MINUTE_MS),
          cpu: round(job.cpu, 3),
        });
      }
      if (on > 0 && ctx.previous?.outOfMemory) {
        ctx.incident('job-oom-killed', {});
        this.job = undefined;
      } else if (on > 0) {
        const progress = clamp((ctx.t - job.start) / job.durationMs, 0, 1);
        const busy = pulseMean(ctx.t - ctx.dtMs, ctx.t, job.start, job.durationMs, 3 * MINUTE_MS);
        cpu += busy * job.cpu * (1 + 0.03 * rng.normal());
        demand.addMemory(on * job.memoryBytes * (0.3 + 0.7 * progress), this.name);
        demand.addFsBytes(fs, job.scratchBytes * progress, this.name);
        demand.addFsInodes(fs, 2000 * progress, this.name);
      }
      if (ctx.t >= job.start + job.durationMs) this.job = undefined;
    }
    demand.addCpu(cpu, this.name);
    demand.addMemory(0.02 * host.memoryBytes, this.name);
  }

  /** Plans tonight's job; its size is the day's data volume. */
  private newDay(ctx: TickContext): void {
    const { rng, host, fs } = this.init;
    this.day = ctx.local.day;
    const volume = logNormal(rng, 1, 0.22);
    const start = localDayTime(ctx.local.day, this.nightlyHour + rng.uniform(-1, 1) / 6, host.utcOffsetHours);
    if (start + HOUR_MS < ctx.t) return;
    this.job = {
      start,
      durationMs: this.nightlyMinutes * volume ** 1.5 * MINUTE_MS,
      cpu: Math.min(1.6, this.nightlyCpu * volume),
      memoryBytes: this.nightlyMemoryShare * volume * host.memoryBytes,
      scratchBytes: this.scratchShare * volume * usableBytes(host.filesystems[fs]!),
      volume,
      announced: false,
    };
  }
}
