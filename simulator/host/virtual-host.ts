/**
 * One virtual host: a shape, a mix of workloads, and the kernel's part —
 * clipping CPU at 100 % and queueing the rest (load average), swapping out
 * what does not fit in RAM and calling the OOM killer when swap is full too,
 * refusing writes on a full disk. Each tick yields the telemetry message a
 * real agent on that host would publish, with its own sequence number.
 */
import { SeededRandom } from '../../models/random.js';
import { SCHEMA_VERSION, type TelemetryMessage } from '../../shared/wire/telemetry.js';
import { MINUTE_MS, localTime } from '../clock.js';
import { SmoothNoise, clamp } from '../signal.js';
import type { ProfileName } from '../profiles.js';
import type { TickContext, Workload } from '../workloads/workload.js';
import { Demand, type DemandCauses } from './demand.js';
import type { FilesystemReading, HostReading } from './host-reading.js';
import type { HostShape } from './host-shape.js';
import { TelemetryLayout } from './telemetry-points.js';

/** Above this share of RAM in use, the kernel swaps pages out rather than let memory fill. */
const SWAP_OUT_ABOVE = 0.97;
/**
 * From this much anonymous memory (share of RAM) the page cache is thin
 * enough that reclaim scans the anonymous pages too, and kswapd moves the
 * cold ones — a leak's pages are the coldest there are — to swap: a trickle
 * at first, more and more as the pressure builds (`HostShape.swapOutShare`
 * of the excess by the time memory is full). Swap therefore fills while the
 * pressure builds, as on a real host, not all at once at the last moment.
 */
export const SWAP_PRESSURE_FROM = 0.75;
/** Memory never reads fuller than this: the OOM killer fires first. */
const MEMORY_CEILING = 0.995;
/** Kernel slab and page tables, share of RAM: counted as used. */
const KERNEL_SHARE = 0.015;
/** Swapped-out pages stay out until touched or their process exits; they drain with this time constant. */
const SWAP_DRAIN_MS = 20 * MINUTE_MS;
/** Time constants of the kernel's 1, 5 and 15 minute load averages. */
const LOAD_TAUS_MS = [MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS] as const;
/**
 * Memory pressure stall information (PSI "some": the share of wall time in
 * which some task waited for memory). Nothing while the page cache gives way;
 * from SWAP_PRESSURE_FROM of RAM in anonymous memory, reclaim scans (and
 * swaps) anonymous pages and tasks start to stall, up to PSI_RECLAIM_MAX when
 * the demand equals RAM; beyond SWAP_OUT_ABOVE the host thrashes, up to
 * PSI_THRASH_MAX more. "full" (every task stalled) is a share of "some". The
 * kernel reports exponential averages over 10 and 60 s.
 */
const PSI_RECLAIM_MAX = 0.12;
const PSI_THRASH_MAX = 0.55;
/** Demand beyond SWAP_OUT_ABOVE, share of RAM, at which thrashing stalls reach PSI_THRASH_MAX. */
const PSI_THRASH_SPAN = 0.08;
const PSI_FULL_SHARE = 0.35;
const PSI_AVG10_TAU_MS = 10_000;
const PSI_AVG60_TAU_MS = 60_000;

/** Something a workload did that explains the series, for `incidents.jsonl`. */
export interface IncidentRecord {
  readonly hostId: string;
  /** Simulated time, Unix epoch ms. */
  readonly t: number;
  readonly workload: string;
  readonly kind: string;
  readonly detail: Readonly<Record<string, number | string | boolean>>;
}

export interface VirtualHostOptions {
  hostId: string;
  profile: ProfileName;
  shape: HostShape;
  workloads: Workload[];
  /** Stream for the host's own noise (page cache, swap, counters). */
  rng: SeededRandom;
  intervalSeconds: number;
  onIncident: (incident: IncidentRecord) => void;
}

export class VirtualHost {
  readonly hostId: string;
  readonly profile: ProfileName;
  readonly shape: HostShape;
  readonly workloads: readonly Workload[];
  private readonly rng: SeededRandom;
  private readonly intervalSeconds: number;
  private readonly onIncident: (incident: IncidentRecord) => void;
  private readonly demand: Demand;
  private readonly layout: TelemetryLayout;
  private readonly cacheNoise: SmoothNoise;
  private readonly swapNoise: SmoothNoise;
  /**
   * The PSI figures' noise: a stream of its own, so that the host's other
   * series are the same draws as without them.
   */
  private readonly psiRng: SeededRandom;
  private seq = 0;
  private lastT: number | undefined;
  private previous: HostReading | undefined;
  private loads: [number, number, number] | undefined;
  private swapSpill = 0;
  private rx: number;
  private tx: number;
  private lastCauses: DemandCauses | undefined;
  /** One incident callback per workload, stamped with the host, the workload and the current tick. */
  private readonly incidentRecorders: Array<TickContext['incident']>;

  constructor(options: VirtualHostOptions) {
    this.hostId = options.hostId;
    this.profile = options.profile;
    this.shape = options.shape;
    this.workloads = options.workloads;
    this.rng = options.rng;
    this.intervalSeconds = options.intervalSeconds;
    this.onIncident = options.onIncident;
    this.demand = new Demand(options.shape.filesystems.length);
    this.layout = new TelemetryLayout(options.shape);
    this.incidentRecorders = options.workloads.map(
      (workload) =>
        (kind: string, detail: IncidentRecord['detail'] = {}) =>
          this.onIncident({ hostId: this.hostId, t: this.lastT ?? 0, workload: workload.name, kind, detail }),
    );
    this.cacheNoise = new SmoothNoise(this.rng, 0.12, 6 * 60 * MINUTE_MS);
    this.swapNoise = new SmoothNoise(this.rng, 0.1, 60 * MINUTE_MS);
    this.psiRng = new SeededRandom(
      fnv1a(
        `${options.hostId}|${options.shape.memoryBytes}|${options.shape.swapBytes}|${options.shape.fileMax}`,
      ),
    );
    // Counters since a boot some time ago.
    this.rx = Math.round(this.rng.uniform(1e9, 1e12));
    this.tx = Math.round(this.rng.uniform(1e9, 1e12));
  }

  /** Messages published so far; the last one's `seq`. */
  get published(): number {
    return this.seq;
  }

  /**
   * Claims the next sequence number for a message other than telemetry (a
   * model update event), as an agent's queue numbers all its messages in
   * one sequence.
   */
  nextSeq(): number {
    return ++this.seq;
  }

  /** The latest reading; undefined before the first tick. */
  get reading(): HostReading | undefined {
    return this.previous;
  }

  /** Which workload drove each resource on the latest tick. */
  get causes(): DemandCauses | undefined {
    return this.lastCauses;
  }

  /** Advances the host to `t` (Unix epoch ms, later than the previous tick) and returns its telemetry. */
  next(t: number): TelemetryMessage {
    if (this.lastT !== undefined && t <= this.lastT) {
      throw new RangeError(`${this.hostId}: time must move forward (${t} after ${this.lastT})`);
    }
    const dtMs = this.lastT === undefined ? this.intervalSeconds * 1000 : t - this.lastT;
    this.lastT = t;
    const local = localTime(t, this.shape.utcOffsetHours);
    this.demand.reset();
    this.workloads.forEach((workload, i) => {
      const ctx: TickContext = {
        t,
        dtMs,
        local,
        host: this.shape,
        previous: this.previous,
        incident: this.incidentRecorders[i]!,
      };
      workload.step(ctx, this.demand);
    });
    this.lastCauses = this.demand.causes();
    const reading = this.read(t, dtMs);
    this.previous = reading;
    return {
      schemaVersion: SCHEMA_VERSION,
      hostId: this.hostId,
      seq: ++this.seq,
      timestamp: t,
      intervalSeconds: this.intervalSeconds,
      metrics: this.layout.points(reading),
    };
  }

  /** The kernel's view of this tick's demand. */
  private read(t: number, dtMs: number): HostReading {
    const { shape, demand, rng } = this;

    const cpuDemand = Math.max(0, demand.cpu);
    const cpuUtilization = cpuDemand >= 1 ? 1 - Math.abs(0.004 * rng.normal()) : clamp(cpuDemand, 0, 1);
    // Runnable threads: the CPUs' share of the demand, plus what waits in the queue beyond 100 %.
    const runnable = cpuDemand * shape.cpus + 0.1 * Math.abs(rng.normal());
    const loads = (this.loads ??= [runnable, runnable, runnable]);
    LOAD_TAUS_MS.forEach((tau, i) => {
      const e = Math.exp(-dtMs / tau);
      loads[i] = loads[i]! * e + runnable * (1 - e);
    });

    const total = shape.memoryBytes;
    const anon = demand.memoryBytes + KERNEL_SHARE * total;
    const swapTotal = shape.swapBytes;
    const swapBase = clamp(shape.swapBaselineFraction * (1 + this.swapNoise.next(dtMs)), 0, 0.5) * swapTotal;
    const swapRoom = Math.max(0, swapTotal - swapBase);
    let spillNow = 0;
    if (swapTotal > 0) {
      // Quadratic in the excess, reaching swapOutShare × the excess at SWAP_OUT_ABOVE and no more: with
      // swapOutShare ≤ 0.5 the RAM in use never falls while the demand grows. Beyond, the forced spill.
      const excess = clamp(anon / total - SWAP_PRESSURE_FROM, 0, SWAP_OUT_ABOVE - SWAP_PRESSURE_FROM);
      const pressured =
        (shape.swapOutShare * total * excess * excess) / (SWAP_OUT_ABOVE - SWAP_PRESSURE_FROM);
      const forced = Math.max(0, anon - pressured - SWAP_OUT_ABOVE * total);
      spillNow = clamp(pressured + forced, 0, swapRoom);
    }
    let ramUsed = anon - spillNow;
    const outOfMemory = ramUsed > MEMORY_CEILING * total;
    if (outOfMemory) ramUsed = MEMORY_CEILING * total;
    this.swapSpill = Math.min(swapRoom, Math.max(spillNow, this.swapSpill * Math.exp(-dtMs / SWAP_DRAIN_MS)));
    const swapUsed = Math.round(swapTotal > 0 ? swapBase + this.swapSpill : 0);
    const memoryUsed = Math.round(Math.max(0, ramUsed));
    const memoryPressure = this.memoryPressure(anon / total, dtMs);
    const cacheShare = clamp(0.55 + this.cacheNoise.next(dtMs), 0.15, 0.9);
    const memoryCached = Math.round((total - memoryUsed) * cacheShare);

    const filesystems = shape.filesystems.map((fs, i): FilesystemReading => {
      const sizeBytes = Math.round(fs.sizeBytes + demand.fsExtraCapacity[i]!);
      const reservedBytes = Math.round(sizeBytes * fs.reservedFraction);
      const usable = sizeBytes - reservedBytes;
      const usedBytes = Math.round(clamp(demand.fsBytes[i]!, 0, usable));
      const inodesTotal = Math.floor(sizeBytes / fs.bytesPerInode);
      const inodesUsed = Math.round(clamp(demand.fsInodes[i]!, 0, inodesTotal));
      return {
        shape: fs,
        sizeBytes,
        usedBytes,
        freeBytes: usable - usedBytes,
        reservedBytes,
        utilization: usedBytes / usable,
        inodesTotal,
        inodesUsed,
        inodesUtilization: inodesUsed / inodesTotal,
      };
    });

    const fdsAllocated = Math.round(clamp(demand.fds, 0, shape.fileMax));
    const seconds = dtMs / 1000;
    this.rx += Math.round(0.35 * demand.networkBytesPerSecond * seconds);
    this.tx += Math.round(demand.networkBytesPerSecond * seconds);

    return {
      t,
      cpuDemand,
      cpuUtilization,
      load1m: loads[0],
      load5m: loads[1],
      load15m: loads[2],
      memoryTotal: total,
      memoryUsed,
      memoryCached,
      memoryFree: total - memoryUsed - memoryCached,
      memoryUtilization: memoryUsed / total,
      swapTotal,
      swapUsed,
      swapUtilization: swapTotal > 0 ? swapUsed / swapTotal : NaN,
      outOfMemory,
      memoryPressure,
      filesystems,
      fdsMax: shape.fileMax,
      fdsAllocated,
      fdsUtilization: fdsAllocated / shape.fileMax,
      networkReceiveBytes: this.rx,
      networkTransmitBytes: this.tx,
    };
  }

  /** This tick's memory PSI averages, from the demand for RAM (anonymous memory ÷ RAM). */
  private memoryPressure(demand: number, dtMs: number): HostReading['memoryPressure'] {
    const reclaim = clamp((demand - SWAP_PRESSURE_FROM) / (1 - SWAP_PRESSURE_FROM), 0, 1);
    const thrash = clamp((demand - SWAP_OUT_ABOVE) / PSI_THRASH_SPAN, 0, 1);
    const stall = PSI_RECLAIM_MAX * reclaim * reclaim + PSI_THRASH_MAX * thrash;
    // Stalls come in bursts: a noisy share of the expected one, and a trace of background reclaim.
    const some = clamp(
      stall * Math.exp(0.35 * this.psiRng.normal()) + 0.0005 * this.psiRng.uniform(0, 1),
      0,
      1,
    );
    const full = some * PSI_FULL_SHARE * this.psiRng.uniform(0.5, 1);
    // The kernel's running averages, from the previous tick's (the first tick starts them).
    const last = this.previous?.memoryPressure;
    const e10 = Math.exp(-dtMs / PSI_AVG10_TAU_MS);
    const e60 = Math.exp(-dtMs / PSI_AVG60_TAU_MS);
    const average = (previous: number | undefined, now: number, e: number) =>
      previous === undefined ? now : previous * e + now * (1 - e);
    return {
      someAvg10: average(last?.someAvg10, some, e10),
      someAvg60: average(last?.someAvg60, some, e60),
      fullAvg10: average(last?.fullAvg10, full, e10),
      fullAvg60: average(last?.fullAvg60, full, e60),
    };
  }
}

/** FNV-1a over a string's UTF-16 code units: a seed from a name. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
