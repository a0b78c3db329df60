/**
 * Which telemetry metric gives each resource's utilisation (a 0..1 ratio),
 * and the reading of one telemetry message into one utilisation sample per
 * resource, with the pressure-stall figures that go with it.
 */
import { ATTR, METRIC } from '../wire/metric-names.js';
import type { MetricPoint, TelemetryMessage } from '../wire/telemetry.js';
import {
  type Resource,
  type ResourceKind,
  RESOURCE_KINDS,
  formatResourceId,
  isMountpointKind,
  mountpointProblem,
} from './resource-id.js';

export interface UtilizationMetric {
  /** OTel metric name; its unit is `1` (ratio). */
  readonly metric: string;
  /** Attributes a point must carry with exactly these values. */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * When true, a point carrying any other attribute is not this resource
   * (the all-CPU figure has none; per-CPU or per-state points have some).
   */
  readonly noOtherAttributes: boolean;
}

/** The utilisation metric of every resource kind. Mountpoint kinds take the mountpoint from `ATTR.mountpoint`. */
export const UTILIZATION_METRICS: Readonly<Record<ResourceKind, UtilizationMetric>> = {
  cpu: { metric: METRIC.cpuUtilization.name, attributes: {}, noOtherAttributes: true },
  memory: {
    metric: METRIC.memoryUtilization.name,
    attributes: { [ATTR.memoryState]: 'used' },
    noOtherAttributes: false,
  },
  swap: {
    metric: METRIC.pagingUtilization.name,
    attributes: { [ATTR.pagingState]: 'used' },
    noOtherAttributes: false,
  },
  filesystem: { metric: METRIC.filesystemUtilization.name, attributes: {}, noOtherAttributes: false },
  inodes: { metric: METRIC.filesystemInodesUtilization.name, attributes: {}, noOtherAttributes: false },
  fds: { metric: METRIC.fileDescriptorUtilization.name, attributes: {}, noOtherAttributes: false },
};

export const PRESSURE_RESOURCES = ['cpu', 'memory', 'io'] as const;
export type PressureResource = (typeof PRESSURE_RESOURCES)[number];

/**
 * The PSI resource whose stalls go with each kind: CPU with cpu; memory and
 * swap with memory (reclaim and swap-in stalls); space and inodes with io (a
 * fast fill is usually heavy writing); descriptors with none.
 */
export const PRESSURE_OF_KIND: Readonly<Record<ResourceKind, PressureResource | undefined>> = {
  cpu: 'cpu',
  memory: 'memory',
  swap: 'memory',
  filesystem: 'io',
  inodes: 'io',
  fds: undefined,
};

/**
 * The resource whose filling comes before each kind's, read from the same
 * message: swap fills once memory is all but full (on a host with a low
 * swappiness, swap is near empty until then), so the swap forecast needs
 * memory's level and trend as much as swap's own. Host-wide kinds only.
 */
export const COMPANION_OF_KIND: Readonly<Record<ResourceKind, 'memory' | undefined>> = {
  cpu: undefined,
  memory: undefined,
  swap: 'memory',
  filesystem: undefined,
  inodes: undefined,
  fds: undefined,
};

/**
 * The points whose sum is a companion pair's capacity in bytes, read from
 * the same message as the utilisation: memory's limit; swap's used plus
 * free. Each point matches as in UTILIZATION_METRICS, with no other
 * attributes (a per-device figure is not the host's total).
 */
export const CAPACITY_PARTS: Readonly<Record<'memory' | 'swap', readonly UtilizationMetric[]>> = {
  memory: [{ metric: METRIC.memoryLimit.name, attributes: {}, noOtherAttributes: true }],
  swap: [
    { metric: METRIC.pagingUsage.name, attributes: { [ATTR.pagingState]: 'used' }, noOtherAttributes: true },
    { metric: METRIC.pagingUsage.name, attributes: { [ATTR.pagingState]: 'free' }, noOtherAttributes: true },
  ],
};

/** Whether CAPACITY_PARTS says how to read the kind's capacity. */
export function hasCapacity(kind: ResourceKind): kind is keyof typeof CAPACITY_PARTS {
  return Object.hasOwn(CAPACITY_PARTS, kind);
}

/** Whether a point or stored series with these attributes is the one `spec` describes. */
export function matchesMetric(
  spec: UtilizationMetric,
  attributes: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(spec.attributes)) if (attributes[key] !== value) return false;
  return !(spec.noOtherAttributes && Object.keys(attributes).length > Object.keys(spec.attributes).length);
}

/** PSI "some" averages as 0..1 shares of wall time; NaN when unknown. */
export interface PressureSample {
  readonly someAvg10: number;
  readonly someAvg60: number;
}

export interface UtilizationSample {
  /** Canonical resource id. */
  readonly resourceId: string;
  readonly resource: Resource;
  /** The message's collection time, Unix epoch ms. */
  readonly timestampMs: number;
  /** Utilisation, 0..1. */
  readonly value: number;
  /** The PSI figures of this resource's PSI resource, when the message has them. */
  readonly pressure?: PressureSample;
  /** The host's local-time offset from UTC, seconds, when the message carries it. */
  readonly utcOffsetS?: number;
  /** Utilisation of the kind's companion resource (COMPANION_OF_KIND) in the same message, when it has one. */
  readonly companion?: number;
  /**
   * The companion's capacity ÷ this resource's in the same message (memory
   * bytes ÷ swap bytes), when the message has both (CAPACITY_PARTS).
   */
  readonly companionCapacityRatio?: number;
}

const KINDS_BY_METRIC = new Map<string, ResourceKind[]>();
for (const kind of RESOURCE_KINDS) {
  const { metric } = UTILIZATION_METRICS[kind];
  KINDS_BY_METRIC.set(metric, [...(KINDS_BY_METRIC.get(metric) ?? []), kind]);
}

/**
 * One sample per resource present in the message. Points outside 0..1 are
 * skipped (a broken collector, not a reading to clamp); when the same
 * resource appears twice, the first point wins.
 */
export function extractUtilization(message: TelemetryMessage): UtilizationSample[] {
  const pressure = extractPressure(message);
  const utcOffsetS = extractUtcOffset(message);
  const samples: Array<{ -readonly [K in keyof UtilizationSample]: UtilizationSample[K] }> = [];
  const seen = new Set<string>();
  for (const point of message.metrics) {
    const kinds = KINDS_BY_METRIC.get(point.name);
    if (!kinds || !(point.value >= 0 && point.value <= 1)) continue;
    for (const kind of kinds) {
      const resource = resourceOf(kind, point);
      if (!resource) continue;
      const resourceId = formatResourceId(resource);
      if (seen.has(resourceId)) continue;
      seen.add(resourceId);
      const psiResource = PRESSURE_OF_KIND[kind];
      const psi = psiResource ? pressure[psiResource] : undefined;
      samples.push({
        resourceId,
        resource,
        timestampMs: message.timestamp,
        value: point.value,
        ...(psi ? { pressure: psi } : {}),
        ...(utcOffsetS !== undefined ? { utcOffsetS } : {}),
      });
    }
  }
  for (const sample of samples) {
    const companionKind = COMPANION_OF_KIND[sample.resource.kind];
    const companion = companionKind && samples.find((s) => s.resourceId === companionKind);
    if (!companion) continue;
    sample.companion = companion.value;
    const ratio = capacityBytes(message, companionKind) / capacityBytes(message, sample.resource.kind);
    if (ratio > 0 && ratio < Infinity) sample.companionCapacityRatio = ratio;
  }
  return samples;
}

/** The kind's capacity in bytes from the message's CAPACITY_PARTS (the first matching point of each); NaN without. */
function capacityBytes(message: TelemetryMessage, kind: ResourceKind): number {
  if (!hasCapacity(kind)) return NaN;
  let sum = 0;
  for (const part of CAPACITY_PARTS[kind]) {
    const point = message.metrics.find(
      (p) => p.name === part.metric && matchesMetric(part, p.attributes ?? {}),
    );
    if (!point || !(point.value >= 0)) return NaN;
    sum += point.value;
  }
  return sum;
}

/** The message's UTC offset in seconds (`system.time_zone.offset`), when it has a plausible one. */
export function extractUtcOffset(message: TelemetryMessage): number | undefined {
  for (const point of message.metrics) {
    if (point.name !== METRIC.timeZoneOffset.name) continue;
    // Real offsets run from UTC−12 to UTC+14.
    return Math.abs(point.value) <= MAX_UTC_OFFSET_S ? point.value : undefined;
  }
  return undefined;
}

const MAX_UTC_OFFSET_S = 14 * 3600;

/** PSI "some" averages by PSI resource; a resource is present when either figure is. */
export function extractPressure(
  message: TelemetryMessage,
): Partial<Record<PressureResource, PressureSample>> {
  const found: Partial<Record<PressureResource, { someAvg10: number; someAvg60: number }>> = {};
  for (const point of message.metrics) {
    const field =
      point.name === METRIC.pressureAvg10.name
        ? 'someAvg10'
        : point.name === METRIC.pressureAvg60.name
          ? 'someAvg60'
          : undefined;
    if (!field || point.attributes?.[ATTR.pressureScope] !== 'some') continue;
    const psiResource = point.attributes[ATTR.pressureResource];
    if (!isPressureResource(psiResource) || !(point.value >= 0 && point.value <= 1)) continue;
    const entry = (found[psiResource] ??= { someAvg10: NaN, someAvg60: NaN });
    if (Number.isNaN(entry[field])) entry[field] = point.value;
  }
  return found;
}

function isPressureResource(x: string | undefined): x is PressureResource {
  return x === 'cpu' || x === 'memory' || x === 'io';
}

function resourceOf(kind: ResourceKind, point: MetricPoint): Resource | undefined {
  const attributes = point.attributes ?? {};
  if (!matchesMetric(UTILIZATION_METRICS[kind], attributes)) return undefined;
  if (!isMountpointKind(kind)) return { kind };
  const mountpoint = attributes[ATTR.mountpoint];
  if (mountpoint === undefined || mountpointProblem(mountpoint)) return undefined;
  return { kind, mountpoint };
}
