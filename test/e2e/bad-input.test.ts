import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { CliProcess } from '../helpers/cli-process.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cloudsense-bad-'));
let proc: CliProcess;
let base = '';
let client: MqttClient;

before(async () => {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  proc = CliProcess.start(
    ['aggregator', '--http-port', String(httpPort), '--mqtt-port', String(mqttPort), '--log-format', 'json'],
    { CLOUDSENSE_DATA_DIR: dataDir },
  );
  await proc.waitForLine(/aggregator ready/);
  base = `http://127.0.0.1:${httpPort}`;
  client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: 'bad-input-test',
    reconnectPeriod: 0,
  });
});

after(async () => {
  await client?.endAsync().catch(() => undefined);
  CliProcess.killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

function telemetry(hostId: string, seq: number, extra: Record<string, unknown> = {}) {
  return {
    schemaVersion: 1,
    hostId,
    seq,
    timestamp: Date.now(),
    intervalSeconds: 10,
    metrics: [{ name: 'system.cpu.utilization', unit: '1', value: 0.5 }],
    ...extra,
  };
}

/** Reads one sample of a Prometheus metric from the text exposition. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

describe('malformed, oversized and wrong-schema telemetry', () => {
  it('is counted and dropped, never stored, and the aggregator keeps running', async () => {
    const topic = (host: string) => `cloudsense/v1/hosts/${host}/telemetry`;
    const bad: Array<[topic: string, payload: string | Buffer, reason: string]> = [
      [topic('h1'), 'this is not json {', 'malformed'],
      [topic('h1'), Buffer.from([0xff, 0xfe, 0xfd, 0x00]), 'malformed'],
      [topic('h1'), '', 'malformed'],
      [topic('h1'), JSON.stringify({ schemaVersion: 1, hostId: 'h1' }), 'invalid'],
      [topic('h1'), JSON.stringify(telemetry('h1', 1, { schemaVersion: 99 })), 'invalid'],
      [topic('h1'), JSON.stringify(telemetry('h1', 1, { seq: -4 })), 'invalid'],
      [topic('h1'), JSON.stringify(telemetry('h1', 1, { metrics: [] })), 'invalid'],
      [
        topic('h1'),
        '{"schemaVersion":1,"hostId":"h1","seq":1,"timestamp":1,"intervalSeconds":10,"metrics":[{"name":"system.cpu.utilization","unit":"1","value":1e999}]}',
        'invalid',
      ],
      [
        topic('h1'),
        JSON.stringify(telemetry('h1', 1, { metrics: [{ name: 'Bad Name!', unit: '1', value: 1 }] })),
        'invalid',
      ],
      [topic('h1'), JSON.stringify([1, 2, 3]), 'invalid'],
      [topic('h1'), JSON.stringify(telemetry('h2', 1)), 'host_mismatch'],
      [topic('h1'), JSON.stringify(telemetry('h1', 1, { padding: 'x'.repeat(300 * 1024) })), 'oversized'],
      [topic('h1'), Buffer.alloc(2 * 1024 * 1024, 0x41), 'oversized'],
      [topic('bad~host'), JSON.stringify(telemetry('bad~host', 1)), 'bad_topic'],
    ];
    for (const [t, payload] of bad) await client.publishAsync(t, payload, { qos: 1 });

    // A valid message afterwards is stored: the pipeline is alive and in order.
    await client.publishAsync(topic('good-1'), JSON.stringify(telemetry('good-1', 1)), { qos: 1 });
    await waitFor('the valid message to be stored', async () => {
      const res = await fetch(`${base}/api/v1/hosts/good-1/metrics?from=0`);
      if (!res.ok) return undefined;
      const body = (await res.json()) as { series: Array<{ points: unknown[] }> };
      return body.series.length === 1 && body.series[0]!.points.length === 1 ? true : undefined;
    });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    const expected = new Map<string, number>();
    for (const [, , reason] of bad) expected.set(reason, (expected.get(reason) ?? 0) + 1);
    for (const [reason, n] of expected) {
      assert.equal(sample(metrics, 'cloudsense_ingest_dropped_total', `{reason="${reason}"}`), n, reason);
    }
    assert.equal(sample(metrics, 'cloudsense_ingest_received_total'), bad.length + 1);
    assert.equal(sample(metrics, 'cloudsense_ingest_accepted_total'), 1);

    // Nothing of the bad input reached the host list or the store.
    const { hosts } = await getJson<{ hosts: Array<{ id: string }> }>(`${base}/api/v1/hosts`);
    assert.deepEqual(
      hosts.map((h) => h.id),
      ['good-1'],
    );
    for (const id of ['h1', 'h2']) assert.equal((await fetch(`${base}/api/v1/hosts/${id}`)).status, 404);
    await waitFor('the writer to report one stored message', async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return sample(text, 'cloudsense_store_written_total') === 1 ? true : undefined;
    });

    const health = await getJson<{ status: string }>(`${base}/healthz`);
    assert.equal(health.status, 'ok');
    assert.equal(proc.child.exitCode, null, 'the aggregator is still running');
    assert.match(proc.output, /dropped an invalid MQTT message/);
    const exit = await proc.stop('SIGTERM');
    assert.equal(exit.code, 0);
    const rows = await queryClosedStore(
      dataDir,
      'SELECT DISTINCT host_id, count(*)::DOUBLE FROM samples GROUP BY 1',
    );
    assert.deepEqual(rows, [['good-1', 1]], 'the store holds the one valid point and nothing else');
  });
});
