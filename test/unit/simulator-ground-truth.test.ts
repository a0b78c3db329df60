import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EXHAUSTION, parseResourceId } from '../../shared/resources/index.js';
import { SCHEMA_VERSION, type TelemetryMessage } from '../../shared/wire/telemetry.js';
import type { ExhaustionEvent } from '../../simulator/ground-truth/exhaustion-event.js';
import { HostGroundTruth } from '../../simulator/ground-truth/exhaustion-tracker.js';
import type { IncidentRecord } from '../../simulator/host/virtual-host.js';
import { type FleetRun, runFleet } from '../helpers/simulated-fleet.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function cpuMessage(seq: number, t: number, value: number): TelemetryMessage {
  return {
    schemaVersion: SCHEMA_VERSION,
    hostId: 'h1',
    seq,
    timestamp: t,
    intervalSeconds: 60,
    metrics: [{ name: 'system.cpu.utilization', unit: '1', value }],
  };
}

/** Feeds a CPU series sampled every minute; returns the events. */
function cpuEvents(values: number[]): ExhaustionEvent[] {
  const truth = new HostGroundTruth('h1');
  const events: ExhaustionEvent[] = [];
  values.forEach((v, i) => events.push(...truth.observe(cpuMessage(i + 1, i * MINUTE, v), () => 'test')));
  events.push(...truth.finish(values.length * MINUTE));
  return events;
}

/**
 * The ground truth recomputed the plain way, from the series alone: maximal
 * runs of samples at or over the threshold, each lasting until the next sample
 * under it, kept when at least the sustain long.
 */
function recompute(
  hostId: string,
  resource: string,
  points: ReadonlyArray<[number, number]>,
  endMs: number,
): Array<Pick<ExhaustionEvent, 'hostId' | 'resource' | 'startMs' | 'endMs' | 'peak'>> {
  const { threshold, sustainMs } = DEFAULT_EXHAUSTION[parseResourceId(resource).kind];
  const out: Array<Pick<ExhaustionEvent, 'hostId' | 'resource' | 'startMs' | 'endMs' | 'peak'>> = [];
  let i = 0;
  while (i < points.length) {
    if (points[i]![1] < threshold) {
      i++;
      continue;
    }
    const start = points[i]![0];
    let peak = 0;
    while (i < points.length && points[i]![1] >= threshold) peak = Math.max(peak, points[i++]![1]);
    const end = i < points.length ? points[i]![0] : endMs;
    if (end - start >= sustainMs) {
      out.push({ hostId, resource, startMs: start, endMs: i < points.length ? end : null, peak });
    }
  }
  return out;
}

describe('ground truth', () => {
  it('counts CPU only when it holds ≥ 90 % for 5 minutes', () => {
    // 4 minutes over: a burst, not exhaustion; then 5 minutes over: an event.
    const events = cpuEvents([0.5, 0.95, 0.97, 0.99, 0.93, 0.4, 0.5, 0.92, 0.95, 0.96, 0.99, 0.91, 0.3]);
    assert.equal(events.length, 1);
    const [e] = events;
    assert.equal(e!.startMs, 7 * MINUTE);
    assert.equal(e!.exhaustedAtMs, 12 * MINUTE);
    assert.equal(e!.endMs, 12 * MINUTE);
    assert.equal(e!.peak, 0.99);
    assert.equal(e!.remediated, false);
    assert.equal(e!.cause, 'test');
  });

  it('treats the threshold as inclusive and keeps an event open at the end once it has lasted the sustain', () => {
    assert.equal(cpuEvents([0.9, 0.9, 0.9, 0.9, 0.9, 0.1]).length, 1);
    const open = cpuEvents([0.1, 0.95, 0.95, 0.95, 0.95, 0.95]);
    assert.equal(open.length, 1);
    assert.equal(open[0]!.endMs, null);
    // Still too short to say when the run stops: left out.
    assert.equal(cpuEvents([0.1, 0.1, 0.95, 0.95]).length, 0);
  });

  it('matches the series and the thresholds exactly, for every host and resource of a mixed fleet', () => {
    const run = runFleet({ hosts: 40, seed: 11, days: 10, intervalSeconds: 120 });
    const endMs = run.fleet.endMs;
    const expected = run.series.flatMap((byResource, i) =>
      [...byResource].flatMap(([resource, points]) =>
        recompute(run.fleet.hosts[i]!.hostId, resource, points, endMs),
      ),
    );
    const key = (e: Pick<ExhaustionEvent, 'hostId' | 'resource' | 'startMs'>) =>
      `${e.hostId} ${e.resource} ${e.startMs}`;
    const actual = run.events
      .map((e) => ({
        hostId: e.hostId,
        resource: e.resource,
        startMs: e.startMs,
        endMs: e.endMs,
        peak: e.peak,
      }))
      .sort((a, b) => key(a).localeCompare(key(b)));
    expected.sort((a, b) => key(a).localeCompare(key(b)));
    assert.ok(expected.length > 20, `a mixed fleet has events (${expected.length})`);
    assert.deepEqual(actual, expected);

    const kinds = new Set(run.events.map((e) => e.kind));
    for (const kind of ['cpu', 'memory', 'filesystem', 'fds']) assert.ok(kinds.has(kind as never), kind);
    for (const e of run.events) {
      const d = DEFAULT_EXHAUSTION[e.kind];
      assert.equal(e.threshold, d.threshold);
      assert.equal(e.horizonMs, d.horizonMs);
      assert.equal(e.exhaustedAtMs, e.startMs + d.sustainMs);
      assert.ok(e.peak >= e.threshold && e.peak <= 1);
      assert.notEqual(e.cause, '');
      if (e.kind === 'filesystem' || e.kind === 'inodes')
        assert.ok(e.resource.endsWith(encode(e.mountpoint!)));
    }
  });

  it('heralds most CPU exhaustion in the CPU series itself, leaves a minority unheralded, and few hosts saturate daily', () => {
    // At each positive label window: had the overload behind the event begun (a campaign day, a job or
    // a report under way), or did the CPU come close (≥ 80 %) over the same hour a day or a week before?
    const run = runFleet({ hosts: 60, seed: 31, days: 21, intervalSeconds: 300 });
    const { threshold, horizonMs } = DEFAULT_EXHAUSTION.cpu;
    let windows = 0;
    let visible = 0;
    let episodes = 0;
    let surprises = 0;
    run.fleet.hosts.forEach((host, i) => {
      const points = run.series[i]!.get('cpu')!;
      const events = run.events.filter((e) => e.hostId === host.hostId && e.kind === 'cpu');
      const step = run.intervalMs;
      const maxOver = (from: number, to: number) => {
        let m = -Infinity;
        for (let k = Math.max(0, Math.ceil((from - points[0]![0]) / step)); k < points.length; k++) {
          if (points[k]![0] > to) break;
          m = Math.max(m, points[k]![1]);
        }
        return m;
      };
      // No host saturates on most days — operators add capacity, tune jobs, optimise reports — unless it
      // is a batch host whose owners accept a nightly job that uses it in full.
      const days = new Set(
        events.map((e) => Math.floor((e.startMs + host.shape.utcOffsetHours * HOUR) / DAY)),
      );
      const accepted = host.workloads.some((w) => w.params.saturationTolerated === true);
      assert.ok(
        accepted || days.size <= 10,
        `${host.hostId} (${host.profile}): CPU exhausted on ${days.size} of 21 days`,
      );
      let lastEnd = -Infinity;
      for (const e of events) {
        const overload = overloadOf(run, e);
        if (e.startMs - lastEnd > horizonMs) {
          episodes++;
          if (unheralded(overload)) surprises++;
        }
        lastEnd = e.endMs ?? Infinity;
        for (const [t, v] of points) {
          if (t < e.exhaustedAtMs - horizonMs || t >= e.startMs || v >= threshold) continue;
          windows++;
          const begun = overload !== undefined && overload.t <= t;
          const close = [DAY, 7 * DAY].some((back) => maxOver(t - back, t - back + horizonMs) >= 0.8);
          if (begun || close) visible++;
        }
      }
    });
    assert.ok(episodes >= 30, `${episodes} CPU episodes`);
    assert.ok(visible >= 0.7 * windows, `${visible} of ${windows} positive windows heralded`);
    const share = surprises / episodes;
    assert.ok(share > 0.04 && share < 0.25, `${surprises} of ${episodes} episodes unheralded`);
  });

  it('names the workload that drove each event', () => {
    const run = runFleet({ hosts: 60, seed: 5, days: 14, intervalSeconds: 300 });
    const expectedCauses: Record<string, string[]> = {
      cpu: ['diurnal-web', 'batch-bursts', 'weekly-pattern'],
      memory: ['memory-leak', 'batch-bursts', 'diurnal-web', 'weekly-pattern'],
      swap: ['memory-leak', 'batch-bursts', 'diurnal-web', 'weekly-pattern'],
      filesystem: ['log-rotation', 'slow-disk-fill', 'batch-bursts'],
      inodes: ['inode-exhaustion'],
      fds: ['fd-leak'],
    };
    for (const e of run.events) {
      assert.ok(expectedCauses[e.kind]!.includes(e.cause), `${e.kind} event caused by ${e.cause}`);
    }
  });
});

/** Incidents that mark the start of a CPU overload, and how long after it the overload may still run. */
const ONSETS: Readonly<Record<string, number>> = {
  campaign: 3 * DAY,
  'flash-crowd': 4 * HOUR,
  'nightly-job': 6 * HOUR,
  'report-run': 4 * HOUR,
};

/** The overload behind a CPU event: the latest onset incident of its workload on its host. */
function overloadOf(run: FleetRun, e: ExhaustionEvent): IncidentRecord | undefined {
  return run.incidents
    .filter(
      (x) =>
        x.hostId === e.hostId &&
        x.workload === e.cause &&
        x.kind in ONSETS &&
        x.t <= e.startMs &&
        e.startMs - x.t < ONSETS[x.kind]!,
    )
    .at(-1);
}

/** Overloads nothing in the series announces before they start. */
function unheralded(x: IncidentRecord | undefined): boolean {
  return x?.kind === 'flash-crowd' || x?.detail.backfill === true || x?.detail.kind === 'adhoc';
}

function encode(mountpoint: string): string {
  return encodeURIComponent(mountpoint).replace(
    /[!'()*.~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
