/**
 * The aggregator's REST API and live stream end to end, with real processes:
 * a `cloudsense aggregator` and two `cloudsense agent`s scoring this host with
 * tiny test models whose outcome is known (memory always at risk, with a
 * time-to-exhaustion band of 10/30/90 min; CPU and filesystems never). Agent
 * api-a has a memory playbook in `recommend` mode, so its recommendation names
 * it. Every endpoint is called with real data; the aggregator checks each
 * response against its OpenAPI schema (a mismatch would be a 500).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { FEATURE_COUNT, FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { ForecastModel } from '../../shared/inference/forecast-model.js';
import { BUNDLED_MODELS_DIR, modelFilesIn } from '../../shared/inference/model-files.js';
import { CliProcess, startAggregatorProcess, runCli } from '../helpers/cli-process.js';
import { HIGH_PROBABILITY, writeTestModel } from '../helpers/forecast-models.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';

const A = 'api-a';
const B = 'api-b';
const root = mkdtempSync(join(tmpdir(), 'cloudsense-api-e2e-'));
const dataDir = join(root, 'aggregator');
const ports = { http: 0, mqtt: 0 };
let base = '';
let aggregator: CliProcess;
const agents: CliProcess[] = [];
const tokens = { read: '' };

interface Forecast {
  hostId: string;
  resource: string;
  probability: number;
  alert: boolean;
  ttBand?: { p10S: number; p50S: number; p90S: number };
}

async function call(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return {
    status: res.status,
    json: json as Record<string, unknown> & { error?: { code: string; path?: string } },
  };
}

function startAgent(hostId: string, models: string, remediation: boolean): CliProcess {
  const config = join(root, `${hostId}.yaml`);
  writeFileSync(
    config,
    stringify({
      agent: {
        hostId,
        intervalSeconds: 2,
        models: { dir: models },
        ...(remediation && {
          remediation: {
            mode: 'recommend',
            playbooks: [
              {
                name: 'free-memory',
                resource: 'memory',
                when: { probabilityAbove: 0.9, forCycles: 1 },
                run: ['/bin/true'],
                cooldown: '1h',
              },
            ],
          },
        }),
      },
    }),
  );
  return CliProcess.start([
    'agent',
    '--config',
    config,
    '--mqtt-port',
    String(ports.mqtt),
    '--data-dir',
    join(root, hostId),
    '--log-format',
    'json',
  ]);
}

before(async () => {
  const models = join(root, 'models');
  writeTestModel(models, 'cpu', { splitAt: 2 });
  writeTestModel(models, 'memory', { splitAt: -1, band: true });
  writeTestModel(models, 'filesystem', { splitAt: 2, band: true });
  ports.http = await freePort();
  ports.mqtt = await freePort();
  base = `http://127.0.0.1:${ports.http}`;
  aggregator = await startAggregatorProcess({
    dataDir,
    ports,
    env: {
      // Nothing trains behind the test's back; the API's own retrain call still queues one.
      CLOUDSENSE_AGGREGATOR__RETRAINING__ENABLED: 'false',
      CLOUDSENSE_AGGREGATOR__OFFLINE_AFTER_INTERVALS: '30',
    },
    readyTimeoutMs: 60_000,
  });
  tokens.read = await runCli(['tokens', 'create', '--role', 'read', '--data-dir', dataDir]);
  agents.push(startAgent(A, models, true), startAgent(B, models, false));
  await waitFor(
    'memory alerts of both hosts, a stored alert event and a remediation recommendation of api-a',
    async () => {
      const latest = await getJson<{ forecasts: Forecast[] }>(
        `${base}/api/v1/predictions/latest?resource=memory`,
      );
      const alerting = new Set(latest.forecasts.filter((f) => f.alert).map((f) => f.hostId));
      if (!alerting.has(A) || !alerting.has(B)) return undefined;
      const history = await getJson<{ history: { events: unknown[] } }>(
        `${base}/api/v1/alerts?state=all&host=${A}`,
      );
      const recommended = await getJson<{ events: unknown[] }>(
        `${base}/api/v1/remediation/audit?host=${A}&decision=recommended`,
      );
      return history.history.events.length > 0 && recommended.events.length > 0 ? true : undefined;
    },
    120_000,
    500,
  );
});

after(async () => {
  for (const agent of agents) await agent.stop('SIGTERM');
  await aggregator?.stop('SIGTERM');
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

describe('predictions', () => {
  it('serves a host’s stored predictions, filtered by resource', async () => {
    const res = await call(`/api/v1/hosts/${A}/predictions?resource=memory&limit=50`);
    assert.equal(res.status, 200);
    const predictions = res.json.predictions as Forecast[];
    assert.ok(predictions.length > 0);
    for (const p of predictions) {
      assert.equal(p.resource, 'memory');
      assert.ok(Math.abs(p.probability - HIGH_PROBABILITY) < 1e-5);
      assert.ok(p.ttBand && p.ttBand.p10S <= p.ttBand.p50S && p.ttBand.p50S <= p.ttBand.p90S);
    }
    assert.equal((await call('/api/v1/hosts/nobody/predictions')).status, 404);
    const bad = await call(`/api/v1/hosts/${A}/predictions?from=yesterday`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error?.path, 'from');
  });

  it('serves the latest forecast per host and resource, filtered by host and kind', async () => {
    const res = await call(`/api/v1/predictions/latest?host=${B}`);
    const forecasts = res.json.forecasts as Forecast[];
    assert.ok(forecasts.length >= 2);
    assert.ok(forecasts.every((f) => f.hostId === B));
    assert.ok(forecasts.some((f) => f.resource === 'cpu' && !f.alert));
    const filesystems = (await call('/api/v1/predictions/latest?resource=filesystem')).json
      .forecasts as Forecast[];
    assert.ok(filesystems.length > 0);
    assert.ok(filesystems.every((f) => f.resource.startsWith('filesystem:')));
  });
});

describe('POST /api/v1/predict', () => {
  let memory: ForecastModel;
  let cpu: ForecastModel;

  before(async () => {
    memory = await ForecastModel.load(modelFilesIn(BUNDLED_MODELS_DIR!, 'memory')!.model);
    cpu = await ForecastModel.load(modelFilesIn(BUNDLED_MODELS_DIR!, 'cpu')!.model);
  });
  after(async () => {
    await memory.release();
    await cpu.release();
  });

  /** A plausible row: utilisations and slopes in 0..1, some missing. */
  function row(seed: number): Array<number | null> {
    return Array.from({ length: FEATURE_COUNT }, (_, f) =>
      (seed * 31 + f * 7) % 13 === 0 ? null : ((seed * 17 + f * 13) % 101) / 100,
    );
  }

  function direct(model: ForecastModel, rows: Array<Array<number | null>>): Promise<Float32Array> {
    const matrix = new Float32Array(rows.length * FEATURE_COUNT);
    rows.forEach((r, i) => r.forEach((v, f) => (matrix[i * FEATURE_COUNT + f] = v ?? Number.NaN)));
    return model.scoreMany(matrix, rows.length);
  }

  it('scores one vector like the bundled model scored directly, with its threshold and band', async () => {
    const features = row(1);
    const res = await call('/api/v1/predict', { method: 'POST', body: { kind: 'memory', features } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const [expected] = await direct(memory, [features]);
    const result = res.json as unknown as {
      probability: number;
      threshold: number;
      alert: boolean;
      ttBand: unknown;
      model: { source: string; featureSchemaHash: string };
    };
    assert.ok(Math.abs(result.probability - expected!) < 1e-6, `${result.probability} ≉ ${expected}`);
    assert.equal(result.threshold, memory.operatingThreshold);
    assert.equal(result.alert, result.probability >= result.threshold);
    assert.equal(result.model.source, 'bundled');
    assert.equal(result.model.featureSchemaHash, FEATURE_SCHEMA.hash);
    // The same vector by name, missing values left out.
    const named = Object.fromEntries(
      FEATURE_SCHEMA.names.flatMap((n, f) => (features[f] === null ? [] : [[n, features[f]]])),
    );
    const byName = await call('/api/v1/predict', {
      method: 'POST',
      body: { resource: 'memory', features: named },
    });
    assert.equal((byName.json as { probability: number }).probability, result.probability);
  });

  it('scores a batch of mixed kinds in row order, each like its model scored directly', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({
      kind: i % 3 === 0 ? 'cpu' : 'memory',
      features: row(i),
    }));
    const res = await call('/api/v1/predict', { method: 'POST', body: { rows } });
    assert.equal(res.status, 200, JSON.stringify(res.json).slice(0, 300));
    const results = (res.json as { results: Array<{ resource: string; probability: number }> }).results;
    assert.equal(results.length, rows.length);
    const memoryRows = rows.filter((r) => r.kind === 'memory').map((r) => r.features);
    const cpuRows = rows.filter((r) => r.kind === 'cpu').map((r) => r.features);
    const [m, c] = [await direct(memory, memoryRows), await direct(cpu, cpuRows)];
    let mi = 0;
    let ci = 0;
    rows.forEach((r, i) => {
      const expected = r.kind === 'memory' ? m[mi++]! : c[ci++]!;
      assert.equal(results[i]!.resource, r.kind);
      assert.ok(Math.abs(results[i]!.probability - expected) < 1e-6, `row ${i}`);
    });
  });

  it('refuses bad input with the path of the problem', async () => {
    const short = await call('/api/v1/predict', {
      method: 'POST',
      body: { kind: 'memory', features: [1, 2, 3] },
    });
    assert.equal(short.status, 400);
    assert.equal(short.json.error?.path, 'features');
    const inBatch = await call('/api/v1/predict', {
      method: 'POST',
      body: {
        rows: [
          { kind: 'cpu', features: row(1) },
          { kind: 'cpu', features: [...row(2).slice(1), 'x'] },
        ],
      },
    });
    assert.equal(inBatch.status, 400);
    assert.match(inBatch.json.error?.path ?? '', /^rows\.1\.features/);
  });
});

describe('models and training', () => {
  it('lists the serving model per kind with its schema hash and threshold, and the feature schema', async () => {
    const res = await call('/api/v1/models');
    assert.equal(res.status, 200);
    const body = res.json as unknown as {
      featureSchema: { hash: string; names: string[] };
      models: Array<{ key: string; source: string; compatible: boolean; threshold: number }>;
    };
    assert.equal(body.featureSchema.hash, FEATURE_SCHEMA.hash);
    assert.equal(body.featureSchema.names.length, FEATURE_COUNT);
    const memoryModel = body.models.find((m) => m.key === 'memory');
    assert.equal(memoryModel?.source, 'bundled');
    assert.equal(memoryModel?.compatible, true);
  });

  it('serves the public key, rollouts, promotions, drift checks, runs and the loop’s status', async () => {
    const key = (await call('/api/v1/models/public-key')).json as { pem: string };
    assert.match(key.pem, /BEGIN PUBLIC KEY/);
    assert.ok(Array.isArray((await call('/api/v1/models/rollouts')).json.rollouts));
    assert.ok(Array.isArray((await call('/api/v1/models/promotions?limit=5')).json.promotions));
    assert.ok(Array.isArray((await call('/api/v1/models/drift-checks')).json.driftChecks));
    assert.ok(Array.isArray((await call('/api/v1/training/runs')).json.runs));
    assert.equal((await call('/api/v1/training/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status, 404);
    const status = await call('/api/v1/training/status');
    assert.equal(status.json.enabled, false);
  });

  it('refuses a rollback with nothing to go back to (409), queues a retrain (202), checks drift', async () => {
    const rollback = await call('/api/v1/models/memory/rollback', { method: 'POST' });
    assert.equal(rollback.status, 409);
    assert.equal(rollback.json.error?.code, 'ROLLBACK_IMPOSSIBLE');
    const drift = await call('/api/v1/models/swap/drift-check', { method: 'POST' });
    assert.equal(drift.status, 200, JSON.stringify(drift.json));
    assert.equal(drift.json.resource, 'swap');
    const retrain = await call('/api/v1/models/swap/retrain', { method: 'POST' });
    assert.equal(retrain.status, 202);
    assert.equal(retrain.json.queued, true);
    const bad = await call('/api/v1/models/not-a-kind/retrain', { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error?.path, 'key');
  });
});

describe('alerts and recommendations', () => {
  it('lists active alerts by host and the stored alert history', async () => {
    const active = (await call('/api/v1/alerts')).json.alerts as Forecast[];
    assert.ok(active.some((a) => a.hostId === A && a.resource === 'memory'));
    const onlyB = (await call(`/api/v1/alerts?host=${B}`)).json.alerts as Forecast[];
    assert.ok(onlyB.length > 0 && onlyB.every((a) => a.hostId === B));
    const all = await call(`/api/v1/alerts?state=all&host=${A}`);
    const events = (all.json.history as { events: Array<{ type: string; resource: string }> }).events;
    assert.ok(events.some((e) => e.type === 'alert.raised' && e.resource === 'memory'));
  });

  it('says in plain words which host, what, how soon, how likely, and what to do', async () => {
    const recs = (await call('/api/v1/recommendations')).json.recommendations as Array<{
      hostId: string;
      resource: string;
      text: string;
      playbook: { playbook: string } | null;
    }>;
    const a = recs.find((r) => r.hostId === A && r.resource === 'memory');
    const b = recs.find((r) => r.hostId === B && r.resource === 'memory');
    assert.match(
      a?.text ?? '',
      /^api-a: memory will run out in about 30 min \(between 10 min and 1\.5 h\), probability 0\.95; suggested: run playbook free-memory, or /,
    );
    assert.equal(a?.playbook?.playbook, 'free-memory');
    assert.match(b?.text ?? '', /^api-b: memory will run out .*; suggested: find what is growing/);
    assert.ok(!recs.some((r) => r.resource === 'cpu'), 'CPU is not at risk');
  });
});

describe('access control', () => {
  it('refuses an invalid token (401) and a read token on a write (403); a read token may read', async () => {
    assert.equal(
      (await call('/api/v1/models', { token: 'csa.000000000000.bad-token-bad-token' })).status,
      401,
    );
    assert.equal((await call('/api/v1/predictions/latest', { token: tokens.read })).status, 200);
    const write = await call('/api/v1/predict', {
      method: 'POST',
      token: tokens.read,
      body: { kind: 'cpu', features: new Array(FEATURE_COUNT).fill(0) },
    });
    assert.equal(write.status, 403);
    assert.equal(
      (await call('/api/v1/models/memory/retrain', { method: 'POST', token: tokens.read })).status,
      403,
    );
  });
});

describe('the live stream', () => {
  /** A stream client recording every message. */
  async function connect(query: string) {
    const ws = new WebSocket(`ws://127.0.0.1:${ports.http}/api/v1/stream${query}`);
    const messages: Array<{ type: string; hostId?: string; hosts?: string[] | null; kinds?: string[] }> = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { ws, messages };
  }

  it('gives a client only the hosts and kinds it subscribed to, and lets it change them', async () => {
    const { ws, messages } = await connect(`?host=${B}&kind=predictions`);
    try {
      await waitFor(
        'a prediction of api-b',
        () => messages.some((m) => m.type === 'predictions') || undefined,
        30_000,
      );
      assert.deepEqual(messages[0], { type: 'hello', hosts: [B], kinds: ['predictions'] });
      // Meanwhile api-a published too (telemetry, predictions): none of it may arrive.
      await waitFor(
        'three predictions of api-b',
        () => messages.filter((m) => m.type === 'predictions').length >= 3 || undefined,
        30_000,
      );
      assert.ok(messages.slice(1).every((m) => m.type === 'predictions' && m.hostId === B));

      ws.send(JSON.stringify({ subscribe: { hosts: [A], kinds: ['telemetry'] } }));
      await waitFor(
        'the new hello',
        () => messages.some((m) => m.type === 'hello' && m.hosts?.[0] === A) || undefined,
        10_000,
      );
      const from = messages.findIndex((m) => m.type === 'hello' && m.hosts?.[0] === A);
      assert.deepEqual(messages[from], { type: 'hello', hosts: [A], kinds: ['telemetry'] });
      await waitFor(
        'two telemetry messages of api-a',
        () => messages.slice(from + 1).length >= 2 || undefined,
        30_000,
      );
      assert.ok(messages.slice(from + 1).every((m) => m.type === 'telemetry' && m.hostId === A));

      ws.send(JSON.stringify({ subscribe: { kinds: ['weather'] } }));
      await waitFor('an error message', () => messages.find((m) => m.type === 'error'), 10_000);
      assert.match(JSON.stringify(messages.find((m) => m.type === 'error')), /"path":"subscribe\.kinds\.0"/);
    } finally {
      ws.close();
    }
  });

  it('refuses an unknown kind at connect with 400', async () => {
    await assert.rejects(connect('?kind=weather'), /400/);
  });
});

describe('the OpenAPI document', () => {
  it('is served without a token and every documented GET without parameters answers', async () => {
    const doc = (await call('/openapi.json')).json as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    for (const path of [
      '/api/v1/predict',
      '/api/v1/recommendations',
      '/api/v1/remediation/leases',
      '/api/v1/tokens',
    ]) {
      assert.ok(doc.paths[path], path);
    }
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!item.get || path.includes('{') || path === '/api/v1/stream' || path === '/api/v1/tokens') continue;
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, `${path}: ${res.status}`);
    }
    assert.doesNotMatch(aggregator.output, /RESPONSE DOES NOT MATCH/, 'no response broke its schema');
  });
});

describe('with authentication required', () => {
  const securedDir = join(root, 'secured');
  const securedPorts = { http: 0, mqtt: 0 };
  const securedTokens = { read: '', operate: '' };
  let secured: CliProcess;
  let url = '';

  before(async () => {
    securedPorts.http = await freePort();
    securedPorts.mqtt = await freePort();
    url = `http://127.0.0.1:${securedPorts.http}`;
    secured = await startAggregatorProcess({
      dataDir: securedDir,
      ports: securedPorts,
      env: {
        CLOUDSENSE_AGGREGATOR__SECURITY__AUTH: 'required',
        CLOUDSENSE_AGGREGATOR__RETRAINING__ENABLED: 'false',
      },
      readyTimeoutMs: 60_000,
    });
    securedTokens.read = await runCli(['tokens', 'create', '--role', 'read', '--data-dir', securedDir]);
    securedTokens.operate = await runCli(['tokens', 'create', '--role', 'operate', '--data-dir', securedDir]);
  });
  after(async () => {
    await secured?.stop('SIGTERM');
  });

  const request = (path: string, token?: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  it('asks every new route for a token (401), writes for operate (403), and leaves /openapi.json open', async () => {
    const features = new Array(FEATURE_COUNT).fill(0);
    for (const path of [
      '/api/v1/models',
      '/api/v1/predictions/latest',
      '/api/v1/alerts',
      '/api/v1/recommendations',
      '/api/v1/training/runs',
    ]) {
      assert.equal((await request(path)).status, 401, path);
      assert.equal((await request(path, securedTokens.read)).status, 200, path);
    }
    assert.equal((await request('/api/v1/predict', undefined, { kind: 'cpu', features })).status, 401);
    assert.equal(
      (await request('/api/v1/predict', securedTokens.read, { kind: 'cpu', features })).status,
      403,
    );
    assert.equal(
      (await request('/api/v1/predict', securedTokens.operate, { kind: 'cpu', features })).status,
      200,
    );
    assert.equal((await request('/openapi.json')).status, 200);
  });

  it('asks the live stream for a read token', async () => {
    const refused = new WebSocket(`ws://127.0.0.1:${securedPorts.http}/api/v1/stream`);
    await assert.rejects(
      new Promise((resolve, reject) => {
        refused.once('open', resolve);
        refused.once('error', reject);
      }),
      /401/,
    );
    const allowed = new WebSocket(
      `ws://127.0.0.1:${securedPorts.http}/api/v1/stream?kind=events&access_token=${securedTokens.read}`,
    );
    const hello = await new Promise<string>((resolve, reject) => {
      allowed.once('message', (data) => resolve(String(data)));
      allowed.once('error', reject);
    });
    allowed.close();
    assert.deepEqual(JSON.parse(hello), { type: 'hello', hosts: null, kinds: ['events'] });
  });
});
