/**
 * Remediation end to end, with real processes: `cloudsense aggregator`
 * (broker, store, lease endpoint, audit API) and `cloudsense agent`s whose
 * test model says memory is always at risk (test/helpers/forecast-models.ts),
 * each with a playbook whose command appends a line to a marker file.
 *
 * - dry-run: the audit says what would run; the marker never appears;
 * - enforce: the command runs exactly once within its cooldown, as the
 *   configured user, under a lease it gives back; the outcome is judged;
 * - the fleet's lease cap taken, or the aggregator's HTTP side unreachable:
 *   nothing runs, and the audit says why;
 * - every decision is read back from the store through the audit API.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { RemediationEvent } from '../../shared/wire/events.js';
import type { Lease } from '../../shared/wire/remediation.js';
import { CliProcess } from '../helpers/cli-process.js';
import { HIGH_PROBABILITY, writeTestModel } from '../helpers/forecast-models.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-remediation-e2e-'));
const modelDir = join(root, 'models');
// The enforced command runs as `nobody` when the test runs as root: the marker directory must let it write.
const markers = mkdtempSync(join(tmpdir(), 'cloudsense-remediation-markers-'));
const runAsNobody = process.getuid?.() === 0;
const TRIGGER = 0.9;
const ports = { http: 0, mqtt: 0 };
let api = '';
let aggregator: CliProcess;

after(async () => {
  await aggregator?.stop('SIGTERM');
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
  rmSync(markers, { recursive: true, force: true });
});

before(async () => {
  // Memory is always above any trigger below HIGH_PROBABILITY; cpu and filesystems never are.
  writeTestModel(modelDir, 'memory', { splitAt: -1 });
  writeTestModel(modelDir, 'cpu', { splitAt: 2 });
  writeTestModel(modelDir, 'filesystem', { splitAt: 2 });
  assert.ok(HIGH_PROBABILITY > TRIGGER);
  chmodSync(markers, 0o777);
  ports.http = await freePort();
  ports.mqtt = await freePort();
  api = `http://127.0.0.1:${ports.http}`;
  aggregator = CliProcess.start(
    [
      'aggregator',
      '--http-port',
      String(ports.http),
      '--mqtt-port',
      String(ports.mqtt),
      '--data-dir',
      join(root, 'aggregator'),
      '--log-format',
      'json',
    ],
    { CLOUDSENSE_AGGREGATOR__REMEDIATION__MAX_CONCURRENT: '1' },
  );
  await aggregator.waitForLine(/aggregator ready/, 60_000);
});

interface AgentSpec {
  hostId: string;
  mode: 'dry-run' | 'enforce';
  /** The aggregator's URL for leases; default derived from --http-port. */
  leaseUrl?: string;
}

/** Starts an agent with one playbook on memory; returns it and its marker file. */
async function startAgent(spec: AgentSpec): Promise<{ agent: CliProcess; marker: string }> {
  const marker = join(markers, spec.hostId);
  const config = join(root, `${spec.hostId}.yaml`);
  writeFileSync(
    config,
    stringify({
      agent: {
        hostId: spec.hostId,
        intervalSeconds: 1,
        models: { dir: modelDir },
        remediation: {
          mode: spec.mode,
          lease: { timeout: '3s', retryAfter: '1h', ...(spec.leaseUrl ? { url: spec.leaseUrl } : {}) },
          playbooks: [
            {
              name: 'free-memory',
              resource: 'memory',
              when: { probabilityAbove: TRIGGER, forCycles: 2 },
              run: ['/bin/sh', '-c', `id -u >> ${marker}`],
              timeout: '20s',
              cooldown: '1h',
              outcomeCycles: 2,
              ...(runAsNobody ? { user: 'nobody' } : {}),
            },
          ],
        },
      },
    }),
  );
  const agent = CliProcess.start([
    'agent',
    '--config',
    config,
    '--mqtt-port',
    String(ports.mqtt),
    '--http-port',
    String(ports.http),
    '--data-dir',
    join(root, 'agents'),
    '--log-format',
    'json',
  ]);
  await agent.waitForLine(/"msg":"remediation playbooks loaded"/, 60_000);
  return { agent, marker };
}

async function audit(query: string): Promise<RemediationEvent[]> {
  return (await getJson<{ events: RemediationEvent[] }>(`${api}/api/v1/remediation/audit?${query}`)).events;
}

/** Waits until the store holds a remediation event of `hostId` matching `match`; returns the host's trail. */
async function waitForDecision(
  hostId: string,
  match: (e: RemediationEvent) => boolean,
  what: string,
): Promise<RemediationEvent[]> {
  return waitFor(
    `${hostId}: ${what} in the audit trail`,
    async () => {
      const events = await audit(`host=${hostId}`);
      return events.some(match) ? events : undefined;
    },
    90_000,
    500,
  );
}

/** Waits until the aggregator has `cycles` more cycles of the host (telemetry and predictions: two numbers each). */
async function waitForCycles(hostId: string, cycles: number): Promise<void> {
  const seqOf = async () => (await getJson<{ lastSeq: number }>(`${api}/api/v1/hosts/${hostId}`)).lastSeq;
  const start = await seqOf();
  await waitFor(
    `${cycles} more cycles of ${hostId}`,
    async () => ((await seqOf()) >= start + 2 * cycles ? true : undefined),
    60_000,
  );
}

async function leases(): Promise<Lease[]> {
  return (await getJson<{ leases: Lease[] }>(`${api}/api/v1/remediation/leases`)).leases;
}

describe('remediation, end to end', { timeout: 300_000 }, () => {
  it('dry-run: audited as what would run, never executed', async () => {
    const { agent, marker } = await startAgent({ hostId: 'rem-dry', mode: 'dry-run' });
    const trail = await waitForDecision('rem-dry', (e) => e.decision === 'dry_run', 'a dry run');
    await waitForCycles('rem-dry', 3);
    assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
    const dry = trail.find((e) => e.decision === 'dry_run')!;
    assert.equal(dry.mode, 'dry-run');
    assert.equal(dry.playbook, 'free-memory');
    assert.equal(dry.resource, 'memory');
    assert.ok(dry.probability! > TRIGGER);
    assert.deepEqual(dry.command, ['/bin/sh', '-c', `id -u >> ${marker}`]);
    assert.match(
      dry.detail,
      /^memory: exhaustion probability 0\.95\d above 0\.900 for 2 cycles; dry run of playbook "free-memory": would run/,
    );
    assert.equal(existsSync(marker), false, 'the command never ran');
    assert.deepEqual(
      (await audit('host=rem-dry')).map((e) => e.decision),
      ['dry_run'],
      'one decision in the cooldown, however many cycles stay high',
    );
    assert.deepEqual(await leases(), [], 'a dry run asks for no lease');
  });

  it('enforce: runs exactly once within its cooldown, under a lease it releases, and checks the outcome', async () => {
    const { agent, marker } = await startAgent({ hostId: 'rem-enforce', mode: 'enforce' });
    await waitForDecision('rem-enforce', (e) => e.decision === 'outcome', 'the outcome check');
    // Memory stays "at risk" every cycle; the 1 h cooldown must hold the playbook back.
    await waitForCycles('rem-enforce', 6);
    assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
    const trail = await audit('host=rem-enforce');
    assert.deepEqual(
      trail.map((e) => e.decision),
      ['executed', 'outcome'],
    );
    const [executed, outcome] = trail as [RemediationEvent, RemediationEvent];
    assert.equal(executed.exitCode, 0, `${executed.detail}\n${executed.stderr}`);
    const ran = readFileSync(marker, 'utf8').trim().split('\n');
    assert.equal(ran.length, 1, `ran ${ran.length} times`);
    if (runAsNobody) assert.equal(ran[0], '65534', 'as the configured user');
    assert.equal(executed.timedOut, false);
    assert.ok(executed.leaseId, 'ran under a lease');
    if (runAsNobody) assert.equal(executed.user, 'nobody');
    assert.ok(executed.durationMs! >= 0 && executed.durationMs! < 20_000);
    assert.match(
      executed.detail,
      /playbook "free-memory" ran \/bin\/sh -c .* as user .*exit status 0|playbook "free-memory" ran \/bin\/sh -c .*exit status 0/,
    );
    assert.equal(outcome.outcome, 'risk_persists', 'the test model keeps memory high');
    assert.equal(outcome.executedAt, executed.timestamp);
    assert.deepEqual(await leases(), [], 'the lease was given back');
  });

  it('the fleet’s lease cap taken: no action, and the audit says why', async () => {
    const held = await fetch(`${api}/api/v1/remediation/leases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        hostId: 'operator-box',
        playbook: 'maintenance',
        resource: 'cpu',
        ttlSeconds: 600,
      }),
    });
    assert.equal(held.status, 201);
    const lease = (await held.json()) as Lease;
    try {
      const { agent, marker } = await startAgent({ hostId: 'rem-capped', mode: 'enforce' });
      const trail = await waitForDecision(
        'rem-capped',
        (e) => e.decision === 'lease_denied',
        'a refused lease',
      );
      await waitForCycles('rem-capped', 3);
      assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
      assert.equal(existsSync(marker), false, 'nothing ran without a lease');
      assert.deepEqual(
        trail.map((e) => e.decision),
        ['lease_denied'],
      );
      assert.equal(trail[0]!.reason, 'fleet_cap');
      assert.ok(trail[0]!.retryAt! > trail[0]!.timestamp);
      assert.match(
        trail[0]!.detail,
        /not run: the aggregator refused a lease \(1 of 1 remediation leases are held/,
      );
      assert.deepEqual(
        (await leases()).map((l) => l.leaseId),
        [lease.leaseId],
      );
    } finally {
      await fetch(`${api}/api/v1/remediation/leases/${lease.leaseId}`, { method: 'DELETE' });
    }
  });

  it('the aggregator’s HTTP side unreachable: no action, and the audit says why', async () => {
    const { agent, marker } = await startAgent({
      hostId: 'rem-unreachable',
      mode: 'enforce',
      leaseUrl: `http://127.0.0.1:${await freePort()}`,
    });
    const trail = await waitForDecision(
      'rem-unreachable',
      (e) => e.decision === 'lease_unanswered',
      'no lease',
    );
    assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
    assert.equal(existsSync(marker), false, 'nothing ran without an answer');
    assert.equal(trail[0]!.reason, 'unreachable');
    assert.match(trail[0]!.detail, /no lease without an answer from the aggregator/);
  });

  it('the audit API: the fleet’s trail in time order, filtered by decision and time', async () => {
    const all = await audit('');
    const hosts = [...new Set(all.map((e) => e.hostId))].sort();
    assert.deepEqual(hosts, ['rem-capped', 'rem-dry', 'rem-enforce', 'rem-unreachable']);
    const times = all.map((e) => e.timestamp);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
    const executed = await audit('decision=executed');
    assert.deepEqual(
      executed.map((e) => e.hostId),
      ['rem-enforce'],
    );
    assert.deepEqual(
      await audit('from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z'),
      [],
      'nothing back then',
    );
    const bad = await fetch(`${api}/api/v1/remediation/audit?decision=maybe`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { path: string } }).error.path, 'decision');
  });
});
