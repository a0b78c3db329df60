/**
 * One simulation run: the fleet, where its ground truth goes, and the
 * counts that end up in `run.json`. Both modes drive it tick by tick; they
 * differ only in where the messages go (MQTT or the store) and how fast.
 */
import { DEFAULT_EXHAUSTION } from '../shared/resources/index.js';
import { VERSION } from '../shared/version.js';
import type { TelemetryMessage } from '../shared/wire/telemetry.js';
import { Fleet, type FleetSink } from './fleet.js';
import type { ExhaustionEvent } from './ground-truth/exhaustion-event.js';
import { type RunRecord, runRecord } from './ground-truth/run-record.js';
import type { IncidentRecord } from './host/virtual-host.js';
import type { ProfileName } from './profiles.js';

export interface SimulationSettings {
  mode: 'live' | 'history';
  seed: number;
  hosts: number;
  hostPrefix: string;
  profiles?: readonly ProfileName[] | undefined;
  intervalSeconds: number;
  /** Simulated time of the first tick, Unix epoch ms. */
  startMs: number;
  days?: number | undefined;
  speed?: number | undefined;
}

export class Simulation {
  readonly fleet: Fleet;
  private ticks = 0;
  private messageCount = 0;
  private pointCount = 0;
  private eventCount = 0;
  private incidentCount = 0;

  constructor(
    readonly settings: SimulationSettings,
    sinks: readonly Partial<FleetSink>[] = [],
  ) {
    this.fleet = new Fleet(
      {
        hosts: settings.hosts,
        seed: settings.seed,
        hostPrefix: settings.hostPrefix,
        profiles: settings.profiles,
        intervalSeconds: settings.intervalSeconds,
      },
      {
        event: (e: ExhaustionEvent) => {
          this.eventCount++;
          for (const s of sinks) s.event?.(e);
        },
        incident: (i: IncidentRecord) => {
          this.incidentCount++;
          for (const s of sinks) s.incident?.(i);
        },
      },
    );
  }

  get intervalMs(): number {
    return this.settings.intervalSeconds * 1000;
  }

  /** Simulated time of the next tick. */
  get nextTickMs(): number {
    return this.settings.startMs + this.ticks * this.intervalMs;
  }

  get counts(): { ticks: number; messages: number; points: number; events: number; incidents: number } {
    return {
      ticks: this.ticks,
      messages: this.messageCount,
      points: this.pointCount,
      events: this.eventCount,
      incidents: this.incidentCount,
    };
  }

  /** Advances every host by one interval; one message per host, in host order. */
  tick(): TelemetryMessage[] {
    const messages = this.fleet.tick(this.nextTickMs);
    this.ticks++;
    this.messageCount += messages.length;
    for (const m of messages) this.pointCount += m.metrics.length;
    return messages;
  }

  /** Closes the ground truth (events still open at the end). Call once, after the last tick. */
  finish(): void {
    this.fleet.finish();
  }

  record(completed: boolean, store?: RunRecord['summary']['store']): RunRecord {
    const s = this.settings;
    return runRecord({
      mode: s.mode,
      completed,
      version: VERSION,
      config: {
        seed: s.seed,
        hosts: s.hosts,
        hostPrefix: s.hostPrefix,
        profiles: s.profiles ?? null,
        intervalSeconds: s.intervalSeconds,
        days: s.days ?? null,
        speed: s.speed ?? null,
      },
      startMs: s.startMs,
      endMs: this.ticks > 0 ? this.fleet.endMs : s.startMs,
      exhaustion: { ...DEFAULT_EXHAUSTION },
      summary: {
        messages: this.messageCount,
        points: this.pointCount,
        events: this.eventCount,
        incidents: this.incidentCount,
        labels: this.fleet.labelStats(),
        ...(store ? { store } : {}),
      },
      fleet: this.fleet.describe(),
    });
  }
}
