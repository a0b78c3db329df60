/**
 * Diurnal web traffic: CPU, memory, connections and network follow a day
 * curve peaking in the host's local afternoon or evening, lower at the
 * weekend, with noise. Utilisation is traffic over capacity, and the CPU
 * saturates the ways real front ends do:
 *
 * - **Campaign days** (a sale, a launch, a newsletter): traffic runs above
 *   the usual from the morning on, by much the same factor all day, for one
 *   to three days. The daily peak crosses capacity when the campaign is big
 *   for the host's headroom, hours after the series began to run above the
 *   same time yesterday and last week. Most campaigns stay under capacity.
 * - **Organic growth**: traffic grows by a few percent a week, so the daily
 *   peak comes closer to capacity day by day. A host that already runs hot
 *   (a peak of 75–86 %: a team that keeps its pool small) saturates on its
 *   heavier days; after the first such page someone adds an instance or two
 *   to the pool, a day or three later, and growth eats that room again over
 *   the following weeks.
 * - **Flash crowds** (a link on a front page, a retry storm, a failover from
 *   another region): a surge on top of whatever traffic there is, reaching
 *   its height within minutes. They are `FLASH_CROWD_SHARE` of overload days
 *   and come unheralded: the part of CPU exhaustion no forecaster catches
 *   before it starts.
 *
 * Busy and quiet days come in spells (news, weather, the season): the day's
 * volume drifts from day to day rather than being drawn afresh each morning.
 *
 * Exhaustion: CPU on big campaign days, on the heavier days of a host
 * running hot, and in most flash crowds; memory rarely. Rates:
 * docs/simulator.md.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS, localDayTime } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { SmoothNoise, clamp, dayCurve, logNormal, pulse, pulseMean, round, weightedPick } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

/**
 * Share of overload days that are flash crowds rather than campaigns. Real
 * front ends see a few a year next to many planned events; this share is
 * the unheralded part of web CPU exhaustion, documented as such.
 */
export const FLASH_CROWD_SHARE = 0.12;
/** A flash crowd reaches its height within minutes. */
const FLASH_CROWD_RAMP_MS = 3 * MINUTE_MS;
/** Campaign traffic builds over the first hour and a half (a mail-out, a sale opening)… */
const CAMPAIGN_RISE_MS = 90 * MINUTE_MS;
/** …and fades over the last evening's two hours. */
const CAMPAIGN_FALL_MS = 2 * HOUR_MS;
/** How many days a campaign runs, with weights: most are one day, some sales run over a weekend. */
const CAMPAIGN_DAYS: ReadonlyArray<readonly [number, number]> = [
  [1, 0.55],
  [2, 0.3],
  [3, 0.15],
];
/** Share of hosts whose capacity plan left little headroom at the daily peak. */
const HOT_HOST_SHARE = 0.15;
/** What the operator counts as a saturation page: the CPU exhaustion definition (90 % for 5 minutes). */
const SATURATED = 0.9;
const SATURATED_FOR_MS = 5 * MINUTE_MS;

interface Campaign {
  /** When traffic starts to rise, on the first morning; Unix epoch ms. */
  startMs: number;
  /** Local midnight after the last day. */
  endMs: number;
  /** Traffic factor at the campaign's height, before today's variation. */
  uplift: number;
  days: number;
  announced: boolean;
}

interface FlashCrowd {
  startMs: number;
  durationMs: number;
  /** CPU added at the crowd's height, share of all CPUs. */
  cpu: number;
  announced: boolean;
}

export class DiurnalWebWorkload implements Workload {
  readonly name = 'diurnal-web' as const;
  readonly params: WorkloadParams;
  private readonly peakHour: number;
  private readonly sharpness: number;
  private readonly cpuBase: number;
  /** CPU of one unit of traffic (a normal weekday's peak) at the initial capacity. */
  private readonly cpuPerTraffic: number;
  private readonly weekendFactor: number;
  private readonly memoryBase: number;
  private readonly memoryAmplitude: number;
  private readonly connections: number;
  private readonly bytesPerSecond: number;
  /** Chance per day that a campaign or a flash crowd starts. */
  private readonly overloadChance: number;
  /** Traffic growth, log-share per week. */
  private readonly growthPerWeek: number;
  private readonly trafficNoise: SmoothNoise;
  /** The day's volume, in log space: slow day-to-day drift, stepped once a day. */
  private readonly dayNoise: SmoothNoise;
  private startMs: number | undefined;
  private day: number | undefined;
  /** Everything that scales the day curve today: volume, growth, weekend. */
  private dayFactor = 1;
  /** Capacity relative to the start (scale-outs multiply it). */
  private capacity = 1;
  private capacityAt = Infinity;
  private campaign: Campaign | undefined;
  /** Today's campaign factor at its height. */
  private campaignUplift = 1;
  private flash: FlashCrowd | undefined;
  /** A campaign or a flash crowd runs today: a saturation then is no capacity-planning matter. */
  private overloadToday = false;
  private saturatedMs = 0;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host } = init;
    this.peakHour = rng.uniform(12, 21);
    this.sharpness = rng.uniform(1, 3);
    this.cpuBase = rng.uniform(0.03, 0.1);
    const hot = rng.bernoulli(HOT_HOST_SHARE);
    const peakLoad = hot ? rng.uniform(0.75, 0.86) : rng.uniform(0.35, 0.72);
    this.cpuPerTraffic = peakLoad - this.cpuBase;
    this.weekendFactor = rng.uniform(0.5, 0.95);
    this.memoryBase = rng.uniform(0.12, 0.3) * host.memoryBytes;
    this.memoryAmplitude = rng.uniform(0.04, 0.15) * host.memoryBytes;
    this.connections = rng.uniform(0.02, 0.08) * host.fileMax;
    this.bytesPerSecond = rng.uniform(1, 50) * 1e6;
    this.overloadChance = rng.uniform(0.06, 0.16);
    this.growthPerWeek = rng.uniform(-0.01, 0.04);
    this.trafficNoise = new SmoothNoise(rng, 0.05, 20 * MINUTE_MS);
    this.dayNoise = new SmoothNoise(rng, 0.06, 3 * DAY_MS);
    this.params = {
      peakHour: round(this.peakHour, 2),
      sharpness: round(this.sharpness, 2),
      cpuBase: round(this.cpuBase),
      peakLoad: round(peakLoad),
      runsHot: hot,
      weekendFactor: round(this.weekendFactor),
      growthPerWeek: round(this.growthPerWeek),
      overloadChancePerDay: round(this.overloadChance),
      flashCrowdShare: FLASH_CROWD_SHARE,
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng } = this.init;
    this.startMs ??= ctx.t;
    if (ctx.local.day !== this.day) this.newDay(ctx);
    if (ctx.t >= this.capacityAt) this.addCapacity(ctx);
    this.watchSaturation(ctx);

    const c = this.campaign;
    const campaign = c
      ? 1 +
        (this.campaignUplift - 1) *
          pulse(ctx.t, c.startMs, c.endMs - c.startMs, CAMPAIGN_RISE_MS, CAMPAIGN_FALL_MS)
      : 1;
    const curve = 0.15 + 0.85 * dayCurve(ctx.local.hour, this.peakHour, this.sharpness);
    const traffic =
      Math.max(0, (curve * this.dayFactor * campaign) / this.capacity) *
      (1 + this.trafficNoise.next(ctx.dtMs));
    const f = this.flash;
    const surge = f ? pulse(ctx.t, f.startMs, f.durationMs, FLASH_CROWD_RAMP_MS) : 0;
    const surgeCpu = f
      ? pulseMean(ctx.t - ctx.dtMs, ctx.t, f.startMs, f.durationMs, FLASH_CROWD_RAMP_MS) * f.cpu
      : 0;
    const cpu = this.cpuBase + this.cpuPerTraffic * traffic + surgeCpu + 0.012 * rng.normal();
    demand.addCpu(Math.max(0, cpu), this.name);
    const memory =
      this.memoryBase + this.memoryAmplitude * (traffic + 1.5 * surge) * (1 + 0.01 * rng.normal());
    demand.addMemory(memory, this.name);
    demand.addFds(this.connections * (0.2 + traffic + surge), this.name);
    demand.addNetwork(this.bytesPerSecond * (traffic + surge));
    if (c && !c.announced && ctx.t >= c.startMs) {
      c.announced = true;
      ctx.incident('campaign', { days: c.days, uplift: round(c.uplift, 3) });
    }
    if (f && !f.announced && ctx.t >= f.startMs) {
      f.announced = true;
      ctx.incident('flash-crowd', {
        minutes: Math.round(f.durationMs / MINUTE_MS),
        extraCpu: round(f.cpu, 3),
      });
    }
    if (c && ctx.t >= c.endMs) this.campaign = undefined;
    if (f && ctx.t >= f.startMs + f.durationMs) this.flash = undefined;
  }

  /** Plans the day: its volume, and whether a campaign runs or a flash crowd comes. */
  private newDay(ctx: TickContext): void {
    const { rng, host } = this.init;
    const first = this.day === undefined;
    this.day = ctx.local.day;
    const weeks = (ctx.t - this.startMs!) / WEEK_MS;
    const volume = clamp(Math.exp(this.dayNoise.next(DAY_MS)), 0.8, 1.25);
    this.dayFactor =
      volume * Math.exp(this.growthPerWeek * weeks) * (ctx.local.weekend ? this.weekendFactor : 1);
    if (this.campaign && ctx.t >= this.campaign.endMs) this.campaign = undefined;
    this.overloadToday = this.campaign !== undefined;
    if (this.campaign) this.campaignUplift = 1 + (this.campaign.uplift - 1) * logNormal(rng, 1, 0.1);
    if (first || this.campaign || !rng.bernoulli(this.overloadChance)) return;
    this.overloadToday = true;
    if (rng.bernoulli(FLASH_CROWD_SHARE)) {
      const startMs = localDayTime(ctx.local.day, this.peakHour + rng.uniform(-9, 2), host.utcOffsetHours);
      this.flash = {
        startMs,
        durationMs: clamp(logNormal(rng, 50, 0.6), 15, 240) * MINUTE_MS,
        cpu: rng.uniform(0.3, 0.7),
        announced: false,
      };
      return;
    }
    const days = weightedPick(rng, CAMPAIGN_DAYS);
    const startMs = localDayTime(ctx.local.day, rng.uniform(6, 10), host.utcOffsetHours);
    const uplift = 1 + clamp(logNormal(rng, 0.45, 0.45), 0.1, 2);
    const endMs = localDayTime(ctx.local.day + days, 0, host.utcOffsetHours);
    this.campaign = { startMs, endMs, uplift, days, announced: false };
    this.campaignUplift = uplift;
  }

  /**
   * A saturation page on a day without a campaign or a flash crowd means the
   * host has outgrown its capacity: someone scales its pool out, a day or
   * three later.
   */
  private watchSaturation(ctx: TickContext): void {
    const cpu = ctx.previous?.cpuUtilization ?? 0;
    this.saturatedMs = cpu >= SATURATED ? this.saturatedMs + ctx.dtMs : 0;
    if (this.saturatedMs < SATURATED_FOR_MS || this.overloadToday || this.capacityAt !== Infinity) return;
    this.capacityAt = ctx.t + this.init.rng.uniform(0.5, 3) * DAY_MS;
  }

  private addCapacity(ctx: TickContext): void {
    // One to a few more instances in the host's pool: +10 % in a pool of ten, +50 % in a pool of two.
    const factor = this.init.rng.uniform(1.1, 1.5);
    this.capacity *= factor;
    this.capacityAt = Infinity;
    ctx.incident('capacity-added', { factor: round(factor, 3), capacity: round(this.capacity, 3) });
  }
}
