import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ImportConfigSchema } from '../../aggregator/import/config.js';
import { loadConfig } from '../../shared/config/load.js';
import { ConfigError } from '../../shared/errors.js';

const SAMPLE = fileURLToPath(new URL('../../deploy/config/cloudsense.example.yaml', import.meta.url));

describe('import configuration', () => {
  it('reads the data dir and store settings from the shared sample file, ignoring sections it does not use', () => {
    const config = loadConfig(ImportConfigSchema, { file: SAMPLE, env: {} });
    assert.equal(config.dataDir, './data');
    assert.equal(config.aggregator.store.memoryLimit, '512MB');
  });

  it('takes the data dir from the environment and the flag, the flag winning', () => {
    const env = { CLOUDSENSE_DATA_DIR: '/srv/env', CLOUDSENSE_AGGREGATOR__STORE__MEMORY_LIMIT: '1GB' };
    assert.equal(loadConfig(ImportConfigSchema, { env }).dataDir, '/srv/env');
    const config = loadConfig(ImportConfigSchema, { env, flags: { dataDir: '/srv/flag' } });
    assert.equal(config.dataDir, '/srv/flag');
    assert.equal(config.aggregator.store.memoryLimit, '1GB');
    assert.throws(
      () => loadConfig(ImportConfigSchema, { env: { CLOUDSENSE_AGGREGATOR__STORE__MEMORY_LIMIT: 'lots' } }),
      (err: unknown) => err instanceof ConfigError && /aggregator\.store\.memoryLimit/.test(err.message),
    );
  });
});
