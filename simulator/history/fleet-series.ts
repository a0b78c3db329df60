/**
 * A simulated fleet's history held in memory as utilisation series, one per
 * host and resource, in the shape the dataset builder takes: what a data dir
 * would return after `cloudsense simulate --days`, without the round trip
 * through the store. For building and judging models on many fleets.
 */
import type { SeriesHistory } from '../../shared/features/replay.js';
import { extractUtilization } from '../../shared/resources/utilization.js';
import { Fleet } from '../fleet.js';
import type { ExhaustionEvent } from '../ground-truth/exhaustion-event.js';
import type { ProfileName } from '../profiles.js';

export interface FleetSeriesOptions {
  hosts: number;
  seed: number;
  days: number;
  intervalSeconds: number;
  /** Simulated time of the first tick, Unix epoch ms. */
  startMs: number;
  hostPrefix?: string;
  profiles?: readonly ProfileName[] | undefined;
}

export interface SimulatedSeries {
  hostId: string;
  /** Canonical resource id. */
  resourceId: string;
  history: SeriesHistory;
}

export interface FleetSeries {
  series: SimulatedSeries[];
  /** Ground truth: every exhaustion event the simulator recorded. */
  events: ExhaustionEvent[];
  /** Profile of each host, by host id. */
  profiles: Map<string, string>;
}

/** A growable column of float64 samples. */
class Column {
  data = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

function nanColumn(length: number): Column {
  const column = new Column();
  for (let i = 0; i < length; i++) column.push(NaN);
  return column;
}

/** Runs the fleet for `days` and returns every host's utilisation series. */
export function simulateFleetSeries(options: FleetSeriesOptions): FleetSeries {
  const events: ExhaustionEvent[] = [];
  const fleet = new Fleet(
    {
      hosts: options.hosts,
      seed: options.seed,
      hostPrefix: options.hostPrefix ?? 'sim',
      profiles: options.profiles,
      intervalSeconds: options.intervalSeconds,
    },
    { event: (e) => events.push(e), incident: () => undefined },
  );
  const intervalMs = options.intervalSeconds * 1000;
  const ticks = Math.floor((options.days * 86_400_000) / intervalMs);
  const columns = new Map<
    string,
    {
      hostId: string;
      resourceId: string;
      t: Column;
      v: Column;
      offset: Column;
      /** PSI "some" averages, from the first sample that had them (NaN-filled before). */
      p10?: Column;
      p60?: Column;
      /** The companion resource's utilisation, from the first sample that had it (NaN-filled before). */
      companion?: Column;
      /** The companion's capacity ÷ the resource's, alongside `companion`. */
      capacityRatio?: Column;
    }
  >();
  for (let k = 0; k < ticks; k++) {
    for (const message of fleet.tick(options.startMs + k * intervalMs)) {
      for (const s of extractUtilization(message)) {
        const key = `${message.hostId}\n${s.resourceId}`;
        let column = columns.get(key);
        if (!column) {
          column = {
            hostId: message.hostId,
            resourceId: s.resourceId,
            t: new Column(),
            v: new Column(),
            offset: new Column(),
          };
          columns.set(key, column);
        }
        if (s.pressure && !column.p10) {
          column.p10 = nanColumn(column.t.length);
          column.p60 = nanColumn(column.t.length);
        }
        if (s.companion !== undefined && !column.companion) {
          column.companion = nanColumn(column.t.length);
          column.capacityRatio = nanColumn(column.t.length);
        }
        column.t.push(s.timestampMs);
        column.v.push(s.value);
        column.offset.push(s.utcOffsetS ?? NaN);
        column.p10?.push(s.pressure?.someAvg10 ?? NaN);
        column.p60?.push(s.pressure?.someAvg60 ?? NaN);
        column.companion?.push(s.companion ?? NaN);
        column.capacityRatio?.push(s.companionCapacityRatio ?? NaN);
      }
    }
  }
  fleet.finish();
  const series = [...columns.values()].map((c) => ({
    hostId: c.hostId,
    resourceId: c.resourceId,
    history: {
      timestampsMs: c.t.toArray(),
      values: c.v.toArray(),
      utcOffsetS: c.offset.toArray(),
      ...(c.p10 && c.p60 && { pressureSomeAvg10: c.p10.toArray(), pressureSomeAvg60: c.p60.toArray() }),
      ...(c.companion && { companion: c.companion.toArray() }),
      ...(c.capacityRatio && { companionCapacityRatio: c.capacityRatio.toArray() }),
    },
  }));
  const profiles = new Map(fleet.describe().map((h) => [h.hostId, h.profile] as const));
  return { series, events, profiles };
}
