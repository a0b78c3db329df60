/**
 * The remediation decision engine, cycle by cycle on a fake clock: the
 * trigger (N cycles above the level), the modes, cooldown and the hourly
 * cap, the lease (no lease, no action), the outcome check, and every
 * decision as an event. Commands are real processes (/bin/sh) writing to a
 * marker file, so "never executes" and "executes once" are read off the disk.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { ActionHistoryFile } from '../../agent/remediation/action-history-file.js';
import { PlaybookSchema, type Playbook } from '../../agent/remediation/config.js';
import type { LeaseAnswer } from '../../agent/remediation/lease-client.js';
import {
  RemediationEngine,
  type LeaseGate,
  type RiskReading,
} from '../../agent/remediation/remediation-engine.js';
import type { RemediationMode } from '../../shared/wire/remediation.js';
import { EventMessageSchema, type RemediationEvent } from '../../shared/wire/events.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-remediation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_790_000_000_000;
const STEP = 10_000;
const log = pino({ level: 'silent' });
let fileNo = 0;

/** A playbook whose command appends a line to a fresh marker file. */
function playbook(overrides: Record<string, unknown> = {}): { playbook: Playbook; marker: string } {
  const marker = join(dir, `marker-${++fileNo}`);
  const playbook = PlaybookSchema.parse({
    name: 'clean-var',
    resource: 'filesystem',
    when: { probabilityAbove: 0.8, forCycles: 3 },
    run: ['/bin/sh', '-c', `echo "$CLOUDSENSE_RESOURCE $CLOUDSENSE_MOUNTPOINT" >> ${marker}`],
    timeout: '10s',
    cooldown: '15m',
    maxRunsPerHour: 2,
    outcomeCycles: 2,
    ...overrides,
  });
  return { playbook, marker };
}

/** A lease gate that answers from a list (then grants), and records what it was asked. */
class FakeLeases implements LeaseGate {
  acquired = 0;
  released: string[] = [];
  constructor(private readonly answers: LeaseAnswer[] = []) {}
  acquire(): Promise<LeaseAnswer> {
    this.acquired++;
    const answer = this.answers.shift();
    if (answer) return Promise.resolve(answer);
    return Promise.resolve({
      granted: true,
      lease: {
        leaseId: `lease-${this.acquired}`,
        hostId: 'web-01',
        playbook: 'clean-var',
        resource: 'filesystem:%2Fvar',
        grantedAt: new Date(T0).toISOString(),
        expiresAt: new Date(T0 + 60_000).toISOString(),
      },
    });
  }
  release(leaseId: string): Promise<void> {
    this.released.push(leaseId);
    return Promise.resolve();
  }
}

class Harness {
  readonly events: RemediationEvent[] = [];
  t = T0;
  readonly engine: RemediationEngine;

  constructor(
    playbooks: Playbook[],
    mode: RemediationMode,
    readonly leases = new FakeLeases(),
    history?: ActionHistoryFile,
  ) {
    this.engine = new RemediationEngine({
      ...(history ? { restored: history.load(), onActed: (h) => history.save(h) } : {}),
      hostId: 'web-01',
      mode,
      playbooks,
      leases,
      leaseRetryMs: 60_000,
      emit: (build) => {
        // Every event must pass the wire schema the aggregator validates with.
        const event = EventMessageSchema.parse(build(this.events.length + 1));
        assert.equal(event.type, 'remediation');
        this.events.push(event as RemediationEvent);
        return Promise.resolve();
      },
      log,
      now: () => this.t,
    });
  }

  /** One cycle per probability for `filesystem:%2Fvar` (undefined: no forecast that cycle), 10 s apart. */
  async cycles(probabilities: Array<number | undefined>): Promise<void> {
    for (const p of probabilities) {
      const readings: RiskReading[] = [{ resource: 'memory', probability: 0.99 }];
      if (p !== undefined) readings.push({ resource: 'filesystem:%2Fvar', probability: p });
      this.engine.observe(readings, this.t);
      // Lease and command run in the background; a real cycle is 10 s, far longer than they take here.
      await this.engine.settled();
      this.t += STEP;
    }
  }

  decisions(): string[] {
    return this.events.map((e) => (e.reason ? `${e.decision}:${e.reason}` : e.decision));
  }
}

function lines(marker: string): string[] {
  return existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n') : [];
}

const high = (n: number) => Array<number>(n).fill(0.95);

describe('remediation engine: trigger', () => {
  it('fires after forCycles cycles in a row above the level, not at it, and a gap breaks the run', async () => {
    const { playbook: pb } = playbook();
    const h = new Harness([pb], 'recommend');
    await h.cycles([0.95, 0.95, 0.8, 0.95, 0.95, undefined, 0.95, 0.95]);
    assert.deepEqual(h.events, [], '0.8 is not above 0.8, and a cycle without a forecast breaks the run');
    await h.cycles([0.95]);
    assert.deepEqual(h.decisions(), ['recommended']);
  });

  it('watches only its resources: a kind matches each resource of it, an id only itself', async () => {
    const { playbook: pb } = playbook({ resource: 'filesystem:/srv' });
    const h = new Harness([pb], 'recommend');
    await h.cycles(high(5));
    assert.deepEqual(h.events, [], 'filesystem:/var is not filesystem:/srv; memory is not a filesystem');
  });
});

describe('remediation engine: modes', () => {
  it('recommend: one event in plain words, nothing runs, no lease asked', async () => {
    const { playbook: pb, marker } = playbook({ user: process.getuid?.() === 0 ? 'root' : undefined });
    const h = new Harness([pb], 'recommend');
    await h.cycles(high(10));
    assert.deepEqual(h.decisions(), ['recommended'], 'once per cooldown, not once per cycle');
    const [event] = h.events;
    assert.equal(event!.mode, 'recommend');
    assert.equal(event!.resource, 'filesystem:%2Fvar');
    assert.equal(event!.probability, 0.95);
    assert.deepEqual(event!.command, pb.run);
    assert.match(event!.detail, /^filesystem \/var: exhaustion probability 0\.950 above 0\.800 for 3 cycles/);
    assert.match(event!.detail, /playbook "clean-var" would run \/bin\/sh -c .*nothing was run/);
    assert.equal(lines(marker).length, 0);
    assert.equal(h.leases.acquired, 0);
  });

  it('dry-run: audited as what would run, never executed, no lease', async () => {
    const { playbook: pb, marker } = playbook({ cooldown: '0s', maxRunsPerHour: 3 });
    const h = new Harness([pb], 'dry-run');
    await h.cycles(high(20));
    assert.deepEqual(h.decisions(), ['dry_run', 'dry_run', 'dry_run', 'skipped:rate_limit']);
    assert.match(h.events[0]!.detail, /dry run of playbook "clean-var": would run .* not executed/);
    assert.equal(existsSync(marker), false, 'the command never ran');
    assert.equal(h.leases.acquired, 0);
  });

  it('off: nothing is evaluated; a playbook may lower its own mode', async () => {
    const off = playbook({ mode: 'off' });
    const h = new Harness([off.playbook], 'enforce');
    assert.equal(h.engine.activePlaybooks, 0);
    await h.cycles(high(5));
    assert.deepEqual(h.events, []);
    const lowered = playbook({ mode: 'dry-run' });
    const h2 = new Harness([lowered.playbook], 'enforce');
    await h2.cycles(high(5));
    assert.deepEqual(h2.decisions(), ['dry_run']);
    assert.equal(h2.events[0]!.mode, 'dry-run');
    assert.equal(existsSync(lowered.marker), false);
  });
});

describe('remediation engine: enforce', () => {
  it('runs once within its cooldown, under a lease it gives back, then judges the outcome', async () => {
    const { playbook: pb, marker } = playbook();
    const h = new Harness([pb], 'enforce');
    await h.cycles(high(3));
    assert.deepEqual(lines(marker), ['filesystem:%2Fvar /var'], 'ran once, told the resource and mountpoint');
    await h.cycles([...high(30), 0.1, 0.1]);
    assert.equal(
      lines(marker).length,
      1,
      'still once: 5 minutes of high risk are inside the 15 min cooldown',
    );
    assert.equal(h.leases.acquired, 1);
    assert.deepEqual(h.leases.released, ['lease-1']);
    assert.deepEqual(h.decisions(), ['executed', 'outcome']);
    const [executed, outcome] = h.events;
    assert.equal(executed!.exitCode, 0);
    assert.equal(executed!.timedOut, false);
    assert.equal(executed!.leaseId, 'lease-1');
    assert.ok(executed!.durationMs! >= 0);
    assert.match(executed!.detail, /ran \/bin\/sh .*exit status 0/);
    assert.equal(outcome!.outcome, 'risk_persists', '2 cycles after the run the probability was still 0.95');
    assert.equal(outcome!.executedAt, executed!.timestamp);
  });

  it('the outcome says the risk fell when the probability is back at or below the level', async () => {
    const { playbook: pb } = playbook();
    const h = new Harness([pb], 'enforce');
    await h.cycles([...high(3), 0.3, 0.2]);
    assert.deepEqual(h.decisions(), ['executed', 'outcome']);
    assert.equal(h.events[1]!.outcome, 'risk_fell');
    assert.equal(h.events[1]!.probability, 0.2);
    assert.match(h.events[1]!.detail, /the risk fell/);
  });

  it('a new trigger inside the cooldown is skipped (once); after it, the playbook runs again', async () => {
    const { playbook: pb, marker } = playbook({ cooldown: '2m' });
    const h = new Harness([pb], 'enforce');
    await h.cycles([...high(3), 0.1, 0.1, ...high(6)]);
    assert.deepEqual(h.decisions(), ['executed', 'outcome', 'skipped:cooldown']);
    const skipped = h.events[2]!;
    assert.equal(skipped.retryAt, T0 + 2 * STEP + 120_000);
    assert.match(skipped.detail, /not run: in cooldown/);
    await h.cycles(high(8));
    assert.deepEqual(h.decisions().slice(3), ['executed', 'outcome']);
    assert.equal(lines(marker).length, 2);
  });

  it('at most maxRunsPerHour runs in any hour', async () => {
    const { playbook: pb, marker } = playbook({ cooldown: '0s', maxRunsPerHour: 2, outcomeCycles: 1 });
    const h = new Harness([pb], 'enforce');
    await h.cycles(high(12));
    assert.equal(lines(marker).length, 2);
    assert.deepEqual(h.decisions(), ['executed', 'outcome', 'executed', 'outcome', 'skipped:rate_limit']);
    const skipped = h.events.at(-1)!;
    assert.equal(skipped.retryAt, T0 + 2 * STEP + 3_600_000, 'the first run leaves the hour then');
  });

  it('a run inside the previous run’s outcome window judges that one first', async () => {
    const { playbook: pb } = playbook({ cooldown: '0s', maxRunsPerHour: 5, outcomeCycles: 3 });
    const h = new Harness([pb], 'enforce');
    await h.cycles(high(4));
    assert.deepEqual(h.decisions(), ['executed', 'outcome', 'executed']);
    assert.match(h.events[1]!.detail, /^1 cycle after playbook "clean-var" ran: .*the risk persists/);
    assert.equal(h.events[1]!.executedAt, h.events[0]!.timestamp);
  });

  it('no lease, no action: a refusal and no answer are audited, and the playbook asks again later', async () => {
    const { playbook: pb, marker } = playbook();
    const leases = new FakeLeases([
      { granted: false, reason: 'fleet_cap', detail: '1 of 1 remediation leases are held' },
      { granted: false, reason: 'unreachable', detail: 'http://127.0.0.1:9/ unreachable: ECONNREFUSED' },
    ]);
    const h = new Harness([pb], 'enforce', leases);
    await h.cycles(high(8));
    assert.deepEqual(h.decisions(), ['lease_denied:fleet_cap']);
    assert.equal(existsSync(marker), false, 'refused: nothing ran');
    assert.match(h.events[0]!.detail, /not run: the aggregator refused a lease/);
    await h.cycles(high(6));
    assert.deepEqual(h.decisions(), ['lease_denied:fleet_cap', 'lease_unanswered:unreachable']);
    assert.equal(existsSync(marker), false, 'no answer: nothing ran');
    assert.match(h.events[1]!.detail, /no lease without an answer from the aggregator/);
    await h.cycles(high(6));
    assert.equal(h.decisions()[2], 'executed', 'granted at the third try, a minute after each refusal');
    assert.equal(leases.acquired, 3);
    assert.equal(lines(marker).length, 1);
  });

  it('a command that cannot start is audited as failed and its lease released', async () => {
    const { playbook: pb } = playbook();
    const missing: Playbook = { ...pb, run: [join(dir, 'no-such-program')] };
    const h = new Harness([missing], 'enforce');
    await h.cycles(high(3));
    assert.deepEqual(h.decisions(), ['failed:spawn_error']);
    assert.match(h.events[0]!.detail, /could not start/);
    assert.deepEqual(h.leases.released, ['lease-1']);
  });

  it('a restart keeps cooldowns and caps: the history file carries the past actions', async () => {
    const file = new ActionHistoryFile(join(dir, 'history', 'web-01.json'), log);
    const { playbook: pb, marker } = playbook();
    const first = new Harness([pb], 'enforce', new FakeLeases(), file);
    await first.cycles(high(3));
    await first.engine.stop();
    assert.deepEqual(first.decisions(), ['executed']);
    const saved = JSON.parse(readFileSync(file.path, 'utf8')) as { playbooks: Record<string, unknown> };
    assert.deepEqual(saved.playbooks['clean-var'], { last: T0 + 2 * STEP, recent: [T0 + 2 * STEP] });

    const second = new Harness([pb], 'enforce', new FakeLeases(), file);
    second.t = first.t;
    await second.cycles(high(3));
    assert.deepEqual(second.decisions(), ['skipped:cooldown'], 'the restarted agent does not run it again');
    assert.equal(lines(marker).length, 1);

    writeFileSync(file.path, '{"version":1,"playbooks":{"clean-var":{"recent":"garbage"}}}');
    assert.deepEqual(file.load(), new Map(), 'a damaged file is read as no history');
  });

  it('stop kills a running command and audits it before returning', async () => {
    const { playbook: pb } = playbook({ run: ['/bin/sh', '-c', 'sleep 60'], timeout: '5m' });
    const h = new Harness([pb], 'enforce');
    h.engine.observe([], h.t);
    for (let i = 0; i < 3; i++)
      h.engine.observe([{ resource: 'filesystem:%2Fvar', probability: 0.9 }], (h.t += STEP));
    // Give the command a moment to start, then stop the engine.
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await h.engine.stop();
    assert.ok(Date.now() - started < 4000, 'SIGTERM ends sleep at once');
    assert.deepEqual(h.decisions(), ['executed']);
    assert.equal(h.events[0]!.exitCode, null);
    assert.equal(h.events[0]!.signal, 'SIGTERM');
    assert.match(h.events[0]!.detail, /the agent stopped/);
    await h.engine.stop(); // twice is fine
  });
});
