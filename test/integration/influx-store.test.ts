import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseInfluxUrl, describeInfluxLocation } from '../../aggregator/storage/influx/influx-location.js';
import {
  InfluxDbTelemetryStore,
  type InfluxStoreOptions,
} from '../../aggregator/storage/influx/influx-store.js';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { BatchingWriter } from '../../aggregator/storage/batching-writer.js';
import { STORE_REJECTED_DATA } from '../../aggregator/storage/telemetry-store.js';
import { configSources } from '../../cli/options.js';
import { loadConfig } from '../../shared/config/load.js';
import { CloudSenseError, ConfigError } from '../../shared/errors.js';
import type { EventMessage } from '../../shared/wire/events.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { telemetryStoreContract } from '../contract/telemetry-store.contract.js';
import { Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/net.js';
import { INFLUXD, requireTool } from '../helpers/require-tool.js';

const available = await INFLUXD.probe();
let server: Influxd | undefined;
let n = 0;

function openStore(database: string, options: Partial<InfluxStoreOptions> = {}): InfluxDbTelemetryStore {
  return new InfluxDbTelemetryStore({ location: parseInfluxUrl(server!.storeUrl(database)), ...options });
}

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
function telemetry(seq: number, timestamp: number, value: number, hostId = 'web-01'): TelemetryMessage {
  return {
    schemaVersion: 1,
    hostId,
    seq,
    timestamp,
    intervalSeconds: 1,
    metrics: [
      { name: 'system.cpu.utilization', unit: '1', value },
      {
        name: 'system.memory.usage',
        unit: 'By',
        value: value * 1e9,
        attributes: { 'system.memory.state': 'used' },
      },
    ],
  };
}

it('runs on a real influxd', async (t) => {
  await requireTool(t, INFLUXD);
});

if (available) {
  before(async () => {
    server = await Influxd.start();
  });
  after(async () => {
    await server?.remove();
  });

  telemetryStoreContract('InfluxDB', () => {
    const database = `contract_${++n}`;
    return { open: () => openStore(database) };
  });

  describe('InfluxDB store', () => {
    it('creates its database, and keeps the documented schema', async () => {
      const store = openStore('schema');
      await store.start();
      try {
        await store.write([telemetry(3, T0, 0.5)]);
        const keys = await server!.query('schema', 'SHOW TAG KEYS FROM "telemetry"');
        assert.deepEqual(
          keys.results[0]!.series![0]!.values.map(([k]) => k),
          ['attributes', 'host', 'metric', 'system.memory.state'],
        );
        const fields = await server!.query('schema', 'SHOW FIELD KEYS FROM "telemetry"');
        assert.deepEqual(fields.results[0]!.series![0]!.values, [
          ['seq', 'float'],
          ['unit', 'string'],
          ['value', 'float'],
        ]);
        // The sequence number sits below the millisecond, in nanoseconds.
        const raw = await fetch(
          `${server!.url}/query?${new URLSearchParams({ db: 'schema', q: 'SELECT "seq" FROM "telemetry" LIMIT 1' })}`,
        );
        const body = (await raw.json()) as { results: Array<{ series: Array<{ values: unknown[][] }> }> };
        assert.equal(body.results[0]!.series[0]!.values[0]![0], '2026-01-05T12:00:00.000000003Z');
      } finally {
        await store.stop();
      }
    });

    it('stores a batch written twice (a retry) once', async () => {
      const store = openStore('retried');
      await store.start();
      try {
        const batch = [telemetry(1, T0, 0.1), telemetry(2, T0 + 1000, 0.2)];
        await store.write(batch);
        await store.write(batch);
        assert.equal(await store.countPoints(), 4);
      } finally {
        await store.stop();
      }
    });

    it('refuses an event it can never store (a field type conflict) as data, and the writer stores everything else', async () => {
      const store = openStore('conflict');
      await store.start();
      try {
        // The database already holds `seq` as a string in the events of that week.
        const line = `events,host=other,type=alert.raised seq="not a number" ${T0 * 1e6}`;
        const pre = await fetch(`${server!.url}/write?db=conflict`, { method: 'POST', body: line });
        assert.equal(pre.status, 204);
        const event: EventMessage = {
          schemaVersion: 1,
          hostId: 'web-01',
          seq: 2,
          timestamp: T0 + 1000,
          type: 'alert.raised',
          reason: 'risk_above_threshold',
          resource: 'memory',
          probability: 0.9,
          threshold: 0.5,
          detail: 'probability 0.900 ≥ threshold 0.500 for 2 cycles',
          model: { source: 'bundled', runId: 'baseline', version: 'b1' },
        };
        await assert.rejects(store.write([event]), (err: unknown) => {
          assert.ok(err instanceof CloudSenseError);
          assert.equal(err.code, STORE_REJECTED_DATA);
          assert.match(err.message, /field type conflict/);
          return true;
        });

        const rejected: number[] = [];
        const acknowledged: number[] = [];
        const writer = new BatchingWriter(store, {
          batchSize: 10,
          flushIntervalMs: 60_000,
          maxBuffered: 100,
          log: pino({ level: 'silent' }),
          onRejected: (messages) => rejected.push(...messages.map((m) => m.seq)),
          onWritten: (messages) => acknowledged.push(...messages.map((m) => m.seq)),
        });
        writer.start();
        writer.write(telemetry(1, T0, 0.1));
        writer.write(event);
        writer.write(telemetry(3, T0 + 2000, 0.3));
        await writer.flush();
        assert.deepEqual(rejected, [2]);
        assert.deepEqual(acknowledged, [1, 3]);
        assert.equal(await store.countPoints(), 4, 'both telemetry messages, two points each');
        assert.deepEqual(
          { ...writer.stats() },
          { accepted: 3, written: 2, dropped: 0, rejected: 1, failedWrites: 0, buffered: 0 },
        );
        await writer.stop();
      } finally {
        await store.stop();
      }
    });

    it('splits a large batch into writes of pointsPerWrite points, all of which are stored', async () => {
      const store = openStore('large', { pointsPerWrite: 1000 });
      await store.start();
      try {
        const batch = Array.from({ length: 2500 }, (_, i) => telemetry(i + 1, T0 + i * 1000, i / 2500));
        await store.write(batch);
        assert.equal(await store.countPoints(), 5000);
        assert.equal(store.stats().pointsWritten, 5000);
        const [cpu] = await store.querySeries({
          hostId: 'web-01',
          metric: 'system.cpu.utilization',
          from: T0,
          to: T0 + 2500 * 1000,
          limit: 10_000,
        });
        assert.equal(cpu!.points.length, 2500);
      } finally {
        await store.stop();
      }
    });

    it(
      'retries a write while influxd restarts, fails it once its time is up, and recreates a dropped database',
      { timeout: 180_000 },
      async () => {
        const store = openStore('outage', { writeRetryMs: 120_000 });
        const impatient = openStore('outage', { writeRetryMs: 1000 });
        await store.start();
        await impatient.start();
        try {
          await store.write([telemetry(1, T0, 0.1)]);
          await server!.stop('SIGKILL');
          await assert.rejects(impatient.write([telemetry(2, T0 + 1000, 0.2)]), (err: unknown) => {
            assert.ok(err instanceof CloudSenseError);
            assert.equal(err.code, 'STORE_UNAVAILABLE');
            assert.equal(err.permanent, false, 'retrying later can help');
            return true;
          });
          let resolved = false;
          const pending = store.write([telemetry(3, T0 + 2000, 0.3)]).then(() => (resolved = true));
          await new Promise((r) => setTimeout(r, 1500));
          assert.equal(resolved, false, 'not resolved while InfluxDB is down');
          await server!.restart();
          await pending;
          assert.equal(await store.countPoints(), 4, 'the first and the retried message');

          await server!.query('outage', 'DROP DATABASE "outage"');
          await store.write([telemetry(4, T0 + 3000, 0.4)]);
          assert.equal(await store.countPoints(), 2, 'written into the recreated database');
        } finally {
          if (!server!.running) await server!.restart();
          await store.stop();
          await impatient.stop();
        }
      },
    );

    it('gives up starting, retrying can help, when nothing answers at the URL', async () => {
      const port = await freePort();
      const store = new InfluxDbTelemetryStore({
        location: parseInfluxUrl(`influx://127.0.0.1:${port}/nowhere`),
        startTimeoutMs: 1000,
      });
      await assert.rejects(store.start(), (err: unknown) => {
        assert.ok(err instanceof CloudSenseError);
        assert.equal(err.code, 'STORE_UNAVAILABLE');
        assert.equal(err.permanent, false);
        assert.match(err.message, new RegExp(`influx://127\\.0\\.0\\.1:${port}/nowhere`));
        return true;
      });
      await store.stop();
    });

    it('logs in with the URL’s user and password, and refuses a wrong password as permanent', async () => {
      const secured = await Influxd.start({ auth: true });
      try {
        const admin = { username: 'admin', password: 'p@ss:w/rd' };
        const created = await secured.query(
          '',
          `CREATE USER "admin" WITH PASSWORD 'p@ss:w/rd' WITH ALL PRIVILEGES`,
        );
        assert.equal(created.results[0]!.error, undefined);
        const url = (password: string) =>
          `influx://admin:${encodeURIComponent(password)}@127.0.0.1:${secured.port}/secured`;
        const store = new InfluxDbTelemetryStore({ location: parseInfluxUrl(url(admin.password)) });
        assert.equal(store.description, `influx://admin@127.0.0.1:${secured.port}/secured`);
        await store.start();
        await store.write([telemetry(1, T0, 0.5)]);
        assert.equal(await store.countPoints(), 2);
        await store.stop();
        const count = await secured.query('secured', 'SELECT count("value") FROM "telemetry"', admin);
        assert.equal(count.results[0]!.series![0]!.values[0]![1], 2);

        const wrong = new InfluxDbTelemetryStore({ location: parseInfluxUrl(url('guess')) });
        await assert.rejects(wrong.start(), (err: unknown) => {
          assert.ok(err instanceof CloudSenseError);
          assert.equal(err.permanent, true, 'retrying cannot help');
          assert.match(err.message, /authorization failed.*check the user and password/s);
          assert.doesNotMatch(err.message, /guess/);
          return true;
        });
        await wrong.stop();
      } finally {
        await secured.remove();
      }
    });

    it('keeps the newest records under a limit the same way on every call, ties broken by resource', async () => {
      const store = openStore('ties');
      await store.start();
      try {
        const model = { source: 'bundled' as const, runId: 'r1' };
        const p = (resource: string) => ({
          resource,
          probability: 0.1,
          alert: false,
          threshold: 0.3,
          horizonS: 60,
          model,
        });
        await store.write([
          {
            schemaVersion: 1,
            hostId: 'web-01',
            seq: 1,
            timestamp: T0,
            predictions: ['cpu', 'memory', 'swap'].map(p),
          },
          { schemaVersion: 1, hostId: 'web-01', seq: 2, timestamp: T0 + 1, predictions: ['cpu'].map(p) },
        ]);
        const newest = await store.queryPredictions({ hostId: 'web-01', from: T0, to: T0 + 10, limit: 3 });
        assert.deepEqual(
          newest.map((r) => [r.timestamp, r.resource]),
          [
            [T0, 'memory'],
            [T0, 'swap'],
            [T0 + 1, 'cpu'],
          ],
        );
      } finally {
        await store.stop();
      }
    });
  });
}

describe('InfluxDB store URL', () => {
  it('takes host, port, database and credentials, and describes itself without the password', () => {
    const location = parseInfluxUrl('influxs://ops%40example:s3cr%3At@db.example:8443/cloud_sense');
    assert.deepEqual(location, {
      protocol: 'https',
      host: 'db.example',
      port: 8443,
      database: 'cloud_sense',
      username: 'ops@example',
      password: 's3cr:t',
    });
    assert.equal(describeInfluxLocation(location), 'influxs://ops%40example@db.example:8443/cloud_sense');
    assert.equal(parseInfluxUrl('influx://127.0.0.1/cloudsense').port, 8086);
  });

  it('is chosen with --store or CLOUDSENSE_STORE, and a bad one is a configuration problem', () => {
    const fromFlag = loadConfig(AggregatorConfigSchema, configSources({ store: 'influx://127.0.0.1/cs' }));
    assert.equal(fromFlag.aggregator.store.url, 'influx://127.0.0.1/cs');
    const fromEnv = loadConfig(AggregatorConfigSchema, { env: { CLOUDSENSE_STORE: 'influxs://h:1/db' } });
    assert.equal(fromEnv.aggregator.store.url, 'influxs://h:1/db');
    assert.equal(loadConfig(AggregatorConfigSchema, { env: {} }).aggregator.store.url, 'duckdb');
    assert.throws(
      () => loadConfig(AggregatorConfigSchema, { env: { CLOUDSENSE_STORE: 'influx://u:secret@h:8086' } }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.problems.map((p) => [p.path, p.source]),
          [['aggregator.store.url', 'environment variable CLOUDSENSE_STORE']],
        );
        assert.match(err.message, /the path must name one database.*or duckdb/);
        assert.doesNotMatch(err.message, /secret/);
        return true;
      },
    );
  });

  it('refuses what it cannot use, showing the expected form', () => {
    for (const bad of [
      'influx://127.0.0.1:8086',
      'influx://127.0.0.1:8086/a/b',
      'http://127.0.0.1:8086/db',
      'influx://127.0.0.1:8086/db?rp=x',
      'influx://127.0.0.1:99999/db',
      'influx:///db',
    ]) {
      assert.throws(
        () => parseInfluxUrl(bad),
        /expected influx:\/\/\[user:password@\]host\[:port\]\/database/,
        bad,
      );
    }
  });
});
