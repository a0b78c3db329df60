/**
 * Local inference end to end, with real processes: `cloudsense agent`
 * scoring this host's resources with models from a directory and publishing
 * predictions and alert events through its disk queue, `cloudsense
 * aggregator` validating, de-duplicating and storing them in one sequence
 * with the telemetry; and `cloudsense agent --once --print`.
 *
 * The models are tiny ones written for the test (test/helpers/forecast-models.ts)
 * so the outcome is known: the memory model says "high" for any utilisation,
 * so memory's alert must be raised after `raiseAfter` cycles. One `--once`
 * run also uses the bundled models when the package has them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { BUNDLED_MODELS_DIR } from '../../shared/inference/model-files.js';
import { EventMessageSchema, type EventMessage } from '../../shared/wire/events.js';
import { PredictionsMessageSchema, type PredictionsMessage } from '../../shared/wire/predictions.js';
import { CliProcess, startAggregatorProcess, startAgentProcess } from '../helpers/cli-process.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { HIGH_PROBABILITY, writeTestModel } from '../helpers/forecast-models.js';
import { freePort, waitFor } from '../helpers/net.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-predictions-e2e-'));
const modelDir = join(root, 'models');
after(() => {
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

before(() => {
  // Utilisation never exceeds 1: CPU and filesystems are never "at risk", whatever the load of the
  // machine running the test, so memory's alert is the only one.
  writeTestModel(modelDir, 'cpu', { splitAt: 2 });
  // Any utilisation is above -1: memory is always "at risk".
  writeTestModel(modelDir, 'memory', { splitAt: -1 });
  writeTestModel(modelDir, 'filesystem', { band: true, splitAt: 2 });
});

const modelsEnv = { CLOUDSENSE_AGENT__MODELS__DIR: modelDir };

/** `agent --once --print`; resolves with the parsed document after a clean exit. */
async function printOnce(dataDir: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const proc = CliProcess.start(
    ['agent', '--once', '--print', '--data-dir', dataDir, '--log-format', 'json'],
    env,
  );
  await proc.closed;
  assert.equal((await proc.exited).code, 0, proc.output);
  return JSON.parse(proc.stdout) as Record<string, unknown>;
}

interface PrintedPrediction {
  resource: string;
  probability: number;
  threshold: number;
  model: { source: string; runId: string };
}

function checkPrinted(doc: Record<string, unknown>): Map<string, PrintedPrediction> {
  const metrics = doc.metrics as Array<{ name: string }>;
  assert.ok(
    metrics.some((m) => m.name === 'system.cpu.utilization'),
    'the telemetry metrics are there',
  );
  const predictions = doc.predictions as PrintedPrediction[];
  const by = new Map(predictions.map((p) => [p.resource, p]));
  for (const resource of ['cpu', 'memory']) {
    const p = by.get(resource);
    assert.ok(p, `a prediction for ${resource}`);
    assert.ok(p.probability >= 0 && p.probability <= 1, `${resource}: probability ${p.probability} in 0..1`);
    assert.equal(p.model.source, 'bundled');
  }
  return by;
}

describe('agent inference', () => {
  it('--once --print: collects, predicts and prints one JSON document, writing no queue', async () => {
    const dataDir = join(root, 'once');
    const by = checkPrinted(await printOnce(dataDir, modelsEnv));
    assert.ok(Math.abs(by.get('memory')!.probability - HIGH_PROBABILITY) < 1e-5);
    assert.equal(by.get('cpu')!.model.runId, 'test-run-cpu');
    assert.equal(existsSync(join(dataDir, 'queue')), false, 'nothing queued');
  });

  const bundled = ['cpu', 'memory'].every(
    (k) => BUNDLED_MODELS_DIR && existsSync(join(BUNDLED_MODELS_DIR, `${k}.onnx`)),
  );
  it(
    '--once --print with the bundled models',
    { skip: bundled ? false : 'models/baseline/ has no cpu and memory models yet' },
    async () => {
      checkPrinted(await printOnce(join(root, 'once-bundled'), {}));
    },
  );

  it(
    'publishes predictions and alert events in the telemetry’s sequence, and the aggregator stores each once',
    { timeout: 90_000 },
    async () => {
      const hostId = 'inference-e2e';
      const storeDir = join(root, 'aggregator');
      const agentDir = join(root, 'agent');
      const ports = { http: await freePort(), mqtt: await freePort() };
      const aggregator = await startAggregatorProcess({ dataDir: storeDir, ports });

      const observer: MqttClient = await connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
        clientId: 'inference-observer',
      });
      const predictions: PredictionsMessage[] = [];
      const events: EventMessage[] = [];
      observer.on('message', (topic, payload) => {
        const json: unknown = JSON.parse(payload.toString());
        if (topic.endsWith('/predictions')) predictions.push(PredictionsMessageSchema.parse(json));
        if (topic.endsWith('/events')) events.push(EventMessageSchema.parse(json));
      });
      await observer.subscribeAsync(`cloudsense/v1/hosts/${hostId}/+`, { qos: 1 });

      const agent = startAgentProcess({ hostId, mqttPort: ports.mqtt, dataDir: agentDir, env: modelsEnv });
      try {
        const loaded = JSON.parse(await agent.waitForLine(/"msg":"forecast models loaded"/)) as {
          kinds: string[];
        };
        assert.deepEqual(loaded.kinds, ['cpu', 'memory', 'filesystem']);
        await waitFor('the memory alert and four predictions messages', () =>
          events.some((e) => e.type === 'alert.raised' && e.resource === 'memory') && predictions.length >= 4
            ? true
            : undefined,
        );
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.child.pid}/status`, 'utf8'))?.[1];
        if (rss)
          process.stdout.write(`# agent RSS with models loaded: ${(Number(rss) / 1024).toFixed(1)} MiB\n`);
      } finally {
        await observer.endAsync();
      }

      const latest = predictions.at(-1)!;
      const resources = latest.predictions.map((p) => p.resource);
      assert.ok(resources.includes('cpu') && resources.includes('memory'), resources.join(', '));
      assert.ok(
        resources.some((r) => r.startsWith('filesystem:')),
        'a prediction per filesystem',
      );
      assert.equal(
        latest.predictions.find((p) => p.resource === 'memory')!.alert,
        true,
        'memory is alerting',
      );
      const raised = events.find((e) => e.type === 'alert.raised')!;
      assert.equal(raised.reason, 'risk_above_threshold');
      assert.deepEqual(raised.model, { source: 'bundled', runId: 'test-run-memory' });

      assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
      const stopped = JSON.parse(await agent.waitForLine(/"msg":"agent stopped"/, 1000)) as {
        lastSeq: number;
        confirmedSeq: number;
        forecastCpuMsPerCycle: number;
      };
      assert.equal(stopped.confirmedSeq, stopped.lastSeq, 'the aggregator confirmed every message');
      process.stdout.write(`# features + inference CPU per cycle: ${stopped.forecastCpuMsPerCycle} ms\n`);
      assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);

      // One numbering over the three tables: every number once, none twice.
      const rows = (await queryClosedStore(
        storeDir,
        `SELECT seq::DOUBLE, kind FROM (
           SELECT DISTINCT seq, 'telemetry' AS kind FROM samples WHERE host_id = $host UNION ALL
           SELECT DISTINCT seq, 'predictions' FROM predictions WHERE host_id = $host UNION ALL
           SELECT seq, 'events' FROM events WHERE host_id = $host)
         ORDER BY seq`,
        { host: hostId },
      )) as Array<[number, string]>;
      assert.deepEqual(
        rows.map(([seq]) => seq),
        Array.from({ length: stopped.lastSeq }, (_, i) => i + 1),
      );
      const kinds = new Set(rows.map(([, kind]) => kind));
      assert.deepEqual([...kinds].sort(), ['events', 'predictions', 'telemetry']);
      const stored = (await queryClosedStore(
        storeDir,
        `SELECT resource, count(*)::DOUBLE, min(probability), max(probability), bool_or(alert)
         FROM predictions WHERE host_id = $host GROUP BY resource ORDER BY resource`,
        { host: hostId },
      )) as Array<[string, number, number, number, boolean]>;
      const memory = stored.find(([resource]) => resource === 'memory')!;
      assert.ok(memory[1] >= 4 && memory[2] >= 0 && memory[3] <= 1 && memory[4], JSON.stringify(memory));
      assert.ok(stored.some(([resource]) => resource === 'cpu'));
      const storedEvents = (await queryClosedStore(
        storeDir,
        `SELECT type, resource FROM events WHERE host_id = $host ORDER BY seq`,
        { host: hostId },
      )) as Array<[string, string]>;
      assert.deepEqual(storedEvents[0], ['alert.raised', 'memory']);
    },
  );
});
