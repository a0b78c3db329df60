import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EXCLUDED_FS_TYPES, DEFAULT_EXCLUDED_MOUNTPOINTS } from '../../agent/collectors/config.js';
import { AgentConfigSchema } from '../../agent/config.js';
import { loadConfig } from '../../shared/config/load.js';
import { ConfigError } from '../../shared/errors.js';

const SAMPLE = fileURLToPath(new URL('../../deploy/config/cloudsense.example.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cloudsense-collect-config-'));

function yamlFile(text: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected the configuration to be rejected');
}

describe('agent.collect configuration', () => {
  it('defaults to every real filesystem, without a host root', () => {
    const { collect } = loadConfig(AgentConfigSchema, { env: {} }).agent;
    assert.deepEqual(collect, {
      mounts: {
        include: [],
        exclude: [...DEFAULT_EXCLUDED_MOUNTPOINTS],
        includeTypes: [],
        excludeTypes: [...DEFAULT_EXCLUDED_FS_TYPES],
      },
    });
  });

  it('spells out the defaults in the sample config', () => {
    const { collect } = loadConfig(AgentConfigSchema, { file: SAMPLE, env: {} }).agent;
    assert.deepEqual(collect, loadConfig(AgentConfigSchema, { env: {} }).agent.collect);
  });

  it('reads lists from YAML and comma-separated from the environment', () => {
    const file = yamlFile(
      'agent:\n  collect:\n    hostRoot: /host\n    mounts:\n      include: [/, "/data/**"]\n',
    );
    const config = loadConfig(AgentConfigSchema, {
      file,
      env: { CLOUDSENSE_AGENT__COLLECT__MOUNTS__EXCLUDE_TYPES: 'tmpfs, fuse.*' },
    });
    assert.deepEqual(config.agent.collect.mounts.include, ['/', '/data/**']);
    assert.deepEqual(config.agent.collect.mounts.excludeTypes, ['tmpfs', 'fuse.*']);
    assert.equal(config.agent.collect.hostRoot, '/host');
    const fromEnv = loadConfig(AgentConfigSchema, {
      env: { CLOUDSENSE_AGENT__COLLECT__MOUNTS__EXCLUDE: '' },
    });
    assert.deepEqual(fromEnv.agent.collect.mounts.exclude, [], 'an empty variable empties the list');
  });

  it('lists every bad pattern by its path', () => {
    const file = yamlFile(
      [
        'agent:',
        '  collect:',
        '    hostRoot: host/',
        '    mounts:',
        '      include: [data]',
        '      excludeTypes: ["ext 4"]',
        '      other: 1',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => loadConfig(AgentConfigSchema, { file, env: {} }));
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(
      problems.find((p) => p.startsWith('agent.collect.hostRoot:'))!,
      /absolute directory path/,
    );
    assert.match(
      problems.find((p) => p.startsWith('agent.collect.mounts.include.0:'))!,
      /starts with "\/"/,
    );
    assert.match(
      problems.find((p) => p.startsWith('agent.collect.mounts.excludeTypes.0:'))!,
      /filesystem type/,
    );
    assert.ok(problems.includes('agent.collect.mounts.other: unknown setting'));
  });
});
