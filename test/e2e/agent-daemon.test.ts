/**
 * The agent as a daemon, with real processes: SIGHUP reloads (applied
 * without losing or reusing a sequence number, refused when invalid, safe
 * against quick repeats and a SIGTERM in the middle), the local /healthz
 * and /metrics endpoint (checked by promtool), and the deploy files (the
 * systemd unit through systemd-analyze, the install script into a temp root).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { AgentConfigSchema } from '../../agent/config.js';
import { CliProcess, startAggregatorProcess, type AggregatorPorts } from '../helpers/cli-process.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { writeTestModel } from '../helpers/forecast-models.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';
import { PROMTOOL, PROMTOOL_PATH, requireTool, SYSTEMD_TOOLS } from '../helpers/require-tool.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const UNIT_FILE = join(REPO, 'deploy/systemd/cloudsense-agent.service');
const INSTALL_SCRIPT = join(REPO, 'deploy/install-agent.sh');

const dirs: string[] = [];
function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cloudsense-daemon-${name}-`));
  dirs.push(dir);
  return dir;
}
after(() => {
  CliProcess.killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Health {
  status: string;
  problems: string[];
  hostId: string;
  intervalSeconds: number;
  broker: { connected: boolean };
  queue: { lastSeq: number; confirmedSeq: number };
  models: Record<string, { source: string; runId: string }>;
}

/** An agent configuration file: what the tests change between reloads. */
function agentYaml(o: {
  hostId: string;
  interval: number;
  raiseAfter?: number;
  modelsDir?: string;
  httpPort?: number;
}): string {
  return [
    'agent:',
    `  hostId: ${o.hostId}`,
    `  intervalSeconds: ${o.interval}`,
    `  alerts: { raiseAfter: ${o.raiseAfter ?? 2} }`,
    ...(o.modelsDir ? [`  models: { dir: ${JSON.stringify(o.modelsDir)}, updates: false }`] : []),
    ...(o.httpPort ? [`  http: { enabled: true, port: ${o.httpPort} }`] : []),
    '',
  ].join('\n');
}

function startAgent(configFile: string, dataDir: string, mqttPort: number): CliProcess {
  return CliProcess.start([
    'agent',
    '--config',
    configFile,
    '--mqtt-port',
    String(mqttPort),
    '--data-dir',
    dataDir,
    '--log-format',
    'json',
  ]);
}

/** Every JSON log line whose message is `msg`, parsed. */
function logLines(proc: CliProcess, msg: string): Array<Record<string, unknown>> {
  return proc.lines
    .filter((l) => l.startsWith('{') && l.includes(`"msg":${JSON.stringify(msg)}`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Waits until `msg` has been logged `count` times; returns the last of them. */
async function logged(
  proc: CliProcess,
  msg: string,
  count = 1,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  return waitFor(
    `${count}× "${msg}"`,
    () => {
      if (proc.child.exitCode !== null) throw new Error(`exited:\n${proc.output}`);
      const lines = logLines(proc, msg);
      return lines.length >= count ? lines[count - 1] : undefined;
    },
    timeoutMs,
    50,
  );
}

/** The aggregator's live view of a host's newest sequence number (null before the first). */
async function liveSeq(ports: AggregatorPorts, hostId: string): Promise<number | null> {
  const res = await fetch(`http://127.0.0.1:${ports.http}/api/v1/hosts/${hostId}`);
  if (res.status === 404) return null;
  return ((await res.json()) as { lastSeq: number | null }).lastSeq;
}

async function waitForSeq(
  ports: AggregatorPorts,
  hostId: string,
  atLeast: number,
  timeoutMs = 40_000,
): Promise<number> {
  return waitFor(
    `${hostId} to reach seq ${atLeast}`,
    async () => {
      const seq = await liveSeq(ports, hostId);
      return seq !== null && seq >= atLeast ? seq : undefined;
    },
    timeoutMs,
  );
}

/**
 * Reads the store after the aggregator exited and checks that it holds
 * every message 1..lastSeq of the host exactly once (as in
 * store-and-forward.test.ts).
 */
async function assertStoredExactlyOnce(dataDir: string, hostId: string, lastSeq: number): Promise<void> {
  const rows = (await queryClosedStore(
    dataDir,
    `SELECT seq::DOUBLE, count(*)::DOUBLE, count(DISTINCT row_key)::DOUBLE, count(DISTINCT kind)::DOUBLE FROM (
       SELECT seq, 'telemetry' AS kind, metric || attributes AS row_key FROM samples WHERE host_id = $host
       UNION ALL SELECT seq, 'predictions', resource FROM predictions WHERE host_id = $host
       UNION ALL SELECT seq, 'events', 'event' FROM events WHERE host_id = $host)
     GROUP BY seq ORDER BY seq`,
    { host: hostId },
  )) as Array<[number, number, number, number]>;
  const seqs = new Set(rows.map(([seq]) => seq));
  const missing = Array.from({ length: lastSeq }, (_, i) => i + 1).filter((s) => !seqs.has(s));
  assert.deepEqual(missing, [], 'every sequence number is stored');
  assert.deepEqual(
    [...seqs].filter((s) => s < 1 || s > lastSeq),
    [],
    'nothing beyond what the agent numbered',
  );
  const doubled = rows
    .filter(([, points, distinct, kinds]) => points !== distinct || kinds !== 1)
    .map(([seq]) => seq);
  assert.deepEqual(doubled, [], 'no message is stored twice');
}

/**
 * The TCP ports a process listens on: its socket inodes (/proc/PID/fd)
 * matched against the kernel's listening sockets (/proc/net/tcp{,6}, state 0A).
 */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

describe('agent daemon', { concurrency: true }, () => {
  it(
    'SIGHUP applies a changed configuration in-process: numbering continues and every message is stored once',
    { timeout: 180_000 },
    async (t) => {
      const hostId = 'daemon-reload';
      const storeDir = tempDir('aggregator');
      const agentDir = tempDir('agent');
      const modelsDir = join(tempDir('models'), 'models');
      writeTestModel(modelsDir, 'memory');
      writeTestModel(modelsDir, 'cpu');
      const ports = { http: await freePort(), mqtt: await freePort() };
      const httpPort = await freePort();
      const configFile = join(agentDir, 'agent.yaml');
      writeFileSync(configFile, agentYaml({ hostId, interval: 1, modelsDir, httpPort }));
      const aggregator = await startAggregatorProcess({ dataDir: storeDir, ports: ports });
      const agent = startAgent(configFile, agentDir, ports.mqtt);
      const endpoint = `http://127.0.0.1:${httpPort}`;

      await waitForSeq(ports, hostId, 4);
      const before = await waitFor('a healthy agent', async () => {
        const h = await getJson<Health>(`${endpoint}/healthz`);
        return h.status === 'ok' ? h : undefined;
      });
      assert.equal(before.intervalSeconds, 1);
      assert.equal(before.hostId, hostId);
      assert.equal(before.broker.connected, true);
      assert.deepEqual(Object.keys(before.models).sort(), ['cpu', 'memory']);
      assert.deepEqual(
        listeningPorts(agent.child.pid!),
        [httpPort],
        'the agent listens on its endpoint only',
      );

      const metrics = await (await fetch(`${endpoint}/metrics`)).text();
      assert.match(metrics, /^cloudsense_agent_cycles_total\{outcome="ok"\} [1-9]\d*$/m);
      assert.match(metrics, /^cloudsense_agent_broker_connected 1$/m);
      assert.match(metrics, /^cloudsense_agent_exhaustion_probability\{resource="memory"\} 0\.\d+$/m);
      assert.match(metrics, /^cloudsense_agent_model_info\{key="cpu",source="bundled",.*\} 1$/m);
      if (await requireTool(t, PROMTOOL)) {
        const check = spawnSync(PROMTOOL_PATH, ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
        // Exit 1 is a parse error; 3 is lint findings, which must all be prom-client's own
        // Node.js gauges named *_total (nodejs_active_handles_total, …), none of ours.
        assert.ok(check.status === 0 || check.status === 3, `promtool: ${check.status} ${check.stderr}`);
        const findings = `${check.stdout}${check.stderr}`.split('\n').filter((l) => l.trim() !== '');
        assert.deepEqual(
          findings.filter(
            (l) => !/^nodejs_\w+_total non-counter metrics should not have "_total" suffix$/.test(l),
          ),
          [],
          'promtool finds nothing wrong with the agent metrics',
        );
      }

      // The reload: a new interval and a new alert level from the file.
      writeFileSync(configFile, agentYaml({ hostId, interval: 2, raiseAfter: 3, modelsDir, httpPort }));
      agent.child.kill('SIGHUP');
      const reloaded = await logged(agent, 'configuration reloaded');
      assert.deepEqual(reloaded.changed, ['agent.alerts.raiseAfter', 'agent.intervalSeconds']);
      const firstStop = (await logged(agent, 'agent stopped')).lastSeq as number;
      const reopened = await logged(agent, 'telemetry queue opened', 2);
      assert.equal(reopened.nextSeq, firstStop + 1, 'the new pipeline numbers on from the old one');
      assert.equal(reopened.corrupt, 0);
      assert.equal((await logged(agent, 'agent started', 2)).intervalSeconds, 2);
      const afterReload = await waitFor('the endpoint of the new pipeline', async () => {
        const h = await getJson<Health>(`${endpoint}/healthz`);
        return h.intervalSeconds === 2 ? h : undefined;
      });
      assert.ok(afterReload.queue.lastSeq >= firstStop);
      await waitForSeq(ports, hostId, firstStop + 4);

      // The aggregator does not reload, but SIGHUP no longer kills it.
      aggregator.child.kill('SIGHUP');
      await aggregator.waitForLine(/SIGHUP ignored/);
      assert.equal(aggregator.child.exitCode, null);

      assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
      const stopped = logLines(agent, 'agent stopped').at(-1)!;
      const lastSeq = stopped.lastSeq as number;
      assert.equal(stopped.confirmedSeq, lastSeq, 'the aggregator confirmed everything before the stop');
      assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);
      await assertStoredExactlyOnce(storeDir, hostId, lastSeq);
    },
  );

  it(
    'SIGHUP with a broken configuration logs the problem and keeps running; quick SIGHUPs and a SIGTERM mid-reload stay clean',
    { timeout: 180_000 },
    async () => {
      const hostId = 'daemon-broken';
      const agentDir = tempDir('agent');
      const httpPort = await freePort();
      const configFile = join(agentDir, 'agent.yaml');
      writeFileSync(configFile, agentYaml({ hostId, interval: 1, httpPort }));
      // No broker listens on this port: the agent queues and keeps trying, as on a real outage.
      const agent = startAgent(configFile, agentDir, await freePort());
      const endpoint = `http://127.0.0.1:${httpPort}`;
      await logged(agent, 'agent started');

      writeFileSync(configFile, 'agent:\n  hostId: [unclosed\n');
      agent.child.kill('SIGHUP');
      const syntax = await logged(agent, 'configuration not reloaded, still running on the previous one', 1);
      assert.match(JSON.stringify(syntax), /YAML syntax error/);

      writeFileSync(configFile, agentYaml({ hostId, interval: 0, httpPort }));
      agent.child.kill('SIGHUP');
      const invalid = await logged(agent, 'configuration not reloaded, still running on the previous one', 2);
      assert.deepEqual(
        (invalid.problems as Array<{ path: string }>).map((p) => p.path),
        ['agent.intervalSeconds'],
      );

      // Still running on the old configuration, and still numbering.
      const h1 = await getJson<Health>(`${endpoint}/healthz`);
      assert.equal(h1.intervalSeconds, 1);
      assert.deepEqual(h1.problems, ['broker_disconnected'], 'degraded only by the missing broker');
      await waitFor('more messages queued', async () => {
        const h = await getJson<Health>(`${endpoint}/healthz`);
        return h.queue.lastSeq >= h1.queue.lastSeq + 2 ? true : undefined;
      });
      assert.equal(logLines(agent, 'agent stopped').length, 0, 'no restart happened');

      // Three SIGHUPs back to back: reloads run one at a time, the last file wins.
      writeFileSync(configFile, agentYaml({ hostId, interval: 2, httpPort }));
      agent.child.kill('SIGHUP');
      agent.child.kill('SIGHUP');
      agent.child.kill('SIGHUP');
      await logged(agent, 'configuration reloaded');
      await waitFor('the reloaded endpoint', async () => {
        const h = await getJson<Health>(`${endpoint}/healthz`);
        return h.intervalSeconds === 2 ? h : undefined;
      });
      assert.deepEqual(
        logLines(agent, 'start failed'),
        [],
        'no two pipelines raced for the queue or the port',
      );

      // A new configuration that cannot start (its port is taken): back on the previous one.
      const busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const busyPort = (busy.address() as AddressInfo).port;
      try {
        const startsBefore = logLines(agent, 'agent started').length;
        writeFileSync(configFile, agentYaml({ hostId, interval: 1, httpPort: busyPort }));
        agent.child.kill('SIGHUP');
        await logged(agent, 'starting with the new configuration failed; going back to the previous one');
        const back = await logged(agent, 'agent started', startsBefore + 1);
        assert.match(JSON.stringify(logLines(agent, 'start failed')), /the port is in use/);
        assert.equal(back.intervalSeconds, 2, 'the previous configuration runs again');
        assert.equal((await getJson<Health>(`${endpoint}/healthz`)).intervalSeconds, 2);
      } finally {
        busy.close();
      }

      // SIGTERM while a reload is stopping the old pipeline: a clean exit, the queue released.
      writeFileSync(configFile, agentYaml({ hostId, interval: 3, httpPort }));
      agent.child.kill('SIGHUP');
      await logged(agent, 'configuration changed; restarting with it', 3);
      const exit = await agent.stop('SIGTERM');
      assert.equal(exit.code, 0, agent.output);
      const lastSeq = logLines(agent, 'agent stopped').at(-1)!.lastSeq as number;

      const again = startAgent(configFile, agentDir, await freePort());
      const opened = await logged(again, 'telemetry queue opened');
      assert.equal(opened.nextSeq, lastSeq + 1, 'the next run numbers on');
      assert.equal(opened.corrupt, 0);
      await logged(again, 'agent started');
      assert.equal((await again.stop('SIGTERM')).code, 0, again.output);
    },
  );

  it(
    'listens on no port when agent.http is off, and survives a SIGHUP during start-up',
    { timeout: 60_000 },
    async () => {
      const agentDir = tempDir('agent');
      const configFile = join(agentDir, 'agent.yaml');
      writeFileSync(configFile, agentYaml({ hostId: 'daemon-quiet', interval: 1 }));
      const agent = startAgent(configFile, agentDir, await freePort());
      // A SIGHUP while it starts (systemctl reload right after start) is held, not fatal.
      await logged(agent, 'telemetry queue opened');
      agent.child.kill('SIGHUP');
      await logged(agent, 'agent started');
      await logged(agent, 'configuration reloaded: nothing changed');
      assert.deepEqual(listeningPorts(agent.child.pid!), []);
      assert.doesNotMatch(agent.output, /local endpoint listening/);
      assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
    },
  );

  it(
    'stops cleanly on a SIGTERM during start-up, after the start completes',
    { timeout: 60_000 },
    async () => {
      const agentDir = tempDir('agent');
      const configFile = join(agentDir, 'agent.yaml');
      writeFileSync(configFile, agentYaml({ hostId: 'daemon-early', interval: 1 }));
      const agent = startAgent(configFile, agentDir, await freePort());
      // Inside the start (systemctl stop right after start): held, then the clean stop runs.
      await logged(agent, 'telemetry queue opened');
      agent.child.kill('SIGTERM');
      const exit = await agent.exited;
      await agent.closed;
      assert.equal(exit.code, 0, agent.output);
      assert.equal(logLines(agent, 'agent stopped').length, 1, agent.output);
    },
  );

  it(
    'refuses a non-loopback agent.http.host, saying why and how to allow it',
    { timeout: 60_000 },
    async () => {
      const agent = CliProcess.start(
        ['agent', '--host-id', 'daemon-remote', '--data-dir', tempDir('agent')],
        {
          CLOUDSENSE_AGENT__HTTP__ENABLED: 'true',
          CLOUDSENSE_AGENT__HTTP__HOST: '0.0.0.0',
        },
      );
      const exit = await agent.exited;
      await agent.closed;
      assert.equal(exit.code, 2, agent.output);
      assert.match(
        agent.output,
        /agent\.http\.host: 0\.0\.0\.0 is not a loopback address: .*no authentication.*allowRemote: true.*\(from environment variable CLOUDSENSE_AGENT__HTTP__HOST\)/,
      );
    },
  );
});

describe('deploy files', () => {
  it('the systemd unit passes systemd-analyze verify without a warning, at a low exposure', async (t) => {
    if (!(await requireTool(t, SYSTEMD_TOOLS))) return;
    // verify checks that ExecStart's program exists; /usr/local/bin/cloudsense-agent is not
    // installed on a test machine, so the copy verified points at a stand-in, all else as shipped.
    const dir = tempDir('unit');
    const standIn = join(dir, 'cloudsense-agent');
    writeFileSync(standIn, '#!/bin/sh\nexit 0\n');
    chmodSync(standIn, 0o755);
    const shipped = readFileSync(UNIT_FILE, 'utf8');
    assert.match(shipped, /^ExecStart=\/usr\/local\/bin\/cloudsense-agent /m);
    const unit = join(dir, 'cloudsense-agent.service');
    writeFileSync(
      unit,
      shipped.replace(/^ExecStart=\/usr\/local\/bin\/cloudsense-agent /m, `ExecStart=${standIn} `),
    );
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', 'no unknown key, bad value or other warning');

    const security = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT_FILE], {
      encoding: 'utf8',
    });
    const level = /Overall exposure level for cloudsense-agent\.service: (\d+\.\d+)/.exec(security.stdout);
    assert.ok(level, security.stdout + security.stderr);
    assert.ok(Number(level[1]) <= 2.5, `exposure ${level[1]} (0 is best, 10 worst)`);
    // Settings that would hide the host's data from the collector, or break V8, stay off.
    for (const off of [
      /^ProcSubset=/m,
      /^MemoryDenyWriteExecute=/m,
      /^ProtectHome=yes/m,
      /^PrivateNetwork=/m,
    ]) {
      assert.doesNotMatch(shipped, off);
    }
  });

  it('install-agent.sh installs into a temp root, a second run changes nothing, the config is never overwritten; uninstall', async (t) => {
    if (!(await requireTool(t, SYSTEMD_TOOLS))) return;
    assert.equal(spawnSync('bash', ['-n', INSTALL_SCRIPT]).status, 0, 'bash -n');
    const root = tempDir('root');
    const binary = join(tempDir('bin'), 'cloudsense-agent-linux-x64');
    writeFileSync(binary, '#!/bin/sh\necho cloudsense-agent 0.1.0\n');
    chmodSync(binary, 0o755);
    const run = (...args: string[]) => {
      const r = spawnSync('bash', [INSTALL_SCRIPT, '--root', root, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${args.join(' ')}:\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };

    const first = run('--binary', binary, '--broker', 'mqtt://aggregator.example:1883');
    assert.match(first, /installed .*\/usr\/local\/bin\/cloudsense-agent/);
    assert.match(first, /created user cloudsense/);
    assert.match(
      first,
      /wrote .*\/etc\/cloudsense\/agent\.yaml \(broker mqtt:\/\/aggregator\.example:1883\)/,
    );
    assert.equal(
      readFileSync(join(root, 'usr/local/bin/cloudsense-agent'), 'utf8'),
      readFileSync(binary, 'utf8'),
    );
    assert.equal(
      readFileSync(join(root, 'etc/systemd/system/cloudsense-agent.service'), 'utf8'),
      readFileSync(UNIT_FILE, 'utf8'),
    );
    assert.match(
      readFileSync(join(root, 'etc/passwd'), 'utf8'),
      /^cloudsense:x:\d+:\d+:.*:\/var\/lib\/cloudsense:/m,
    );
    const configPath = join(root, 'etc/cloudsense/agent.yaml');
    const written = readFileSync(configPath, 'utf8');
    const parsed = AgentConfigSchema.parse(parseYaml(written));
    assert.equal(parsed.agent.brokerUrl, 'mqtt://aggregator.example:1883');
    assert.equal(parsed.agent.http.enabled, false, 'the local endpoint stays off until asked for');

    // An operator's edit survives a re-run, and nothing else is rewritten.
    writeFileSync(configPath, `${written}# edited by the operator\n`);
    const second = run('--binary', binary, '--broker', 'mqtt://other:1883');
    assert.doesNotMatch(second, /installed|wrote|created/);
    assert.match(second, /unchanged .*cloudsense-agent\b/);
    assert.match(second, /kept .*agent\.yaml \(an existing configuration is never overwritten\)/);
    assert.match(readFileSync(configPath, 'utf8'), /# edited by the operator\n$/);
    assert.equal(
      readFileSync(join(root, 'etc/passwd'), 'utf8').match(/^cloudsense:/gm)?.length,
      1,
      'one user, not two',
    );

    const removed = run('--uninstall');
    assert.match(removed, /removed .*cloudsense-agent\.service/);
    assert.match(removed, /kept .*etc\/cloudsense/);
    assert.match(readFileSync(configPath, 'utf8'), /# edited by the operator/, 'uninstall keeps the config');
    run('--uninstall', '--purge');
    assert.throws(() => readFileSync(configPath), /ENOENT/);
    assert.doesNotMatch(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^cloudsense:/m);
  });
});
