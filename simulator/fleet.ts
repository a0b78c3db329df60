/**
 * A fleet of virtual hosts built from one seed. Host i is the i-th split of
 * the seed's stream, so the first hosts of a fleet are the same whatever its
 * size. Each tick yields one telemetry message per host and feeds it to the
 * host's ground truth.
 */
import { SeededRandom } from '../models/random.js';
import type { ExhaustionConfig, Resource } from '../shared/resources/index.js';
import type { TelemetryMessage } from '../shared/wire/telemetry.js';
import type { ExhaustionEvent } from './ground-truth/exhaustion-event.js';
import { HostGroundTruth, type ResourceSamples } from './ground-truth/exhaustion-tracker.js';
import { type LabelStats, labelStats } from './ground-truth/label-rates.js';
import type { DemandCauses } from './host/demand.js';
import { type IncidentRecord, VirtualHost } from './host/virtual-host.js';
import { PROFILE_NAMES, type ProfileName, drawHost } from './profiles.js';
import type { WorkloadParams } from './workloads/index.js';

export interface FleetOptions {
  hosts: number;
  seed: number;
  /** Host ids are `<prefix>-000`, `<prefix>-001`, …. */
  hostPrefix: string;
  /** Profiles to draw from; all of them when undefined. */
  profiles?: readonly ProfileName[] | undefined;
  intervalSeconds: number;
  /** Overrides of the default exhaustion definitions the ground truth is judged by. */
  exhaustion?: ExhaustionConfig | undefined;
}

/** Where the fleet reports ground truth as it happens. */
export interface FleetSink {
  event(event: ExhaustionEvent): void;
  incident(incident: IncidentRecord): void;
}

/** A host as described in the run record. */
export interface HostDescription {
  hostId: string;
  profile: ProfileName;
  cpus: number;
  memoryBytes: number;
  swapBytes: number;
  /** How eagerly the kernel swaps under pressure (`HostShape.swapOutShare`), 0..1. */
  swapOutShare: number;
  fileMax: number;
  utcOffsetHours: number;
  filesystems: Array<{ mountpoint: string; device: string; type: string; sizeBytes: number }>;
  workloads: Array<{ name: string; params: WorkloadParams }>;
}

export function hostId(prefix: string, index: number, hosts: number): string {
  const width = Math.max(3, String(hosts - 1).length);
  return `${prefix}-${String(index).padStart(width, '0')}`;
}

export class Fleet {
  readonly hosts: readonly VirtualHost[];
  private readonly truths: HostGroundTruth[];
  private readonly events: ExhaustionEvent[] = [];
  private lastTick: number | undefined;

  constructor(
    private readonly options: FleetOptions,
    private readonly sink: FleetSink,
  ) {
    const seeds = new SeededRandom(options.seed);
    const hosts: VirtualHost[] = [];
    for (let i = 0; i < options.hosts; i++) {
      const rng = seeds.split();
      const blueprint = drawHost(rng, options.profiles ?? PROFILE_NAMES);
      hosts.push(
        new VirtualHost({
          hostId: hostId(options.hostPrefix, i, options.hosts),
          profile: blueprint.profile,
          shape: blueprint.shape,
          workloads: blueprint.workloads,
          rng: rng.split(),
          intervalSeconds: options.intervalSeconds,
          onIncident: (incident) => sink.incident(incident),
        }),
      );
    }
    this.hosts = hosts;
    this.truths = hosts.map((h) => new HostGroundTruth(h.hostId, options.exhaustion));
  }

  get intervalMs(): number {
    return this.options.intervalSeconds * 1000;
  }

  /** One message per host at simulated time `t` (epoch ms), in host order. */
  tick(t: number): TelemetryMessage[] {
    this.lastTick = t;
    return this.hosts.map((host, i) => {
      const message = host.next(t);
      const causes = host.causes!;
      for (const event of this.truths[i]!.observe(message, (r) => causeOf(host, causes, r)))
        this.record(event);
      return message;
    });
  }

  /** Closes the ground truth: events still open at the end of the last tick's interval. */
  finish(): void {
    if (this.lastTick === undefined) return;
    for (const truth of this.truths) for (const event of truth.finish(this.endMs)) this.record(event);
  }

  /** End of the simulated span: the last tick plus its interval. */
  get endMs(): number {
    return (this.lastTick ?? 0) + this.intervalMs;
  }

  /** Every event recorded so far, in the order they closed. */
  allEvents(): readonly ExhaustionEvent[] {
    return this.events;
  }

  labelStats(): LabelStats {
    const resources: Array<ResourceSamples & { hostId: string }> = [];
    this.truths.forEach((truth, i) => {
      for (const r of truth.resources()) resources.push({ ...r, hostId: this.hosts[i]!.hostId });
    });
    return labelStats(resources, this.events, this.intervalMs, this.endMs);
  }

  describe(): HostDescription[] {
    return this.hosts.map((h) => ({
      hostId: h.hostId,
      profile: h.profile,
      cpus: h.shape.cpus,
      memoryBytes: h.shape.memoryBytes,
      swapBytes: h.shape.swapBytes,
      swapOutShare: h.shape.swapOutShare,
      fileMax: h.shape.fileMax,
      utcOffsetHours: h.shape.utcOffsetHours,
      filesystems: h.shape.filesystems.map((f) => ({
        mountpoint: f.mountpoint,
        device: f.device,
        type: f.type,
        sizeBytes: f.sizeBytes,
      })),
      workloads: h.workloads.map((w) => ({ name: w.name, params: w.params })),
    }));
  }

  private record(event: ExhaustionEvent): void {
    this.events.push(event);
    this.sink.event(event);
  }
}

function causeOf(host: VirtualHost, causes: DemandCauses, resource: Resource): string {
  switch (resource.kind) {
    case 'cpu':
      return causes.cpu;
    case 'memory':
    case 'swap':
      return causes.memory;
    case 'fds':
      return causes.fds;
    case 'filesystem':
    case 'inodes': {
      const i = host.shape.filesystems.findIndex((f) => f.mountpoint === resource.mountpoint);
      return (resource.kind === 'filesystem' ? causes.fs : causes.inodes)[i] ?? 'os';
    }
  }
}
