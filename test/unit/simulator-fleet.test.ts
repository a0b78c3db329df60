import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TelemetryStore } from '../../aggregator/storage/telemetry-store.js';
import { loadConfig } from '../../shared/config/load.js';
import { ConfigError } from '../../shared/errors.js';
import {
  MAX_TELEMETRY_BYTES,
  TelemetryMessageSchema,
  type TelemetryMessage,
} from '../../shared/wire/telemetry.js';
import { SimulateConfigSchema, intervalSecondsOf, modeOf } from '../../simulator/config.js';
import { Fleet } from '../../simulator/fleet.js';
import { labelStats } from '../../simulator/ground-truth/label-rates.js';
import { GroundTruthRecorder } from '../../simulator/ground-truth/recorder.js';
import { simulateFleetSeries } from '../../simulator/history/fleet-series.js';
import { writeHistory } from '../../simulator/history/history-writer.js';
import { Simulation } from '../../simulator/simulation.js';
import { BACKFILL_CHANCE } from '../../simulator/workloads/batch-bursts.js';
import { FLASH_CROWD_SHARE } from '../../simulator/workloads/diurnal-web.js';
import { ADHOC_REPORT_CHANCE } from '../../simulator/workloads/weekly-pattern.js';
import { MONDAY } from '../helpers/simulated-fleet.js';

const noSink = { event: () => undefined, incident: () => undefined };

function messages(seed: number, hosts: number, ticks: number, intervalSeconds = 60): TelemetryMessage[][] {
  const fleet = new Fleet({ hosts, seed, hostPrefix: 'sim', intervalSeconds }, noSink);
  return Array.from({ length: ticks }, (_, k) => fleet.tick(MONDAY + k * intervalSeconds * 1000));
}

describe('simulated fleet', () => {
  it('is deterministic: the same seed gives the same series, another seed another', () => {
    assert.deepEqual(messages(42, 6, 500), messages(42, 6, 500));
    assert.notDeepEqual(messages(42, 6, 50), messages(43, 6, 50));
  });

  it('is deterministic over days too: campaigns, nightly volumes, reports and capacity changes', () => {
    const run = () => {
      const events: unknown[] = [];
      const incidents: unknown[] = [];
      const fleet = new Fleet(
        { hosts: 8, seed: 7, hostPrefix: 'sim', intervalSeconds: 900, profiles: ['web', 'batch', 'office'] },
        { event: (e) => events.push(e), incident: (i) => incidents.push(i) },
      );
      const last = Array.from({ length: 21 * 96 }, (_, k) => fleet.tick(MONDAY + k * 900_000)).at(-1);
      fleet.finish();
      return { events, incidents, last };
    };
    const [a, b] = [run(), run()];
    assert.ok(a.incidents.length > 50);
    assert.deepEqual(a, b);
  });

  it("records the unheralded shares and every host's swappiness in the fleet description", () => {
    const fleet = new Fleet({ hosts: 60, seed: 1, hostPrefix: 'sim', intervalSeconds: 60 }, noSink);
    const hosts = fleet.describe();
    const params = (name: string) => hosts.flatMap((h) => h.workloads.filter((w) => w.name === name));
    assert.ok(params('diurnal-web').every((w) => w.params.flashCrowdShare === FLASH_CROWD_SHARE));
    assert.ok(params('batch-bursts').every((w) => w.params.backfillChance === BACKFILL_CHANCE));
    assert.ok(params('weekly-pattern').every((w) => w.params.adhocReportChance === ADHOC_REPORT_CHANCE));
    for (const h of hosts) {
      if (h.swapBytes === 0) assert.equal(h.swapOutShare, 0);
      else assert.ok(h.swapOutShare > 0 && h.swapOutShare <= 0.5, `${h.hostId}: ${h.swapOutShare}`);
    }
  });

  it('keeps the first hosts the same whatever the fleet size', () => {
    const small = messages(9, 3, 200);
    const large = messages(9, 8, 200);
    assert.deepEqual(
      small,
      large.map((tick) => tick.slice(0, 3)),
    );
  });

  it('publishes schema-valid telemetry like a real agent, with per-host sequence numbers', () => {
    const ticks = messages(3, 12, 30);
    const names = new Set<string>();
    const mountpoints = new Set<string>();
    for (const [k, tick] of ticks.entries()) {
      for (const [i, message] of tick.entries()) {
        TelemetryMessageSchema.parse(message);
        assert.equal(message.seq, k + 1);
        assert.equal(message.hostId, `sim-${String(i).padStart(3, '0')}`);
        assert.equal(message.timestamp, MONDAY + k * 60_000);
        assert.ok(Buffer.byteLength(JSON.stringify(message)) < MAX_TELEMETRY_BYTES / 8);
        for (const p of message.metrics) {
          names.add(p.name);
          const m = p.attributes?.['system.filesystem.mountpoint'];
          if (m) mountpoints.add(m);
          if (p.unit === '1') assert.ok(p.value >= 0 && p.value <= 1, `${p.name} is a ratio: ${p.value}`);
        }
      }
    }
    for (const name of [
      'system.cpu.utilization',
      'system.cpu.logical.count',
      'system.cpu.load_average.1m',
      'system.cpu.load_average.5m',
      'system.cpu.load_average.15m',
      'system.memory.usage',
      'system.memory.limit',
      'system.memory.utilization',
      'system.paging.usage',
      'system.paging.utilization',
      'system.filesystem.usage',
      'system.filesystem.limit',
      'system.filesystem.utilization',
      'system.filesystem.inodes.utilization',
      'system.linux.file_descriptor.utilization',
      'system.network.io',
    ]) {
      assert.ok(names.has(name), `publishes ${name}`);
    }
    for (const m of ['/', '/var/log', '/data']) assert.ok(mountpoints.has(m), `some host mounts ${m}`);
  });

  it('reports memory states that sum to the total, and filesystem states that sum to the size', () => {
    for (const tick of messages(5, 8, 100)) {
      for (const message of tick) {
        const value = (name: string, attr: string, state: string, mount?: string) =>
          message.metrics.find(
            (p) =>
              p.name === name &&
              p.attributes?.[attr] === state &&
              (mount === undefined || p.attributes['system.filesystem.mountpoint'] === mount),
          )!.value;
        const limit = message.metrics.find((p) => p.name === 'system.memory.limit')!.value;
        const states = ['used', 'free', 'cached'].map((s) =>
          value('system.memory.usage', 'system.memory.state', s),
        );
        assert.equal(
          states.reduce((a, b) => a + b, 0),
          limit,
        );
        for (const fs of message.metrics.filter((p) => p.name === 'system.filesystem.limit')) {
          const mount = fs.attributes!['system.filesystem.mountpoint']!;
          const parts = ['used', 'free', 'reserved'].map((s) =>
            value('system.filesystem.usage', 'system.filesystem.state', s, mount),
          );
          assert.equal(
            parts.reduce((a, b) => a + b, 0),
            fs.value,
          );
        }
      }
    }
  });

  it('draws every profile in a large fleet, and only the requested ones when asked', () => {
    const fleet = new Fleet({ hosts: 200, seed: 1, hostPrefix: 'sim', intervalSeconds: 60 }, noSink);
    const profiles = new Set(fleet.hosts.map((h) => h.profile));
    assert.equal(profiles.size, 8);
    const idle = new Fleet(
      { hosts: 20, seed: 1, hostPrefix: 'sim', intervalSeconds: 60, profiles: ['idle', 'spool'] },
      noSink,
    );
    assert.deepEqual(new Set(idle.hosts.map((h) => h.profile)), new Set(['idle', 'spool']));
  });

  it('reports memory pressure stalls: none with memory to spare, rising before swap runs out', () => {
    const fleet = simulateFleetSeries({
      hosts: 20,
      seed: 5,
      days: 3,
      intervalSeconds: 60,
      startMs: MONDAY,
      profiles: ['api', 'office', 'worker'],
    });
    const psiAt = (hostId: string, resource: string, t: number) => {
      const s = fleet.series.find((x) => x.hostId === hostId && x.resourceId === resource)!;
      const i = Array.from(s.history.timestampsMs).findIndex((ts) => ts >= t);
      return s.history.pressureSomeAvg10![i]!;
    };
    let calm = 0;
    for (const s of fleet.series.filter((x) => x.resourceId === 'memory')) {
      const psi = s.history.pressureSomeAvg10!;
      Array.from(s.history.values).forEach((v, i) => {
        if (v >= 0.6) return;
        calm++;
        assert.ok(psi[i]! < 0.01, `${s.hostId}: PSI ${psi[i]} at ${v} of memory`);
      });
    }
    assert.ok(calm > 10_000, 'the fleet has hosts with memory to spare');
    const swapEvents = fleet.events.filter((e) => e.kind === 'swap');
    assert.ok(swapEvents.length >= 3, `swap events: ${swapEvents.length}`);
    const before = swapEvents
      .map((e) => psiAt(e.hostId, 'memory', e.startMs - 10 * 60_000))
      .sort((a, b) => a - b);
    assert.ok(
      before[Math.floor(before.length / 2)]! > 0.1,
      `PSI 10 min before swap ran out: ${before.join(', ')}`,
    );
    // Only the memory and swap series carry it (cpu and io pressure are not simulated).
    for (const s of fleet.series) {
      assert.equal(
        s.history.pressureSomeAvg10 !== undefined,
        ['memory', 'swap'].includes(s.resourceId),
        s.resourceId,
      );
    }
  });
});

describe('simulate configuration', () => {
  const load = (flags: Record<string, string>) =>
    loadConfig(SimulateConfigSchema, { env: {}, flags, flagNames: {} });

  it('selects history mode with days, with its own default interval', () => {
    const live = load({});
    assert.equal(modeOf(live), 'live');
    assert.equal(intervalSecondsOf(live), 10);
    const history = load({ 'simulate.days': '2', dataDir: '/tmp/x' });
    assert.equal(modeOf(history), 'history');
    assert.equal(intervalSecondsOf(history), 60);
  });

  it('parses durations, start times and profile lists', () => {
    const c = load({
      'simulate.duration': '5',
      'simulate.start': '2025-03-01T00:00:00Z',
      'simulate.profiles': 'web, idle',
    });
    assert.equal(c.simulate.duration, 5000);
    assert.equal(c.simulate.start, Date.parse('2025-03-01T00:00:00Z'));
    assert.deepEqual(c.simulate.profiles, ['web', 'idle']);
    assert.equal(load({ 'simulate.duration': '10m' }).simulate.duration, 600_000);
  });

  it('lists every problem by path, live-only settings in history mode included', () => {
    assert.throws(
      () =>
        load({
          'simulate.days': '1',
          'simulate.speed': '60',
          'simulate.hosts': '0',
          'simulate.profiles': 'web,nosuch',
          'simulate.start': 'yesterday',
          'simulate.hostPrefix': 'bad/prefix',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const paths = err.problems.map((p) => p.path).sort();
        assert.deepEqual(paths, [
          'simulate.hostPrefix',
          'simulate.hosts',
          'simulate.profiles.1',
          'simulate.speed',
          'simulate.start',
        ]);
        return true;
      },
    );
  });
});

describe('label statistics', () => {
  it('counts the windows whose horizon reaches an event, overlaps merged', () => {
    const base = {
      hostId: 'h',
      resource: 'memory',
      kind: 'memory' as const,
      threshold: 0.95,
      sustainMs: 0,
      horizonMs: 30 * 60_000,
      peak: 1,
      cause: 'x',
      remediated: false as const,
    };
    const minute = 60_000;
    const events = [
      { ...base, startMs: 100 * minute, exhaustedAtMs: 100 * minute, endMs: 110 * minute },
      { ...base, startMs: 120 * minute, exhaustedAtMs: 120 * minute, endMs: 125 * minute },
    ];
    const resources = [
      {
        hostId: 'h',
        resource: 'memory',
        kind: 'memory' as const,
        firstMs: 0,
        lastMs: 199 * minute,
        count: 200,
        definition: { threshold: 0.95, horizonMs: 30 * minute, sustainMs: 0 },
      },
    ];
    const stats = labelStats(resources, events, minute, 200 * minute);
    // Positive from minute 70 (100 − 30) to 125, exclusive: 55 windows; exhausted 100–110 and 120–125.
    assert.equal(stats.memory.positive, 55);
    assert.equal(stats.memory.exhausted, 15);
    assert.equal(stats.memory.windows, 200);
    assert.equal(stats.memory.events, 2);
    assert.equal(stats.cpu.windows, 0);
  });
});

/** A store that keeps batch sizes and messages, for the history writer. */
class CapturingStore {
  readonly batches: number[] = [];
  readonly seqs = new Map<string, number[]>();
  async write(batch: readonly TelemetryMessage[]): Promise<void> {
    this.batches.push(batch.length);
    for (const m of batch) this.seqs.set(m.hostId, [...(this.seqs.get(m.hostId) ?? []), m.seq]);
  }
}

describe('history writer', () => {
  const settings = {
    mode: 'history' as const,
    seed: 4,
    hosts: 3,
    hostPrefix: 'sim',
    intervalSeconds: 300,
    startMs: MONDAY,
    days: 1,
  };

  it('writes every tick of every host in bounded batches, in order', async () => {
    const store = new CapturingStore();
    const simulation = new Simulation(settings);
    const progress: number[] = [];
    const result = await writeHistory({
      simulation,
      store: store as unknown as TelemetryStore,
      ticks: 288,
      batchMessages: 100,
      onProgress: (p) => progress.push(p.ticksDone),
    });
    assert.equal(result.completed, true);
    assert.equal(result.messages, 3 * 288);
    assert.ok(
      store.batches.every((n) => n <= 102),
      'a batch holds at most one tick more than asked',
    );
    for (const seqs of store.seqs.values()) {
      assert.deepEqual(
        seqs,
        Array.from({ length: 288 }, (_, i) => i + 1),
      );
    }
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
    assert.equal(simulation.record(true).endMs, MONDAY + 288 * 300_000);
  });

  it('stops after the batch in flight when aborted', async () => {
    const store = new CapturingStore();
    const controller = new AbortController();
    const result = await writeHistory({
      simulation: new Simulation(settings),
      store: store as unknown as TelemetryStore,
      ticks: 288,
      batchMessages: 30,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.ticksDone >= 50) controller.abort();
      },
    });
    assert.equal(result.completed, false);
    assert.ok(result.ticksDone >= 50 && result.ticksDone < 288);
    assert.equal(result.messages, result.ticksDone * 3);
  });
});

describe('ground truth recorder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudsense-sim-gt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes events, incidents and run.json, and refuses to overwrite a run', async () => {
    const recorder = GroundTruthRecorder.create(join(dir, 'run1'));
    const simulation = new Simulation(
      {
        mode: 'history',
        seed: 2,
        hosts: 4,
        hostPrefix: 'sim',
        intervalSeconds: 600,
        startMs: MONDAY,
        days: 7,
      },
      [recorder],
    );
    for (let k = 0; k < 7 * 144; k++) simulation.tick();
    simulation.finish();
    await recorder.writeRun(simulation.record(true));
    await recorder.close();
    await recorder.close();

    const lines = (file: string) =>
      readFileSync(join(dir, 'run1', file), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines('ground-truth.jsonl');
    const incidents = lines('incidents.jsonl');
    const run = JSON.parse(readFileSync(join(dir, 'run1', 'run.json'), 'utf8')) as {
      completed: boolean;
      remediation: string;
      config: { seed: number };
      summary: { events: number; incidents: number };
      fleet: unknown[];
    };
    assert.equal(run.completed, true);
    assert.equal(run.remediation, 'none');
    assert.equal(run.config.seed, 2);
    assert.equal(run.fleet.length, 4);
    assert.equal(run.summary.events, events.length);
    assert.equal(run.summary.incidents, incidents.length);
    assert.ok(events.length > 0 && incidents.length > 0);
    for (const e of events) assert.equal(e.remediated, false);
    assert.ok(!existsSync(join(dir, 'run1', 'run.json.tmp')));
    assert.throws(() => GroundTruthRecorder.create(join(dir, 'run1')), /already holds a simulation/);
  });
});
