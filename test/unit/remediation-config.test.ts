/**
 * `agent.remediation`: defaults, a full playbook, and the problems that
 * stop start-up, each by its dotted path (an unknown user, a shell string,
 * a relative program, a mode beyond the host's, ...).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { fileURLToPath } from 'node:url';
import { AgentConfigSchema } from '../../agent/config.js';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { leaseUrlOf, playbookWatches } from '../../agent/remediation/config.js';
import { ConfigError } from '../../shared/errors.js';
import { loadConfig } from '../../shared/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-remediation-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** The user the test runs as: an enforced playbook may name it without root. */
const me = userInfo();

function load(doc: unknown, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `config-${++n}.yaml`);
  writeFileSync(file, stringify(doc));
  return loadConfig(AgentConfigSchema, { file, env });
}

/** The dotted paths of the problems `doc` has. */
function problems(doc: unknown): string[] {
  try {
    load(doc);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('the configuration was accepted');
}

const PLAYBOOK = {
  name: 'clean-var-tmp',
  resource: 'filesystem:/var',
  when: { probabilityAbove: 0.8 },
  run: ['/bin/sh', '-c', 'exit 0'],
};

describe('agent.remediation configuration', () => {
  it('defaults: recommend, a 5 s lease timeout, a minute between lease tries, no playbooks', () => {
    const config = loadConfig(AgentConfigSchema, { env: {} });
    assert.deepEqual(config.agent.remediation, {
      mode: 'recommend',
      lease: { timeout: 5000, retryAfter: 60_000 },
      playbooks: [],
    });
    assert.equal(leaseUrlOf(config), 'http://127.0.0.1:8080');
  });

  it('the sample configuration spells out the defaults, on both sides', () => {
    const sample = fileURLToPath(new URL('../../deploy/config/cloudsense.example.yaml', import.meta.url));
    const agent = loadConfig(AgentConfigSchema, { file: sample, env: {} });
    assert.deepEqual(agent.agent.remediation, loadConfig(AgentConfigSchema, { env: {} }).agent.remediation);
    const aggregator = loadConfig(AggregatorConfigSchema, { file: sample, env: {} });
    assert.deepEqual(aggregator.aggregator.remediation, { maxConcurrent: 1 });
    const capped = loadConfig(AggregatorConfigSchema, {
      env: { CLOUDSENSE_AGGREGATOR__REMEDIATION__MAX_CONCURRENT: '3' },
    });
    assert.equal(capped.aggregator.remediation.maxConcurrent, 3);
  });

  it('a playbook with its defaults; resources in canonical form; the user resolved', () => {
    const config = load({
      http: { host: '0.0.0.0', port: 9090 },
      agent: {
        remediation: {
          mode: 'enforce',
          lease: { token: 'abc', timeout: '2s' },
          playbooks: [
            { ...PLAYBOOK, user: me.username, timeout: '30s' },
            {
              ...PLAYBOOK,
              name: 'drop-caches',
              resource: 'memory',
              mode: 'dry-run',
              when: { probabilityAbove: 0.5, forCycles: 1 },
            },
          ],
        },
      },
    });
    const [clean, drop] = config.agent.remediation.playbooks;
    assert.deepEqual(clean, {
      name: 'clean-var-tmp',
      resource: 'filesystem:%2Fvar',
      when: { probabilityAbove: 0.8, forCycles: 3 },
      run: ['/bin/sh', '-c', 'exit 0'],
      timeout: 30_000,
      user: { name: me.username, uid: me.uid, gid: me.gid },
      cooldown: 15 * 60_000,
      maxRunsPerHour: 2,
      outcomeCycles: 6,
    });
    assert.equal(drop!.mode, 'dry-run');
    assert.equal(config.agent.remediation.lease.timeout, 2000);
    assert.equal(leaseUrlOf(config), 'http://127.0.0.1:9090', 'a wildcard listen address means this machine');
    assert.equal(playbookWatches(clean!, 'filesystem:%2Fvar'), true);
    assert.equal(playbookWatches(clean!, 'filesystem:%2F'), false);
    assert.equal(playbookWatches({ resource: 'filesystem' }, 'filesystem:%2F'), true);
    assert.equal(playbookWatches({ resource: 'filesystem' }, 'inodes:%2F'), false);
    assert.equal(playbookWatches(drop!, 'memory'), true);
  });

  it('lease.url, when set, is used as it is', () => {
    const config = load({ agent: { remediation: { lease: { url: 'https://aggregator.example:8443/' } } } });
    assert.equal(leaseUrlOf(config), 'https://aggregator.example:8443');
  });

  it('every problem stops start-up, named by its dotted path', () => {
    const found = problems({
      agent: {
        remediation: {
          mode: 'sometimes',
          lease: { url: 'mqtt://aggregator:1883', timeout: '5 seconds' },
          playbooks: [
            { ...PLAYBOOK, run: 'rm -rf /var/tmp/*' },
            { ...PLAYBOOK, name: 'b', run: ['rm', '-rf', '/var/tmp'] },
            { ...PLAYBOOK, name: 'c', run: [join(dir, 'missing.sh')] },
            { ...PLAYBOOK, name: 'd', user: 'no-such-user-cloudsense' },
            { ...PLAYBOOK, name: 'e', resource: 'disk', when: { probabilityAbove: 1.5, forCycles: 0 } },
            { ...PLAYBOOK, name: 'f', shell: true },
          ],
        },
      },
    });
    const paths = found.map((p) => p.slice(0, p.indexOf(':')));
    for (const path of [
      'agent.remediation.mode',
      'agent.remediation.lease.url',
      'agent.remediation.lease.timeout',
      'agent.remediation.playbooks.0.run',
      'agent.remediation.playbooks.1.run.0',
      'agent.remediation.playbooks.2.run.0',
      'agent.remediation.playbooks.3.user',
      'agent.remediation.playbooks.4.resource',
      'agent.remediation.playbooks.4.when.probabilityAbove',
      'agent.remediation.playbooks.4.when.forCycles',
      'agent.remediation.playbooks.5.shell',
    ]) {
      assert.ok(paths.includes(path), `${path} in:\n${found.join('\n')}`);
    }
    assert.ok(found.some((p) => /no such user "no-such-user-cloudsense"/.test(p)));
    assert.ok(found.some((p) => /absolute path/.test(p)));
  });

  it('a playbook may not go beyond the host’s mode, and names are unique', () => {
    const found = problems({
      agent: {
        remediation: {
          mode: 'dry-run',
          playbooks: [PLAYBOOK, { ...PLAYBOOK, mode: 'enforce' }],
        },
      },
    });
    assert.deepEqual(found.sort(), [
      'agent.remediation.playbooks.1.mode: enforce goes beyond agent.remediation.mode (dry-run); raise that to allow it',
      'agent.remediation.playbooks.1.name: "clean-var-tmp" twice',
    ]);
  });
});
