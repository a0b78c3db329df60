/**
 * The API's route table against what Hono serves: every served route is in
 * the OpenAPI document and every documented route is served; the document is
 * structurally valid OpenAPI 3.1 (checked here in TypeScript, always), and
 * valid by openapi-spec-validator where a python3 has it (Debian 12 packages
 * no OpenAPI validator, so it is not a declared CI tool: without it that
 * one check is skipped, in CI too);
 * request validation answers 400 with the field path; a response that breaks
 * its schema becomes a 500.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { ApiAccess } from '../../aggregator/api/auth.js';
import { checkResponse } from '../../aggregator/api/response-validation.js';
import { createApi, defaultResponseValidation, type Api } from '../../aggregator/api/routes.js';
import { FleetForecasts } from '../../aggregator/live/fleet-forecasts.js';
import { HostRegistry } from '../../aggregator/live/host-registry.js';
import { LeaseTable } from '../../aggregator/remediation/lease-table.js';
import { RetrainingSectionSchema } from '../../aggregator/retraining/config.js';
import { RetrainingLoop } from '../../aggregator/retraining/retraining-loop.js';
import { ModelRollout } from '../../aggregator/retraining/rollout.js';
import { SecuritySectionSchema } from '../../aggregator/security/config.js';
import { CredentialStore } from '../../aggregator/security/credential-store.js';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';
import { FEATURE_COUNT } from '../../shared/features/schema.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-api-openapi-'));
const log = pino({ level: 'silent' });

function buildApi(responseValidation: 'enforce' | 'log' = 'enforce', hosts = new HostRegistry()): Api {
  const store = new DuckDbTelemetryStore({
    path: join(root, 'never-opened.duckdb'),
    memoryLimit: '64MB',
    threads: 1,
  });
  const settings = RetrainingSectionSchema.parse({});
  const rollout = new ModelRollout({
    dataDir: root,
    settings: settings.rollout,
    publish: async () => undefined,
    store,
    log,
  });
  const access = new ApiAccess({
    credentials: new CredentialStore(join(root, 'credentials.json')),
    authRequired: false,
    limits: SecuritySectionSchema.parse({}).http,
    log,
  });
  return createApi({
    hosts,
    store,
    forecasts: new FleetForecasts(),
    metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => '' },
    brokerUrl: () => 'mqtt://127.0.0.1:1883',
    log,
    leases: new LeaseTable({ maxConcurrent: 1 }),
    retraining: new RetrainingLoop({ store, dataDir: root, settings, log }),
    rollout,
    responseValidation,
    security: (app) => access.install(app),
  });
}

const api = buildApi();

after(() => rmSync(root, { recursive: true, force: true }));

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: unknown[] }>>;
};

describe('the OpenAPI document', () => {
  const doc = api.document as unknown as Doc;

  it('describes every route Hono serves, and Hono serves every route it describes', () => {
    const served = new Set(
      api.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, '{$1}')}`),
    );
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        // The live stream is a WebSocket upgrade, answered by the HTTP server before Hono.
        if (path === '/api/v1/stream') continue;
        documented.add(`${method} ${path}`);
      }
    }
    assert.deepEqual(
      [...served].filter((r) => !documented.has(r)),
      [],
      'served but not documented',
    );
    assert.deepEqual(
      [...documented].filter((r) => !served.has(r)),
      [],
      'documented but not served',
    );
    assert.ok(served.size >= 30, `only ${served.size} routes`);
  });

  it('is structurally valid OpenAPI 3.1', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.info.title && doc.info.version);
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      assert.match(path, /^\//);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        assert.ok(['get', 'post', 'delete', 'put', 'patch'].includes(method), method);
        const o = op as unknown as { operationId: string; parameters?: Array<{ name: string; in: string }> };
        assert.ok(!operationIds.has(o.operationId), `duplicate operationId ${o.operationId}`);
        operationIds.add(o.operationId);
        assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
        for (const status of Object.keys(op.responses)) assert.match(status, /^[1-5]\d\d$/);
        const pathParams = (o.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        assert.deepEqual(pathParams.sort(), [...templated].sort(), `${method} ${path}: path parameters`);
      }
    }
    // JSON Schema 2020-12 inside: the dialect named once, no $schema per schema object, no dangling $ref.
    const text = JSON.stringify(doc);
    assert.doesNotMatch(text, /"\$schema"/);
    assert.doesNotMatch(text, /"\$ref"/);
    const full = api.document as {
      jsonSchemaDialect: string;
      tags: Array<{ name: string }>;
      security: unknown[];
    };
    assert.equal(full.jsonSchemaDialect, 'https://json-schema.org/draft/2020-12/schema');
    const tags = new Set(full.tags.map((t) => t.name));
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item) as unknown as Array<{
        tags: string[];
        responses: Record<string, { description: string; content?: Record<string, { schema?: object }> }>;
        requestBody?: { content: Record<string, { schema: object }> };
      }>) {
        assert.ok(op.tags.every((t) => tags.has(t)));
        for (const response of Object.values(op.responses)) {
          assert.equal(typeof response.description, 'string');
          for (const media of Object.values(response.content ?? {})) {
            if (media.schema) assert.equal(typeof media.schema, 'object');
          }
        }
        if (op.requestBody) assert.ok(op.requestBody.content['application/json']?.schema);
      }
    }
  });

  it('passes openapi-spec-validator where a python3 has it', (t) => {
    const python = ['/usr/bin/python3', 'python3'].find(
      (p) => spawnSync(p, ['-c', 'import openapi_spec_validator'], { stdio: 'ignore' }).status === 0,
    );
    if (!python) {
      t.skip('no python3 with openapi_spec_validator (pip install openapi-spec-validator)');
      return;
    }
    const result = spawnSync(
      python,
      ['-c', 'import json,sys; from openapi_spec_validator import validate; validate(json.load(sys.stdin))'],
      { input: JSON.stringify(api.document), encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
  });

  it('answers HEAD like GET, without a body', async () => {
    const res = await api.app.request('/healthz', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  it('is served at /openapi.json without a token', async () => {
    const res = await api.app.request('/openapi.json');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), JSON.parse(JSON.stringify(api.document)));
  });
});

describe('request validation', () => {
  const post = (body: unknown) =>
    api.app.request('/api/v1/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('names the field of a bad body, inside a batch too', async () => {
    const cases: Array<[unknown, string]> = [
      [{ kind: 'memory', features: [1, 2] }, 'features'],
      [{ kind: 'nope', features: [] }, 'kind'],
      [
        {
          rows: [
            { kind: 'cpu', features: new Array(FEATURE_COUNT).fill(0) },
            { kind: 'cpu', features: [1] },
          ],
        },
        'rows.1.features',
      ],
      [{ kind: 'cpu', features: { no_such_feature: 1 } }, 'features.no_such_feature'],
      [{ kind: 'cpu', resource: 'cpu', features: new Array(FEATURE_COUNT).fill(0) }, 'resource'],
      [{ rows: [] }, 'rows'],
    ];
    for (const [body, path] of cases) {
      const res = await post(body);
      const json = (await res.json()) as { error: { code: string; path: string } };
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(json.error.code, 'INVALID_INPUT');
      assert.equal(json.error.path, path, JSON.stringify(json));
    }
    const notJson = await api.app.request('/api/v1/predict', { method: 'POST', body: '{' });
    assert.equal(notJson.status, 400);
  });

  it('names the query parameter', async () => {
    const res = await api.app.request('/api/v1/alerts?state=sometimes');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { path: string } }).error.path, 'state');
    const unknown = await api.app.request('/api/v1/models/promotions?colour=red');
    assert.equal(((await unknown.json()) as { error: { path: string } }).error.path, 'colour');
  });
});

describe('response validation', () => {
  const route = api.routes.find((r) => r.method === 'get' && r.path === '/healthz')!;

  it('accepts a matching response and names the field of one that does not match', async () => {
    const good = await api.app.request('/healthz');
    assert.equal(await checkResponse(route, good), undefined);
    const bad = Response.json({ status: 'ok', version: 1 });
    assert.match((await checkResponse(route, bad)) ?? '', /^version: /);
    assert.match((await checkResponse(route, new Response(null, { status: 418 }))) ?? '', /status 418/);
  });

  it('turns a response that breaks its schema into a 500 in enforce mode, and only logs in log mode', async () => {
    // The registry keeps what ingest gave it; a metric name outside the wire schema breaks HostSchema.
    const hosts = new HostRegistry();
    hosts.updateTelemetry({
      schemaVersion: 1,
      hostId: 'h1',
      seq: 1,
      timestamp: Date.now(),
      intervalSeconds: 10,
      metrics: [{ name: 'Not A Metric', unit: '1', value: 1 }],
    });
    const enforcing = buildApi('enforce', hosts);
    const res = await enforcing.app.request('/api/v1/hosts/h1');
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'INTERNAL');
    assert.equal(enforcing.responseChecks.violations, 1);
    const logging = buildApi('log', hosts);
    assert.equal((await logging.app.request('/api/v1/hosts/h1')).status, 200);
    assert.equal(logging.responseChecks.violations, 1);
  });

  it('enforces outside production and logs in production', () => {
    assert.equal(defaultResponseValidation({}), 'enforce');
    assert.equal(defaultResponseValidation({ NODE_ENV: 'development' }), 'enforce');
    assert.equal(defaultResponseValidation({ NODE_ENV: 'production' }), 'log');
  });
});
