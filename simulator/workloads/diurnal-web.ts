/**
 * Diurnal web traffic: CPU, memory, connections and network follow a day
 * curve peaking in the host's local afternoon or evening, lower at the
 * weekend, with noise. On occasional overload days (a campaign, a crawler, a
 * failover from another region) a surge on top of the peak saturates the CPU
 * for tens of minutes to hours; some surges stop just short of it.
 *
 * Exhaustion: CPU on overload days (a surge on 15–35 % of days, about one in
 * three holding 90 % for 5 minutes: an episode every ≈ 8 days per host),
 * memory rarely. Rates: docs/simulator.md.
 */
import { MINUTE_MS, localDayTime } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { SmoothNoise, clamp, dayCurve, logNormal, pulse, pulseMean, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

const SURGE_RAMP_MS = 10 * MINUTE_MS;

interface Surge {
  startMs: number;
  durationMs: number;
  cpu: number;
  announced: boolean;
}

export class DiurnalWebWorkload implements Workload {
  readonly name = 'diurnal-web' as const;
  readonly params: WorkloadParams;
  private readonly peakHour: number;
  private readonly sharpness: number;
  private readonly cpuBase: number;
  private readonly cpuAmplitude: number;
  private readonly weekendFactor: number;
  private readonly memoryBase: number;
  private readonly memoryAmplitude: number;
  private readonly connections: number;
  private readonly bytesPerSecond: number;
  private readonly overloadChance: number;
  private readonly trafficNoise: SmoothNoise;
  private day: number | undefined;
  private dayVolume = 1;
  private surge: Surge | undefined;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host } = init;
    this.peakHour = rng.uniform(12, 21);
    this.sharpness = rng.uniform(1, 3);
    this.cpuBase = rng.uniform(0.03, 0.1);
    this.cpuAmplitude = rng.uniform(0.25, 0.55);
    this.weekendFactor = rng.uniform(0.5, 0.95);
    this.memoryBase = rng.uniform(0.12, 0.3) * host.memoryBytes;
    this.memoryAmplitude = rng.uniform(0.04, 0.15) * host.memoryBytes;
    this.connections = rng.uniform(0.02, 0.08) * host.fileMax;
    this.bytesPerSecond = rng.uniform(1, 50) * 1e6;
    this.overloadChance = rng.uniform(0.15, 0.35);
    this.trafficNoise = new SmoothNoise(rng, 0.05, 20 * MINUTE_MS);
    this.params = {
      peakHour: round(this.peakHour, 2),
      sharpness: round(this.sharpness, 2),
      cpuBase: round(this.cpuBase),
      cpuAmplitude: round(this.cpuAmplitude),
      weekendFactor: round(this.weekendFactor),
      overloadChancePerDay: round(this.overloadChance),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng } = this.init;
    if (ctx.local.day !== this.day) this.newDay(ctx);
    const weekday = ctx.local.weekend ? this.weekendFactor : 1;
    const traffic =
      Math.max(
        0,
        (0.15 + 0.85 * dayCurve(ctx.local.hour, this.peakHour, this.sharpness)) * weekday * this.dayVolume,
      ) *
      (1 + this.trafficNoise.next(ctx.dtMs));
    const s = this.surge;
    const surge = s ? pulse(ctx.t, s.startMs, s.durationMs, SURGE_RAMP_MS) : 0;
    const surgeCpu = s
      ? pulseMean(ctx.t - ctx.dtMs, ctx.t, s.startMs, s.durationMs, SURGE_RAMP_MS) * s.cpu
      : 0;
    const cpu = this.cpuBase + this.cpuAmplitude * traffic + surgeCpu + 0.012 * rng.normal();
    demand.addCpu(Math.max(0, cpu), this.name);
    const memory =
      this.memoryBase + this.memoryAmplitude * (traffic + 1.5 * surge) * (1 + 0.01 * rng.normal());
    demand.addMemory(memory, this.name);
    demand.addFds(this.connections * (0.2 + traffic + surge), this.name);
    demand.addNetwork(this.bytesPerSecond * (traffic + surge));
    if (this.surge && !this.surge.announced && ctx.t >= this.surge.startMs) {
      this.surge.announced = true;
      ctx.incident('overload', {
        minutes: Math.round(this.surge.durationMs / MINUTE_MS),
        extraCpu: round(this.surge.cpu, 3),
      });
    }
  }

  private newDay(ctx: TickContext): void {
    const { rng } = this.init;
    const first = this.day === undefined;
    this.day = ctx.local.day;
    this.dayVolume = clamp(logNormal(rng, 1, 0.08), 0.75, 1.3);
    if (first || !rng.bernoulli(this.overloadChance)) return;
    const startHour = this.peakHour + rng.uniform(-2, 1);
    this.surge = {
      startMs: localDayTime(ctx.local.day, startHour, ctx.host.utcOffsetHours),
      durationMs: clamp(logNormal(rng, 60, 0.6), 15, 240) * MINUTE_MS,
      cpu: rng.uniform(0.2, 0.6),
      announced: false,
    };
  }
}
