/**
 * The retraining loop on a real DuckDB data dir filled by the simulator's
 * history writer: a challenger trained in a worker thread is promoted over
 * a deliberately poor champion, an equal champion is kept, a drift check
 * passes the unshifted history and flags a shifted one, and a rollback puts
 * the replaced model back. Then the rollout (signing key, canary, fleet)
 * against a real embedded broker, and a real `cloudsense aggregator` that
 * retrains on its own and publishes the signed model.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import pino from 'pino';
import { dataDirStore } from '../../aggregator/aggregator.js';
import { EmbeddedBroker } from '../../aggregator/broker/embedded-broker.js';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { ModelCatalog } from '../../aggregator/registry/model-catalog.js';
import { RetrainingSectionSchema } from '../../aggregator/retraining/config.js';
import type { PromotedModel } from '../../aggregator/retraining/promoted-model.js';
import { RetrainingLoop, RollbackError } from '../../aggregator/retraining/retraining-loop.js';
import { COMPARISON_ARTIFACT, DRIFT_REFERENCE_ARTIFACT } from '../../aggregator/retraining/retraining-run.js';
import { ModelRollout, type RolloutHost, chooseCanaryHosts } from '../../aggregator/retraining/rollout.js';
import type { TelemetryStore } from '../../aggregator/storage/telemetry-store.js';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { parseVerifyKey } from '../../shared/signing/ed25519.js';
import { verifyModelMessage } from '../../shared/signing/signed-model.js';
import type { EventMessage } from '../../shared/wire/events.js';
import type { PredictionsMessage } from '../../shared/wire/predictions.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { writeHistory } from '../../simulator/history/history-writer.js';
import { Simulation } from '../../simulator/simulation.js';
import { CliProcess } from '../helpers/cli-process.js';
import { writeTestModel } from '../helpers/forecast-models.js';
import { freePort, waitFor } from '../helpers/net.js';

const START_MS = Date.parse('2025-03-03T00:00:00Z');
const DAYS = 8;
const INTERVAL_S = 300;
const HOSTS = 6;
const DAY_MS = 86_400_000;

const dirs: string[] = [];
after(() => {
  CliProcess.killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const log = pino({ level: 'silent' });

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A fleet of leaking API services: memory exhaustions every few days per host. */
async function fillHistory(store: TelemetryStore, days: number): Promise<void> {
  const simulation = new Simulation({
    mode: 'history',
    seed: 7,
    hosts: HOSTS,
    hostPrefix: 'sim',
    profiles: ['api'],
    intervalSeconds: INTERVAL_S,
    startMs: START_MS,
    days,
  });
  const result = await writeHistory({
    simulation,
    store,
    ticks: Math.floor((days * DAY_MS) / (INTERVAL_S * 1000)),
    batchMessages: 500,
  });
  assert.equal(result.completed, true);
}

describe('retraining loop on a simulated fleet history', { timeout: 600_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cloudsense-retraining-'));
  dirs.push(dataDir);
  const config = AggregatorConfigSchema.parse({ dataDir });
  const store = dataDirStore(dataDir, config.aggregator.store);
  const catalog = new ModelCatalog(dataDir);
  const promoted: PromotedModel[] = [];
  const settings = RetrainingSectionSchema.parse({
    minHistory: '2d',
    search: { trials: 0 },
  });
  const loop = new RetrainingLoop({
    store,
    dataDir,
    settings,
    log,
    onPromoted: (model) => {
      promoted.push(model);
    },
  });
  let championRunId = '';
  let challengerRunId = '';

  before(async () => {
    await store.start();
    await fillHistory(store, DAYS);
    // A deliberately poor champion: alerts only above 99 % memory, when the exhaustion is there already.
    const bytes = writeTestModel(join(dataDir, 'champion'), 'memory', {
      splitAt: 0.99,
      runId: 'poor-champion',
    });
    championRunId = 'poor-champion';
    await catalog.promote({
      resource: 'memory',
      runId: championRunId,
      path: 'champion/memory.onnx',
      sha256: sha256Hex(bytes),
    });
    await loop.start();
  });

  after(async () => {
    await loop.stop();
    await store.stop();
  });

  it('trains a challenger in a worker thread and promotes it over a poorer champion', async (t) => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const record = await loop.retrain('memory');
    delay.disable();
    t.diagnostic(
      `retrain took ${((performance.now() - started) / 1000).toFixed(1)} s; main-thread event-loop delay ` +
        `p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`,
    );
    assert.equal(record.decision, 'promoted', record.reason);
    assert.equal(record.trigger, 'manual');
    assert.deepEqual(record.champion, { source: 'trained', runId: championRunId });
    assert.equal(record.previous?.runId, championRunId);
    challengerRunId = record.challengerRunId!;

    // The catalog serves the challenger, and the rollout got its record with files that exist.
    const current = (await catalog.entries()).memory!;
    assert.equal(current.runId, challengerRunId);
    assert.equal(promoted.length, 1);
    const model = promoted[0]!;
    assert.equal(model.key, 'memory');
    assert.equal(model.runId, challengerRunId);
    assert.ok(existsSync(model.modelPath), model.modelPath);
    assert.equal(sha256Hex(readFileSync(model.modelPath)), model.sha256);
    assert.ok(model.band && existsSync(model.band.p50), 'the band models are promoted with it');

    // The run is recorded with the comparison, the decision and the drift reference.
    const [run] = await loop.listRuns();
    assert.ok(run);
    assert.equal(run.runId, record.retrainingRunId);
    assert.equal(run.status, 'finished');
    assert.equal(run.tags.decision, 'promoted');
    assert.equal(run.tags.challengerRunId, challengerRunId);
    assert.equal(run.tags.champion, championRunId);
    assert.ok(
      run.metrics.challenger_pr_auc! > run.metrics.champion_pr_auc! + settings.promotion.minPrAucGain,
    );
    assert.ok(run.metrics.holdout_positives! > 0);
    for (const rule of ['static_threshold', 'predict_linear', 'fill_rate']) {
      assert.ok(run.metrics.challenger_pr_auc! > run.metrics[`rule_${rule}_pr_auc`]!, rule);
    }
    const names = run.artifacts.map((a) => a.name).sort();
    assert.deepEqual(names, [COMPARISON_ARTIFACT, DRIFT_REFERENCE_ARTIFACT].sort());
    const comparison = JSON.parse(
      readFileSync(
        join(dataDir, 'runs', run.runId, run.artifacts.find((a) => a.name === COMPARISON_ARTIFACT)!.path),
        'utf8',
      ),
    ) as { holdout: { from: string }; challenger: { runId: string }; champion: { runId: string } };
    assert.equal(comparison.challenger.runId, challengerRunId);
    assert.equal(comparison.champion.runId, championRunId);
    // The challenger learned only from before the hold-out.
    const training = await loop.registry.getRun(challengerRunId);
    assert.equal(training?.dataRange.to, comparison.holdout.from);

    const [logged] = await loop.listPromotions();
    assert.equal(logged?.decision, 'promoted');
    assert.equal(logged?.retrainingRunId, run.runId);
  });

  it('finds no drift in the history the model was chosen on', async () => {
    const check = await loop.checkDrift('memory');
    assert.equal(check.modelRunId, challengerRunId);
    assert.ok('rows' in check.features, JSON.stringify(check.features));
    assert.ok(check.features.rows > 0);
    assert.equal(check.drifted, false, check.reasons.join('; '));
  });

  it('keeps a champion the challenger does not beat by the margin', async () => {
    // Same history, same seed: the new challenger is as good as the one now serving.
    const record = await loop.retrain('memory');
    assert.equal(record.decision, 'rejected', record.reason);
    assert.match(record.reason, /champion/);
    assert.equal((await catalog.entries()).memory!.runId, challengerRunId, 'the champion still serves');
    assert.equal(promoted.length, 1, 'nothing new to roll out');
    const [run] = await loop.listRuns();
    assert.equal(run?.tags.decision, 'rejected');
    assert.equal(run?.tags.champion, challengerRunId);
    const decisions = (await loop.listPromotions()).map((p) => p.decision);
    assert.deepEqual(decisions, ['rejected', 'promoted']);
  });

  it('flags two days whose load halved as drift', async () => {
    // The next two days of every host again, at half the memory use: the level features all move.
    const endMs = START_MS + DAYS * DAY_MS;
    const shifted: TelemetryMessage[] = [];
    for (const host of await store.latestPerHost()) {
      const [series] = await store.querySeries({
        hostId: host.hostId,
        metric: METRIC.memoryUtilization.name,
        from: endMs - 2 * DAY_MS,
        to: endMs,
        limit: 100_000,
      });
      const used = series?.attributes[ATTR.memoryState] === 'used' ? series : undefined;
      assert.ok(used, `${host.hostId} has a memory series`);
      for (const [t, v] of used.points) {
        shifted.push({
          schemaVersion: 1,
          hostId: host.hostId,
          seq: 0,
          timestamp: t + 2 * DAY_MS,
          intervalSeconds: INTERVAL_S,
          metrics: [
            { name: METRIC.memoryUtilization.name, unit: '1', value: v / 2, attributes: used.attributes },
          ],
        });
      }
    }
    await store.write(shifted);
    const check = await loop.checkDrift('memory');
    assert.equal(check.drifted, true, JSON.stringify(check.features));
    assert.match(check.reasons[0]!, /features shifted/);
    assert.equal(new Date(check.window.to).getTime(), endMs + 2 * DAY_MS - INTERVAL_S * 1000);
    assert.match(check.performance.notes.join('\n'), /not judged/, 'no forecasts stored yet');
    const checks = await loop.listDriftChecks();
    assert.deepEqual(
      checks.map((c) => c.drifted),
      [true, false],
    );
  });

  it('flags live precision that fell below validation, from the forecasts agents stored', async () => {
    // The serving model warned on every cycle of the two calm days: not one warning came true.
    const endMs = START_MS + (DAYS + 2) * DAY_MS;
    const forecasts: PredictionsMessage[] = [];
    for (const host of await store.latestPerHost()) {
      for (let t = endMs - 2 * DAY_MS; t < endMs; t += INTERVAL_S * 1000) {
        forecasts.push({
          schemaVersion: 1,
          hostId: host.hostId,
          seq: 0,
          timestamp: t,
          predictions: [
            {
              resource: 'memory',
              probability: 0.9,
              alert: true,
              threshold: 0.3,
              horizonS: 1800,
              model: { source: 'fleet', runId: challengerRunId, version: challengerRunId },
            },
          ],
        });
      }
    }
    await store.write(forecasts);
    const check = await loop.checkDrift('memory');
    assert.equal(check.drifted, true);
    assert.equal(check.performance.precision, 0);
    assert.ok(check.performance.alerts > 1000, String(check.performance.alerts));
    assert.ok(check.performance.validation!.precision > 0.5, "the validation figure is the training run's");
    assert.ok(
      check.reasons.some((r) => /live precision 0\.000 is below validation/.test(r)),
      check.reasons.join('; '),
    );
  });

  it('rolls back to the model the promotion replaced, and refuses to go further back', async () => {
    const record = await loop.rollback('memory');
    assert.equal(record.decision, 'rolled_back');
    assert.equal((await catalog.entries()).memory!.runId, championRunId);
    assert.equal(promoted.at(-1)?.runId, championRunId, 'the rollout hears of the rollback');
    // A second rollback undoes the first.
    const again = await loop.rollback('memory');
    assert.equal(again.model?.runId, challengerRunId);
    assert.equal((await catalog.entries()).memory!.runId, challengerRunId);
    await assert.rejects(loop.rollback('cpu'), RollbackError);
  });
});

describe('retraining loop preconditions', { timeout: 300_000 }, () => {
  it('skips a resource whose history is too short, and records why', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cloudsense-retraining-short-'));
    dirs.push(dataDir);
    const config = AggregatorConfigSchema.parse({ dataDir });
    const store = dataDirStore(dataDir, config.aggregator.store);
    await store.start();
    const loop = new RetrainingLoop({
      store,
      dataDir,
      settings: RetrainingSectionSchema.parse({ resources: ['memory'], minHistory: '3d' }),
      log,
    });
    try {
      await fillHistory(store, 1);
      await loop.start();
      await loop.runPass();
      const [record] = await loop.listPromotions();
      assert.equal(record?.decision, 'skipped');
      assert.equal(record?.trigger, 'schedule');
      assert.match(record!.reason, /of history, needs 3d/);
      assert.deepEqual(await loop.listRuns(), [], 'nothing was trained');
      assert.ok(loop.status().lastAttempt.memory, 'the attempt counts for the schedule');
    } finally {
      await loop.stop();
      await store.stop();
    }
  });
});

describe('model rollout: signed, canary hosts first, then the fleet', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cloudsense-rollout-'));
  dirs.push(dataDir);
  const config = AggregatorConfigSchema.parse({ dataDir });
  const store = dataDirStore(dataDir, config.aggregator.store);
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log });
  const failed: string[] = [];
  const bundled = { memory: { source: 'bundled' as const, runId: 'baseline' } };
  // Three hosts serve memory; one online host names no model (a simulated one), one is offline.
  const hosts: RolloutHost[] = [
    { id: 'sim-1', online: true, models: { ...bundled } },
    { id: 'sim-2', online: true, models: { ...bundled } },
    { id: 'sim-3', online: true, models: { ...bundled } },
    { id: 'sim-4', online: true, models: null },
    { id: 'sim-5', online: false, models: { ...bundled } },
  ];
  const rollout = new ModelRollout({
    dataDir,
    settings: { canaryPercent: 25, canaryHold: 3_600_000 },
    publish: (topic, payload) => broker.publish(topic, payload, { qos: 1, retain: true }),
    store,
    hosts: () => hosts,
    log,
    onCanaryFailed: (key) => {
      failed.push(key);
    },
  });
  const model = (name: string): PromotedModel => {
    const dir = join(dataDir, name);
    const bytes = writeTestModel(dir, 'memory', { band: true, runId: name });
    return {
      key: 'memory',
      version: name,
      runId: name,
      modelPath: join(dir, 'memory.onnx'),
      sha256: sha256Hex(bytes),
      band: {
        p10: join(dir, 'memory.tte_p10.onnx'),
        p50: join(dir, 'memory.tte_p50.onnx'),
        p90: join(dir, 'memory.tte_p90.onnx'),
      },
      featureSchemaHash: FEATURE_SCHEMA.hash,
      operatingThreshold: 0.5,
      promotedAt: new Date().toISOString(),
    };
  };
  const event = (hostId: string, type: 'model.adopted' | 'model.rejected', sha256: string): EventMessage =>
    (type === 'model.adopted'
      ? {
          schemaVersion: 1,
          hostId,
          seq: 1,
          timestamp: Date.now(),
          resource: 'memory',
          detail: 'adopted',
          type,
          sha256,
          model: { source: 'fleet', runId: 'x', version: 'x' },
        }
      : {
          schemaVersion: 1,
          hostId,
          seq: 1,
          timestamp: Date.now(),
          resource: 'memory',
          detail: 'rejected',
          type,
          reason: 'schema',
          sha256,
        }) as EventMessage;
  /** Every model message, in the order published, as an agent-side observer sees them (empty: cleared). */
  const seen: Array<{ topic: string; version: string | null }> = [];
  let observer: MqttClient | undefined;
  const verify = (payload: Buffer) => {
    const verdict = verifyModelMessage(payload, {
      key: 'memory',
      publicKey: parseVerifyKey(rollout.publicKey().pem),
      featureSchemaHash: FEATURE_SCHEMA.hash,
    });
    assert.ok(verdict.ok, verdict.ok ? '' : verdict.detail);
    return verdict.model.manifest;
  };
  /** The retained message a newly connecting client gets on `topic`. */
  const retained = async (topic: string) => {
    const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      const got = new Promise<Buffer>((resolve) => client.once('message', (_t, payload) => resolve(payload)));
      await client.subscribeAsync(topic, { qos: 1 });
      return verify(await got);
    } finally {
      await client.endAsync();
    }
  };
  const seenAfter = async (count: number) => {
    await waitFor(`${count} model messages`, () => (seen.length >= count ? true : undefined));
    return seen.slice(0, count);
  };
  /** The rollout as a restarted aggregator runs it, on an embedded broker that starts empty (not started yet). */
  const restartOnFreshBroker = async () => {
    const fresh = new EmbeddedBroker({ host: '127.0.0.1', port: 0, log });
    await fresh.start();
    const restarted = new ModelRollout({
      dataDir,
      settings: { canaryPercent: 25, canaryHold: 3_600_000 },
      publish: (topic, payload) => fresh.publish(topic, payload, { qos: 1, retain: true }),
      store,
      hosts: () => hosts,
      log,
    });
    return { fresh, restarted };
  };
  const fleetTopic = 'cloudsense/v1/models/memory';
  const hostTopicOf = (hostId: string) => `cloudsense/v1/hosts/${hostId}/models/memory`;

  before(async () => {
    await store.start();
    await broker.start();
    await rollout.start();
    // The hosts the canary verdict reads events of.
    await store.write(
      ['sim-1', 'sim-2', 'sim-3'].map((hostId) => ({
        schemaVersion: 1,
        hostId,
        seq: 0,
        timestamp: Date.now(),
        intervalSeconds: 10,
        metrics: [
          { name: METRIC.memoryUtilization.name, unit: '1', value: 0.5, attributes: { state: 'used' } },
        ],
      })),
    );
    observer = await connectAsync(broker.url, { reconnectPeriod: 0 });
    observer.on('message', (topic, payload) => {
      seen.push({ topic, version: payload.length === 0 ? null : verify(payload).version });
    });
    await observer.subscribeAsync(['cloudsense/v1/models/+', 'cloudsense/v1/hosts/+/models/+'], { qos: 1 });
  });

  after(async () => {
    await observer?.endAsync();
    rollout.stop();
    await broker.stop();
    await store.stop();
  });

  it('generates the signing key pair in the data dir on first start, and keeps it', async () => {
    const key = join(dataDir, 'keys', 'model-signing.key');
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.match(readFileSync(join(dataDir, 'keys', 'model-signing.pub'), 'utf8'), /BEGIN PUBLIC KEY/);
    assert.equal(rollout.publicKey().base64.length, 44);
    const again = new ModelRollout({
      dataDir,
      settings: { canaryPercent: 0, canaryHold: 1000 },
      publish: async () => undefined,
      store,
      log,
    });
    await again.start();
    assert.equal(again.publicKey().pem, rollout.publicKey().pem);
    again.stop();
  });

  it('chooses a deterministic share of the online hosts that serve the key, at least one', () => {
    const one = chooseCanaryHosts(hosts, 'memory', 25);
    assert.equal(one.length, 1);
    assert.ok(['sim-1', 'sim-2', 'sim-3'].includes(one[0]!), one[0]);
    const two = chooseCanaryHosts(hosts, 'memory', 67);
    assert.equal(two.length, 2);
    assert.equal(two[0], one[0], 'a larger share keeps the hosts of a smaller one');
    assert.deepEqual(chooseCanaryHosts(hosts, 'cpu', 50), [], 'no host names a cpu model');
    assert.deepEqual(chooseCanaryHosts(hosts, 'filesystem:%2Fvar', 50), []);
  });

  it('puts a new model on the canary host’s own topic, the fleet topic keeping the old, then promotes it', async () => {
    await rollout.roll(model('run-0'), { immediate: true });
    assert.equal((await retained(fleetTopic)).version, 'run-0');
    const a = model('run-a');
    const canary = await rollout.roll(a);
    assert.equal(canary.stage, 'canary');
    const [canaryHost] = canary.canaryHosts!;
    assert.deepEqual(canary.canaryHosts, chooseCanaryHosts(hosts, 'memory', 25));
    const onHost = await retained(hostTopicOf(canaryHost!));
    assert.equal(onHost.version, 'run-a');
    assert.equal(onHost.targets, undefined);
    assert.ok(onHost.band, 'the band travels with it');
    assert.equal((await retained(fleetTopic)).version, 'run-0', 'the rest of the fleet keeps the old model');

    // The canary host adopted it and says so in its status.
    await store.write([event(canaryHost!, 'model.adopted', a.sha256)]);
    hosts.find((h) => h.id === canaryHost)!.models = {
      memory: { source: 'fleet', runId: 'run-a', version: 'run-a' },
    };
    const judged = await rollout.judgeCanary('memory');
    assert.equal(judged?.stage, 'fleet');
    assert.deepEqual(judged?.canary, { adopted: 1, rejected: 0, rolledBack: 0, missing: [], held: true });
    assert.equal((await retained(fleetTopic)).version, 'run-a');
    // Fleet topic first, then the canary topic cleared: the host never falls back to the old model.
    assert.deepEqual(await seenAfter(4), [
      { topic: fleetTopic, version: 'run-0' },
      { topic: hostTopicOf(canaryHost!), version: 'run-a' },
      { topic: fleetTopic, version: 'run-a' },
      { topic: hostTopicOf(canaryHost!), version: null },
    ]);
  });

  it('publishes the fleet model again when it starts on a broker that lost its retained messages', async () => {
    const { fresh, restarted } = await restartOnFreshBroker();
    const client = await connectAsync(fresh.url, { reconnectPeriod: 0 });
    try {
      await restarted.start();
      const got = new Promise<Buffer>((resolve) => client.once('message', (_t, payload) => resolve(payload)));
      await client.subscribeAsync(fleetTopic, { qos: 1 });
      assert.equal(verify(await got).version, 'run-a', 'the model the fleet was on');
    } finally {
      restarted.stop();
      await client.endAsync();
      await fresh.stop();
    }
  });

  it('fails a canary whose host does not report the new version, clears its topic, and rolls back to all at once', async () => {
    const b = model('run-b');
    const canary = await rollout.roll(b);
    const [canaryHost] = canary.canaryHosts!;
    const judged = await rollout.judgeCanary('memory');
    assert.equal(judged?.canary?.held, false);
    assert.deepEqual(judged?.canary?.missing, [canaryHost]);
    assert.deepEqual(failed, ['memory']);
    const back = await rollout.roll(model('run-a'), { immediate: true });
    assert.equal(back.stage, 'fleet');
    assert.deepEqual((await seenAfter(7)).slice(4), [
      { topic: hostTopicOf(canaryHost!), version: 'run-b' },
      { topic: hostTopicOf(canaryHost!), version: null },
      { topic: fleetTopic, version: 'run-a' },
    ]);
    assert.equal((await retained(fleetTopic)).version, 'run-a');
  });

  it('fails a canary when a host rejects the model', async () => {
    const c = model('run-c');
    const canary = await rollout.roll(c);
    const [canaryHost] = canary.canaryHosts!;
    hosts.find((h) => h.id === canaryHost)!.models = {
      memory: { source: 'fleet', runId: 'run-c', version: 'run-c' },
    };
    await store.write([event('sim-3', 'model.rejected', c.sha256)]);
    const judged = await rollout.judgeCanary('memory');
    assert.equal(judged?.canary?.held, false);
    assert.equal(judged?.canary?.rejected, 1);
    assert.deepEqual(failed, ['memory', 'memory']);
  });

  it('publishes a pending canary and the fleet’s model again when it starts on a broker that lost them', async () => {
    const fleetVersion = (await retained(fleetTopic)).version;
    const d = model('run-d');
    const canary = await rollout.roll(d);
    assert.equal(canary.stage, 'canary');
    assert.equal(canary.fleet?.version, fleetVersion, 'the state names the model the fleet stays on');
    const [canaryHost] = canary.canaryHosts!;

    const { fresh, restarted } = await restartOnFreshBroker();
    try {
      await restarted.start();
      const client = await connectAsync(fresh.url, { reconnectPeriod: 0 });
      try {
        const got = new Map<string, string>();
        client.on('message', (topic, payload) => got.set(topic, verify(payload).version));
        await client.subscribeAsync([fleetTopic, hostTopicOf(canaryHost!)], { qos: 1 });
        await waitFor('both retained models', () => (got.size === 2 ? true : undefined));
        assert.deepEqual(Object.fromEntries(got), {
          [fleetTopic]: fleetVersion,
          [hostTopicOf(canaryHost!)]: 'run-d',
        });
      } finally {
        await client.endAsync();
      }
    } finally {
      restarted.stop();
      await fresh.stop();
    }
  });
});

describe(
  'a running aggregator retrains on its own and publishes the signed model',
  { timeout: 600_000 },
  () => {
    it('trains memory on schedule, promotes it over the bundled model and publishes it retained', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'cloudsense-retraining-e2e-'));
      dirs.push(dataDir);
      const config = AggregatorConfigSchema.parse({ dataDir });
      const store = dataDirStore(dataDir, config.aggregator.store);
      await store.start();
      try {
        await fillHistory(store, DAYS);
      } finally {
        await store.stop();
      }
      const configFile = join(dataDir, 'cloudsense.yaml');
      writeFileSync(
        configFile,
        [
          'aggregator:',
          '  retraining:',
          '    checkInterval: 2s',
          '    resources: [memory]',
          '    minHistory: 2d',
          '    search: { trials: 0 }',
          '    rollout: { canaryPercent: 0 }',
          '',
        ].join('\n'),
      );
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const aggregator = CliProcess.start(
        [
          'aggregator',
          '--config',
          configFile,
          '--http-port',
          String(httpPort),
          '--mqtt-port',
          String(mqttPort),
          '--log-format',
          'json',
        ],
        { CLOUDSENSE_DATA_DIR: dataDir },
      );
      await aggregator.waitForLine(/aggregator ready/);
      const client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
      try {
        const received = new Promise<Buffer>((resolve) =>
          client.on('message', (_topic, payload) => {
            if (payload.length > 0) resolve(payload);
          }),
        );
        await client.subscribeAsync('cloudsense/v1/models/memory', { qos: 1 });
        const payload = await Promise.race([
          received,
          aggregator.exited.then((e) => {
            throw new Error(`the aggregator exited (${e.code}): ${aggregator.output}`);
          }),
        ]);
        const verdict = verifyModelMessage(payload, {
          key: 'memory',
          publicKey: parseVerifyKey(readFileSync(join(dataDir, 'keys', 'model-signing.pub'), 'utf8')),
          featureSchemaHash: FEATURE_SCHEMA.hash,
        });
        assert.ok(verdict.ok, verdict.ok ? '' : verdict.detail);
        const catalog = JSON.parse(readFileSync(join(dataDir, 'models', 'current.json'), 'utf8')) as {
          models: Record<string, { runId: string; sha256: string }>;
        };
        assert.equal(verdict.model.manifest.version, catalog.models.memory!.runId);
        assert.equal(verdict.model.manifest.sha256, catalog.models.memory!.sha256);
        const [line] = readFileSync(join(dataDir, 'retraining', 'promotions.jsonl'), 'utf8')
          .trim()
          .split('\n');
        const record = JSON.parse(line!) as {
          trigger: string;
          decision: string;
          champion: { source: string };
        };
        assert.equal(record.trigger, 'schedule');
        assert.equal(record.decision, 'promoted');
        assert.equal(record.champion.source, 'bundled');
      } finally {
        await client.endAsync();
        assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);
      }
    });
  },
);
