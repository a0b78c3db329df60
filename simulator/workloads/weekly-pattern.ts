/**
 * An office application: busy on weekdays in business hours (with a lunch
 * dip), quiet in the evenings and at the weekend. Sessions hold memory
 * through the working day.
 *
 * Reports run at a fixed time each weekday morning, as scheduled reports
 * do: the weekly business report on Mondays, a lighter daily one on the
 * other weekdays. Their size follows the data, which changes slowly from
 * week to week, so a Monday report that came close last week comes close
 * again; its CPU climbs over its first ten to twenty minutes as its queries
 * fan out. A heavy report on top of the morning rush can hold the CPU above
 * 90 % for tens of minutes. After a few saturating Mondays someone
 * optimises it (an index, a summary table) and its CPU drops.
 *
 * Unheralded: an ad-hoc heavy report run by hand on `ADHOC_REPORT_CHANCE`
 * of weekdays, at any business hour, at full CPU within minutes.
 *
 * Exhaustion: CPU on some Monday mornings, in spells, and now and then
 * under an ad-hoc report. Rates: docs/simulator.md.
 */
import { MINUTE_MS, WEEK_MS, localDayTime } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { SmoothNoise, clamp, logNormal, pulse, pulseMean, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

/** Chance per weekday that someone runs a heavy ad-hoc report: unheralded by the series. */
export const ADHOC_REPORT_CHANCE = 0.02;
/** An ad-hoc report reaches its full CPU within minutes. */
const ADHOC_RAMP_MS = 5 * MINUTE_MS;
const REPORT_FALL_MS = 5 * MINUTE_MS;
/** What counts as a saturating report: the CPU exhaustion definition. */
const SATURATED = 0.9;
const SATURATED_FOR_MS = 5 * MINUTE_MS;

type ReportKind = 'weekly' | 'daily' | 'adhoc';

interface Report {
  kind: ReportKind;
  start: number;
  durationMs: number;
  rampMs: number;
  cpu: number;
  announced: boolean;
  saturated: boolean;
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
  /** Local hour the scheduled reports start. */
  private readonly reportHour: number;
  private readonly reportMinutes: number;
  /** Minutes a scheduled report takes to reach its full CPU. */
  private readonly rampMinutes: number;
  /** Size of the daily report next to the weekly one. */
  private readonly dailyShare: number;
  private readonly growthPerWeek: number;
  /** The data's slow week-to-week drift, in log space, stepped once a week. */
  private readonly sizeDrift: SmoothNoise;
  /** Saturating Mondays in a row after which the weekly report is optimised. */
  private readonly patience: number;
  private readonly noise: SmoothNoise;
  /** CPU of the weekly report at size 1; drops when it is optimised. */
  private reportCpu: number;
  private startMs: number | undefined;
  private day: number | undefined;
  /** This week's report size (log), fixed on Monday. */
  private weekSize = 0;
  private report: Report | undefined;
  private saturatedMondays = 0;
  private saturatedMs = 0;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host } = init;
    this.startHour = rng.uniform(7, 9);
    this.endHour = rng.uniform(17, 19);
    this.workCpu = rng.uniform(0.25, 0.5);
    this.offCpu = rng.uniform(0.02, 0.06);
    this.sessionMemory = rng.uniform(0.05, 0.2) * host.memoryBytes;
    this.appMemory = rng.uniform(0.1, 0.25) * host.memoryBytes;
    this.sessions = rng.uniform(0.01, 0.05) * host.fileMax;
    this.reportHour = this.startHour + rng.uniform(0.5, 2);
    this.reportMinutes = rng.uniform(25, 50);
    this.rampMinutes = rng.uniform(10, 30);
    this.reportCpu = rng.uniform(0.25, 0.55);
    this.dailyShare = rng.uniform(0.3, 0.6);
    this.growthPerWeek = rng.uniform(0, 0.02);
    this.sizeDrift = new SmoothNoise(rng, 0.15, 4 * WEEK_MS);
    this.patience = rng.int(2, 3);
    this.noise = new SmoothNoise(rng, 0.04, 15 * MINUTE_MS);
    this.params = {
      startHour: round(this.startHour, 2),
      endHour: round(this.endHour, 2),
      workCpu: round(this.workCpu),
      reportHour: round(this.reportHour, 2),
      reportCpu: round(this.reportCpu),
      dailyShare: round(this.dailyShare),
      adhocReportChance: ADHOC_REPORT_CHANCE,
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng } = this.init;
    this.startMs ??= ctx.t;
    if (ctx.local.day !== this.day) this.newDay(ctx);
    const activity = this.activity(ctx.local.hour, ctx.local.weekend) * (1 + this.noise.next(ctx.dtMs));
    let cpu = this.offCpu + (this.workCpu - this.offCpu) * activity + 0.01 * rng.normal();
    const report = this.report;
    if (report) {
      if (!report.announced && ctx.t >= report.start) {
        report.announced = true;
        ctx.incident('report-run', {
          kind: report.kind,
          minutes: Math.round(report.durationMs / MINUTE_MS),
          cpu: round(report.cpu, 3),
        });
      }
      const { start, durationMs, rampMs } = report;
      if (pulse(ctx.t, start, durationMs, rampMs, REPORT_FALL_MS) > 0) {
        this.saturatedMs = (ctx.previous?.cpuUtilization ?? 0) >= SATURATED ? this.saturatedMs + ctx.dtMs : 0;
        if (this.saturatedMs >= SATURATED_FOR_MS) report.saturated = true;
      }
      cpu += pulseMean(ctx.t - ctx.dtMs, ctx.t, start, durationMs, rampMs, REPORT_FALL_MS) * report.cpu;
      if (ctx.t >= start + durationMs) this.endReport(ctx, report);
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

  /** Plans the day's report: the scheduled one on weekdays, sometimes an ad-hoc one instead. */
  private newDay(ctx: TickContext): void {
    const { rng, host } = this.init;
    const first = this.day === undefined;
    this.day = ctx.local.day;
    if (first || ctx.local.dayOfWeek === 1) {
      const weeks = (ctx.t - this.startMs!) / WEEK_MS;
      this.weekSize = this.sizeDrift.next(WEEK_MS) + this.growthPerWeek * weeks;
    }
    if (ctx.local.weekend) return;
    if (rng.bernoulli(ADHOC_REPORT_CHANCE)) {
      this.report = {
        kind: 'adhoc',
        start: localDayTime(ctx.local.day, this.startHour + rng.uniform(0.5, 8), host.utcOffsetHours),
        durationMs: clamp(logNormal(rng, 35, 0.5), 10, 150) * MINUTE_MS,
        rampMs: ADHOC_RAMP_MS,
        cpu: rng.uniform(0.35, 0.7),
        announced: false,
        saturated: false,
      };
      return;
    }
    const weekly = ctx.local.dayOfWeek === 1;
    const size = Math.exp(this.weekSize + 0.05 * rng.normal()) * (weekly ? 1 : this.dailyShare);
    this.report = {
      kind: weekly ? 'weekly' : 'daily',
      start: localDayTime(ctx.local.day, this.reportHour + rng.uniform(-1, 1) / 30, host.utcOffsetHours),
      durationMs: this.reportMinutes * Math.max(0.3, size) * MINUTE_MS,
      rampMs: this.rampMinutes * MINUTE_MS,
      cpu: this.reportCpu * size,
      announced: false,
      saturated: false,
    };
  }

  /** A report done. Saturating Mondays in a row get the weekly report optimised. */
  private endReport(ctx: TickContext, report: Report): void {
    this.report = undefined;
    this.saturatedMs = 0;
    if (report.kind !== 'weekly') return;
    this.saturatedMondays = report.saturated ? this.saturatedMondays + 1 : 0;
    if (this.saturatedMondays < this.patience) return;
    const factor = this.init.rng.uniform(0.5, 0.7);
    this.reportCpu *= factor;
    this.saturatedMondays = 0;
    ctx.incident('report-optimised', { cpuFactor: round(factor, 3), reportCpu: round(this.reportCpu) });
  }
}
