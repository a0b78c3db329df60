/**
 * The model rollout end to end, with real processes: `cloudsense simulate
 * --days` writes a fleet's history into the data dir, whose catalog serves a
 * deliberately poor memory model; `cloudsense aggregator` runs with
 * retraining set to run soon and quickly; the fleet it serves is three
 * `cloudsense agent`s (each its own host id and data dir, the aggregator's
 * public key) and a live `cloudsense simulate --hosts 4 --speed 5
 * --model-key …` fleet whose virtual hosts run the agent's model updater.
 * All of them take that poor model from `cloudsense model publish`.
 *
 * The live fleet runs at a modest speed on purpose. Its telemetry must be
 * fresh for the aggregator to count its hosts online (only online hosts
 * serving the key are canary candidates), so its clock starts now. At
 * `--speed 5` the retrain sees a few simulated minutes of it, short of the
 * memory horizon (30 min), and its idle hosts never come near exhaustion:
 * none of its rows gets a label, and the retrain's hold-out judges the
 * pinned history, as it does with the agents' few minutes.
 *
 * Then, on its own, the aggregator retrains memory, promotes the challenger,
 * signs it and publishes it to the canary hosts' own model topics: they
 * report the new version while the others keep the old one. Once the canary
 * held, every host reports it in its status and the host registry (GET
 * /api/v1/hosts/{id}), and every agent in its predictions too (virtual hosts
 * do not score). `POST /api/v1/models/memory/rollback` then brings the poor
 * model back on every host.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { ModelCatalog } from '../../aggregator/registry/model-catalog.js';
import { EventMessageSchema } from '../../shared/wire/events.js';
import { PredictionsMessageSchema } from '../../shared/wire/predictions.js';
import type { ModelRef } from '../../shared/wire/model-ref.js';
import { StatusMessageSchema } from '../../shared/wire/telemetry.js';
import { CliProcess, startAggregatorProcess, startAgentProcess } from '../helpers/cli-process.js';
import { writeTestModel } from '../helpers/forecast-models.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';

const AGENTS = ['edge-a', 'edge-b', 'edge-c'];
/** The live simulated fleet: `--hosts 4 --host-prefix live`. */
const SIMULATED = ['live-000', 'live-001', 'live-002', 'live-003'];
const FLEET = [...AGENTS, ...SIMULATED];
const CHAMPION = 'poor-champion';
/** Long enough for the agents and the simulated fleet to be up and serving the poor model before the first pass. */
const CHECK_INTERVAL = '40s';
/** Long enough for the canary agent to adopt the model and report it on a busy box. */
const CANARY_HOLD = '30s';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-model-rollout-e2e-'));
const dataDir = join(root, 'aggregator');
after(() => {
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

/**
 * What an observer of the broker sees: each host's memory model in its status
 * and predictions, and the model topics (the models' own messages, and the
 * hosts' statuses, in one arrival order).
 */
class FleetObserver {
  readonly status = new Map<string, ModelRef | undefined>();
  readonly predicted = new Map<string, ModelRef>();
  /** Non-empty model messages by topic, in arrival order. */
  readonly modelTopics: string[] = [];
  /** `model.adopted` events: host and the version it adopted for memory. */
  readonly adopted: Array<{ hostId: string; version: string | undefined }> = [];

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
      } else if (topic.endsWith('/events')) {
        const event = EventMessageSchema.parse(json);
        if (event.type === 'model.adopted' && event.resource === 'memory') {
          this.adopted.push({ hostId: event.hostId, version: event.model.version });
        }
      } else if (topic.endsWith('/predictions')) {
        const message = PredictionsMessageSchema.parse(json);
        const memory = message.predictions.find((p) => p.resource === 'memory');
        if (memory) this.predicted.set(message.hostId, memory.model);
      }
    });
  }

  /**
   * The hosts serving `version` for memory: agents whose status and latest
   * predictions both name it, virtual hosts whose status does.
   */
  serving(version: string): string[] {
    return FLEET.filter(
      (id) =>
        this.status.get(id)?.version === version &&
        (!AGENTS.includes(id) || this.predicted.get(id)?.version === version),
    );
  }
}

/** The memory model a simulated host saved (on the fleet topic, or its own during a canary), as text. */
function savedModel(hostId: string): string | undefined {
  const dir = join(root, 'simulated', 'fleet-models', hostId);
  const file = [join(dir, 'memory.model.json'), join(dir, 'memory.host-model.json')].find(existsSync);
  try {
    return file === undefined ? undefined : readFileSync(file, 'utf8');
  } catch {
    return undefined; // replaced between the check and the read
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
    'the aggregator promotes a better model, the canary hosts get it first, then every agent and simulated host, and a rollback brings the old one back',
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
          'cloudsense/v1/hosts/+/events',
          'cloudsense/v1/hosts/+/models/+',
          'cloudsense/v1/models/+',
        ],
        { qos: 1 },
      );
      const agentModels = join(root, 'agent-models');
      writeTestModel(agentModels, 'memory', { runId: 'bundled-memory' });
      const simulated = CliProcess.start(
        [
          'simulate',
          '--hosts',
          String(SIMULATED.length),
          '--host-prefix',
          'live',
          '--speed',
          '5',
          '--interval',
          '5',
          '--profiles',
          'idle',
          '--model-key',
          join(dataDir, 'keys', 'model-signing.pub'),
          '--mqtt-port',
          String(ports.mqtt),
          '--data-dir',
          join(root, 'simulated'),
          '--log-format',
          'json',
        ],
        { CLOUDSENSE_AGENT__MODELS__DIR: agentModels },
      );
      let simulatedExit: { code: number | null } | undefined;
      const agents = AGENTS.map((hostId) =>
        startAgentProcess({
          hostId,
          mqttPort: ports.mqtt,
          dataDir: join(root, hostId),
          env: {
            CLOUDSENSE_AGENT__MODELS__DIR: agentModels,
            CLOUDSENSE_AGENT__MODELS__PUBLIC_KEY: join(dataDir, 'keys', 'model-signing.pub'),
          },
        }),
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
        await waitFor(
          'every agent and simulated host serving the poor model',
          () => (observer.serving(CHAMPION).length === FLEET.length ? true : undefined),
          60_000,
        ).catch((err: unknown) => {
          throw new Error(`${String(err)}; the simulation said:\n${simulated.lines.slice(-20).join('\n')}`);
        });
        mark('every agent and simulated host serves the poor model');

        // On its own: retrain, promote, canary on one agent's own topic.
        const canaryTopic = await waitFor(
          'a canary model on a host’s own topic',
          () => observer.modelTopics.find((topic) => topic.startsWith('cloudsense/v1/hosts/')),
          180_000,
        ).catch((err: unknown) => {
          const story = aggregator.lines.filter((l) => /retrain|rollout|promot|canary|model/i.test(l));
          throw new Error(`${String(err)}; the aggregator said:\n${story.slice(-30).join('\n')}`);
        });
        const canaryHost = canaryTopic.split('/')[3]!;
        assert.ok(FLEET.includes(canaryHost), `the canary is a host of the fleet, not ${canaryHost}`);
        const [promotion] = await getJson<{
          promotions: Array<{ decision: string; model?: { version: string } }>;
        }>(`${api}/api/v1/models/promotions`).then((body) => body.promotions);
        assert.equal(promotion?.decision, 'promoted');
        const version = promotion.model!.version;
        assert.notEqual(version, CHAMPION);
        mark(`${version} promoted; canary ${canaryHost}`);

        // The canary hosts as the rollout recorded them (its state is saved with the canary).
        const canaryHosts = await waitFor('the canary hosts in the rollout state', async () => {
          const { rollouts } = await getJson<{
            rollouts: Array<{ key: string; stage: string; canaryHosts?: string[] }>;
          }>(`${api}/api/v1/models/rollouts`);
          const memory = rollouts.find((r) => r.key === 'memory' && r.stage === 'canary');
          return memory?.canaryHosts?.length ? [...memory.canaryHosts].sort() : undefined;
        });
        assert.ok(
          canaryHosts.includes(canaryHost),
          `${canaryHost} is a canary host: ${canaryHosts.join(', ')}`,
        );
        await waitFor('the canary hosts serving the new model', () =>
          canaryHosts.every((id) => observer.serving(version).includes(id)) ? true : undefined,
        );
        assert.ok(
          canaryHosts.some((id) => SIMULATED.includes(id)),
          `a simulated host is among the canaries (by rollout bucket): ${canaryHosts.join(', ')}`,
        );
        const others = FLEET.filter((id) => !canaryHosts.includes(id));
        assert.ok(others.length > 0, `some hosts are not canaries: ${canaryHosts.join(', ')}`);
        assert.deepEqual(observer.serving(version).sort(), canaryHosts, 'only the canary hosts have it');
        assert.deepEqual(
          others.filter((id) => observer.status.get(id)?.version === CHAMPION),
          others,
          'the rest of the fleet keeps the old model during the canary',
        );
        mark(`the canary hosts serve it: ${canaryHosts.join(', ')}`);

        await waitFor(
          'every agent and simulated host serving the new model',
          () => (observer.serving(version).length === FLEET.length ? true : undefined),
          120_000,
        );
        mark('every agent and simulated host serves it');
        for (const id of SIMULATED) {
          assert.ok(
            observer.adopted.some((a) => a.hostId === id && a.version === version),
            `${id} published its model.adopted event`,
          );
          // Saved once adopted (the status goes out first), as the signed message it came in.
          await waitFor(`${id} keeping the new model in the simulation's data dir`, () =>
            savedModel(id)?.includes(version) ? true : undefined,
          );
        }
        const { rollouts } = await getJson<{
          rollouts: Array<{ key: string; stage: string; canary?: { held: boolean } }>;
        }>(`${api}/api/v1/models/rollouts`);
        const memory = rollouts.find((r) => r.key === 'memory');
        assert.equal(memory?.stage, 'fleet');
        assert.equal(memory?.canary?.held, true);
        for (const id of FLEET) {
          const host = await getJson<{ models: Record<string, ModelRef> | null }>(
            `${api}/api/v1/hosts/${id}`,
          );
          assert.equal(host.models?.memory?.version, version, `the host registry names it for ${id}`);
        }

        const response = await fetch(`${api}/api/v1/models/memory/rollback`, { method: 'POST' });
        assert.equal(response.status, 200, await response.text());
        await waitFor(
          'every agent and simulated host serving the old model again',
          () => (observer.serving(CHAMPION).length === FLEET.length ? true : undefined),
          60_000,
        );
        mark('rolled back everywhere');
      } finally {
        await observer.client.endAsync();
        for (const agent of agents) await agent.stop('SIGTERM');
        simulatedExit = await simulated.stop('SIGTERM');
      }
      assert.equal(simulatedExit?.code, 0, simulated.output);
      assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);
    },
  );
});
