/**
 * How many label windows are positive: for each resource and each sample
 * time t, the label is "exhausted at some moment in (t, t + horizon]", i.e.
 * t lies in [exhaustedAt − horizon, end) of some event. These figures say
 * whether a simulated fleet makes a meaningful (rare but real) ML problem.
 */
import { RESOURCE_KINDS, type ResourceKind } from '../../shared/resources/index.js';
import type { ExhaustionEvent } from './exhaustion-event.js';
import type { ResourceSamples } from './exhaustion-tracker.js';

export interface KindLabelStats {
  /** Resources of this kind across the fleet. */
  resources: number;
  /** Sample times (label windows) over all of them. */
  windows: number;
  /** Windows whose label is positive. */
  positive: number;
  /** positive ÷ windows; 0 when there are no windows. */
  positiveRate: number;
  /** Windows at which the resource was already exhausted (a subset of the positives). */
  exhausted: number;
  events: number;
}

export type LabelStats = Record<ResourceKind, KindLabelStats>;

/** Label statistics per resource kind; `intervalMs` is the sampling interval, `endMs` the simulation's end. */
export function labelStats(
  resources: ReadonlyArray<ResourceSamples & { hostId: string }>,
  events: readonly ExhaustionEvent[],
  intervalMs: number,
  endMs: number,
): LabelStats {
  const stats = Object.fromEntries(
    RESOURCE_KINDS.map((k) => [
      k,
      { resources: 0, windows: 0, positive: 0, positiveRate: 0, exhausted: 0, events: 0 },
    ]),
  ) as LabelStats;
  const byResource = new Map<string, ExhaustionEvent[]>();
  for (const e of events) {
    const key = `${e.hostId}\u0000${e.resource}`;
    byResource.set(key, [...(byResource.get(key) ?? []), e]);
  }
  for (const r of resources) {
    const s = stats[r.kind];
    s.resources++;
    s.windows += r.count;
    const mine = byResource.get(`${r.hostId}\u0000${r.resource}`) ?? [];
    s.events += mine.length;
    const positive = mine.map((e) => [e.exhaustedAtMs - r.definition.horizonMs, e.endMs ?? endMs] as const);
    const exhausted = mine.map((e) => [e.exhaustedAtMs, e.endMs ?? endMs] as const);
    s.positive += countOnGrid(merge(positive), r.firstMs, intervalMs, r.count);
    s.exhausted += countOnGrid(merge(exhausted), r.firstMs, intervalMs, r.count);
  }
  for (const s of Object.values(stats)) s.positiveRate = s.windows > 0 ? s.positive / s.windows : 0;
  return stats;
}

/** Sorted, non-overlapping [from, to) intervals. */
function merge(intervals: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** Grid points first + k·step (0 ≤ k < count) inside the [from, to) intervals. */
function countOnGrid(
  intervals: ReadonlyArray<readonly [number, number]>,
  first: number,
  step: number,
  count: number,
): number {
  let n = 0;
  for (const [from, to] of intervals) {
    const lo = Math.max(0, Math.ceil((from - first) / step));
    const hi = Math.min(count, Math.ceil((to - first) / step));
    if (hi > lo) n += hi - lo;
  }
  return n;
}
