import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { createAggregator, type Aggregator } from '../../aggregator/aggregator.js';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { MqttPublisher } from '../../agent/publish/mqtt-publisher.js';
import { AckMessageSchema, type AckMessage, type TelemetryMessage } from '../../shared/wire/telemetry.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { waitFor } from '../helpers/net.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cloudsense-dedupe-'));
const silent = pino({ level: 'silent' });
after(() => rmSync(dataDir, { recursive: true, force: true }));

function aggregator(): Aggregator {
  const config = AggregatorConfigSchema.parse({
    dataDir,
    http: { port: 0 },
    mqtt: { port: 0 },
    aggregator: { ingest: { flushIntervalMs: 50 } },
  });
  return createAggregator(config, silent);
}

/** Recent samples: older than the store's raw retention (30 d) they would be folded into aggregates at start. */
const T0 = Date.now() - 3_600_000;

function telemetry(hostId: string, seq: number): string {
  const message: TelemetryMessage = {
    schemaVersion: 1,
    hostId,
    seq,
    timestamp: T0 + seq * 1000,
    intervalSeconds: 1,
    metrics: [{ name: 'system.cpu.utilization', unit: '1', value: seq / 100 }],
  };
  return JSON.stringify(message);
}

/** A plain MQTT client that publishes telemetry and records every acknowledgement it sees. */
async function client(url: string, hostId: string): Promise<{ mqtt: MqttClient; acks: AckMessage[] }> {
  const mqtt = await connectAsync(url, { clientId: `dedupe-test-${hostId}-${Math.random()}` });
  const acks: AckMessage[] = [];
  mqtt.on('message', (_topic, payload) => acks.push(AckMessageSchema.parse(JSON.parse(payload.toString()))));
  await mqtt.subscribeAsync(`cloudsense/v1/hosts/${hostId}/ack`, { qos: 1 });
  return { mqtt, acks };
}

async function publish(mqtt: MqttClient, hostId: string, seqs: number[]): Promise<void> {
  for (const seq of seqs) {
    await mqtt.publishAsync(`cloudsense/v1/hosts/${hostId}/telemetry`, telemetry(hostId, seq), { qos: 1 });
  }
}

async function metric(agg: Aggregator, name: string): Promise<number> {
  const text = await (await fetch(`${agg.httpUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

describe('de-duplication and acknowledgement through the running aggregator', () => {
  it('stores each (host, seq) once, across a restart, acknowledges on a retained topic, and leaves seq 0 alone', async () => {
    const first = aggregator();
    await first.start();
    const a = await client(first.mqttUrl, 'dedupe-1');
    try {
      await publish(a.mqtt, 'dedupe-1', [1, 2, 2, 3, 1, 0, 0]);
      await waitFor('the acknowledgement of 3', () => (a.acks.some((k) => k.seq === 3) ? true : undefined));
      assert.equal(await metric(first, 'cloudsense_ingest_duplicate_total'), 2);
      assert.ok(a.acks.every((k) => k.hostId === 'dedupe-1' && k.schemaVersion === 1));
      assert.ok(
        a.acks.every((k, i) => i === 0 || k.seq >= a.acks[i - 1]!.seq),
        'acknowledgements never go back',
      );
    } finally {
      await a.mqtt.endAsync();
      await first.stop();
    }

    const second = aggregator();
    await second.start();
    // A host that reconnects learns its position from the retained acknowledgement announced at start-up.
    const acks: Array<{ ack: AckMessage; retained: boolean }> = [];
    const agent = new MqttPublisher({
      brokerUrl: second.mqttUrl,
      hostId: 'dedupe-1',
      agentVersion: 'test',
      intervalSeconds: 1,
      log: silent,
      onAck: (ack, retained) => acks.push({ ack, retained }),
    });
    agent.start();
    const b = await client(second.mqttUrl, 'dedupe-1');
    try {
      await waitFor('the retained acknowledgement', () => (acks.length > 0 ? true : undefined));
      assert.deepEqual(acks[0], { ack: { schemaVersion: 1, hostId: 'dedupe-1', seq: 3 }, retained: true });
      await publish(b.mqtt, 'dedupe-1', [2, 3, 4]);
      await waitFor('the acknowledgement of 4', () => (b.acks.some((k) => k.seq === 4) ? true : undefined));
      assert.equal(await metric(second, 'cloudsense_ingest_duplicate_total'), 2);
      // Each subscriber gets its copy in its own time: wait for the agent's, then look at it.
      await waitFor("the agent's acknowledgement of 4", () =>
        acks.some((k) => k.ack.seq === 4) ? true : undefined,
      );
      assert.ok(
        acks.some((k) => k.ack.seq === 4 && !k.retained),
        'live acknowledgements are not marked retained',
      );
    } finally {
      await agent.stop();
      await b.mqtt.endAsync();
      await second.stop();
    }

    const rows = (await queryClosedStore(
      dataDir,
      "SELECT seq::DOUBLE, count(*)::DOUBLE FROM samples WHERE host_id = 'dedupe-1' GROUP BY seq ORDER BY seq",
    )) as Array<[number, number]>;
    assert.deepEqual(rows, [
      [0, 2],
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
  });
});
