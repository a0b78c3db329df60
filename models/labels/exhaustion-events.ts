/**
 * Exhaustion events in a utilisation series: when a resource became
 * exhausted by its ExhaustionDefinition, until when, and how high it went.
 *
 * Continuity. Two consecutive accepted samples at most `maxGapMs` apart
 * (default MAX_SAMPLE_GAP_MS, 10 min: the features' own gap limit) are
 * continuous; a longer gap breaks continuity, because nobody knows what the
 * resource did in between. A *run* is a maximal sequence of consecutive,
 * continuous samples all at or above the threshold; it lasts from its first
 * sample (the onset) to its last. Its length is measured between samples,
 * as the `above_threshold_s` feature measures it.
 *
 * An event starts at the first sample of a run at which the run has lasted
 * at least `sustainMs` (with no sustain: the onset itself). That is when the
 * definition "≥ threshold for sustain" first holds, as an alert with a `for:`
 * would fire; a run shorter than the sustain is no event. The event ends at
 * the first sample below the threshold, or, when a gap or the end of the
 * data cuts the run, at the run's last sample (the true end is unknown
 * there; `endsBy` says which).
 */
import { MAX_SAMPLE_GAP_MS } from '../../shared/features/schema.js';
import type { ExhaustionDefinition } from '../../shared/resources/exhaustion.js';
import type { AcceptedSeries } from './accepted-series.js';

/** How an event's end was seen. */
export const EVENT_END = {
  /** A sample below the threshold followed within the gap limit: `endMs` is its time. */
  below: 0,
  /** A gap longer than the limit cut the run: `endMs` is its last sample, the true end is later. */
  gap: 1,
  /** The data ended during the event: `endMs` is the last sample. */
  endOfData: 2,
} as const;
export type EventEnd = (typeof EVENT_END)[keyof typeof EVENT_END];

/**
 * Events, columnar and sorted by start (they never overlap). Typed arrays:
 * a noisy 1 s series hovering around its threshold can have millions.
 */
export interface ExhaustionEvents {
  readonly count: number;
  /** First sample of the run at or above the threshold, Unix epoch ms. */
  readonly onsetMs: Float64Array;
  /** When the definition first held (onset + at least sustain), ms. Labels use this. */
  readonly startMs: Float64Array;
  /** See EVENT_END, ms. */
  readonly endMs: Float64Array;
  /** Highest value over the run, 0..1. */
  readonly peak: Float64Array;
  readonly endsBy: Uint8Array;
}

/** One event as an object, for reading and tests. */
export interface ExhaustionEvent {
  onsetMs: number;
  startMs: number;
  endMs: number;
  peak: number;
  endsBy: EventEnd;
}

export interface ContinuityOptions {
  /** Longest spacing of consecutive samples that is still continuous, ms. Default MAX_SAMPLE_GAP_MS (10 min). */
  maxGapMs?: number;
}

/** The gap limit to use, checked. */
export function resolveMaxGapMs(options: ContinuityOptions): number {
  const maxGapMs = options.maxGapMs ?? MAX_SAMPLE_GAP_MS;
  if (!(maxGapMs > 0)) throw new RangeError(`maxGapMs must be > 0, got ${maxGapMs}`);
  return maxGapMs;
}

/** Throws a RangeError unless the definition is usable (the extractor checks the same). */
export function checkExhaustionDefinition(definition: ExhaustionDefinition): void {
  const { threshold, horizonMs, sustainMs } = definition;
  if (!(threshold > 0 && threshold <= 1))
    throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  if (!(horizonMs > 0) || !(sustainMs >= 0)) {
    throw new RangeError(`horizon must be > 0 and sustain ≥ 0, got ${horizonMs} and ${sustainMs}`);
  }
}

/** The exhaustion events of a series of accepted samples, in O(n). */
export function findExhaustionEvents(
  series: AcceptedSeries,
  definition: Pick<ExhaustionDefinition, 'threshold' | 'sustainMs'>,
  options: ContinuityOptions = {},
): ExhaustionEvents {
  const maxGapMs = resolveMaxGapMs(options);
  const { threshold, sustainMs } = definition;
  const { timestampsMs: ts, values: vs } = series;
  const out = new EventBuffer();

  let onset = NaN; // NaN: not in a run
  let start = NaN; // NaN: the run has not (yet) become an event
  let peak = -Infinity;
  const closeRun = (endMs: number, endsBy: EventEnd) => {
    if (!Number.isNaN(start)) out.push(onset, start, endMs, peak, endsBy);
    onset = NaN;
    start = NaN;
  };

  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const v = vs[i]!;
    const continuous = i > 0 && t - ts[i - 1]! <= maxGapMs;
    if (!Number.isNaN(onset) && !(continuous && v >= threshold)) {
      closeRun(continuous ? t : ts[i - 1]!, continuous ? EVENT_END.below : EVENT_END.gap);
    }
    if (v < threshold) continue;
    if (Number.isNaN(onset)) {
      onset = t;
      peak = v;
    } else if (v > peak) {
      peak = v;
    }
    if (Number.isNaN(start) && t - onset >= sustainMs) start = t;
  }
  if (!Number.isNaN(onset)) closeRun(ts[ts.length - 1]!, EVENT_END.endOfData);
  return out.finish();
}

/** The events as objects. */
export function exhaustionEventList(events: ExhaustionEvents): ExhaustionEvent[] {
  const list: ExhaustionEvent[] = [];
  for (let i = 0; i < events.count; i++) {
    list.push({
      onsetMs: events.onsetMs[i]!,
      startMs: events.startMs[i]!,
      endMs: events.endMs[i]!,
      peak: events.peak[i]!,
      endsBy: events.endsBy[i]! as EventEnd,
    });
  }
  return list;
}

/** Growable columns, doubled when full. */
class EventBuffer {
  private n = 0;
  private onset = new Float64Array(16);
  private start = new Float64Array(16);
  private end = new Float64Array(16);
  private peak = new Float64Array(16);
  private endsBy = new Uint8Array(16);

  push(onsetMs: number, startMs: number, endMs: number, peak: number, endsBy: EventEnd): void {
    if (this.n === this.onset.length) this.grow();
    this.onset[this.n] = onsetMs;
    this.start[this.n] = startMs;
    this.end[this.n] = endMs;
    this.peak[this.n] = peak;
    this.endsBy[this.n] = endsBy;
    this.n++;
  }

  finish(): ExhaustionEvents {
    const n = this.n;
    return {
      count: n,
      onsetMs: this.onset.slice(0, n),
      startMs: this.start.slice(0, n),
      endMs: this.end.slice(0, n),
      peak: this.peak.slice(0, n),
      endsBy: this.endsBy.slice(0, n),
    };
  }

  private grow(): void {
    const size = this.onset.length * 2;
    const widen = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.onset = widen(this.onset, (n) => new Float64Array(n));
    this.start = widen(this.start, (n) => new Float64Array(n));
    this.end = widen(this.end, (n) => new Float64Array(n));
    this.peak = widen(this.peak, (n) => new Float64Array(n));
    this.endsBy = widen(this.endsBy, (n) => new Uint8Array(n));
  }
}
