/**
 * A service that leaks memory until it is restarted. Resident memory climbs
 * roughly linearly (faster when the service is busy) with a garbage
 * collector's sawtooth on top. Each run of the service ends one of two ways:
 *
 * - restarted *before* memory runs out — a deploy or a scheduled restart
 *   happens to come in time (no exhaustion; the leak's slope was real but the
 *   label is negative);
 * - or it grows until memory is ≥ 95 % (an exhaustion event), spills into
 *   swap where there is some, and ends when an operator restarts it or the
 *   OOM killer fires once memory and swap are both full.
 *
 * On a host with swap the kernel moves the leak's cold pages out as the
 * pressure builds (host/virtual-host.ts), so swap fills over the run's last
 * hours — on hosts with little swap, before memory is full. A full swap
 * pages the on-call like full memory does, and the service is restarted
 * some time later.
 *
 * Exhaustion: memory, and swap on hosts with little of it. A run lasts 8 h
 * to 3 days; roughly half end in exhaustion (≈ 0.8 episodes per host-day).
 * Rates: docs/simulator.md.
 */
import { HOUR_MS, MINUTE_MS } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { clamp, dayCurve, logNormal, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

/** Memory utilisation at which the service is in trouble: the memory exhaustion threshold. */
const EXHAUSTED = 0.95;
/** Swap utilisation at which the host thrashes: the swap exhaustion threshold. */
const SWAP_FULL = 0.9;
const WARM_UP_MS = 10 * MINUTE_MS;

type RestartReason = 'deploy' | 'operator' | 'oom-kill';

export class MemoryLeakWorkload implements Workload {
  readonly name = 'memory-leak' as const;
  readonly params: WorkloadParams;
  private readonly serviceBytes: number;
  private readonly leakPerHour: number;
  private readonly gcAmplitude: number;
  private readonly gcPeriodMs: number;
  private readonly restartBeforeChance: number;
  private started = false;
  private runStart = 0;
  private leaked = 0;
  private restartAt = Infinity;
  private restartReason: RestartReason = 'deploy';
  private exhausted = false;
  private swapFull = false;
  /** What the service held on the last tick, bytes. */
  private lastRss = 0;

  constructor(private readonly init: WorkloadInit) {
    const { rng, host } = init;
    this.serviceBytes = rng.uniform(0.08, 0.2) * host.memoryBytes;
    this.leakPerHour = rng.uniform(0.008, 0.05) * host.memoryBytes;
    this.gcAmplitude = rng.uniform(0, 0.012) * host.memoryBytes;
    this.gcPeriodMs = rng.uniform(3, 20) * MINUTE_MS;
    this.restartBeforeChance = rng.uniform(0.35, 0.65);
    this.params = {
      serviceShare: round(this.serviceBytes / host.memoryBytes),
      leakSharePerHour: round(this.leakPerHour / host.memoryBytes, 5),
      restartBeforeChance: round(this.restartBeforeChance),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng } = this.init;
    if (!this.started) {
      this.started = true;
      // Join the service somewhere in its run, not at a fresh start.
      this.newRun(ctx, -rng.uniform(0, 12) * HOUR_MS, rng.uniform(0, 0.2) * this.init.host.memoryBytes);
    }
    const previous = ctx.previous;
    if (previous?.outOfMemory) {
      this.restart(ctx, 'oom-kill');
    } else if (previous && previous.memoryUtilization >= EXHAUSTED) {
      if (!this.exhausted) ctx.incident('memory-exhausted', { leakedGiB: round(this.leaked / 2 ** 30, 3) });
      this.exhausted = true;
      if (this.restartAt === Infinity) {
        // Without swap the service fails at once and someone restarts it soon; with swap it only slows
        // down, and is noticed later — often after swap has filled too.
        const minutes =
          this.init.host.swapBytes > 0
            ? clamp(logNormal(rng, 120, 0.8), 10, 480)
            : clamp(logNormal(rng, 25, 0.7), 3, 120);
        this.restartAt = ctx.t + minutes * MINUTE_MS;
        this.restartReason = 'operator';
      }
    }
    if (previous && previous.swapUtilization >= SWAP_FULL && !this.swapFull) {
      // Swap full pages the on-call too (the host is thrashing): a restart some time later, unless one is
      // already due.
      this.swapFull = true;
      ctx.incident('swap-exhausted', { leakedGiB: round(this.leaked / 2 ** 30, 3) });
      const at = ctx.t + clamp(logNormal(rng, 90, 0.8), 10, 480) * MINUTE_MS;
      if (at < this.restartAt) {
        this.restartAt = at;
        this.restartReason = 'operator';
      }
    }
    if (ctx.t >= this.restartAt) this.restart(ctx, this.restartReason);

    const busy = 0.5 + dayCurve(ctx.local.hour, 15, 1);
    this.leaked += (this.leakPerHour * busy * ctx.dtMs) / HOUR_MS;
    const age = ctx.t - this.runStart;
    const warm = age >= WARM_UP_MS ? 1 : 0.5 + (0.5 * Math.max(0, age)) / WARM_UP_MS;
    const gc = this.gcAmplitude * ((age / this.gcPeriodMs) % 1);
    this.lastRss = Math.max(0, this.serviceBytes * warm + this.leaked + gc);
    demand.addMemory(this.lastRss, this.name);
    demand.addCpu(0.02 + 0.01 * Math.abs(rng.normal()), this.name);
  }

  private restart(ctx: TickContext, reason: RestartReason): void {
    ctx.incident('restart', {
      reason,
      exhausted: this.exhausted,
      leakedGiB: round(this.leaked / 2 ** 30, 3),
      runHours: round((ctx.t - this.runStart) / HOUR_MS, 2),
    });
    this.newRun(ctx, 0, 0);
  }

  /** Starts a run `ageMs` ago with `leaked` bytes leaked, and plans whether a deploy ends it early. */
  private newRun(ctx: TickContext, ageMs: number, leaked: number): void {
    const { rng, host } = this.init;
    this.runStart = ctx.t + ageMs;
    this.leaked = leaked;
    this.exhausted = false;
    this.swapFull = false;
    this.restartAt = Infinity;
    if (rng.bernoulli(this.restartBeforeChance)) {
      // Hours until the leak would reach the threshold, from what the rest of the host uses now.
      const others = ctx.previous ? ctx.previous.memoryUsed - this.lastRss : 0.3 * host.memoryBytes;
      const used = others + this.serviceBytes + leaked;
      const headroom = Math.max(0.05 * host.memoryBytes, EXHAUSTED * host.memoryBytes - used);
      const hoursToExhaustion = headroom / this.leakPerHour;
      this.restartAt = ctx.t + rng.uniform(0.3, 0.9) * hoursToExhaustion * HOUR_MS;
      this.restartReason = 'deploy';
    }
  }
}
