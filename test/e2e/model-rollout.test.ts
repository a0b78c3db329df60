/**
 * The model rollout end to end, with real processes: `cloudsense simulate
 * --days` writes a fleet's history into the data dir, whose catalog serves a
 * deliberately poor memory model; `cloudsense aggregator` runs with
 * retraining set to run soon and quickly; three `cloudsense agent`s (each
 * its own host id and data dir, the aggregator's public key) take that poor
 * model from `cloudsense model publish`. (A live `cloudsense simulate` fleet
 * is left out: its virtual hosts run no model updater, and its accelerated
 * hours of telemetry would land in the retrain's hold-out, making the
 * promotion depend on how long the test ran. The rollout's integration test
 * shows that hosts naming no model are never canaries.)
 *
 * Then, on its own, the aggregator retrains memory, promotes the challenger,
 * signs it and publishes it to one canary agent's own model topic: that
 * agent reports the new version while the others keep the old one. Once the
 * canary held, every agent reports it, in its status, its predictions and
 * the host registry (GET /api/v1/hosts/{id}). `POST
 * /api/v1/models/memory/rollback` then brings the poor model back on every
 * agent.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { ModelCatalog } from '../../aggregator/registry/model-catalog.js';
import { PredictionsMessageSchema } from '../../shared/wire/predictions.js';
import type { ModelRef } from '../../shared/wire/model-ref.js';
import { StatusMessageSchema } from '../../shared/wire/telemetry.js';
import { CliProcess, startAggregatorProcess } from '../helpers/cli-process.js';
import { writeTestModel } from '../helpers/forecast-models.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';

const AGENTS = ['edge-a', 'edge-b', 'edge-c'];
const CHAMPION = 'poor-champion';
/** Long enough for the agents to be up and serving the poor model before the first pass. */
const CHECK_INTERVAL = '30s';
/** Long enough for the canary agent to adopt the model and report it on a busy box. */
const CANARY_HOLD = '30s';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-model-rollout-e2e-'));
const dataDir = join(root, 'aggregator');
after(() => {
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

/** What an observer of the broker sees: each host's memory model in its status and predictions, and the model topics. */
class FleetObserver {
  readonly status = new Map<string, ModelRef | undefined>();
  readonly predicted = new Map<string, ModelRef>();
  /** Non-empty model messages by topic, in arrival order. */
  readonly modelTopics: string[] = [];

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      if (topic.includes('/models/')) {
        this.modelTopics.push(topic);
        return;
      }
      const json: unknown = JSON.parse(payload.toString());
      if (topic.endsWith('/status')) {
        const status = StatusMessageSchema.parse(json);
        if (status.state === 'online') this.status.set(status.hostId, status.models?.memory);
      } else if (topic.endsWith('/predictions')) {
        const message = PredictionsMessageSchema.parse(json);
        const memory = message.predictions.find((p) => p.resource === 'memory');
        if (memory) this.predicted.set(message.hostId, memory.model);
      }
    });
  }

  /** The agents whose status and latest predictions both name `version` for memory. */
  serving(version: string): string[] {
    return AGENTS.filter(
      (id) => this.status.get(id)?.version === version && this.predicted.get(id)?.version === version,
    );
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function run(args: string[]): Promise<CliProcess> {
  const proc = CliProcess.start(args);
  const { code } = await proc.exited;
  await proc.closed;
  assert.equal(code, 0, `cloudsense ${args.join(' ')}:\n${proc.output}`);
  return proc;
}

describe('model rollout: retrain, canary, fleet, rollback', () => {
  it(
    'the aggregator promotes a better model, a canary agent gets it first, then every agent, and a rollback brings the old one back',
    { timeout: 300_000 },
    async (t) => {
      const started = Date.now();
      const mark = (what: string) => t.diagnostic(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
      // History of leaking API services: memory exhaustions every few days per host.
      await run([
        'simulate',
        '--hosts',
        '6',
        '--days',
        '8',
        '--interval',
        '300',
        '--profiles',
        'api',
        '--seed',
        '7',
        // A fixed start: the same history (and so the same retrain outcome) on every run.
        '--start',
        '2025-03-03T00:00:00Z',
        '--data-dir',
        dataDir,
        '--log-format',
        'json',
      ]);
      await run(['keys', 'generate', '--out', join(dataDir, 'keys')]);
      // The model serving memory now: alerts only above 99 %, when the exhaustion is there already.
      const bytes = writeTestModel(join(dataDir, 'champion'), 'memory', { splitAt: 0.99, runId: CHAMPION });
      await new ModelCatalog(dataDir).promote({
        resource: 'memory',
        runId: CHAMPION,
        path: 'champion/memory.onnx',
        sha256: sha256Hex(bytes),
      });
      const configFile = join(root, 'aggregator.yaml');
      writeFileSync(
        configFile,
        [
          'aggregator:',
          // The fixed history is older than the raw retention: keep it.
          '  store: { retention: { enabled: false } }',
          '  retraining:',
          `    checkInterval: ${CHECK_INTERVAL}`,
          '    resources: [memory]',
          '    minHistory: 2d',
          '    search: { trials: 0 }',
          `    rollout: { canaryPercent: 34, canaryHold: ${CANARY_HOLD} }`,
          '',
        ].join('\n'),
      );
      mark('history written');

      const ports = { http: await freePort(), mqtt: await freePort() };
      const brokerUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
      const api = `http://127.0.0.1:${ports.http}`;
      const aggregator = await startAggregatorProcess({
        dataDir,
        ports,
        args: ['--config', configFile],
        readyTimeoutMs: 60_000,
      });
      const observer = new FleetObserver(await connectAsync(brokerUrl, { clientId: 'rollout-observer' }));
      await observer.client.subscribeAsync(
        [
          'cloudsense/v1/hosts/+/status',
          'cloudsense/v1/hosts/+/predictions',
          'cloudsense/v1/hosts/+/models/+',
          'cloudsense/v1/models/+',
        ],
        { qos: 1 },
      );
      const agentModels = join(root, 'agent-models');
      writeTestModel(agentModels, 'memory', { runId: 'bundled-memory' });
      const agents = AGENTS.map((hostId) =>
        CliProcess.start(
          [
            'agent',
            '--host-id',
            hostId,
            '--interval',
            '1',
            '--mqtt-port',
            String(ports.mqtt),
            '--data-dir',
            join(root, hostId),
            '--log-format',
            'json',
          ],
          {
            CLOUDSENSE_AGENT__MODELS__DIR: agentModels,
            CLOUDSENSE_AGENT__MODELS__PUBLIC_KEY: join(dataDir, 'keys', 'model-signing.pub'),
          },
        ),
      );
      try {
        // Every agent serves the poor model, as the fleet had it before the retrain.
        await run([
          'model',
          'publish',
          '--kind',
          'memory',
          '--model',
          join(dataDir, 'champion', 'memory.onnx'),
          '--key',
          join(dataDir, 'keys', 'model-signing.key'),
          '--model-version',
          CHAMPION,
          '--broker',
          brokerUrl,
        ]);
        await waitFor('every agent serving the poor model', () =>
          observer.serving(CHAMPION).length === AGENTS.length ? true : undefined,
        );
        mark('every agent serves the poor model');

        // On its own: retrain, promote, canary on one agent's own topic.
        const canaryTopic = await waitFor(
          'a canary model on an agent’s own topic',
          () => observer.modelTopics.find((topic) => topic.startsWith('cloudsense/v1/hosts/')),
          180_000,
        ).catch((err: unknown) => {
          const story = aggregator.lines.filter((l) => /retrain|rollout|promot|canary|model/i.test(l));
          throw new Error(`${String(err)}; the aggregator said:\n${story.slice(-30).join('\n')}`);
        });
        const canaryHost = canaryTopic.split('/')[3]!;
        assert.ok(AGENTS.includes(canaryHost), `the canary is a real agent, not ${canaryHost}`);
        const [promotion] = await getJson<{
          promotions: Array<{ decision: string; model?: { version: string } }>;
        }>(`${api}/api/v1/models/promotions`).then((body) => body.promotions);
        assert.equal(promotion?.decision, 'promoted');
        const version = promotion.model!.version;
        assert.notEqual(version, CHAMPION);
        mark(`${version} promoted; canary ${canaryHost}`);

        await waitFor('the canary agent serving the new model', () =>
          observer.serving(version).includes(canaryHost) ? true : undefined,
        );
        const others = AGENTS.filter((id) => id !== canaryHost);
        assert.deepEqual(observer.serving(version), [canaryHost], 'only the canary has it');
        assert.deepEqual(
          others.filter((id) => observer.status.get(id)?.version === CHAMPION),
          others,
          'the rest of the fleet keeps the old model during the canary',
        );
        mark('the canary agent serves it');

        await waitFor(
          'every agent serving the new model',
          () => (observer.serving(version).length === AGENTS.length ? true : undefined),
          120_000,
        );
        mark('every agent serves it');
        const { rollouts } = await getJson<{
          rollouts: Array<{ key: string; stage: string; canary?: { held: boolean } }>;
        }>(`${api}/api/v1/models/rollouts`);
        const memory = rollouts.find((r) => r.key === 'memory');
        assert.equal(memory?.stage, 'fleet');
        assert.equal(memory?.canary?.held, true);
        for (const id of AGENTS) {
          const host = await getJson<{ models: Record<string, ModelRef> | null }>(
            `${api}/api/v1/hosts/${id}`,
          );
          assert.equal(host.models?.memory?.version, version, `the host registry names it for ${id}`);
        }

        const response = await fetch(`${api}/api/v1/models/memory/rollback`, { method: 'POST' });
        assert.equal(response.status, 200, await response.text());
        await waitFor(
          'every agent serving the old model again',
          () => (observer.serving(CHAMPION).length === AGENTS.length ? true : undefined),
          60_000,
        );
        mark('rolled back everywhere');
      } finally {
        await observer.client.endAsync();
        for (const agent of agents) await agent.stop('SIGTERM');
      }
      assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);
    },
  );
});
