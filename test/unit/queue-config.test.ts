import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentConfigSchema, queueDirOf } from '../../agent/config.js';
import { loadConfig } from '../../shared/config/load.js';
import { ConfigError } from '../../shared/errors.js';

describe('agent queue configuration', () => {
  it('has documented defaults, and the queue lives under the data dir per host id', () => {
    const config = loadConfig(AgentConfigSchema, { env: { CLOUDSENSE_HOST_ID: 'web-01' } });
    assert.deepEqual(config.agent.queue, {
      maxSize: 256 * 1024 * 1024,
      maxAge: 7 * 86_400_000,
      fsync: 'interval',
      fsyncInterval: 1000,
    });
    assert.match(queueDirOf(config), /\/data\/queue\/web-01$/);
  });

  it('reads sizes and durations with units from the environment', () => {
    const config = loadConfig(AgentConfigSchema, {
      env: {
        CLOUDSENSE_AGENT__QUEUE__MAX_SIZE: '1GB',
        CLOUDSENSE_AGENT__QUEUE__MAX_AGE: '12h',
        CLOUDSENSE_AGENT__QUEUE__FSYNC: 'always',
        CLOUDSENSE_AGENT__QUEUE__DIR: '/var/lib/cloudsense/q',
      },
    });
    assert.equal(config.agent.queue.maxSize, 1e9);
    assert.equal(config.agent.queue.maxAge, 12 * 3_600_000);
    assert.equal(config.agent.queue.fsync, 'always');
    assert.equal(queueDirOf(config), '/var/lib/cloudsense/q');
  });

  it('lists every bad queue setting by its dotted path', () => {
    try {
      loadConfig(AgentConfigSchema, {
        env: {
          CLOUDSENSE_AGENT__QUEUE__MAX_SIZE: '10KB',
          CLOUDSENSE_AGENT__QUEUE__MAX_AGE: 'forever',
          CLOUDSENSE_AGENT__QUEUE__FSYNC: 'sometimes',
          CLOUDSENSE_AGENT__QUEUE__FSYNC_INTERVAL: '5m',
        },
      });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.path).sort(), [
        'agent.queue.fsync',
        'agent.queue.fsyncInterval',
        'agent.queue.maxAge',
        'agent.queue.maxSize',
      ]);
    }
  });
});
