import { type ExhaustionEvent } from '../../simulator/ground-truth/exhaustion-event.js';
import { Fleet } from '../../simulator/fleet.js';
import type { HostReading } from '../../simulator/host/host-reading.js';
import type { IncidentRecord } from '../../simulator/host/virtual-host.js';
import type { ProfileName } from '../../simulator/profiles.js';
import { extractUtilization } from '../../shared/resources/index.js';

/** Monday 2025-03-03 00:00 UTC: runs start on a week boundary so weekday tests see whole weeks. */
export const MONDAY = Date.parse('2025-03-03T00:00:00Z');

export interface FleetRun {
  fleet: Fleet;
  events: ExhaustionEvent[];
  incidents: IncidentRecord[];
  /** Per host: every reading, in time order. */
  readings: HostReading[][];
  /** Per host and resource id: [t, utilisation] as the telemetry carries it. */
  series: Array<Map<string, Array<[number, number]>>>;
  intervalMs: number;
}

/** Runs a fleet for `days` and keeps what the tests look at. */
export function runFleet(options: {
  hosts: number;
  seed: number;
  days: number;
  intervalSeconds: number;
  profiles?: ProfileName[];
  start?: number;
}): FleetRun {
  const events: ExhaustionEvent[] = [];
  const incidents: IncidentRecord[] = [];
  const fleet = new Fleet(
    {
      hosts: options.hosts,
      seed: options.seed,
      hostPrefix: 'sim',
      profiles: options.profiles,
      intervalSeconds: options.intervalSeconds,
    },
    { event: (e) => events.push(e), incident: (i) => incidents.push(i) },
  );
  const intervalMs = options.intervalSeconds * 1000;
  const ticks = Math.floor((options.days * 86_400_000) / intervalMs);
  const readings: HostReading[][] = fleet.hosts.map(() => []);
  const series: Array<Map<string, Array<[number, number]>>> = fleet.hosts.map(() => new Map());
  const start = options.start ?? MONDAY;
  for (let k = 0; k < ticks; k++) {
    const messages = fleet.tick(start + k * intervalMs);
    messages.forEach((m, i) => {
      readings[i]!.push(fleet.hosts[i]!.reading!);
      for (const s of extractUtilization(m)) {
        const list = series[i]!.get(s.resourceId) ?? [];
        list.push([s.timestampMs, s.value]);
        series[i]!.set(s.resourceId, list);
      }
    });
  }
  fleet.finish();
  return { fleet, events, incidents, readings, series, intervalMs };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
