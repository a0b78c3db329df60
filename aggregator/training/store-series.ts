import type { DatasetSeries } from '../../models/dataset/index.js';
import type { ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import { resolveExhaustion } from '../../shared/resources/exhaustion.js';
import {
  canonicalResourceId,
  formatResourceId,
  isResourceKind,
  parseResourceId,
  type Resource,
  type ResourceKind,
} from '../../shared/resources/resource-id.js';
import {
  CAPACITY_PARTS,
  COMPANION_OF_KIND,
  hasCapacity,
  PRESSURE_OF_KIND,
  UTILIZATION_METRICS,
  type UtilizationMetric,
  matchesMetric,
} from '../../shared/resources/utilization.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';

/** Most points read for one series; a week of 1 s samples is 604,800. */
const MAX_POINTS_PER_SERIES = 5_000_000;

/**
 * Reads, from the telemetry store, every host's utilisation history of one
 * resource kind (each mountpoint its own series for filesystems and inodes),
 * shaped for the dataset builder, with the host's UTC offset and the
 * pressure-stall averages (PSI "some") of the resource's kind and the
 * companion resource's utilisation (memory for swap) and the ratio of the
 * two capacities from the same messages, as the agent's extractor gets
 * them. Only samples before `untilMs` are read.
 */
export async function readResourceSeries(
  store: TelemetryStore,
  kind: ResourceKind,
  options: { untilMs?: number | undefined; exhaustion?: ExhaustionConfig | undefined } = {},
): Promise<DatasetSeries[]> {
  const spec = UTILIZATION_METRICS[kind];
  const to = options.untilMs ?? Date.now() + 1;
  const out: DatasetSeries[] = [];
  for (const host of await store.latestPerHost()) {
    const series = await store.querySeries({
      hostId: host.hostId,
      metric: spec.metric,
      from: 0,
      to,
      limit: MAX_POINTS_PER_SERIES,
    });
    // One resource may be stored as several series: an imported one (mountpoint only) and the
    // agent's (mountpoint, device, type). They are one history: merged by time, first value wins.
    const byResource = new Map<string, Array<[number, number]>[]>();
    for (const s of series) {
      if (!matchesMetric(spec, s.attributes)) continue;
      const resource = resourceOf(kind, s.attributes[ATTR.mountpoint]);
      if (!resource) continue;
      const resourceId = formatResourceId(resource);
      byResource.set(resourceId, [...(byResource.get(resourceId) ?? []), s.points]);
    }
    if (byResource.size === 0) continue;
    const offsets = mergePoints(
      (
        await store.querySeries({
          hostId: host.hostId,
          metric: METRIC.timeZoneOffset.name,
          from: 0,
          to,
          limit: MAX_POINTS_PER_SERIES,
        })
      ).map((s) => s.points),
    );
    const pressure = await readPressure(store, host.hostId, kind, to);
    const companionColumns = await readCompanion(store, host.hostId, kind, to);
    for (const [resourceId, parts] of byResource) {
      const history = mergePoints(parts);
      const psi = pressure && {
        pressureSomeAvg10: alignExact(history.timestampsMs, pressure.avg10),
        pressureSomeAvg60: alignExact(history.timestampsMs, pressure.avg60),
      };
      const companion = companionColumns && alignExact(history.timestampsMs, companionColumns.utilization);
      const ratio = companionColumns && alignExact(history.timestampsMs, companionColumns.capacityRatio);
      out.push({
        hostId: host.hostId,
        resourceId,
        history: {
          ...history,
          utcOffsetS: alignOffsets(history.timestampsMs, offsets),
          ...(psi && (hasFinite(psi.pressureSomeAvg10) || hasFinite(psi.pressureSomeAvg60)) && psi),
          ...(companion && hasFinite(companion) && { companion }),
          ...(companion &&
            hasFinite(companion) &&
            ratio &&
            hasFinite(ratio) && { companionCapacityRatio: ratio }),
        },
        exhaustion: resolveExhaustion(options.exhaustion ?? {}, resourceId),
      });
    }
  }
  return out;
}

/** The host's PSI "some" averages for the pressure resource of `kind`; undefined for a kind without one. */
async function readPressure(
  store: TelemetryStore,
  hostId: string,
  kind: ResourceKind,
  to: number,
): Promise<{ avg10: Columns; avg60: Columns } | undefined> {
  const resource = PRESSURE_OF_KIND[kind];
  if (!resource) return undefined;
  const read = async (metric: string) =>
    mergePoints(
      (await store.querySeries({ hostId, metric, from: 0, to, limit: MAX_POINTS_PER_SERIES }))
        .filter(
          (s) =>
            s.attributes[ATTR.pressureResource] === resource && s.attributes[ATTR.pressureScope] === 'some',
        )
        .map((s) => s.points),
    );
  return { avg10: await read(METRIC.pressureAvg10.name), avg60: await read(METRIC.pressureAvg60.name) };
}

/**
 * The host's utilisation of the companion resource of `kind` (memory for
 * swap), and the companion's capacity ÷ the capacity of `kind` (memory bytes
 * ÷ swap bytes) at each time at which the same message recorded every part
 * of both (CAPACITY_PARTS); undefined for a kind without a companion.
 */
async function readCompanion(
  store: TelemetryStore,
  hostId: string,
  kind: ResourceKind,
  to: number,
): Promise<{ utilization: Columns; capacityRatio: Columns } | undefined> {
  const companion = COMPANION_OF_KIND[kind];
  if (!companion || !hasCapacity(kind)) return undefined;
  const capacity = async (of: 'memory' | 'swap'): Promise<Columns> => {
    let sum: Columns | undefined;
    for (const part of CAPACITY_PARTS[of]) {
      const points = await readMatching(store, hostId, part, to);
      sum = sum ? { timestampsMs: sum.timestampsMs, values: addAligned(sum, points) } : points;
    }
    return sum!;
  };
  const own = await capacity(kind);
  const theirs = alignExact(own.timestampsMs, await capacity(companion));
  return {
    utilization: await readMatching(store, hostId, UTILIZATION_METRICS[companion], to),
    capacityRatio: {
      timestampsMs: own.timestampsMs,
      values: own.values.map((bytes, i) => theirs[i]! / bytes),
    },
  };
}

/** The host's points of the series `spec` describes, before `to`, as one history. */
async function readMatching(
  store: TelemetryStore,
  hostId: string,
  spec: UtilizationMetric,
  to: number,
): Promise<Columns> {
  const series = await store.querySeries({
    hostId,
    metric: spec.metric,
    from: 0,
    to,
    limit: MAX_POINTS_PER_SERIES,
  });
  return mergePoints(series.filter((s) => matchesMetric(spec, s.attributes)).map((s) => s.points));
}

/** `a`'s values plus `b`'s recorded at exactly the same times; NaN where `b` has none. */
function addAligned(a: Columns, b: Columns): Float64Array {
  const other = alignExact(a.timestampsMs, b);
  return a.values.map((v, i) => v + other[i]!);
}

/** The value recorded at each sample time exactly (the same message), NaN where none was. */
function alignExact(times: Float64Array, recorded: Columns): Float64Array {
  const out = new Float64Array(times.length).fill(NaN);
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (j < recorded.timestampsMs.length && recorded.timestampsMs[j]! < times[i]!) j++;
    if (j < recorded.timestampsMs.length && recorded.timestampsMs[j] === times[i])
      out[i] = recorded.values[j]!;
  }
  return out;
}

function hasFinite(values: Float64Array): boolean {
  return values.some(Number.isFinite);
}

/** Samples as columns, in time order. */
interface Columns {
  timestampsMs: Float64Array;
  values: Float64Array;
}

/** Point lists (each oldest first) as one columnar history in time order; a repeated time keeps its first value. */
function mergePoints(parts: Array<Array<[number, number]>>): Columns {
  const points = parts.length === 1 ? parts[0]! : parts.flat().sort((a, b) => a[0] - b[0]);
  const timestampsMs = new Float64Array(points.length);
  const values = new Float64Array(points.length);
  let n = 0;
  for (const [t, v] of points) {
    if (n > 0 && t === timestampsMs[n - 1]) continue;
    timestampsMs[n] = t;
    values[n++] = v;
  }
  return { timestampsMs: timestampsMs.slice(0, n), values: values.slice(0, n) };
}

/**
 * The host's UTC offset at each sample time: the offset recorded with the
 * same message, else the last one before it (the offset changes only with
 * daylight saving); NaN before the first (imported series without one).
 */
function alignOffsets(times: Float64Array, offsets: Columns): Float64Array {
  const out = new Float64Array(times.length).fill(NaN);
  let j = -1;
  for (let i = 0; i < times.length; i++) {
    while (j + 1 < offsets.timestampsMs.length && offsets.timestampsMs[j + 1]! <= times[i]!) j++;
    if (j >= 0) out[i] = offsets.values[j]!;
  }
  return out;
}

/** The resource a series belongs to; filesystems and inodes need their mountpoint. */
function resourceOf(kind: ResourceKind, mountpoint: string | undefined): Resource | undefined {
  if (kind === 'filesystem' || kind === 'inodes')
    return mountpoint === undefined ? undefined : { kind, mountpoint };
  return { kind };
}

/** The hosts of `series`, each once. */
export function hostsOf(series: readonly DatasetSeries[]): string[] {
  return [...new Set(series.map((s) => s.hostId))];
}

/** A definition changed on the command line for one run (`--threshold`, `--horizon`). */
export interface ExhaustionOverrideFlags {
  threshold?: number | undefined;
  horizonMs?: number | undefined;
}

/**
 * The stored series of one resource (`cpu`, `filesystem:/var`) or of every
 * resource of a kind (`filesystem`), before `untilMs`, each with its
 * definition: configuration first, then the flags of this run.
 */
export async function readSeriesFor(
  store: TelemetryStore,
  resource: string,
  options: {
    untilMs?: number | undefined;
    exhaustion?: ExhaustionConfig | undefined;
    override?: ExhaustionOverrideFlags | undefined;
  } = {},
): Promise<DatasetSeries[]> {
  const kind = isResourceKind(resource) ? resource : parseResourceId(resource).kind;
  const only = isResourceKind(resource) ? undefined : canonicalResourceId(resource);
  const series = await readResourceSeries(store, kind, options);
  const override = options.override ?? {};
  return series
    .filter((s) => only === undefined || s.resourceId === only)
    .map((s) => ({
      ...s,
      exhaustion: {
        ...s.exhaustion,
        ...(override.threshold !== undefined && { threshold: override.threshold }),
        ...(override.horizonMs !== undefined && { horizonMs: override.horizonMs }),
      },
    }));
}
