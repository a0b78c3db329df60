import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { AckMessageSchema } from '../../shared/wire/telemetry.js';
import { hostTopic } from '../../shared/wire/topics.js';
import { CliProcess, startAgentProcess } from '../helpers/cli-process.js';
import { Influxd } from '../helpers/influxd.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';
import { INFLUXD, requireTool } from '../helpers/require-tool.js';

/** How long InfluxDB stays down while the agent publishes, ms (the figure). */
const OUTAGE_MS = 60_000;
const DATABASE = 'cloudsense';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  CliProcess.killAll();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cloudsense-influx-${name}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The fields of the first JSON log line whose message is `msg`. */
async function logLine(proc: CliProcess, msg: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const line = await proc.waitForLine(new RegExp(`"msg":"${msg}"`), timeoutMs);
  return JSON.parse(line) as Record<string, unknown>;
}

/** The acknowledgements the aggregator publishes for a host, seen by a plain MQTT client. */
class AckWatcher {
  /** Every acknowledged number in the order seen. */
  readonly seen: number[] = [];

  private constructor(private readonly client: MqttClient) {}

  static async start(mqttPort: number, hostId: string): Promise<AckWatcher> {
    const client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: `influx-outage-acks-${hostId}`,
    });
    const watcher = new AckWatcher(client);
    client.on('message', (_topic, payload) => {
      watcher.seen.push(AckMessageSchema.parse(JSON.parse(payload.toString('utf8'))).seq);
    });
    await client.subscribeAsync(hostTopic(hostId, 'ack'), { qos: 1 });
    return watcher;
  }

  get highest(): number {
    return Math.max(0, ...this.seen);
  }

  stop(): Promise<void> {
    return this.client.endAsync();
  }
}

/** Every point of a host in InfluxDB as [measurement, seq, point key] rows. */
async function storedRows(
  influxd: Influxd,
  hostId: string,
): Promise<Array<[string, number, string, number]>> {
  const host = `"host" = '${hostId}'`;
  const answer = await influxd.query(
    DATABASE,
    [
      `SELECT "seq", "metric", "attributes" FROM "telemetry" WHERE ${host}`,
      `SELECT "seq", "resource" FROM "predictions" WHERE ${host}`,
      `SELECT "seq", "type" FROM "events" WHERE ${host}`,
    ].join(';'),
  );
  return answer.results.flatMap((result) => {
    assert.equal(result.error, undefined);
    return (result.series ?? []).flatMap((s) =>
      s.values.map(
        ([time, seq, ...key]) =>
          [s.name, seq as number, key.join(' '), time as number] as [string, number, string, number],
      ),
    );
  });
}

describe('InfluxDB outage', () => {
  it(
    'keeps acknowledgements to what InfluxDB holds while it is down for 60 s, and stores every message once',
    { timeout: 300_000 },
    async (t) => {
      if (!(await requireTool(t, INFLUXD))) return;
      const hostId = 'influx-outage';
      const influxd = await Influxd.start();
      cleanups.push(() => influxd.remove());
      const ports = { http: await freePort(), mqtt: await freePort() };
      const aggregator = CliProcess.start(
        [
          'aggregator',
          '--store',
          influxd.storeUrl(DATABASE),
          '--http-port',
          String(ports.http),
          '--mqtt-port',
          String(ports.mqtt),
          '--log-format',
          'json',
        ],
        { CLOUDSENSE_DATA_DIR: tempDir('aggregator') },
      );
      const ready = await logLine(aggregator, 'aggregator ready');
      assert.equal(ready.store, `influx://127.0.0.1:${influxd.port}/${DATABASE}`);
      const health = await getJson<{ store: string }>(`http://127.0.0.1:${ports.http}/healthz`);
      assert.equal(health.store, ready.store);

      const acks = await AckWatcher.start(ports.mqtt, hostId);
      cleanups.push(() => acks.stop());
      const agent = startAgentProcess({ hostId, mqttPort: ports.mqtt, dataDir: tempDir('agent') });
      await waitFor('the first acknowledgements', () => (acks.highest >= 3 ? true : undefined), 60_000);

      await influxd.stop('SIGKILL');
      await aggregator.waitForLine(/store write failed; keeping the batch and retrying/, 30_000);
      // A write InfluxDB took just before it died may still be acknowledged; nothing after it can be.
      const ackedBeforeOutage = acks.highest;
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      assert.equal(acks.highest, ackedBeforeOutage, 'nothing is acknowledged while InfluxDB is down');
      await influxd.restart();
      const survived = new Set((await storedRows(influxd, hostId)).map(([, seq]) => seq));
      assert.deepEqual(
        Array.from({ length: ackedBeforeOutage }, (_, i) => i + 1).filter((seq) => !survived.has(seq)),
        [],
        'what was acknowledged before InfluxDB was killed survived it',
      );

      // After the restart the writer's back-off (at most 30 s) runs out and the buffered messages are written.
      const target = ackedBeforeOutage + OUTAGE_MS / 1000;
      await waitFor(
        `the acknowledgement to pass ${target}`,
        () => (acks.highest >= target ? true : undefined),
        120_000,
      );
      assert.equal(agent.child.exitCode, null, 'the agent rides out the outage');
      assert.equal(aggregator.child.exitCode, null, 'the aggregator rides out the outage');
      const metrics = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
      assert.match(metrics, /^cloudsense_ingest_missing_total 0$/m, 'no sequence number was given up on');

      assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
      const stopped = await logLine(agent, 'agent stopped', 5000);
      const lastSeq = stopped.lastSeq as number;
      assert.equal(
        stopped.confirmedSeq,
        lastSeq,
        'the agent’s queue drained: everything it numbered is confirmed',
      );
      assert.equal((stopped.queue as { pending: number }).pending, 0);
      assert.ok(lastSeq >= target, `the agent numbered ${lastSeq} messages`);
      assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);
      assert.ok(Math.max(...acks.seen) <= lastSeq);

      await assertStoredExactlyOnce(influxd, hostId, lastSeq, Math.max(...acks.seen));
    },
  );
});

/**
 * Every message 1..lastSeq of the host is in InfluxDB once: each number in
 * one measurement only, all its points at one time (one message), and no
 * point twice. Acknowledged numbers are a subset, checked explicitly.
 */
async function assertStoredExactlyOnce(influxd: Influxd, hostId: string, lastSeq: number, acked: number) {
  const rows = await storedRows(influxd, hostId);
  const bySeq = new Map<number, Array<[string, string, number]>>();
  for (const [measurement, seq, key, time] of rows) {
    let list = bySeq.get(seq);
    if (!list) bySeq.set(seq, (list = []));
    list.push([measurement, key, time]);
  }
  const missing = Array.from({ length: lastSeq }, (_, i) => i + 1).filter((s) => !bySeq.has(s));
  assert.deepEqual(missing, [], 'every sequence number is stored');
  assert.deepEqual(
    Array.from({ length: acked }, (_, i) => i + 1).filter((s) => !bySeq.has(s)),
    [],
    'every acknowledged sequence number is stored',
  );
  assert.deepEqual(
    [...bySeq.keys()].filter((s) => s < 1 || s > lastSeq),
    [],
    'nothing beyond what the agent numbered',
  );
  const doubled = [...bySeq].filter(([, points]) => {
    const measurements = new Set(points.map(([m]) => m));
    const times = new Set(points.map(([, , time]) => time));
    const keys = new Set(points.map(([, key]) => key));
    return measurements.size !== 1 || times.size !== 1 || keys.size !== points.length;
  });
  assert.deepEqual(
    doubled.map(([seq]) => seq),
    [],
    'no message is stored twice',
  );
}
