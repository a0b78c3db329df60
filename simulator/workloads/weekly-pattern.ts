/**
 * An office application: busy on weekdays in business hours (with a lunch
 * dip), quiet in the evenings and at the weekend. Reports run on weekday
 * mornings — most often on Monday, when the week's numbers are due — and a
 * heavy report on top of the morning rush can hold the CPU above 90 % for
 * tens of minutes. Sessions hold memory through the working day.
 *
 * Exhaustion: CPU on some report mornings, mostly Mondays (an episode every
 * ≈ 2½ weeks per host). Rates: docs/simulator.md.
 */
import { MINUTE_MS, localDayTime } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { SmoothNoise, clamp, logNormal, pulse, pulseMean, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

interface Report {
  start: number;
  durationMs: number;
  cpu: number;
  announced: boolean;
}

export class WeeklyPatternWorkload implements Workload {
  readonly name = 'weekly-pattern' as const;
  readonly params: WorkloadParams;
  private readonly startHour: number;
  private readonly endHour: number;
  private readonly workCpu: number;
  private readonly offCpu: number;
  private readonly sessionMemory: number;
  private readonly appMemory: number;
  private readonly sessions: number;
  private readonly mondayReportChance: number;
  private readonly reportChance: number;
  private readonly noise: SmoothNoise;
  private day: number | undefined;
  private report: Report | undefined;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host } = init;
    this.startHour = rng.uniform(7, 9);
    this.endHour = rng.uniform(17, 19);
    this.workCpu = rng.uniform(0.25, 0.5);
    this.offCpu = rng.uniform(0.02, 0.06);
    this.sessionMemory = rng.uniform(0.05, 0.2) * host.memoryBytes;
    this.appMemory = rng.uniform(0.1, 0.25) * host.memoryBytes;
    this.sessions = rng.uniform(0.01, 0.05) * host.fileMax;
    this.mondayReportChance = rng.uniform(0.3, 0.6);
    this.reportChance = rng.uniform(0.06, 0.18);
    this.noise = new SmoothNoise(rng, 0.04, 15 * MINUTE_MS);
    this.params = {
      startHour: round(this.startHour, 2),
      endHour: round(this.endHour, 2),
      workCpu: round(this.workCpu),
      mondayReportChance: round(this.mondayReportChance),
      reportChance: round(this.reportChance),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng } = this.init;
    if (ctx.local.day !== this.day) this.newDay(ctx);
    const activity = this.activity(ctx.local.hour, ctx.local.weekend) * (1 + this.noise.next(ctx.dtMs));
    let cpu = this.offCpu + (this.workCpu - this.offCpu) * activity + 0.01 * rng.normal();
    const report = this.report;
    if (report) {
      const on = pulse(ctx.t, report.start, report.durationMs, 5 * MINUTE_MS);
      if (on > 0 && !report.announced) {
        report.announced = true;
        ctx.incident('report-run', {
          minutes: Math.round(report.durationMs / MINUTE_MS),
          cpu: round(report.cpu, 3),
        });
      }
      cpu += pulseMean(ctx.t - ctx.dtMs, ctx.t, report.start, report.durationMs, 5 * MINUTE_MS) * report.cpu;
      if (ctx.t >= report.start + report.durationMs) this.report = undefined;
    }
    demand.addCpu(Math.max(0, cpu), this.name);
    demand.addMemory(this.appMemory + this.sessionMemory * activity, this.name);
    demand.addFds(this.sessions * (0.1 + activity), this.name);
    demand.addNetwork(5e6 * activity);
  }

  /** 0..1: the share of the office at work. */
  private activity(hour: number, weekend: boolean): number {
    if (weekend) return 0.04;
    const ramp = (x: number) => clamp(x, 0, 1);
    const arriving = ramp(hour - this.startHour + 0.5);
    const leaving = ramp(this.endHour - hour + 0.5);
    const lunch = 1 - 0.35 * Math.exp(-(((hour - 12.5) / 0.5) ** 2));
    return 0.05 + 0.95 * Math.min(arriving, leaving) * lunch;
  }

  private newDay(ctx: TickContext): void {
    const { rng } = this.init;
    this.day = ctx.local.day;
    if (ctx.local.weekend) return;
    const chance = ctx.local.dayOfWeek === 1 ? this.mondayReportChance : this.reportChance;
    if (!rng.bernoulli(chance)) return;
    const hour = this.startHour + rng.uniform(0, 2.5);
    this.report = {
      start: localDayTime(ctx.local.day, hour, ctx.host.utcOffsetHours),
      durationMs: clamp(logNormal(rng, 35, 0.5), 10, 150) * MINUTE_MS,
      cpu: rng.uniform(0.3, 0.65),
      announced: false,
    };
  }
}
