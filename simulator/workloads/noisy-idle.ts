/**
 * A host with nothing much to do: a few idle daemons, monitoring, a sidecar.
 * CPU jitters at a few percent with the odd spike of some seconds (a health
 * check, a package index refresh); memory and disks stay flat. It never
 * comes near a threshold, by construction: every contribution is bounded
 * (CPU under 40 %, memory under a third of RAM).
 *
 * Exhaustion: none. These hosts are the negatives that keep a model honest
 * about noise.
 */
import { MINUTE_MS } from '../clock.js';
import type { Demand } from '../host/demand.js';
import { SmoothNoise, clamp, round } from '../signal.js';
import type { TickContext, Workload, WorkloadInit, WorkloadParams } from './workload.js';

/** Upper bounds of what this workload asks for, whatever the noise. */
export const IDLE_MAX_CPU = 0.3;
/** How long a spike lasts: a health check, a package index refresh. */
const SPIKE_MS = 15_000;
export const IDLE_MAX_MEMORY_SHARE = 0.3;

export class NoisyIdleWorkload implements Workload {
  readonly name = 'noisy-idle' as const;
  readonly params: WorkloadParams;
  private readonly cpu: number;
  private readonly spikesPerMinute: number;
  private readonly memoryShare: number;
  private readonly cpuNoise: SmoothNoise;
  private readonly memoryNoise: SmoothNoise;

  constructor(private readonly init: WorkloadInit) {
    const { rng } = init;
    this.cpu = rng.uniform(0.01, 0.05);
    this.spikesPerMinute = rng.uniform(0.005, 0.03);
    this.memoryShare = rng.uniform(0.05, 0.22);
    this.cpuNoise = new SmoothNoise(rng, 0.01, 3 * MINUTE_MS);
    this.memoryNoise = new SmoothNoise(rng, 0.01, 30 * MINUTE_MS);
    this.params = {
      cpu: round(this.cpu),
      spikesPerMinute: round(this.spikesPerMinute),
      memoryShare: round(this.memoryShare),
    };
  }

  step(ctx: TickContext, demand: Demand): void {
    const { rng, host } = this.init;
    // A spike of some seconds lands in this interval with the chance that one happens in it, and reads
    // as its share of the interval (CPU utilisation is a mean over the interval).
    const spikes = rng.bernoulli(1 - Math.exp((-this.spikesPerMinute * ctx.dtMs) / MINUTE_MS));
    const spike = spikes ? rng.uniform(0.05, 0.4) * Math.min(1, SPIKE_MS / ctx.dtMs) : 0;
    const cpu = clamp(
      this.cpu + this.cpuNoise.next(ctx.dtMs) + 0.005 * rng.normal() + spike,
      0,
      IDLE_MAX_CPU,
    );
    demand.addCpu(cpu, this.name);
    const memory = clamp(this.memoryShare + this.memoryNoise.next(ctx.dtMs), 0.02, IDLE_MAX_MEMORY_SHARE);
    demand.addMemory(memory * host.memoryBytes, this.name);
    demand.addFds(host.fileMax * 0.005, this.name);
    demand.addNetwork(20_000 * (1 + Math.abs(rng.normal())));
  }
}
