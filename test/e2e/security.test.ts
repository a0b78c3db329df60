/**
 * Security end to end, with real processes and plain MQTT and HTTP clients:
 * an aggregator with `aggregator.security.auth: required`, tokens and
 * enrolment tokens made by the CLI while it runs, agents enrolled over the
 * REST API and by `cloudsense agent --enroll`, the broker's ACLs (another
 * host's topics, the model topics), `cloudsense model publish` with an
 * admin token, REST roles, body and rate limits, the live stream's
 * handshake, a packet over the agent's size limit, TLS for MQTT and HTTP
 * with a certificate made by openssl, and anonymous clients refused on a
 * non-loopback address with the default configuration.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { CliProcess, runCli } from '../helpers/cli-process.js';
import { telemetryJson } from '../helpers/wire-messages.js';
import { freePort, waitFor } from '../helpers/net.js';
import { commandSucceeds, requireTool, type SystemTool } from '../helpers/require-tool.js';
import { forecastBytes } from '../helpers/signed-models.js';

const OPENSSL: SystemTool = {
  name: 'openssl',
  install: 'install Debian openssl (apt-get install openssl)',
  probe: () => commandSucceeds('openssl', ['version']),
};

const root = mkdtempSync(join(tmpdir(), 'cloudsense-security-e2e-'));
const dataDir = join(root, 'aggregator');
let aggregator: CliProcess;
let base = '';
let mqttUrl = '';
const tokens = { read: '', operate: '', admin: '' };

after(() => {
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

async function connect(options: IClientOptions, url = mqttUrl): Promise<MqttClient> {
  const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 15_000, ...options });
  // A connection the broker cuts may end in ECONNRESET; the tests watch for `close`.
  client.on('error', () => undefined);
  return client;
}

/** Resolves when the connection closes (`events.once` would reject on the ECONNRESET that may come first). */
function closedEvent(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

/** The CONNACK return code of a refused connection (4 bad credentials, 5 not authorised, 2 bad client id). */
async function refusalCode(options: IClientOptions, url = mqttUrl): Promise<number> {
  try {
    const client = await connect(options, url);
    await client.endAsync();
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
  assert.fail('the broker accepted the connection');
}

async function api(
  path: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined
      ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
      : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** A client that logs in with an API token and records every message it sees. */
async function observer(token: string, filters: string[]): Promise<{ client: MqttClient; seen: string[] }> {
  const client = await connect({ clientId: `observer-${Math.random()}`, username: 'token', password: token });
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString().slice(0, 200)}`));
  const granted = await client.subscribeAsync(filters, { qos: 1 });
  assert.ok(
    granted.every((g) => g.qos === 1),
    JSON.stringify(granted),
  );
  return { client, seen };
}

before(async () => {
  for (const role of ['read', 'operate', 'admin'] as const) {
    tokens[role] = await runCli(['tokens', 'create', '--role', role, '--data-dir', dataDir]);
    assert.match(tokens[role], /^csa\.[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/);
  }
  assert.equal(statSync(join(dataDir, 'credentials.json')).mode & 0o777, 0o600);
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  aggregator = CliProcess.start(
    ['aggregator', '--http-port', String(httpPort), '--mqtt-port', String(mqttPort), '--log-format', 'json'],
    { CLOUDSENSE_DATA_DIR: dataDir, CLOUDSENSE_AGGREGATOR__SECURITY__AUTH: 'required' },
  );
  await aggregator.waitForLine(/aggregator ready/);
  base = `http://127.0.0.1:${httpPort}`;
  mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
});

describe('broker authentication and ACLs', () => {
  let agentPassword = '';

  it('refuses anonymous clients and wrong passwords', async () => {
    assert.equal(await refusalCode({ clientId: 'anon' }), 5);
    assert.equal(
      await refusalCode({ clientId: 'cloudsense-agent-web-01', username: 'host:web-01', password: 'guess' }),
      4,
    );
    assert.equal(await refusalCode({ clientId: 'x', username: 'token', password: `${tokens.admin}x` }), 4);
  });

  it('enrols an agent once with a one-time token made by the CLI while the aggregator runs', async () => {
    const enrolment = await runCli(['enroll', 'token', 'create', '--host', 'sec-a', '--data-dir', dataDir]);
    assert.match(enrolment, /^cse\./);
    const wrongHost = await api('/api/v1/enroll', {
      method: 'POST',
      body: { token: enrolment, hostId: 'sec-z' },
    });
    assert.equal(wrongHost.status, 403);
    const first = await api('/api/v1/enroll', {
      method: 'POST',
      body: { token: enrolment, hostId: 'sec-a' },
    });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const issued = first.json as { username: string; password: string };
    assert.equal(issued.username, 'host:sec-a');
    agentPassword = issued.password;
    const second = await api('/api/v1/enroll', {
      method: 'POST',
      body: { token: enrolment, hostId: 'sec-a' },
    });
    assert.equal(second.status, 401, 'a spent enrolment token is refused');
    const bogus = await api('/api/v1/enroll', {
      method: 'POST',
      body: { token: 'cse.nope', hostId: 'sec-a' },
    });
    assert.equal(bogus.status, 401);
  });

  it('refuses an agent under another client id than its own', async () => {
    assert.equal(
      await refusalCode({
        clientId: 'cloudsense-agent-sec-b',
        username: 'host:sec-a',
        password: agentPassword,
      }),
      2,
    );
  });

  it('keeps the agent to its own host topics and off the model topics', { timeout: 60_000 }, async () => {
    const watch = await observer(tokens.read, ['cloudsense/v1/hosts/+/telemetry', 'cloudsense/v1/models/#']);
    const login = { clientId: 'cloudsense-agent-sec-a', username: 'host:sec-a', password: agentPassword };
    const agent = await connect(login);
    await agent.publishAsync('cloudsense/v1/hosts/sec-a/telemetry', telemetryJson('sec-a', 1), { qos: 1 });
    await waitFor('the agent’s own telemetry', () =>
      watch.seen.some((m) => m.startsWith('cloudsense/v1/hosts/sec-a/telemetry')) ? true : undefined,
    );

    // Under another host's id: the broker closes the connection, nobody receives it.
    const closed = closedEvent(agent);
    agent.publish('cloudsense/v1/hosts/victim-1/telemetry', telemetryJson('victim-1', 1), { qos: 1 });
    await closed;
    agent.end(true);

    // On a model topic: the same.
    const again = await connect(login);
    const closedAgain = closedEvent(again);
    again.publish('cloudsense/v1/models/cpu', Buffer.from('{"not":"a model"}'), { qos: 1, retain: true });
    await closedAgain;
    again.end(true);

    // Subscriptions beyond its own: refused in the SUBACK (0x80), the connection stays.
    const third = await connect(login);
    // mqtt.js reports a SUBACK with a refusal as an error carrying the packet.
    const granted = await third
      .subscribeAsync(
        ['cloudsense/v1/hosts/+/telemetry', 'cloudsense/v1/models/+', 'cloudsense/v1/hosts/sec-a/ack'],
        { qos: 1 },
      )
      .then(
        (grants) => grants.map((g) => g.qos),
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
      );
    assert.deepEqual(granted, [128, 1, 1]);
    await third.publishAsync('cloudsense/v1/hosts/sec-a/telemetry', telemetryJson('sec-a', 2), { qos: 1 });
    await waitFor('the second telemetry', () =>
      watch.seen.some((m) => m.includes('"seq":2')) ? true : undefined,
    );
    await third.endAsync();

    assert.equal(watch.seen.filter((m) => m.includes('victim-1')).length, 0, watch.seen.join('\n'));
    assert.equal(watch.seen.filter((m) => m.startsWith('cloudsense/v1/models/')).length, 0);
    await watch.client.endAsync();
    const victim = await api('/api/v1/hosts/victim-1', { token: tokens.read });
    assert.equal(victim.status, 404, 'the spoofed telemetry never reached the store');
    assert.equal((await api('/api/v1/hosts/sec-a', { token: tokens.read })).status, 200);
    await aggregator.waitForLine(/MQTT publish denied/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const sample = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
    assert.equal(sample('cloudsense_mqtt_publishes_denied_total'), 2, 'both refused publishes are counted');
    assert.equal(sample('cloudsense_mqtt_subscriptions_denied_total'), 1);
    assert.ok(sample('cloudsense_mqtt_logins_refused_total') >= 4);
  });

  it(
    'cuts an agent that sends a packet over its size limit, and keeps serving',
    { timeout: 60_000 },
    async () => {
      const agent = await connect({
        clientId: 'cloudsense-agent-sec-a',
        username: 'host:sec-a',
        password: agentPassword,
      });
      const closed = closedEvent(agent);
      agent.publish('cloudsense/v1/hosts/sec-a/telemetry', Buffer.alloc(1024 * 1024, 0x20), { qos: 1 });
      await closed;
      agent.end(true);
      await aggregator.waitForLine(/MQTT packet over the size limit/);
      const back = await connect({
        clientId: 'cloudsense-agent-sec-a',
        username: 'host:sec-a',
        password: agentPassword,
      });
      await back.publishAsync('cloudsense/v1/hosts/sec-a/telemetry', telemetryJson('sec-a', 3), { qos: 1 });
      await back.endAsync();
    },
  );

  it(
    'lets `cloudsense model publish` publish models with an admin token, and only with one',
    { timeout: 60_000 },
    async () => {
      const keys = join(root, 'keys');
      await runCli(['keys', 'generate', '--out', keys]);
      const modelFile = join(root, 'cpu.onnx');
      writeFileSync(modelFile, forecastBytes('cpu'));
      const watch = await observer(tokens.read, ['cloudsense/v1/models/#']);
      const args = [
        'model',
        'publish',
        '--kind',
        'cpu',
        '--model',
        modelFile,
        '--key',
        join(keys, 'model-signing.key'),
      ];
      const refused = CliProcess.start([...args, '--model-version', 'v1', '--broker', mqttUrl]);
      assert.equal((await refused.exited).code, 1, refused.output);
      await refused.closed;
      assert.match(refused.output, /Not authorized|not authorized/i);
      const asOperator = CliProcess.start([
        ...args,
        '--model-version',
        'v1',
        '--broker',
        mqttUrl,
        '--token',
        tokens.operate,
      ]);
      assert.equal((await asOperator.exited).code, 2, 'a read/operate token may not publish');
      await asOperator.closed;
      assert.match(asOperator.output, /may not publish/);
      await runCli([...args, '--model-version', 'v2', '--broker', mqttUrl, '--token', tokens.admin]);
      await waitFor('the published model', () =>
        watch.seen.some((m) => m.startsWith('cloudsense/v1/models/cpu') && m.includes('"v2"'))
          ? true
          : undefined,
      );
      await watch.client.endAsync();
    },
  );
});

describe('REST roles and limits', () => {
  it('asks GET for a read token and writes for an operate token; /healthz and local /metrics stay open', async () => {
    assert.equal((await api('/healthz')).status, 200);
    assert.equal((await api('/metrics')).status, 200, 'scrapes from loopback need no token');
    const anonymous = await api('/api/v1/hosts');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await api('/api/v1/hosts', { token: 'csa.000000000000.bad-token-bad-token' })).status, 401);
    assert.equal((await api('/api/v1/hosts', { token: tokens.read })).status, 200);

    const write = { method: 'POST', body: { role: 'read' } } as const;
    // A write call the operate role passes: enrolment tokens and API tokens need admin, so use one that is
    // neither: any POST under /api/v1 is an operate call, and the route itself then answers (404 here).
    const path = '/api/v1/hosts/sec-a';
    assert.equal((await api(path, { method: 'POST', body: {} })).status, 401);
    assert.equal((await api(path, { method: 'POST', body: {}, token: tokens.read })).status, 403);
    const asOperator = await api(path, { method: 'POST', body: {}, token: tokens.operate });
    assert.ok(![401, 403].includes(asOperator.status), `operate token refused: ${asOperator.status}`);

    assert.equal((await api('/api/v1/tokens', { ...write, token: tokens.operate })).status, 403);
    const created = await api('/api/v1/tokens', { ...write, token: tokens.admin });
    assert.equal(created.status, 201);
    const fresh = (created.json as { token: string }).token;
    assert.equal(
      (await api('/api/v1/hosts', { token: fresh })).status,
      200,
      'a token made over the API works',
    );
  });

  it('refuses a request body over the limit with 413', async () => {
    const big = JSON.stringify({ role: 'read', name: 'x'.repeat(2 * 1024 * 1024) });
    const res = await api('/api/v1/tokens', { method: 'POST', body: big, token: tokens.admin });
    assert.equal(res.status, 413);
  });

  it('asks the live stream handshake for a read token', async () => {
    const wsBase = base.replace(/^http/, 'ws');
    const refused = new WebSocket(`${wsBase}/api/v1/stream`);
    const [err] = (await once(refused, 'error')) as [Error];
    assert.match(err.message, /401/);
    const ok = new WebSocket(`${wsBase}/api/v1/stream?access_token=${encodeURIComponent(tokens.read)}`);
    const [hello] = (await once(ok, 'message')) as [Buffer];
    assert.equal((JSON.parse(hello.toString()) as { type: string }).type, 'hello');
    ok.close();
  });
});

describe('an agent enrolled by `cloudsense agent --enroll`', () => {
  it('stores its credentials (mode 0600) and uses them', { timeout: 90_000 }, async () => {
    const agentDir = join(root, 'agent');
    const token = await runCli(['enroll', 'token', 'create', '--ttl', '10m', '--data-dir', dataDir]);
    const out = await runCli([
      'agent',
      '--enroll',
      token,
      '--aggregator',
      base,
      '--data-dir',
      agentDir,
      '--host-id',
      'sec-b',
    ]);
    assert.match(out, /enrolled as host:sec-b/);
    const file = join(agentDir, 'agent-credentials', 'sec-b.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { username: string }).username, 'host:sec-b');
    await runCli(
      ['agent', '--enroll', token, '--aggregator', base, '--data-dir', agentDir, '--host-id', 'sec-b'],
      2,
    );

    const agent = CliProcess.start([
      'agent',
      '--broker',
      mqttUrl,
      '--data-dir',
      agentDir,
      '--host-id',
      'sec-b',
      '--interval',
      '1',
      '--log-format',
      'json',
    ]);
    await waitFor(
      'host sec-b online through the API',
      async () => {
        const res = await api('/api/v1/hosts/sec-b', { token: tokens.read });
        return res.status === 200 && (res.json as { online?: boolean }).online ? true : undefined;
      },
      60_000,
    );
    await agent.stop();
  });
});

describe('rate limit and TLS', () => {
  it(
    'serves MQTT and HTTP over TLS, and answers a burst with 429 and Retry-After',
    { timeout: 90_000 },
    async (t) => {
      if (!(await requireTool(t, OPENSSL))) return;
      const tlsDir = join(root, 'tls');
      const cert = join(tlsDir, 'cert.pem');
      const key = join(tlsDir, 'key.pem');
      const made = spawnSync(
        'sh',
        [
          '-c',
          `mkdir -p ${tlsDir} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout ${key} -out ${cert}`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(made.status, 0, made.stderr);
      const ca = readFileSync(cert);
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const tlsData = join(root, 'tls-aggregator');
      const adminToken = await runCli(['tokens', 'create', '--role', 'admin', '--data-dir', tlsData]);
      const proc = CliProcess.start(
        [
          'aggregator',
          '--http-port',
          String(httpPort),
          '--mqtt-port',
          String(mqttPort),
          '--log-format',
          'json',
        ],
        {
          CLOUDSENSE_DATA_DIR: tlsData,
          CLOUDSENSE_AGGREGATOR__SECURITY__TLS__CERT: cert,
          CLOUDSENSE_AGGREGATOR__SECURITY__TLS__KEY: key,
          CLOUDSENSE_AGGREGATOR__SECURITY__HTTP__RATE_BURST: '5',
          CLOUDSENSE_AGGREGATOR__SECURITY__HTTP__RATE_PER_SECOND: '0.2',
        },
      );
      await proc.waitForLine(/aggregator ready/);
      assert.match(proc.output, new RegExp(`mqtts://127\\.0\\.0\\.1:${mqttPort}`));

      const client = await connect(
        { clientId: 'tls-client', username: 'token', password: adminToken, ca },
        `mqtts://127.0.0.1:${mqttPort}`,
      );
      await client.publishAsync('cloudsense/v1/models/cpu', Buffer.from(''), { qos: 1, retain: true });
      await client.endAsync();
      await assert.rejects(
        connect(
          { clientId: 'tls-untrusted', username: 'token', password: adminToken },
          `mqtts://127.0.0.1:${mqttPort}`,
        ),
        /self[- ]signed|certificate/i,
      );

      const statuses: Array<{ status: number; retryAfter: string | undefined }> = [];
      for (let i = 0; i < 7; i++) {
        statuses.push(
          await new Promise((resolve, reject) => {
            const req = httpsRequest(`https://127.0.0.1:${httpPort}/healthz`, { ca }, (res) => {
              res.resume();
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  retryAfter: res.headers['retry-after'] as string | undefined,
                }),
              );
            });
            req.on('error', reject);
            req.end();
          }),
        );
      }
      assert.deepEqual(
        statuses.slice(0, 5).map((s) => s.status),
        [200, 200, 200, 200, 200],
      );
      assert.equal(statuses[6]!.status, 429);
      assert.ok(Number(statuses[6]!.retryAfter) >= 1, JSON.stringify(statuses[6]));
      await proc.stop();
    },
  );
});

describe('secure by default beyond loopback', () => {
  it('refuses anonymous MQTT and REST clients on a non-loopback address', { timeout: 60_000 }, async (t) => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!address) {
      t.skip('no non-loopback IPv4 address here; test/unit/security-config.test.ts covers the decision');
      return;
    }
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const proc = CliProcess.start(
      [
        'aggregator',
        '--http-host',
        address,
        '--mqtt-host',
        address,
        '--http-port',
        String(httpPort),
        '--mqtt-port',
        String(mqttPort),
        '--log-format',
        'json',
      ],
      { CLOUDSENSE_DATA_DIR: join(root, 'beyond') },
    );
    await proc.waitForLine(/aggregator ready/);
    assert.match(proc.output, /"auth":"required"/);
    assert.match(proc.output, /cross the network in clear text/, 'without TLS, a warning');
    assert.equal(await refusalCode({ clientId: 'anon' }, `mqtt://${address}:${mqttPort}`), 5);
    const res = await fetch(`http://${address}:${httpPort}/api/v1/hosts`);
    assert.equal(res.status, 401);
    assert.equal(
      (await fetch(`http://${address}:${httpPort}/metrics`)).status,
      401,
      '/metrics beyond loopback needs a token',
    );
    await proc.stop();

    const open = CliProcess.start(
      ['aggregator', '--mqtt-host', address, '--http-port', '0', '--mqtt-port', '0'],
      { CLOUDSENSE_DATA_DIR: join(root, 'beyond'), CLOUDSENSE_AGGREGATOR__SECURITY__AUTH: 'open' },
    );
    assert.equal((await open.exited).code, 2, 'auth: open beyond loopback is refused without the override');
    await open.closed;
    assert.match(open.output, /aggregator\.security\.auth: open, but .* is beyond loopback/);
  });
});

describe('cloudsense up with authentication required', () => {
  it(
    'says so in its banner, and its local agent logs in with credentials issued for it',
    { timeout: 90_000 },
    async () => {
      const upDir = join(root, 'up');
      const read = await runCli(['tokens', 'create', '--role', 'read', '--data-dir', upDir]);
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const up = CliProcess.start(
        [
          'up',
          '--http-port',
          String(httpPort),
          '--mqtt-port',
          String(mqttPort),
          '--host-id',
          'sec-up',
          '--interval',
          '1',
          '--log-format',
          'json',
        ],
        { CLOUDSENSE_DATA_DIR: upDir, CLOUDSENSE_AGGREGATOR__SECURITY__AUTH: 'required' },
      );
      await up.waitForLine(/^ {2}Access {8}authentication required/, 60_000);
      await waitFor(
        'the local agent online',
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/hosts/sec-up`, {
            headers: { authorization: `Bearer ${read}` },
          });
          return res.ok && ((await res.json()) as { online?: boolean }).online ? true : undefined;
        },
        60_000,
      );
      assert.equal((await fetch(`http://127.0.0.1:${httpPort}/api/v1/hosts`)).status, 401);
      const listed = await runCli(['tokens', 'list', '--data-dir', upDir]);
      assert.match(listed, /operate +\S+ +cloudsense up: local agent/, 'a token for its remediation leases');
      assert.equal((await up.stop()).code, 0, up.output);
    },
  );
});
