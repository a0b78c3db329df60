/**
 * The agent's model updater with real models (onnxruntime) and a real data
 * dir: each check that refuses a model, adoption, probation on live rows
 * with rollback, and the saved copy a restarted agent starts from.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadServingModel } from '../../agent/inference/model-dir.js';
import { ModelSet } from '../../agent/inference/model-set.js';
import { ResourceForecaster } from '../../agent/inference/resource-forecaster.js';
import { FleetModelStore } from '../../agent/model-updates/fleet-model-store.js';
import { ModelUpdater } from '../../agent/model-updates/model-updater.js';
import { generateSigningKeyPair, parseSigningKey, parseVerifyKey } from '../../shared/signing/ed25519.js';
import { EventMessageSchema, type EventMessage } from '../../shared/wire/events.js';
import { MAX_MODEL_MESSAGE_BYTES, type ModelMessage } from '../../shared/wire/models.js';
import type { MetricPoint } from '../../shared/wire/telemetry.js';
import { modelTopic } from '../../shared/wire/topics.js';
import { forecastBytes, payloadOf, signedModel } from '../helpers/signed-models.js';

const silent = pino({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'cloudsense-model-updater-'));
after(() => rmSync(root, { recursive: true, force: true }));

const pair = generateSigningKeyPair();
const signingKey = parseSigningKey(pair.privateKeyPem);
const publicKey = parseVerifyKey(pair.publicKeyBase64);
const strangerKey = parseSigningKey(generateSigningKeyPair().privateKeyPem);
let dirs = 0;

interface Harness {
  models: ModelSet;
  updater: ModelUpdater;
  events: EventMessage[];
  changes: () => number;
  store: FleetModelStore;
  send(message: ModelMessage | Buffer, key?: string): Promise<void>;
  close(): Promise<void>;
}

async function harness(
  options: { dir?: string; probationCycles?: number; hostId?: string } = {},
): Promise<Harness> {
  const models = new ModelSet();
  await models.setModel(
    'cpu',
    await loadServingModel(
      'cpu',
      { model: forecastBytes('cpu', { runId: 'bundled-cpu' }) },
      { source: 'bundled' },
    ),
  );
  const events: EventMessage[] = [];
  let changes = 0;
  const store = new FleetModelStore(options.dir ?? join(root, `store-${++dirs}`), silent);
  const updater = new ModelUpdater({
    hostId: options.hostId ?? 'web-01',
    publicKey,
    models,
    store,
    exhaustion: {},
    emit: async (build) => {
      events.push(EventMessageSchema.parse(build(events.length + 1)));
    },
    onModelsChanged: () => changes++,
    log: silent,
    probationCycles: options.probationCycles ?? 2,
  });
  return {
    models,
    updater,
    events,
    store,
    changes: () => changes,
    async send(message, key = 'cpu') {
      updater.receive(modelTopic(key), Buffer.isBuffer(message) ? message : payloadOf(message));
      await updater.settled();
    },
    async close() {
      await updater.stop();
      await models.close();
    },
  };
}

const cpuRef = (models: ModelSet) => models.current('cpu')?.ref;

describe('model updater', () => {
  it('adopts a well-signed model at once, reports it, and skips the same message redelivered', async () => {
    const h = await harness();
    try {
      await h.send(signedModel(signingKey, 'cpu'));
      assert.deepEqual(cpuRef(h.models), { source: 'fleet', runId: 'fleet-run-cpu', version: 'v-cpu-1' });
      assert.equal(h.events.length, 1);
      const adopted = h.events[0]!;
      assert.equal(adopted.type, 'model.adopted');
      assert.equal(adopted.resource, 'cpu');
      if (adopted.type !== 'model.adopted') return;
      assert.deepEqual(adopted.previous, { source: 'bundled', runId: 'bundled-cpu' });
      assert.equal(h.changes(), 1);
      await h.send(signedModel(signingKey, 'cpu'));
      assert.equal(h.events.length, 1, 'the same message again is not an update');
    } finally {
      await h.close();
    }
  });

  it('refuses each bad model with its reason and keeps predicting with the one it has', async () => {
    const h = await harness();
    try {
      const good = signedModel(signingKey, 'cpu');
      const cases: Array<[string, ModelMessage | Buffer]> = [
        ['size', Buffer.alloc(MAX_MODEL_MESSAGE_BYTES + 1, 0x20)],
        ['malformed', Buffer.from('{"schemaVersion":1,')],
        ['malformed', payloadOf(signedModel(signingKey, 'memory'))],
        ['signature', signedModel(strangerKey, 'cpu')],
        ['hash', { ...good, onnx: Buffer.from(forecastBytes('cpu', { splitAt: 0.2 })).toString('base64') }],
        ['schema', signedModel(signingKey, 'cpu', { description: { featureSchemaHash: '0'.repeat(64) } })],
        // Signed for this build's schema, but the ONNX says otherwise.
        ['schema', signedModel(signingKey, 'cpu', { forecast: { featureSchemaHash: '1'.repeat(64) } })],
        ['load', signedModel(signingKey, 'cpu', { artifacts: { onnx: Buffer.from('not an onnx model') } })],
        ['load', signedModel(signingKey, 'cpu', { artifacts: { onnx: forecastBytes('memory') } })],
        // NaN in the branch a missing value takes: the all-missing synthetic row scores NaN.
        ['smoke', signedModel(signingKey, 'cpu', { forecast: { low: NaN } })],
      ];
      for (const [, message] of cases) await h.send(message);
      assert.deepEqual(
        h.events.map((e) => (e.type === 'model.rejected' ? e.reason : e.type)),
        cases.map(([reason]) => reason),
      );
      assert.deepEqual(cpuRef(h.models), { source: 'bundled', runId: 'bundled-cpu' });
      assert.equal(h.changes(), 0);
      assert.equal(h.models.current('memory'), undefined, 'the memory model on the cpu topic was not taken');
      const smoke = h.events.at(-1)!;
      assert.match(smoke.detail, /synthetic row/);
    } finally {
      await h.close();
    }
  });

  it('ignores a model meant for other hosts', async () => {
    const h = await harness({ hostId: 'web-01' });
    try {
      await h.send(signedModel(signingKey, 'cpu', { description: { targets: { hosts: ['db-01'] } } }));
      assert.equal(h.events.length, 0);
      assert.equal(cpuRef(h.models)?.source, 'bundled');
      await h.send(
        signedModel(signingKey, 'cpu', { description: { targets: { hosts: ['web-01'] }, version: 'v2' } }),
      );
      assert.equal(cpuRef(h.models)?.version, 'v2');
    } finally {
      await h.close();
    }
  });

  it('keeps a model through probation, saves it, and a restarted agent starts with it', async () => {
    const dir = join(root, 'kept');
    const h = await harness({ dir, probationCycles: 2 });
    try {
      await h.send(signedModel(signingKey, 'cpu'));
      const model = h.models.current('cpu')!;
      h.updater.scored(model, { rows: 1, invalid: 0 });
      await h.updater.settled();
      assert.equal(existsSync(join(dir, 'cpu.model.json')), false, 'not saved before probation ends');
      h.updater.scored(model, { rows: 1, invalid: 0 });
      await h.updater.settled();
      assert.deepEqual(readdirSync(dir), ['cpu.model.json']);
    } finally {
      await h.close();
    }
    const restarted = await harness({ dir });
    try {
      assert.deepEqual(await restarted.updater.restore(), ['cpu']);
      assert.deepEqual(cpuRef(restarted.models), {
        source: 'fleet',
        runId: 'fleet-run-cpu',
        version: 'v-cpu-1',
      });
      await restarted.send(signedModel(signingKey, 'cpu'));
      assert.equal(restarted.events.length, 0, 'the retained copy of the model it runs is not news');
    } finally {
      await restarted.close();
    }
    // A saved file changed on disk is refused; the bundled model stays.
    const file = join(dir, 'cpu.model.json');
    const tampered = signedModel(signingKey, 'cpu');
    writeFileSync(file, payloadOf({ ...tampered, version: 'v-forged' }));
    const again = await harness({ dir });
    try {
      assert.deepEqual(await again.updater.restore(), []);
      assert.equal(cpuRef(again.models)?.source, 'bundled');
    } finally {
      await again.close();
    }
  });

  it('rolls back to the previous model when the new one gives NaN on live rows, and stays rolled back', async () => {
    const dir = join(root, 'rollback');
    const h = await harness({ dir, probationCycles: 3 });
    // High pressure-stall goes to a NaN leaf: the synthetic rows (no PSI) pass, live rows with PSI do not.
    const hostile = signedModel(signingKey, 'cpu', {
      forecast: { feature: 'psi.some_avg10', splitAt: 0.5, high: NaN },
      description: { version: 'v-psi' },
    });
    const forecaster = new ResourceForecaster({
      models: h.models,
      exhaustion: {},
      log: silent,
      onScored: (model, outcome) => h.updater.scored(model, outcome),
    });
    try {
      const bundled = h.models.current('cpu');
      await h.send(hostile);
      assert.equal(cpuRef(h.models)?.version, 'v-psi', 'it passed the smoke test');
      const t = Date.UTC(2026, 0, 5, 12);
      const sampled = forecaster.observe({
        schemaVersion: 1,
        hostId: 'web-01',
        timestamp: t,
        intervalSeconds: 10,
        metrics: [cpuPoint(0.4), psiPoint(0.9)],
      });
      const forecasts = await forecaster.forecast(sampled, t);
      assert.deepEqual(forecasts, [], 'a NaN probability never goes out');
      await h.updater.settled();
      assert.equal(h.models.current('cpu'), bundled, 'the very model from before serves again');
      const types = h.events.map((e) => e.type);
      assert.deepEqual(types, ['model.adopted', 'model.rolled_back']);
      const rolledBack = h.events[1]!;
      if (rolledBack.type !== 'model.rolled_back') return;
      assert.deepEqual(rolledBack.restored, { source: 'bundled', runId: 'bundled-cpu' });
      assert.equal(rolledBack.model.version, 'v-psi');
      assert.equal(h.changes(), 2);
      await h.send(hostile);
      assert.equal(h.events.length, 2, 'the retained message redelivered is not adopted again');
    } finally {
      await h.close();
    }
    const restarted = await harness({ dir });
    try {
      await restarted.updater.restore();
      await restarted.send(hostile);
      assert.equal(restarted.events.length, 0, 'nor after a restart');
      assert.equal(cpuRef(restarted.models)?.source, 'bundled');
    } finally {
      await restarted.close();
    }
  });
});

function cpuPoint(value: number): MetricPoint {
  return { name: 'system.cpu.utilization', unit: '1', value };
}

function psiPoint(value: number): MetricPoint {
  return {
    name: 'system.linux.pressure.avg10',
    unit: '1',
    value,
    attributes: { 'system.linux.pressure.resource': 'cpu', 'system.linux.pressure.scope': 'some' },
  };
}
