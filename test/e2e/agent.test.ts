import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { EmbeddedBroker } from '../../aggregator/broker/embedded-broker.js';
import {
  StatusMessageSchema,
  TelemetryMessageSchema,
  type StatusMessage,
  type TelemetryMessage,
} from '../../shared/wire/telemetry.js';
import { CliProcess } from '../helpers/cli-process.js';
import { freePort, waitFor } from '../helpers/net.js';

// The agent keeps its disk queue (and so its sequence numbers) in the data dir: a fresh one per run.
const dataDir = mkdtempSync(join(tmpdir(), 'cloudsense-agent-e2e-'));
let broker: EmbeddedBroker;
let observer: MqttClient;
const telemetry: TelemetryMessage[] = [];
const statuses: StatusMessage[] = [];

before(async () => {
  broker = new EmbeddedBroker({ host: '127.0.0.1', port: await freePort(), log: pino({ level: 'silent' }) });
  await broker.start();
  observer = await connectAsync(broker.url, { clientId: 'agent-test-observer' });
  observer.on('message', (topic, payload) => {
    const json: unknown = JSON.parse(payload.toString());
    if (topic.endsWith('/telemetry')) telemetry.push(TelemetryMessageSchema.parse(json));
    if (topic.endsWith('/status')) statuses.push(StatusMessageSchema.parse(json));
  });
  await observer.subscribeAsync('cloudsense/v1/hosts/+/+', { qos: 1 });
});

after(async () => {
  CliProcess.killAll();
  await observer?.endAsync();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function startAgent(hostId: string): CliProcess {
  return CliProcess.start([
    'agent',
    '--host-id',
    hostId,
    '--interval',
    '1',
    '--broker',
    broker.url,
    '--data-dir',
    dataDir,
    '--log-format',
    'json',
  ]);
}

describe('cloudsense agent', () => {
  it('publishes schema-valid telemetry with increasing sequence numbers, and goes offline on SIGTERM', async () => {
    const agent = startAgent('agent-e2e-1');
    const mine = () => telemetry.filter((m) => m.hostId === 'agent-e2e-1');
    await waitFor('three telemetry messages', () => (mine().length >= 3 ? true : undefined), 20_000);
    // Telemetry starts the host's numbering; predictions and events (when the agent has models) take
    // numbers between two telemetry messages, so the telemetry's own numbers only have to increase.
    const seqs = mine()
      .map((m) => m.seq)
      .slice(0, 3);
    assert.equal(seqs[0], 1);
    assert.ok(
      seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!),
      seqs.join(', '),
    );
    const names = new Set(mine()[0]!.metrics.map((p) => p.name));
    for (const name of [
      'system.cpu.utilization',
      'system.cpu.load_average.1m',
      'system.memory.usage',
      'system.paging.usage',
      'system.filesystem.usage',
      'system.network.io',
    ]) {
      assert.ok(names.has(name), `reports ${name}`);
    }
    assert.ok(statuses.some((s) => s.hostId === 'agent-e2e-1' && s.state === 'online'));
    assert.equal((await agent.stop('SIGTERM')).code, 0);
    await waitFor('offline status after SIGTERM', () =>
      statuses.at(-1)?.hostId === 'agent-e2e-1' && statuses.at(-1)?.state === 'offline' ? true : undefined,
    );
  });

  it('leaves a retained offline last will when killed with SIGKILL', async () => {
    const agent = startAgent('agent-e2e-2');
    await waitFor('online status', () =>
      statuses.some((s) => s.hostId === 'agent-e2e-2' && s.state === 'online') ? true : undefined,
    );
    await agent.stop('SIGKILL');
    // A client subscribing afterwards gets the retained last will.
    const late = await connectAsync(broker.url, { clientId: 'agent-test-late' });
    try {
      const retained = await waitFor('retained offline status', async () => {
        const got: StatusMessage[] = [];
        late.on('message', (_t, payload) =>
          got.push(StatusMessageSchema.parse(JSON.parse(payload.toString()))),
        );
        await late.subscribeAsync('cloudsense/v1/hosts/agent-e2e-2/status', { qos: 1 });
        await new Promise((r) => setTimeout(r, 200));
        await late.unsubscribeAsync('cloudsense/v1/hosts/agent-e2e-2/status');
        late.removeAllListeners('message');
        return got.find((s) => s.state === 'offline');
      });
      assert.equal(retained.hostId, 'agent-e2e-2');
    } finally {
      await late.endAsync();
    }
  });
});
