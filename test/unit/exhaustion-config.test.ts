import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../../shared/config/duration.js';
import { loadConfig } from '../../shared/config/load.js';
import { ConfigError } from '../../shared/errors.js';
import {
  DEFAULT_EXHAUSTION,
  ExhaustionConfigSchema,
  describeExhaustion,
  resolveExhaustion,
} from '../../shared/resources/exhaustion.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** How a component mounts the schema: one key in its config. */
const Schema = z.object({ exhaustion: ExhaustionConfigSchema }).strict();
const dir = mkdtempSync(join(tmpdir(), 'cloudsense-exhaustion-'));
let files = 0;
function load(yaml: string, env: Record<string, string> = {}) {
  const file = join(dir, `${files++}.yaml`);
  writeFileSync(file, yaml);
  return loadConfig(Schema, { file, env });
}

describe('durations', () => {
  it('parse Prometheus-style strings to ms and format back', () => {
    const cases: [string, number][] = [
      ['500ms', 500],
      ['30s', 30_000],
      ['5m', 5 * MIN],
      ['1h', HOUR],
      ['1h30m', 90 * MIN],
      ['6h', 6 * HOUR],
      ['1d', 24 * HOUR],
      ['1w', 7 * 24 * HOUR],
      ['0s', 0],
    ];
    for (const [text, ms] of cases) {
      assert.equal(parseDuration(text), ms, text);
      assert.equal(parseDuration(formatDuration(ms)), ms, text);
    }
    assert.equal(formatDuration(90 * MIN), '1h30m');
    for (const bad of ['', '1', '1.5h', 'h', '30m1h', '1hour', '-5m', '5 m', '1h1h']) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });
});

describe('exhaustion definitions', () => {
  it('default to the documented thresholds, horizons and CPU sustain', () => {
    const config = ExhaustionConfigSchema.parse(undefined);
    const table = Object.fromEntries(
      (['cpu', 'memory', 'swap', 'filesystem:/', 'inodes:/', 'fds'] as const).map((id) => [
        id,
        describeExhaustion(resolveExhaustion(config, id)),
      ]),
    );
    assert.deepEqual(table, {
      cpu: '≥ 90% for 5m within 1h',
      memory: '≥ 95% within 30m',
      swap: '≥ 90% within 1h',
      'filesystem:/': '≥ 95% within 6h',
      'inodes:/': '≥ 95% within 6h',
      fds: '≥ 90% within 1h',
    });
    assert.deepEqual(resolveExhaustion(config, 'cpu'), DEFAULT_EXHAUSTION.cpu);
  });

  it('take a kind’s override for every resource of it, and a resource’s own over that', () => {
    const { exhaustion } = load(
      [
        'exhaustion:',
        '  cpu: { threshold: 0.95 }',
        '  filesystem: { horizon: 12h }',
        '  "filesystem:/var/lib/docker": { threshold: 0.9, sustain: 10m }',
      ].join('\n'),
      { CLOUDSENSE_EXHAUSTION__CPU__SUSTAIN: '2m' },
    );
    assert.deepEqual(Object.keys(exhaustion).sort(), [
      'cpu',
      'filesystem',
      'filesystem:%2Fvar%2Flib%2Fdocker',
    ]);
    assert.deepEqual(resolveExhaustion(exhaustion, 'cpu'), {
      threshold: 0.95,
      horizonMs: HOUR,
      sustainMs: 2 * MIN,
    });
    assert.deepEqual(resolveExhaustion(exhaustion, 'filesystem:%2Fvar%2Flib%2Fdocker'), {
      threshold: 0.9,
      horizonMs: 12 * HOUR,
      sustainMs: 10 * MIN,
    });
    assert.deepEqual(resolveExhaustion(exhaustion, { kind: 'filesystem', mountpoint: '/' }), {
      threshold: 0.95,
      horizonMs: 12 * HOUR,
      sustainMs: 0,
    });
    assert.deepEqual(resolveExhaustion(exhaustion, 'inodes:/'), DEFAULT_EXHAUSTION.inodes);
  });

  it('list every problem by its dotted path', () => {
    const problems = problemsOf(
      [
        'exhaustion:',
        '  cpu: { threshold: 1.5 }',
        '  memory: { horizon: soon }',
        '  inodes: { threshold: 0.9, colour: blue }',
        '  gpu: { threshold: 0.9 }',
        '  "filesystem:%2fsrv": {}',
      ].join('\n'),
    );
    assert.match(problems['exhaustion.cpu.threshold']!, /at most 1/);
    assert.match(problems['exhaustion.memory.horizon']!, /expected a duration such as/);
    assert.match(problems['exhaustion.inodes.colour']!, /unknown setting/);
    assert.match(problems['exhaustion.gpu']!, /not a resource kind or id: unknown resource "gpu"/);
    assert.match(problems['exhaustion.filesystem:%2fsrv']!, /encoded mountpoint/);
    assert.equal(Object.keys(problems).length, 5);
  });

  it('check the merged definitions once every value has the right shape', () => {
    const problems = problemsOf(
      [
        'exhaustion:',
        '  swap: { sustain: 2h }',
        '  fds: { horizon: 8d }',
        '  filesystem: { horizon: 1m }',
        '  "filesystem:/srv": { sustain: 5m }',
        '  "inodes:/srv": {}',
        '  "inodes:%2Fsrv": {}',
      ].join('\n'),
    );
    assert.match(
      problems['exhaustion.swap.sustain']!,
      /sustain \(2h\) must be shorter than the horizon \(1h\)/,
    );
    assert.match(problems['exhaustion.fds.horizon']!, /at most 7d/);
    assert.match(problems['exhaustion.filesystem:/srv.sustain']!, /shorter than the horizon \(1m\)/);
    assert.match(problems['exhaustion.inodes:%2Fsrv']!, /the same resource as another key \(inodes:%2Fsrv\)/);
  });
});

/** Problems by dotted path from loading `yaml`, which must be rejected. */
function problemsOf(yaml: string): Record<string, string> {
  try {
    load(yaml);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return Object.fromEntries(err.problems.map((p) => [p.path, p.message]));
  }
  assert.fail('expected the configuration to be rejected');
}
