/**
 * Log growth with daily rotation. Logs grow through the day with traffic;
 * once a day logrotate compresses the day's file (to about a tenth) and
 * deletes archives older than the retention. The filesystem shows a
 * sawtooth: a steep climb in busy hours, a drop at rotation. A linear
 * forecast over the afternoon climb (Prometheus `predict_linear`) sees the
 * disk filling within hours, yet rotation always comes first — unless it
 * fails.
 *
 * Occasionally rotation fails (a broken config, a process holding the file)
 * and stays broken for days until the next run recovers or the disk passes
 * 95 % and an operator cleans up a few hours later. Now and then someone
 * leaves debug logging on, multiplying the rate for some hours.
 *
 * Exhaustion: the log filesystem, after a rotation failure that is not
 * recovered in time or a verbose-logging spell on a disk with little
 * headroom (an episode every ≈ 8 days per host). Rates: docs/simulator.md.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, localDayTime } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { usableBytes } from '../host/host-shape.js';
import { clamp, dayCurve, logNormal, pick, pulseMean, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

/** Filesystem utilisation at which an operator is paged about the log disk. */
const PAGED_AT = 0.95;
/** Log files per day (application, access, error, …), each an inode. */
const FILES_PER_DAY = 12;

export class LogRotationWorkload implements Workload {
  readonly name = 'log-rotation' as const;
  readonly params: WorkloadParams;
  private readonly dayBytes: number;
  private readonly keepDays: number;
  private readonly compression: number;
  private readonly rotationHour: number;
  private readonly peakHour: number;
  private readonly sharpness: number;
  /** Mean of the daily shape, so that a day's growth integrates to `dayBytes`. */
  private readonly shapeMean: number;
  private readonly failChance: number;
  private readonly recoverChance: number;
  private readonly verboseChance: number;
  private archives: number[] = [];
  private active = 0;
  private nextRotation = 0;
  private day: number | undefined;
  private dayVolume = 1;
  private failing = false;
  private cleanupAt: number | undefined;
  private verbose: { start: number; end: number; factor: number } | undefined;
  private lastRotation = -Infinity;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host, fs } = init;
    const shape = host.filesystems[fs]!;
    const usable = usableBytes(shape);
    // Daily peak of the whole filesystem, 55–88 %: high enough on some hosts to fool a linear forecast.
    const peakTotal = rng.uniform(0.55, 0.88);
    const logsAtPeak = Math.max(0.12, peakTotal - shape.baseUsedFraction);
    this.keepDays = pick(rng, [5, 7, 10, 14]);
    this.compression = rng.uniform(0.08, 0.15);
    this.dayBytes = (logsAtPeak / (1 + this.keepDays * this.compression)) * usable;
    this.rotationHour = rng.uniform(0, 6.5);
    this.peakHour = rng.uniform(11, 21);
    this.sharpness = rng.uniform(1, 2.5);
    let sum = 0;
    for (let i = 0; i < 96; i++) sum += this.shape(i / 4);
    this.shapeMean = sum / 96;
    this.failChance = rng.uniform(0.08, 0.16);
    this.recoverChance = 0.4;
    this.verboseChance = rng.uniform(0.02, 0.06);
    this.params = {
      mountpoint: shape.mountpoint,
      daySharePerDay: round(this.dayBytes / usable),
      keepDays: this.keepDays,
      compression: round(this.compression, 3),
      rotationHour: round(this.rotationHour, 2),
      failChancePerDay: round(this.failChance),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng, fs } = this.init;
    if (this.day === undefined) this.prefill(ctx);
    if (ctx.local.day !== this.day) this.newDay(ctx);
    while (ctx.t >= this.nextRotation) {
      this.rotate(ctx);
      this.nextRotation += DAY_MS;
    }
    const util = ctx.previous?.filesystems[fs]?.utilization ?? 0;
    if (util >= PAGED_AT && this.cleanupAt === undefined) {
      this.cleanupAt = ctx.t + clamp(logNormal(rng, 3, 0.6), 0.5, 12) * HOUR_MS;
      ctx.incident('disk-paged', { utilization: round(util, 4), failing: this.failing });
    }
    if (this.cleanupAt !== undefined && ctx.t >= this.cleanupAt) this.cleanup(ctx);

    const verbose =
      this.verbose && ctx.t >= this.verbose.start && ctx.t < this.verbose.end ? this.verbose.factor : 1;
    // A full disk refuses writes: the log stops growing (the application logs errors to nowhere).
    if (util < 0.9995) {
      const rate = (this.dayBytes * this.dayVolume * this.shape(ctx.local.hour)) / this.shapeMean / DAY_MS;
      this.active += rate * verbose * ctx.dtMs * (1 + 0.1 * rng.normal());
    }
    const held = this.archives.reduce((a, b) => a + b, 0) + this.active;
    demand.addFsBytes(fs, held, this.name);
    demand.addFsInodes(fs, (this.archives.length + 1) * FILES_PER_DAY, this.name);
    // gzip after rotation keeps most of a core busy for a few minutes.
    const compressing =
      pulseMean(ctx.t - ctx.dtMs, ctx.t, this.lastRotation, 3 * MINUTE_MS, 0) * (0.6 / ctx.host.cpus);
    demand.addCpu(0.005 + compressing, this.name);
  }

  private shape(hour: number): number {
    return 0.2 + dayCurve(hour, this.peakHour, this.sharpness);
  }

  /** Starts in the steady state: a full set of archives and today's log so far. */
  private prefill(ctx: TickContext): void {
    const { rng } = this.init;
    this.archives = Array.from(
      { length: this.keepDays },
      () => this.dayBytes * this.compression * logNormal(rng, 1, 0.15),
    );
    let rotation = localDayTime(ctx.local.day, this.rotationHour, ctx.host.utcOffsetHours);
    if (rotation > ctx.t) rotation -= DAY_MS;
    this.active = (this.dayBytes * (ctx.t - rotation)) / DAY_MS;
    this.nextRotation = rotation + DAY_MS;
  }

  private newDay(ctx: TickContext): void {
    const { rng } = this.init;
    this.day = ctx.local.day;
    this.dayVolume = clamp(logNormal(rng, 1, 0.15), 0.6, 1.6);
    if (rng.bernoulli(this.verboseChance)) {
      const start = localDayTime(ctx.local.day, rng.uniform(8, 18), ctx.host.utcOffsetHours);
      const hours = rng.uniform(2, 10);
      this.verbose = { start, end: start + hours * HOUR_MS, factor: rng.uniform(3, 8) };
      ctx.incident('verbose-logging', { hours: round(hours, 2), factor: round(this.verbose.factor, 2) });
    }
  }

  private rotate(ctx: TickContext): void {
    const { rng } = this.init;
    if (this.failing) {
      if (!rng.bernoulli(this.recoverChance)) {
        ctx.incident('rotation-failed', { again: true });
        return;
      }
      this.failing = false;
      ctx.incident('rotation-recovered', {});
    } else if (rng.bernoulli(this.failChance)) {
      this.failing = true;
      ctx.incident('rotation-failed', { again: false });
      return;
    }
    this.archives.push(this.active * this.compression);
    this.active = 0;
    this.lastRotation = ctx.t;
    while (this.archives.length > this.keepDays) this.archives.shift();
  }

  /** The operator compresses the current log, keeps two days of archives and fixes rotation. */
  private cleanup(ctx: TickContext): void {
    const before = this.archives.reduce((a, b) => a + b, 0) + this.active;
    this.archives = [...this.archives.slice(-2), this.active * this.compression];
    this.active = 0;
    this.failing = false;
    this.cleanupAt = undefined;
    this.verbose = undefined;
    const after = this.archives.reduce((a, b) => a + b, 0);
    ctx.incident('cleanup', { freedGiB: round((before - after) / 2 ** 30, 3) });
  }
}
