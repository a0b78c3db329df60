/**
 * The fleet's remediation leases: the table (cap, TTL, renewal, release) on
 * a fake clock, and the agent's lease client against the real routes on a
 * real HTTP server: granted, refused at the cap, released, and the answers
 * that are not a grant (timeout, unreachable, a body that is not a lease).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { pino } from 'pino';
import { LeaseClient } from '../../agent/remediation/lease-client.js';
import { errorResponder } from '../../aggregator/api/errors.js';
import { HostRegistry } from '../../aggregator/live/host-registry.js';
import { LeaseTable } from '../../aggregator/remediation/lease-table.js';
import { remediationRoutes } from '../../aggregator/remediation/remediation-routes.js';
import type { TelemetryStore } from '../../aggregator/storage/telemetry-store.js';
import { freePort } from '../helpers/net.js';

const log = pino({ level: 'silent' });
const T0 = 1_790_000_000_000;
const request = (hostId: string, playbook = 'clean-var', ttlSeconds = 60) => ({
  hostId,
  playbook,
  resource: 'filesystem:%2Fvar',
  ttlSeconds,
});

describe('lease table', () => {
  it('grants up to maxConcurrent, refuses beyond with the time until a slot frees', () => {
    let t = T0;
    const table = new LeaseTable({ maxConcurrent: 2, now: () => t });
    const a = table.acquire(request('web-01'));
    const b = table.acquire(request('web-02', 'clean-var', 30));
    assert.ok(a.granted && b.granted);
    t += 10_000;
    const c = table.acquire(request('web-03'));
    assert.equal(c.granted, false);
    assert.ok(!c.granted);
    assert.equal(c.active.length, 2);
    assert.equal(c.retryAfterMs, 20_000, 'web-02’s lease ends 30 s after it was granted');
    assert.deepEqual(table.stats(), { held: 2, granted: 2, denied: 1, released: 0, expired: 0 });
  });

  it('leases expire by TTL; release frees a slot once', () => {
    let t = T0;
    const table = new LeaseTable({ maxConcurrent: 1, now: () => t });
    const a = table.acquire(request('web-01', 'clean-var', 60));
    assert.ok(a.granted);
    assert.equal(a.lease.expiresAt, new Date(T0 + 60_000).toISOString());
    t += 59_999;
    assert.equal(table.acquire(request('web-02')).granted, false);
    t += 1;
    assert.deepEqual(table.list(), [], 'expired at grantedAt + ttl');
    const b = table.acquire(request('web-02'));
    assert.ok(b.granted);
    assert.equal(table.release(b.lease.leaseId)?.hostId, 'web-02');
    assert.equal(table.release(b.lease.leaseId), undefined, 'a second release finds nothing');
    assert.equal(table.stats().expired, 1);
  });

  it('a host asking again for the playbook it holds gets the same lease, renewed, not a second slot', () => {
    let t = T0;
    const table = new LeaseTable({ maxConcurrent: 2, now: () => t });
    const first = table.acquire(request('web-01'));
    t += 5000;
    const again = table.acquire(request('web-01'));
    assert.ok(first.granted && again.granted);
    assert.equal(again.lease.leaseId, first.lease.leaseId);
    assert.equal(again.renewed, true);
    assert.equal(again.lease.expiresAt, new Date(T0 + 65_000).toISOString());
    assert.equal(table.list().length, 1);
  });
});

describe('lease routes and the agent’s lease client, over real HTTP', () => {
  let server: ReturnType<typeof createAdaptorServer>;
  let url: string;
  const table = new LeaseTable({ maxConcurrent: 1 });

  before(async () => {
    const app = new Hono();
    app.onError(errorResponder(log));
    const store = { queryEvents: () => Promise.resolve([]) } as unknown as TelemetryStore;
    app.route(
      '/api/v1/remediation',
      remediationRoutes({ leases: table, store, hosts: new HostRegistry(3), log }),
    );
    server = createAdaptorServer({ fetch: app.fetch });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = () => new LeaseClient({ url, timeoutMs: 5000, log });

  it('grants (201), refuses at the cap (409), lists, and releases', async () => {
    const granted = await client().acquire(request('web-01'));
    assert.ok(granted.granted, JSON.stringify(granted));
    const listed = (await (await fetch(`${url}/api/v1/remediation/leases`)).json()) as {
      maxConcurrent: number;
      leases: Array<{ leaseId: string }>;
    };
    assert.equal(listed.maxConcurrent, 1);
    assert.deepEqual(
      listed.leases.map((l) => l.leaseId),
      [granted.lease.leaseId],
    );

    const refused = await client().acquire(request('web-02'));
    assert.deepEqual(
      { granted: refused.granted, reason: !refused.granted && refused.reason },
      { granted: false, reason: 'fleet_cap' },
    );
    const raw = await fetch(`${url}/api/v1/remediation/leases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request('web-02')),
    });
    assert.equal(raw.status, 409);
    assert.ok(Number(raw.headers.get('retry-after')) >= 1);
    const body = (await raw.json()) as { error: { code: string }; active: unknown[] };
    assert.equal(body.error.code, 'LEASE_CAP_REACHED');
    assert.equal(body.active.length, 1);

    await client().release(granted.lease.leaseId);
    assert.equal(table.list().length, 0);
    const gone = await fetch(`${url}/api/v1/remediation/leases/${granted.lease.leaseId}`, {
      method: 'DELETE',
    });
    assert.equal(gone.status, 404);
    const next = await client().acquire(request('web-02'));
    assert.ok(next.granted);
    await client().release(next.lease.leaseId);
  });

  it('refuses bad requests with 400 naming the field, and oversized ones with 413', async () => {
    const post = (body: string) =>
      fetch(`${url}/api/v1/remediation/leases`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const bad = await post(JSON.stringify({ ...request('web-01'), ttlSeconds: 0 }));
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { path: string } }).error.path, 'ttlSeconds');
    const extra = await post(JSON.stringify({ ...request('web-01'), command: ['/bin/rm', '-rf', '/'] }));
    assert.equal(extra.status, 400, 'a lease request carries no command');
    assert.equal((await post('not json')).status, 400);
    assert.equal((await post(JSON.stringify({ pad: 'x'.repeat(5000) }))).status, 413);
    assert.equal(table.list().length, 0);
  });

  it('no answer is no lease: a closed port, a server that does not answer, a 201 that is not a lease', async () => {
    const closed = await new LeaseClient({
      url: `http://127.0.0.1:${await freePort()}`,
      timeoutMs: 2000,
      log,
    }).acquire(request('web-01'));
    assert.equal(!closed.granted && closed.reason, 'unreachable');

    const sockets = new Set<Socket>();
    const silent: Server = createServer(() => undefined); // takes the request, never answers
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const slow = await new LeaseClient({ url: silentUrl, timeoutMs: 300, log }).acquire(request('web-01'));
    assert.equal(!slow.granted && slow.reason, 'timeout');
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));

    const liar: Server = createServer((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ leaseId: 'x', command: ['/bin/true'] }));
    });
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    const liarUrl = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
    const odd = await new LeaseClient({ url: liarUrl, timeoutMs: 2000, log }).acquire(request('web-01'));
    assert.equal(!odd.granted && odd.reason, 'unexpected_response');
    await new Promise<void>((resolve) => liar.close(() => resolve()));
  });
});
