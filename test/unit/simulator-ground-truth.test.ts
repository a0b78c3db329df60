import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EXHAUSTION, parseResourceId } from '../../shared/resources/index.js';
import { SCHEMA_VERSION, type TelemetryMessage } from '../../shared/wire/telemetry.js';
import type { ExhaustionEvent } from '../../simulator/ground-truth/exhaustion-event.js';
import { HostGroundTruth } from '../../simulator/ground-truth/exhaustion-tracker.js';
import { runFleet } from '../helpers/simulated-fleet.js';

const MINUTE = 60_000;

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

function encode(mountpoint: string): string {
  return encodeURIComponent(mountpoint).replace(
    /[!'()*.~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
