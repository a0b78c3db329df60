/**
 * The agent's two model topics per key, with real models (onnxruntime) and
 * a real data dir: the host's own topic (a canary) takes precedence over the
 * fleet topic whichever arrives first, an empty host payload hands the key
 * back to the fleet topic's model, the same model signed again is not
 * reloaded, an invalid host model leaves the fleet's serving, and a
 * restarted canary host keeps its canary model until the fleet moves past it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadServingModel } from '../../agent/inference/model-dir.js';
import { ModelSet } from '../../agent/inference/model-set.js';
import { FleetModelStore } from '../../agent/model-updates/fleet-model-store.js';
import { ModelUpdater } from '../../agent/model-updates/model-updater.js';
import { generateSigningKeyPair, parseSigningKey, parseVerifyKey } from '../../shared/signing/ed25519.js';
import { EventMessageSchema, type EventMessage } from '../../shared/wire/events.js';
import type { ModelMessage } from '../../shared/wire/models.js';
import {
  hostModelTopic,
  hostModelsFilter,
  modelTopic,
  parseHostModelTopic,
  parseHostTopic,
} from '../../shared/wire/topics.js';
import { forecastBytes, payloadOf, signedModel } from '../helpers/signed-models.js';

const silent = pino({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'cloudsense-model-topics-'));
after(() => rmSync(root, { recursive: true, force: true }));

const HOST = 'web-01';
const pair = generateSigningKeyPair();
const signingKey = parseSigningKey(pair.privateKeyPem);
const strangerKey = parseSigningKey(generateSigningKeyPair().privateKeyPem);
let dirs = 0;

/** A signed cpu model; a distinct `splitAt` makes a distinct model (its SHA-256). */
function cpuModel(version: string, createdAt: number, splitAt: number, key = signingKey): ModelMessage {
  return signedModel(key, 'cpu', {
    description: { version, createdAt },
    forecast: { splitAt, runId: `run-${version}` },
  });
}

async function harness(dir = join(root, `store-${++dirs}`)) {
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
  const store = new FleetModelStore(dir, silent);
  const updater = new ModelUpdater({
    hostId: HOST,
    publicKey: parseVerifyKey(pair.publicKeyBase64),
    models,
    store,
    exhaustion: {},
    emit: async (build) => {
      events.push(EventMessageSchema.parse(build(events.length + 1)));
    },
    log: silent,
    probationCycles: 0,
  });
  const deliver = async (topic: string, message: ModelMessage | Buffer) => {
    updater.receive(topic, Buffer.isBuffer(message) ? message : payloadOf(message));
    await updater.settled();
  };
  return {
    models,
    events,
    dir,
    updater,
    version: () => models.current('cpu')?.ref.version,
    fleet: (message: ModelMessage | Buffer) => deliver(modelTopic('cpu'), message),
    host: (message: ModelMessage | Buffer, hostId = HOST) => deliver(hostModelTopic(hostId, 'cpu'), message),
    adopted: () => events.filter((e) => e.type === 'model.adopted').length,
    async close() {
      await updater.stop();
      await models.close();
    },
  };
}

const T0 = 1_795_000_000_000;
const previous = cpuModel('v1', T0, 0.8);
const canary = cpuModel('v2', T0 + 60_000, 0.7);
/** The canary's model, signed again for the fleet topic when the canary held. */
const promoted = cpuModel('v2', T0 + 120_000, 0.7);
const CLEAR = Buffer.alloc(0);

describe('model updater: fleet topic and per-host topic', () => {
  it('names the per-host model topics apart from the host topics ingest reads', () => {
    assert.equal(
      hostModelTopic('web-01', 'filesystem:%2Fvar'),
      'cloudsense/v1/hosts/web-01/models/filesystem:%2Fvar',
    );
    assert.equal(hostModelsFilter('web-01'), 'cloudsense/v1/hosts/web-01/models/+');
    assert.deepEqual(parseHostModelTopic('cloudsense/v1/hosts/web-01/models/cpu'), {
      hostId: 'web-01',
      key: 'cpu',
    });
    for (const topic of [
      'cloudsense/v1/hosts/web-01/status',
      'cloudsense/v1/hosts/web-01/models/',
      'cloudsense/v1/hosts/web-01/models/cpu/x',
      'cloudsense/v1/hosts/web-01/other/cpu',
      'cloudsense/v1/models/cpu',
    ]) {
      assert.equal(parseHostModelTopic(topic), null, topic);
    }
    assert.equal(parseHostTopic('cloudsense/v1/hosts/web-01/models/cpu'), null, 'not telemetry, status, …');
  });

  it('serves the host topic over the fleet topic, whichever comes first, and the fleet again once cleared', async () => {
    const h = await harness();
    try {
      await h.fleet(previous);
      assert.equal(h.version(), 'v1');
      await h.host(canary);
      assert.equal(h.version(), 'v2', 'the canary model on its own topic takes precedence');
      await h.fleet(cpuModel('v3', T0 + 90_000, 0.6));
      assert.equal(h.version(), 'v2', 'a fleet model does not replace the host topic’s');
      await h.host(CLEAR);
      assert.equal(h.version(), 'v3', 'cleared: the fleet topic’s last model serves');
      assert.equal(h.adopted(), 3);
    } finally {
      await h.close();
    }
    const other = await harness();
    try {
      await other.host(canary);
      await other.fleet(previous);
      assert.equal(other.version(), 'v2', 'the same with the host message first');
      await other.host(CLEAR);
      assert.equal(other.version(), 'v1');
    } finally {
      await other.close();
    }
  });

  it('does not reload the serving model signed again, and saves the copy of the topic it now follows', async () => {
    const h = await harness();
    try {
      await h.fleet(previous);
      await h.host(canary);
      assert.deepEqual(readdirSync(h.dir).sort(), ['cpu.host-model.json']);
      // Promotion: the fleet topic gets the canary's model, then the host topic is cleared.
      await h.fleet(promoted);
      await h.host(CLEAR);
      assert.equal(h.version(), 'v2');
      assert.equal(h.adopted(), 2, 'v1 and v2 once each: the promoted copy was not loaded again');
      assert.deepEqual(readdirSync(h.dir).sort(), ['cpu.model.json']);
    } finally {
      await h.close();
    }
  });

  it('leaves the fleet model serving when the host topic holds an invalid model, and ignores other hosts', async () => {
    const h = await harness();
    try {
      await h.fleet(previous);
      await h.host(cpuModel('v-forged', T0 + 60_000, 0.7, strangerKey));
      assert.equal(h.version(), 'v1');
      assert.deepEqual(
        h.events.map((e) => (e.type === 'model.rejected' ? `rejected:${e.reason}` : e.type)),
        ['model.adopted', 'rejected:signature'],
      );
      await h.host(canary, 'web-02');
      assert.equal(h.version(), 'v1', 'another host’s topic is not this host’s');
      assert.equal(h.events.length, 2);
    } finally {
      await h.close();
    }
  });

  it('keeps a restored canary model after a restart until the fleet topic moves past it', async () => {
    const dir = join(root, 'restart');
    const first = await harness(dir);
    try {
      await first.fleet(previous);
      await first.host(canary);
    } finally {
      await first.close();
    }
    // Restarted during the canary: the retained fleet message (older) comes, the host one maybe after.
    const during = await harness(dir);
    try {
      assert.deepEqual(await during.updater.restore(), ['cpu']);
      await during.fleet(previous);
      assert.equal(during.version(), 'v2', 'the older fleet model does not replace the canary');
      assert.equal(during.events.length, 0);
    } finally {
      await during.close();
    }
    // Restarted after the canary was promoted (host topic cleared while it was down).
    const promotedRestart = await harness(dir);
    try {
      await promotedRestart.updater.restore();
      await promotedRestart.fleet(promoted);
      assert.equal(promotedRestart.version(), 'v2');
      assert.equal(promotedRestart.events.length, 0, 'the same model, not loaded again');
      assert.deepEqual(readdirSync(dir).sort(), ['cpu.model.json']);
    } finally {
      await promotedRestart.close();
    }
  });

  it('takes the fleet topic’s model back after a rollback published while it was down', async () => {
    const dir = join(root, 'rolled-back');
    const first = await harness(dir);
    try {
      await first.fleet(previous);
      await first.host(canary);
    } finally {
      await first.close();
    }
    const restarted = await harness(dir);
    try {
      await restarted.updater.restore();
      await restarted.fleet(cpuModel('v1', T0 + 180_000, 0.8));
      assert.equal(restarted.version(), 'v1', 'the rollback, signed after the canary, serves');
    } finally {
      await restarted.close();
    }
  });
});
