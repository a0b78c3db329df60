import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ExhaustionEvent } from '../../simulator/ground-truth/exhaustion-event.js';
import { CliProcess } from '../helpers/cli-process.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cloudsense-sim-e2e-'));
  dirs.push(dir);
  return dir;
}

after(() => {
  CliProcess.killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface HostsBody {
  hosts: Array<{ id: string; lastSeq: number | null; status: string | null; intervalSeconds: number | null }>;
}
interface MetricsBody {
  series: Array<{ metric: string; attributes: Record<string, string>; points: Array<[number, number]> }>;
}

async function startAggregator(
  dataDir: string,
): Promise<{ proc: CliProcess; base: string; mqttPort: number }> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const proc = CliProcess.start(
    ['aggregator', '--http-port', String(httpPort), '--mqtt-port', String(mqttPort), '--log-format', 'json'],
    { CLOUDSENSE_DATA_DIR: dataDir },
  );
  await proc.waitForLine(/aggregator ready/);
  return { proc, base: `http://127.0.0.1:${httpPort}`, mqttPort };
}

/** Every sample of a Prometheus metric family, by its label text. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) out.set(m[1] ?? '', Number(m[2]));
  }
  return out;
}

describe('cloudsense simulate', () => {
  it('explains itself with --help, and lists configuration problems by path', async () => {
    const help = CliProcess.start(['simulate', '--help']);
    assert.equal((await help.exited).code, 0);
    assert.match(help.output, /Usage: cloudsense simulate/);
    for (const flag of ['--hosts', '--speed', '--days', '--seed', '--interval', '--duration', '--data-dir']) {
      assert.match(help.output, new RegExp(flag));
    }
    const bad = CliProcess.start(['simulate', '--days', '1', '--speed', '60', '--hosts', '0']);
    assert.equal((await bad.exited).code, 2);
    assert.match(bad.output, /invalid configuration, 2 problems/);
    assert.match(bad.output, /simulate\.speed: applies to live mode only .*\(from flag --speed\)/);
    assert.match(bad.output, /simulate\.hosts: .*\(from flag --hosts\)/);
  });

  it('live: virtual hosts publish into a running aggregator like real agents, with nothing dropped', async () => {
    const { proc: aggregator, base, mqttPort } = await startAggregator(tempDir());
    const sim = CliProcess.start([
      'simulate',
      '--hosts',
      '3',
      '--speed',
      '600',
      '--interval',
      '10',
      '--duration',
      '5',
      '--mqtt-port',
      String(mqttPort),
      '--log-format',
      'json',
    ]);
    await sim.waitForLine(/simulation running/);
    const ids = ['sim-000', 'sim-001', 'sim-002'];
    // Sequence numbers as the aggregator sees them while the simulation runs.
    const seen = new Map<string, number[]>(ids.map((id) => [id, []]));
    while (sim.child.exitCode === null) {
      const { hosts } = await getJson<HostsBody>(`${base}/api/v1/hosts`);
      for (const h of hosts) if (h.lastSeq !== null) seen.get(h.id)?.push(h.lastSeq);
      await new Promise((r) => setTimeout(r, 300));
    }
    const exit = await sim.exited;
    assert.equal(exit.code, 0, sim.output);
    const summary = /(\d+) messages published, (\d+) acknowledged, 0 failed/.exec(sim.output);
    assert.ok(summary, sim.output);
    const published = Number(summary[1]);
    assert.equal(Number(summary[2]), published);
    assert.equal(published % 3, 0);
    const perHost = published / 3;
    // 5 s at 600× with 10 s samples: about 300 per host.
    assert.ok(perHost > 200 && perHost <= 301, `${perHost} messages per host`);

    for (const id of ids) {
      const seqs = seen.get(id)!;
      assert.ok(new Set(seqs).size >= 3, `${id}: seq observed increasing while running (${seqs.join(',')})`);
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! >= seqs[i - 1]!, `${id}: seqs never go back`);
    }
    const { hosts } = await waitFor('every message and the offline status', async () => {
      const body = await getJson<HostsBody>(`${base}/api/v1/hosts`);
      const mine = body.hosts.filter((h) => ids.includes(h.id));
      return mine.length === 3 && mine.every((h) => h.lastSeq === perHost && h.status === 'offline')
        ? body
        : undefined;
    });
    assert.deepEqual(
      hosts.map((h) => h.id),
      ids,
    );
    assert.ok(hosts.every((h) => h.intervalSeconds === 10));

    const metrics = await (await fetch(`${base}/metrics`)).text();
    const dropped = samples(metrics, 'cloudsense_ingest_dropped_total');
    assert.ok(dropped.size >= 5);
    for (const [labels, n] of dropped) assert.equal(n, 0, `dropped ${labels}`);
    assert.equal(
      samples(metrics, 'cloudsense_ingest_accepted_total').get(''),
      samples(metrics, 'cloudsense_ingest_received_total').get(''),
    );

    // Stored as sent: one point per message, 10 simulated seconds apart.
    const stored = await waitFor('the store to hold every message', async () => {
      const body = await getJson<MetricsBody>(
        `${base}/api/v1/hosts/sim-001/metrics?from=0&to=${Date.now() + 86_400_000}&metric=system.cpu.utilization`,
      );
      return body.series[0]?.points.length === perHost ? body.series[0] : undefined;
    });
    for (let i = 1; i < stored.points.length; i++) {
      assert.equal(stored.points[i]![0] - stored.points[i - 1]![0], 10_000);
    }
    assert.equal((await aggregator.stop('SIGTERM')).code, 0);
  });

  it('history: writes days into a data dir that an aggregator then serves, with the ground truth beside it', async () => {
    const dataDir = tempDir();
    const sim = CliProcess.start([
      'simulate',
      '--hosts',
      '2',
      '--days',
      '2',
      '--interval',
      '60',
      '--data-dir',
      dataDir,
    ]);
    const exit = await sim.exited;
    assert.equal(exit.code, 0, sim.output);
    assert.match(sim.output, /written\s+5,760 messages/);
    assert.match(sim.output, /\[100%\]/, 'reports progress');

    const simulationDir = join(dataDir, 'simulation');
    for (const file of ['ground-truth.jsonl', 'incidents.jsonl', 'run.json']) {
      assert.ok(existsSync(join(simulationDir, file)), file);
    }
    const run = JSON.parse(readFileSync(join(simulationDir, 'run.json'), 'utf8')) as {
      completed: boolean;
      config: { seed: number; hosts: number; intervalSeconds: number; days: number };
      startMs: number;
      endMs: number;
      summary: { messages: number; events: number };
    };
    assert.equal(run.completed, true);
    assert.deepEqual(run.config, { ...run.config, seed: 1, hosts: 2, intervalSeconds: 60, days: 2 });
    assert.equal(run.summary.messages, 5760);
    assert.equal(run.endMs - run.startMs, 2 * 86_400_000);
    const events = readFileSync(join(simulationDir, 'ground-truth.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as ExhaustionEvent);
    assert.equal(events.length, run.summary.events);

    const { proc: aggregator, base } = await startAggregator(dataDir);
    const { hosts } = await getJson<HostsBody>(`${base}/api/v1/hosts`);
    assert.deepEqual(
      hosts.map((h) => [h.id, h.lastSeq]),
      [
        ['sim-000', 2880],
        ['sim-001', 2880],
      ],
    );
    const body = await getJson<MetricsBody>(
      `${base}/api/v1/hosts/sim-000/metrics?from=0&metric=system.memory.utilization`,
    );
    const memory = body.series[0]!.points;
    assert.equal(memory.length, 2880);
    assert.equal(memory[0]![0], run.startMs);
    // The ground truth agrees with what the store serves.
    const at = new Map(memory);
    for (const e of events.filter((x) => x.hostId === 'sim-000' && x.kind === 'memory')) {
      assert.ok(
        at.get(e.startMs)! >= e.threshold,
        'the first sample of an event is at or over the threshold',
      );
      if (e.endMs !== null) assert.ok(at.get(e.endMs)! < e.threshold, 'the sample that ends it is under');
    }

    // The store is the aggregator's now: history mode says so instead of failing obscurely.
    const busy = CliProcess.start([
      'simulate',
      '--days',
      '1',
      '--data-dir',
      dataDir,
      '--host-prefix',
      'other',
    ]);
    assert.equal((await busy.exited).code, 1);
    assert.match(busy.output, /held by another process/);
    assert.match(busy.output, /stop the aggregator, or use live mode/);
    assert.equal((await aggregator.stop('SIGTERM')).code, 0);

    // And a second run into the same data dir would duplicate the hosts: refused.
    const again = CliProcess.start(['simulate', '--hosts', '2', '--days', '1', '--data-dir', dataDir]);
    assert.equal((await again.exited).code, 2);
    assert.match(again.output, /already holds telemetry of sim-000, sim-001/);
  });
});
