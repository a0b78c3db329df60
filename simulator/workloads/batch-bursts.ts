/**
 * Cron and batch bursts. An hourly cron job pegs the CPU for a few minutes
 * (too short to count as exhaustion, whatever its height: the sustain rule
 * exists for exactly this). A nightly batch job (ETL, backup, report) runs
 * for tens of minutes to hours, as hard and as long as the data it
 * processes. As in real pipelines, that volume is strongly autocorrelated:
 * it grows slowly, has a weekly rhythm (Monday night processes the weekend)
 * and varies modestly from night to night, so tonight's job looks like last
 * night's and last week's, and a job that came close yesterday comes close
 * again. The job's CPU climbs over its first tens of minutes as it fans out
 * its workers and its stages fill up, so a job that saturates the host shows
 * it before it does.
 *
 * Unheralded: on `BACKFILL_CHANCE` of nights the job reprocesses days of
 * data after an upstream outage, at 1.6–2.5 times its usual volume.
 *
 * Whether a job that saturates its host at night is a problem is its
 * owners' call. `SATURATION_TOLERATED_SHARE` of them size the host to be
 * used in full and leave it; the others, after a few saturating nights in a
 * week, give the job some room (more CPUs, a cap on parallelism) and start
 * out with a job that fits its usual nights. Its CPU per unit of volume then
 * drops, until the data grows into the new room.
 *
 * Exhaustion: CPU on heavy nights, in spells; memory on the rare night the
 * job outgrows RAM. Rates: docs/simulator.md.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS, localDayTime } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { usableBytes } from '../host/host-shape.js';
import { SmoothNoise, clamp, logNormal, pulse, pulseMean, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

/**
 * Chance per night of a backfill: the job reprocesses days of data after an
 * upstream outage. Nothing in last night's or last week's series announces
 * it; only its own climb does, once it has started.
 */
export const BACKFILL_CHANCE = 0.015;
/** Share of batch hosts whose owners accept a job that saturates the host at night. */
export const SATURATION_TOLERATED_SHARE = 0.4;
/** A job winds down over its last minutes. */
const JOB_FALL_MS = 3 * MINUTE_MS;
/** What the job's owners count as saturating the host: the CPU exhaustion definition. */
const SATURATED = 0.9;
const SATURATED_FOR_MS = 5 * MINUTE_MS;

interface Job {
  start: number;
  durationMs: number;
  cpu: number;
  memoryBytes: number;
  scratchBytes: number;
  volume: number;
  backfill: boolean;
  announced: boolean;
  /** Held the CPU at or above 90 % for 5 minutes. */
  saturated: boolean;
}

export class BatchBurstsWorkload implements Workload {
  readonly name = 'batch-bursts' as const;
  readonly params: WorkloadParams;
  private readonly cronMinute: number;
  private readonly cronMinutes: number;
  private readonly cronCpu: number;
  private readonly nightlyHour: number;
  private readonly nightlyMinutes: number;
  /** Minutes the nightly job takes to climb to its full CPU. */
  private readonly rampMinutes: number;
  private readonly nightlyMemoryShare: number;
  private readonly scratchShare: number;
  /** Data growth, log-share per week. */
  private readonly growthPerWeek: number;
  /** Log-volume by local day of the week (0 = Sunday): the weekly rhythm of the data. */
  private readonly weekly: readonly number[];
  /** Slow drift of the volume, in log space, stepped once a night. */
  private readonly volumeDrift: SmoothNoise;
  /** Saturating nights within a week after which the owners act; Infinity when they accept it. */
  private readonly patience: number;
  /** CPU of a job of volume 1; drops when the owners add room. */
  private nightlyCpu: number;
  private startMs: number | undefined;
  private day: number | undefined;
  private job: Job | undefined;
  /** Local days of the last saturating nights, oldest first. */
  private saturatedNights: number[] = [];
  private saturatedMs = 0;
  private cronScale = 1;
  private cronHour = -1;

  constructor(private readonly init: WorkloadInit) {
    const { rng } = init;
    this.cronMinute = rng.int(0, 59);
    this.cronMinutes = rng.uniform(1, 4);
    this.cronCpu = rng.uniform(0.2, 0.55);
    this.nightlyHour = rng.uniform(0.5, 4);
    this.nightlyMinutes = rng.uniform(30, 100);
    this.rampMinutes = rng.uniform(15, 45);
    const tolerated = rng.bernoulli(SATURATION_TOLERATED_SHARE);
    this.nightlyCpu = tolerated ? rng.uniform(0.5, 0.82) : rng.uniform(0.45, 0.78);
    this.nightlyMemoryShare = rng.uniform(0.1, 0.35);
    this.scratchShare = rng.uniform(0.03, 0.12);
    this.growthPerWeek = rng.uniform(0, 0.03);
    this.weekly = Array.from({ length: 7 }, () => 0.1 * rng.normal());
    this.volumeDrift = new SmoothNoise(rng, 0.12, 10 * DAY_MS);
    this.patience = tolerated ? Infinity : rng.int(2, 3);
    this.params = {
      cronMinute: this.cronMinute,
      cronMinutes: round(this.cronMinutes, 2),
      cronCpu: round(this.cronCpu),
      nightlyHour: round(this.nightlyHour, 2),
      nightlyMinutes: round(this.nightlyMinutes, 1),
      rampMinutes: round(this.rampMinutes, 1),
      nightlyCpu: round(this.nightlyCpu),
      growthPerWeek: round(this.growthPerWeek),
      saturationTolerated: tolerated,
      backfillChance: BACKFILL_CHANCE,
      mountpoint: init.host.filesystems[init.fs]!.mountpoint,
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng, host, fs } = this.init;
    this.startMs ??= ctx.t;
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
      const rampMs = this.rampMinutes * MINUTE_MS;
      const on = pulse(ctx.t, job.start, job.durationMs, rampMs, JOB_FALL_MS);
      if (on > 0 && !job.announced) {
        job.announced = true;
        ctx.incident('nightly-job', {
          volume: round(job.volume, 3),
          minutes: Math.round(job.durationMs / MINUTE_MS),
          cpu: round(job.cpu, 3),
          backfill: job.backfill,
        });
      }
      if (on > 0 && ctx.previous?.outOfMemory) {
        ctx.incident('job-oom-killed', {});
        this.endJob(ctx, job);
      } else {
        if (on > 0) {
          const progress = clamp((ctx.t - job.start) / job.durationMs, 0, 1);
          const busy = pulseMean(ctx.t - ctx.dtMs, ctx.t, job.start, job.durationMs, rampMs, JOB_FALL_MS);
          cpu += busy * job.cpu * (1 + 0.03 * rng.normal());
          demand.addMemory(on * job.memoryBytes * (0.3 + 0.7 * progress), this.name);
          demand.addFsBytes(fs, job.scratchBytes * progress, this.name);
          demand.addFsInodes(fs, 2000 * progress, this.name);
          this.saturatedMs =
            (ctx.previous?.cpuUtilization ?? 0) >= SATURATED ? this.saturatedMs + ctx.dtMs : 0;
          if (this.saturatedMs >= SATURATED_FOR_MS) job.saturated = true;
        }
        if (ctx.t >= job.start + job.durationMs) this.endJob(ctx, job);
      }
    }
    demand.addCpu(cpu, this.name);
    demand.addMemory(0.02 * host.memoryBytes, this.name);
  }

  /**
   * Plans tonight's job. Its volume is the data's: slow growth, the weekly
   * rhythm and a drift that carries over from night to night, with a little
   * noise of its own — and now and then a backfill.
   */
  private newDay(ctx: TickContext): void {
    const { rng, host, fs } = this.init;
    this.day = ctx.local.day;
    const weeks = (ctx.t - this.startMs!) / WEEK_MS;
    const drift = this.volumeDrift.next(DAY_MS);
    const backfill = rng.bernoulli(BACKFILL_CHANCE);
    const volume =
      Math.exp(drift + this.weekly[ctx.local.dayOfWeek]! + this.growthPerWeek * weeks + 0.04 * rng.normal()) *
      (backfill ? rng.uniform(1.6, 2.5) : 1);
    const start = localDayTime(ctx.local.day, this.nightlyHour + rng.uniform(-1, 1) / 6, host.utcOffsetHours);
    if (start + HOUR_MS < ctx.t) return;
    this.job = {
      start,
      durationMs: this.nightlyMinutes * volume ** 1.5 * MINUTE_MS,
      cpu: Math.min(1.6, this.nightlyCpu * volume),
      memoryBytes: this.nightlyMemoryShare * volume * host.memoryBytes,
      scratchBytes: this.scratchShare * volume * usableBytes(host.filesystems[fs]!),
      volume,
      backfill,
      announced: false,
      saturated: false,
    };
  }

  /**
   * A job done (or killed). A few saturating nights within a week, backfills
   * aside, wear the owners' patience: they give the job more room.
   */
  private endJob(ctx: TickContext, job: Job): void {
    this.job = undefined;
    this.saturatedMs = 0;
    if (job.backfill || !job.saturated) return;
    const day = ctx.local.day;
    this.saturatedNights = [...this.saturatedNights.filter((d) => d > day - 7), day];
    if (this.saturatedNights.length < this.patience) return;
    const factor = this.init.rng.uniform(0.65, 0.85);
    this.nightlyCpu *= factor;
    this.saturatedNights = [];
    ctx.incident('job-tuned', { cpuFactor: round(factor, 3), nightlyCpu: round(this.nightlyCpu) });
  }
}
