/**
 * A service that leaks file descriptors (sockets it never closes, files it
 * opens per request), faster when it is busy. Like the memory leak, each run
 * ends either with a deploy or scheduled restart before trouble, or with
 * the system-wide table at ≥ 90 % of `fs.file-max`: opens start failing with
 * ENFILE, the table pins at its limit, and a failing health check gets the
 * service restarted minutes later.
 *
 * Exhaustion: file descriptors, in roughly half of the runs (a run lasts
 * 4 h to 2 days: ≈ 0.8 episodes per host-day). Rates: docs/simulator.md.
 */
import { HOUR_MS, MINUTE_MS } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { clamp, dayCurve, logNormal, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

const EXHAUSTED = 0.9;

export class FdLeakWorkload implements Workload {
  readonly name = 'fd-leak' as const;
  readonly params: WorkloadParams;
  private readonly baseFds: number;
  private readonly leakPerHour: number;
  private readonly restartBeforeChance: number;
  private readonly peakHour: number;
  private started = false;
  private runStart = 0;
  private leaked = 0;
  private restartAt = Infinity;
  private reason: 'deploy' | 'health-check' = 'deploy';
  private exhausted = false;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host } = init;
    this.baseFds = rng.uniform(0.01, 0.05) * host.fileMax;
    const hoursToExhaustion = rng.uniform(4, 48);
    this.leakPerHour = (0.85 * host.fileMax) / hoursToExhaustion;
    this.restartBeforeChance = rng.uniform(0.4, 0.7);
    this.peakHour = rng.uniform(12, 20);
    this.params = {
      baseShare: round(this.baseFds / host.fileMax),
      hoursToExhaustion: round(hoursToExhaustion, 2),
      restartBeforeChance: round(this.restartBeforeChance),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng, host } = this.init;
    if (!this.started) {
      this.started = true;
      this.newRun(ctx, rng.uniform(0, 0.4) * host.fileMax);
    }
    const util = ctx.previous?.fdsUtilization ?? 0;
    if (util >= EXHAUSTED && !this.exhausted) {
      this.exhausted = true;
      ctx.incident('fds-exhausted', { utilization: round(util, 4) });
      const healthCheckAt = ctx.t + clamp(logNormal(rng, 12, 0.7), 2, 60) * MINUTE_MS;
      if (healthCheckAt < this.restartAt) {
        this.restartAt = healthCheckAt;
        this.reason = 'health-check';
      }
    }
    if (ctx.t >= this.restartAt) {
      ctx.incident('restart', {
        reason: this.reason,
        exhausted: this.exhausted,
        runHours: round((ctx.t - this.runStart) / HOUR_MS, 2),
      });
      this.newRun(ctx, 0);
    }
    const busy = 0.5 + dayCurve(ctx.local.hour, this.peakHour, 1);
    this.leaked += (this.leakPerHour * busy * ctx.dtMs) / HOUR_MS;
    demand.addFds(this.baseFds * (1 + 0.05 * rng.normal()) + this.leaked, this.name);
    demand.addCpu(0.03 + 0.01 * Math.abs(rng.normal()), this.name);
    demand.addMemory(0.05 * host.memoryBytes + this.leaked * 512, this.name);
  }

  private newRun(ctx: TickContext, leaked: number): void {
    const { rng, host } = this.init;
    this.runStart = ctx.t;
    this.leaked = leaked;
    this.exhausted = false;
    this.restartAt = Infinity;
    this.reason = 'deploy';
    if (rng.bernoulli(this.restartBeforeChance)) {
      const hoursLeft = Math.max(0.5, (EXHAUSTED * host.fileMax - this.baseFds - leaked) / this.leakPerHour);
      this.restartAt = ctx.t + rng.uniform(0.3, 0.9) * hoursLeft * HOUR_MS;
    }
  }
}
