import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentConfigSchema } from '../../agent/config.js';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { UpConfigSchema } from '../../cli/commands/up.js';
import { envToPath, loadConfig } from '../../shared/config/load.js';
import { ConfigError } from '../../shared/errors.js';

import { DEFAULT_EXHAUSTION, resolveExhaustion } from '../../shared/resources/exhaustion.js';
import { RESOURCE_KINDS } from '../../shared/resources/resource-id.js';

const SAMPLE = fileURLToPath(new URL('../../deploy/config/cloudsense.example.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cloudsense-config-'));

function yamlFile(text: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('has documented defaults', () => {
    const config = loadConfig(UpConfigSchema, { env: {} });
    assert.equal(config.dataDir, './data');
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(config.mqtt, { host: '127.0.0.1', port: 1883 });
    assert.equal(config.agent.intervalSeconds, 10);
    assert.equal(config.aggregator.store.memoryLimit, '512MB');
  });

  it('parses the annotated sample config for every command', () => {
    const up = loadConfig(UpConfigSchema, { file: SAMPLE, env: {} });
    assert.equal(up.agent.intervalSeconds, 10);
    loadConfig(AgentConfigSchema, { file: SAMPLE, env: {} });
    const aggregator = loadConfig(AggregatorConfigSchema, { file: SAMPLE, env: {} });
    // The sample spells out the built-in definitions: resolving through it changes nothing.
    for (const kind of RESOURCE_KINDS) {
      const id = kind === 'filesystem' || kind === 'inodes' ? `${kind}:/var` : kind;
      assert.deepEqual(resolveExhaustion(aggregator.exhaustion, id), DEFAULT_EXHAUSTION[kind]);
    }
  });

  it('reads exhaustion definitions from the file, the environment and their problems by path', () => {
    const file = yamlFile(
      'exhaustion:\n  filesystem: { horizon: 12h }\n  "filesystem:/var/lib/docker": { threshold: 0.9 }\n',
    );
    const config = loadConfig(AgentConfigSchema, {
      file,
      env: { CLOUDSENSE_EXHAUSTION__CPU__THRESHOLD: '0.95' },
    });
    assert.equal(resolveExhaustion(config.exhaustion, 'cpu').threshold, 0.95);
    assert.deepEqual(resolveExhaustion(config.exhaustion, 'filesystem:/var/lib/docker'), {
      threshold: 0.9,
      horizonMs: 12 * 3_600_000,
      sustainMs: 0,
    });
    assert.equal(resolveExhaustion(config.exhaustion, 'filesystem:/').threshold, 0.95);
    const unknown = yamlFile('exhaustion:\n  gpu: { threshold: 0.5 }\n');
    assert.throws(
      () => loadConfig(AggregatorConfigSchema, { file: unknown, env: {} }),
      /exhaustion\.gpu: not a resource kind or id/,
    );
    const short = yamlFile('exhaustion:\n  cpu: { horizon: 2m }\n');
    assert.throws(
      () => loadConfig(AggregatorConfigSchema, { file: short, env: {} }),
      /exhaustion\.cpu\.sustain: sustain \(5m\) must be shorter than the horizon \(2m\)/,
    );
  });

  it('lets environment variables override the file and flags override both', () => {
    const file = yamlFile('http:\n  port: 9000\nmqtt:\n  port: 9001\nagent:\n  intervalSeconds: 30\n');
    const config = loadConfig(UpConfigSchema, {
      file,
      env: { CLOUDSENSE_HTTP_PORT: '9100', CLOUDSENSE_MQTT_PORT: '9101', CLOUDSENSE_DATA_DIR: '/var/lib/cs' },
      flags: { 'mqtt.port': '9201' },
    });
    assert.equal(config.http.port, 9100);
    assert.equal(config.mqtt.port, 9201);
    assert.equal(config.agent.intervalSeconds, 30);
    assert.equal(config.dataDir, '/var/lib/cs');
  });

  it('reaches any setting through CLOUDSENSE_ + path with __ between levels', () => {
    assert.equal(envToPath('CLOUDSENSE_AGENT__INTERVAL_SECONDS'), 'agent.intervalSeconds');
    assert.equal(envToPath('CLOUDSENSE_AGGREGATOR__STORE__MEMORY_LIMIT'), 'aggregator.store.memoryLimit');
    const config = loadConfig(UpConfigSchema, {
      env: { CLOUDSENSE_AGGREGATOR__INGEST__BATCH_SIZE: '50', CLOUDSENSE_CONFIG: SAMPLE },
    });
    assert.equal(config.aggregator.ingest.batchSize, 50);
  });

  it('lists every problem at once, by dotted path and source', () => {
    const file = yamlFile('http:\n  port: 70000\nagent:\n  intervalSeconds: 0\n  colour: blue\nmystery: 1\n');
    const problems = problemsOf(() =>
      loadConfig(UpConfigSchema, {
        file,
        env: { CLOUDSENSE_MQTT_PORT: 'abc', CLOUDSENSE_HOST_ID: 'bad/host' },
        flags: { 'aggregator.store.memoryLimit': 'lots' },
        flagNames: { 'aggregator.store.memoryLimit': '--memory-limit' },
      }),
    );
    const byPath = new Map(problems.map((p) => [p.path, p]));
    assert.deepEqual(
      [...byPath.keys()].sort(),
      [
        'agent.colour',
        'agent.hostId',
        'agent.intervalSeconds',
        'aggregator.store.memoryLimit',
        'http.port',
        'mqtt.port',
        'mystery',
      ].sort(),
    );
    assert.equal(byPath.get('http.port')!.source, file);
    assert.equal(byPath.get('mqtt.port')!.source, 'environment variable CLOUDSENSE_MQTT_PORT');
    assert.equal(byPath.get('aggregator.store.memoryLimit')!.source, 'flag --memory-limit');
    assert.equal(byPath.get('agent.colour')!.message, 'unknown setting');
  });

  it('rejects an unreadable or malformed file with a clear message', () => {
    const missing = problemsOf(() => loadConfig(UpConfigSchema, { file: join(dir, 'nope.yaml'), env: {} }));
    assert.match(missing[0]!.message, /cannot read config file/);
    const broken = problemsOf(() => loadConfig(UpConfigSchema, { file: yamlFile('http: [1,\n'), env: {} }));
    assert.match(broken[0]!.message, /YAML syntax error/);
    const list = problemsOf(() => loadConfig(UpConfigSchema, { file: yamlFile('- a\n- b\n'), env: {} }));
    assert.match(list[0]!.message, /mapping/);
  });

  it('reads the agent’s models and alert settings, with their defaults and problems by path', () => {
    const defaults = loadConfig(AgentConfigSchema, { env: {} });
    assert.deepEqual(defaults.agent.alerts, { raiseAfter: 2, resolveAfter: 3, resolveRatio: 0.8 });
    assert.equal(defaults.agent.models.dir, undefined);
    const sample = loadConfig(AgentConfigSchema, { file: SAMPLE, env: {} });
    assert.deepEqual(sample.agent.alerts, defaults.agent.alerts, 'the sample spells out the defaults');
    const set = loadConfig(AgentConfigSchema, {
      file: yamlFile('agent:\n  alerts: { raiseAfter: 1, resolveRatio: 0.5 }\n'),
      env: { CLOUDSENSE_AGENT__MODELS__DIR: '/opt/models' },
    });
    assert.deepEqual(set.agent.alerts, { raiseAfter: 1, resolveAfter: 3, resolveRatio: 0.5 });
    assert.equal(set.agent.models.dir, '/opt/models');
    const problems = problemsOf(() =>
      loadConfig(AgentConfigSchema, {
        file: yamlFile('agent:\n  alerts: { raiseAfter: 0, resolveAfter: 1.5, resolveRatio: 1.2 }\n'),
        env: {},
      }),
    );
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'agent.alerts.raiseAfter',
      'agent.alerts.resolveAfter',
      'agent.alerts.resolveRatio',
    ]);
  });

  it('checks the broker URL scheme', () => {
    const problems = problemsOf(() =>
      loadConfig(AgentConfigSchema, { env: { CLOUDSENSE_BROKER_URL: 'http://example:1883' } }),
    );
    assert.equal(problems[0]!.path, 'agent.brokerUrl');
  });
});
