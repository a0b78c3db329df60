/**
 * Turns one host's telemetry into exhaustion events. It reads each message
 * with the same `extractUtilization` the feature and label code uses, so the
 * ground truth is exactly what the stored series show.
 *
 * A sample holds until the next one: a run of samples at or over the
 * threshold from `start` lasts until the first sample under it (`end`). It
 * is an event when `end − start ≥ sustain` (CPU: 5 minutes; others: any
 * sample). A run still open when the simulation ends is an event with
 * `endMs: null` once it has lasted the sustain; a shorter one is left out
 * (it is not known yet whether it will count).
 */
import {
  type ExhaustionConfig,
  type ExhaustionDefinition,
  type Resource,
  extractUtilization,
  resolveExhaustion,
} from '../../shared/resources/index.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import type { ExhaustionEvent } from './exhaustion-event.js';

interface Run {
  startMs: number;
  peak: number;
  cause: string;
}

/** Sample grid of one resource, for label-rate denominators. */
export interface ResourceSamples {
  resource: string;
  kind: Resource['kind'];
  firstMs: number;
  lastMs: number;
  count: number;
  definition: ExhaustionDefinition;
}

class ResourceTracker {
  private run: Run | undefined;
  readonly samples: ResourceSamples;

  constructor(
    private readonly hostId: string,
    private readonly resourceId: string,
    private readonly resource: Resource,
    definition: ExhaustionDefinition,
    firstMs: number,
  ) {
    this.samples = {
      resource: resourceId,
      kind: resource.kind,
      firstMs,
      lastMs: firstMs,
      count: 0,
      definition,
    };
  }

  observe(t: number, value: number, cause: () => string): ExhaustionEvent | undefined {
    this.samples.count++;
    this.samples.lastMs = t;
    const { threshold } = this.samples.definition;
    if (value >= threshold) {
      if (this.run) this.run.peak = Math.max(this.run.peak, value);
      else this.run = { startMs: t, peak: value, cause: cause() };
      return undefined;
    }
    return this.close(t);
  }

  /** Closes a run at `endMs` (a sample under the threshold), or at the end of the simulation (`open`). */
  close(endMs: number, open = false): ExhaustionEvent | undefined {
    const run = this.run;
    if (!run) return undefined;
    this.run = undefined;
    const { threshold, sustainMs, horizonMs } = this.samples.definition;
    if (endMs - run.startMs < sustainMs) return undefined;
    return {
      hostId: this.hostId,
      resource: this.resourceId,
      kind: this.resource.kind,
      ...('mountpoint' in this.resource ? { mountpoint: this.resource.mountpoint } : {}),
      threshold,
      sustainMs,
      horizonMs,
      startMs: run.startMs,
      exhaustedAtMs: run.startMs + sustainMs,
      endMs: open ? null : endMs,
      peak: run.peak,
      cause: run.cause,
      remediated: false,
    };
  }
}

/** Ground truth for one host, fed every message the host publishes, in order. */
export class HostGroundTruth {
  private readonly trackers = new Map<string, ResourceTracker>();

  constructor(
    private readonly hostId: string,
    private readonly exhaustion: ExhaustionConfig = {},
  ) {}

  /** Events that ended with this message. `causeOf` names the workload driving a resource now. */
  observe(message: TelemetryMessage, causeOf: (resource: Resource) => string): ExhaustionEvent[] {
    const events: ExhaustionEvent[] = [];
    for (const sample of extractUtilization(message)) {
      let tracker = this.trackers.get(sample.resourceId);
      if (!tracker) {
        const definition = resolveExhaustion(this.exhaustion, sample.resource);
        tracker = new ResourceTracker(
          this.hostId,
          sample.resourceId,
          sample.resource,
          definition,
          sample.timestampMs,
        );
        this.trackers.set(sample.resourceId, tracker);
      }
      const event = tracker.observe(sample.timestampMs, sample.value, () => causeOf(sample.resource));
      if (event) events.push(event);
    }
    return events;
  }

  /** Events still open when the simulation stops at `endMs` (the end of the last sample's interval). */
  finish(endMs: number): ExhaustionEvent[] {
    const events: ExhaustionEvent[] = [];
    for (const tracker of this.trackers.values()) {
      const event = tracker.close(endMs, true);
      if (event) events.push(event);
    }
    return events;
  }

  resources(): ResourceSamples[] {
    return [...this.trackers.values()].map((t) => ({ ...t.samples }));
  }
}
