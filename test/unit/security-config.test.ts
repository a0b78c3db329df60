import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { SecuritySectionSchema, decideAccess, isLoopbackHost } from '../../aggregator/security/config.js';
import { UpConfigSchema } from '../../cli/commands/up.js';
import { loadConfig } from '../../shared/config/load.js';
import { ConfigError } from '../../shared/errors.js';

const defaults = SecuritySectionSchema.parse({});

describe('secure by default: the access decision', () => {
  it('tells loopback addresses from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackHost(h), true, h);
    }
    for (const h of ['0.0.0.0', '::', '', '192.0.2.2', 'fd00::2', 'example.com', '128.0.0.1']) {
      assert.equal(isLoopbackHost(h), false, h);
    }
  });

  it('runs open on loopback only, and requires authentication as soon as one listener is beyond it', () => {
    assert.deepEqual(decideAccess(defaults, ['127.0.0.1', '127.0.0.1']), {
      authRequired: false,
      loopbackOnly: true,
      openBeyondLoopback: false,
    });
    for (const hosts of [
      ['0.0.0.0', '127.0.0.1'],
      ['127.0.0.1', '192.0.2.2'],
      ['::', '::'],
    ]) {
      const access = decideAccess(defaults, hosts);
      assert.equal(access.authRequired, true, hosts.join(','));
      assert.equal(access.openBeyondLoopback, false);
    }
  });

  it('requires authentication on loopback too when told', () => {
    const required = SecuritySectionSchema.parse({ auth: 'required' });
    assert.equal(decideAccess(required, ['127.0.0.1', '127.0.0.1']).authRequired, true);
  });

  it('refuses auth: open beyond loopback unless explicitly overridden, and flags the override', () => {
    const open = SecuritySectionSchema.parse({ auth: 'open' });
    assert.throws(() => decideAccess(open, ['0.0.0.0', '127.0.0.1']), ConfigError);
    const overridden = SecuritySectionSchema.parse({ auth: 'open', allowOpenBeyondLoopback: true });
    assert.deepEqual(decideAccess(overridden, ['0.0.0.0', '127.0.0.1']), {
      authRequired: false,
      loopbackOnly: false,
      openBeyondLoopback: true,
    });
  });

  it('lists the problem by its dotted path when the configuration is loaded', () => {
    for (const schema of [AggregatorConfigSchema, UpConfigSchema]) {
      try {
        loadConfig(schema, {
          env: { CLOUDSENSE_HTTP_HOST: '0.0.0.0', CLOUDSENSE_AGGREGATOR__SECURITY__AUTH: 'open' },
        });
        assert.fail('expected a ConfigError');
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems[0]?.path, 'aggregator.security.auth');
        assert.match(err.problems[0]?.message ?? '', /beyond loopback/);
      }
      const config = loadConfig(schema, { env: { CLOUDSENSE_HTTP_HOST: '0.0.0.0' } });
      assert.equal(config.aggregator.security.auth, 'auto');
    }
  });

  it('wants TLS cert and key together', () => {
    assert.equal(SecuritySectionSchema.safeParse({ tls: { cert: '/c.pem' } }).success, false);
    assert.equal(SecuritySectionSchema.safeParse({ tls: { cert: '/c.pem', key: '/k.pem' } }).success, true);
  });
});
