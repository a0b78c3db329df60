/**
 * Signed model updates end to end, with real processes: `cloudsense keys
 * generate` makes the key pair, `cloudsense aggregator` runs the broker and
 * store, `cloudsense agent` holds the public key and a small model dir. A
 * plain MQTT client publishes retained models with a bad signature, a bad
 * SHA-256 and a wrong feature-schema hash: each is refused with a
 * `model.rejected` event while the agent keeps predicting with its model.
 * Then `cloudsense model publish` sends a good one, adopted within 5 s; the
 * agent reports it in its status, keeps it after probation, and a restarted
 * agent (the retained message cleared) starts with it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { generateSigningKeyPair, parseSigningKey } from '../../shared/signing/ed25519.js';
import { EventMessageSchema, type EventMessage } from '../../shared/wire/events.js';
import { PredictionsMessageSchema, type PredictionsMessage } from '../../shared/wire/predictions.js';
import { StatusMessageSchema, type StatusMessage } from '../../shared/wire/telemetry.js';
import { modelTopic } from '../../shared/wire/topics.js';
import { CliProcess, startAggregatorProcess, startAgentProcess } from '../helpers/cli-process.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { writeTestModel } from '../helpers/forecast-models.js';
import { freePort, waitFor } from '../helpers/net.js';
import { forecastBytes, payloadOf, signedModel } from '../helpers/signed-models.js';

const HOST = 'model-updates-e2e';
/** The figure: a good model is adopted within this long of being published. */
const ADOPT_WITHIN_MS = 5000;

const root = mkdtempSync(join(tmpdir(), 'cloudsense-model-updates-e2e-'));
const keysDir = join(root, 'keys');
const modelDir = join(root, 'models');
const agentDir = join(root, 'agent');
const storeDir = join(root, 'aggregator');
after(() => {
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

before(() => {
  writeTestModel(modelDir, 'cpu');
  writeTestModel(modelDir, 'memory');
});

/** What an observer sees of the host: predictions, events and the retained status. */
class HostObserver {
  readonly predictions: PredictionsMessage[] = [];
  readonly events: EventMessage[] = [];
  status: StatusMessage | undefined;

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      const json: unknown = JSON.parse(payload.toString());
      if (topic.endsWith('/predictions')) this.predictions.push(PredictionsMessageSchema.parse(json));
      else if (topic.endsWith('/events')) this.events.push(EventMessageSchema.parse(json));
      else if (topic.endsWith('/status')) this.status = StatusMessageSchema.parse(json);
    });
  }

  /** The cpu model of the latest predictions. */
  cpuModel(after = 0) {
    for (const message of this.predictions.slice(after).reverse()) {
      const cpu = message.predictions.find((p) => p.resource === 'cpu');
      if (cpu) return cpu.model;
    }
    return undefined;
  }
}

function startAgent(mqttPort: number): CliProcess {
  return startAgentProcess({
    hostId: HOST,
    mqttPort: mqttPort,
    dataDir: agentDir,
    env: {
      CLOUDSENSE_AGENT__MODELS__DIR: modelDir,
      CLOUDSENSE_AGENT__MODELS__PUBLIC_KEY: join(keysDir, 'model-signing.pub'),
    },
  });
}

describe('signed model updates', () => {
  it('keys generate writes the pair, the private key readable by its owner only', async () => {
    const proc = CliProcess.start(['keys', 'generate', '--out', keysDir]);
    await proc.closed;
    assert.equal((await proc.exited).code, 0, proc.output);
    assert.equal(statSync(join(keysDir, 'model-signing.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(keysDir, 'model-signing.pub'), 'utf8'), /BEGIN PUBLIC KEY/);
    assert.match(proc.stdout, /agent\.models\.publicKey: [A-Za-z0-9+/]{43}=/);
    const again = CliProcess.start(['keys', 'generate', '--out', keysDir]);
    assert.equal((await again.exited).code, 2, 'an existing pair is not overwritten');
  });

  it(
    'refuses tampered models, adopts a good one within 5 s, and a restarted agent keeps it',
    { timeout: 90_000 },
    async () => {
      const ports = { http: await freePort(), mqtt: await freePort() };
      const brokerUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
      const aggregator = await startAggregatorProcess({ dataDir: storeDir, ports });
      const observer = new HostObserver(await connectAsync(brokerUrl, { clientId: 'model-observer' }));
      await observer.client.subscribeAsync(`cloudsense/v1/hosts/${HOST}/+`, { qos: 1 });
      // A plain MQTT client, as anyone on the broker could be.
      const intruder = await connectAsync(brokerUrl, { clientId: 'model-intruder' });

      let agent = startAgent(ports.mqtt);
      try {
        await waitFor('predictions with the bundled cpu model', () =>
          observer.cpuModel()?.source === 'bundled' ? true : undefined,
        );
        const signingKey = parseSigningKey(readFileSync(join(keysDir, 'model-signing.key'), 'utf8'));
        const stranger = parseSigningKey(generateSigningKeyPair().privateKeyPem);
        const good = signedModel(signingKey, 'cpu', { description: { version: 'tampered' } });
        const otherBytes = Buffer.from(forecastBytes('cpu', { splitAt: 0.1 })).toString('base64');
        const attempts: Array<[string, Buffer]> = [
          ['signature', payloadOf(signedModel(stranger, 'cpu'))],
          ['hash', payloadOf({ ...good, onnx: otherBytes })],
          [
            'schema',
            payloadOf(signedModel(signingKey, 'cpu', { description: { featureSchemaHash: 'f'.repeat(64) } })),
          ],
        ];
        for (const [reason, payload] of attempts) {
          await intruder.publishAsync(modelTopic('cpu'), payload, { qos: 1, retain: true });
          await waitFor(`a model.rejected event for ${reason}`, () =>
            observer.events.some((e) => e.type === 'model.rejected' && e.reason === reason)
              ? true
              : undefined,
          );
        }
        const seen = observer.predictions.length;
        await waitFor('two more cycles of predictions', () =>
          observer.predictions.length >= seen + 2 ? true : undefined,
        );
        assert.equal(observer.cpuModel(seen)?.source, 'bundled', 'still the old model');
        assert.equal(
          observer.events.some((e) => e.type === 'model.adopted'),
          false,
        );

        // The good one, through the CLI.
        const modelFile = join(root, 'fleet-cpu.onnx');
        writeFileSync(modelFile, forecastBytes('cpu', { runId: 'fleet-run-cpu' }));
        const publisher = CliProcess.start([
          'model',
          'publish',
          '--kind',
          'cpu',
          '--model',
          modelFile,
          '--key',
          join(keysDir, 'model-signing.key'),
          '--model-version',
          'fleet-v2',
          '--broker',
          brokerUrl,
        ]);
        await publisher.waitForLine(/published retained/);
        const publishedAt = Date.now();
        await waitFor(
          'predictions with the fleet model',
          () => (observer.cpuModel()?.version === 'fleet-v2' ? true : undefined),
          ADOPT_WITHIN_MS,
          50,
        );
        const adoptMs = Date.now() - publishedAt;
        process.stdout.write(`# good model in the predictions ${adoptMs} ms after it was published\n`);
        assert.equal((await publisher.exited).code, 0, publisher.output);
        assert.deepEqual(observer.cpuModel(), {
          source: 'fleet',
          runId: 'fleet-run-cpu',
          version: 'fleet-v2',
        });
        await waitFor('the status naming the fleet model', () =>
          observer.status?.models?.cpu?.version === 'fleet-v2' ? true : undefined,
        );
        assert.equal(observer.status?.models?.memory?.source, 'bundled');

        // Kept once it has scored its first cycles; then the restart must come from the saved copy.
        const saved = join(agentDir, 'fleet-models', HOST, 'cpu.model.json');
        await waitFor('the adopted model saved in the data dir', () =>
          existsSync(saved) ? true : undefined,
        );
        await intruder.publishAsync(modelTopic('cpu'), Buffer.alloc(0), { qos: 1, retain: true });
        assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);

        const restartedAt = observer.predictions.length;
        agent = startAgent(ports.mqtt);
        await agent.waitForLine(/fleet model restored from the data dir/);
        await waitFor('predictions after the restart', () =>
          observer.cpuModel(restartedAt) !== undefined ? true : undefined,
        );
        assert.deepEqual(observer.cpuModel(restartedAt), {
          source: 'fleet',
          runId: 'fleet-run-cpu',
          version: 'fleet-v2',
        });
        assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
      } finally {
        await intruder.endAsync();
        await observer.client.endAsync();
        await agent.stop('SIGTERM');
      }
      assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);

      const stored = (await queryClosedStore(
        storeDir,
        `SELECT type, resource, json_extract_string(message, '$.reason'), json_extract_string(message, '$.model.version')
         FROM events WHERE host_id = $host AND type LIKE 'model.%' ORDER BY seq`,
        { host: HOST },
      )) as Array<[string, string, string | null, string | null]>;
      assert.deepEqual(stored, [
        ['model.rejected', 'cpu', 'signature', null],
        ['model.rejected', 'cpu', 'hash', null],
        ['model.rejected', 'cpu', 'schema', null],
        ['model.adopted', 'cpu', null, 'fleet-v2'],
      ]);
    },
  );
});
