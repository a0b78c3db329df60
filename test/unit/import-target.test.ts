import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveTarget, type TargetInput } from '../../aggregator/import/import-target.js';
import { ValidationError } from '../../shared/errors.js';

function target(metric: string, more: Partial<TargetInput> = {}) {
  return resolveTarget({ metric, attributes: [], ...more });
}

function refuses(input: TargetInput, pattern: RegExp): void {
  assert.throws(
    () => resolveTarget(input),
    (err: unknown) => err instanceof ValidationError && pattern.test(err.message),
  );
}

describe('import target: the series --metric, --attribute and --unit name', () => {
  it('maps each resource id to its utilisation metric with the attributes training looks for', () => {
    const cases: Array<[string, string, Record<string, string>, string]> = [
      ['cpu', 'system.cpu.utilization', {}, 'cpu'],
      ['memory', 'system.memory.utilization', { 'system.memory.state': 'used' }, 'memory'],
      ['swap', 'system.paging.utilization', { 'system.paging.state': 'used' }, 'swap'],
      ['fds', 'system.linux.file_descriptor.utilization', {}, 'fds'],
      [
        'filesystem:/var',
        'system.filesystem.utilization',
        { 'system.filesystem.mountpoint': '/var' },
        'filesystem:%2Fvar',
      ],
      [
        'inodes:%2Fvar%2Flog',
        'system.filesystem.inodes.utilization',
        { 'system.filesystem.mountpoint': '/var/log' },
        'inodes:%2Fvar%2Flog',
      ],
    ];
    for (const [id, metric, attributes, resourceId] of cases) {
      assert.deepEqual(
        target(id),
        { metric, unit: '1', attributes, ratio: true, resourceId, note: undefined },
        id,
      );
    }
  });

  it('takes metric names, with the unit CloudSense uses for them', () => {
    assert.deepEqual(target('system.memory.usage', { attributes: ['system.memory.state=used'] }), {
      metric: 'system.memory.usage',
      unit: 'By',
      attributes: { 'system.memory.state': 'used' },
      ratio: false,
      resourceId: undefined,
      note: undefined,
    });
    const fs = target('system.filesystem.utilization', {
      attributes: ['system.filesystem.mountpoint=/data', 'system.device=/dev/sdb1'],
    });
    assert.equal(fs.resourceId, 'filesystem:%2Fdata');
    assert.equal(fs.ratio, true);
    assert.equal(target('app.queue.depth', { unit: '{message}' }).unit, '{message}');
    assert.equal(target('app.pool.utilization').unit, '1', 'a *.utilization metric is a ratio');
  });

  it('says when a utilisation series will not reach training', () => {
    const fs = target('system.filesystem.utilization');
    assert.equal(fs.resourceId, undefined);
    assert.match(fs.note!, /system\.filesystem\.mountpoint=<mountpoint>.*--metric filesystem:<mountpoint>/);
    const perCpu = target('system.cpu.utilization', { attributes: ['cpu=0'] });
    assert.equal(perCpu.resourceId, undefined);
    assert.match(perCpu.note!, /only with no attributes/);
    assert.equal(target('system.cpu.load_average.1m').note, undefined);
  });

  it('refuses what cannot be a series, saying why', () => {
    refuses({ metric: 'filesystem', attributes: [] }, /needs a mountpoint/);
    refuses({ metric: 'cpu:/x', attributes: [] }, /takes no ":<mountpoint>" part/);
    refuses(
      { metric: 'Bad Name', attributes: [] },
      /--metric "Bad Name": metric name: lower-case dotted identifier/,
    );
    refuses({ metric: 'app.queue.depth', attributes: [] }, /give its unit with --unit/);
    refuses({ metric: 'cpu', attributes: [], unit: '%' }, /stored in unit "1", not "%"/);
    refuses({ metric: 'cpu', attributes: ['cpu=0'] }, /whole-host figure and takes no --attribute/);
    refuses(
      { metric: 'filesystem:/var', attributes: ['system.filesystem.mountpoint=/home'] },
      /contradicts --metric filesystem:\/var/,
    );
    refuses({ metric: 'memory', attributes: ['novalue'] }, /expected key=value/);
    refuses({ metric: 'memory', attributes: ['a=1', 'a=2'] }, /given twice/);
    refuses(
      { metric: 'memory', attributes: Array.from({ length: 20 }, (_, i) => `k${i}=v`) },
      /--attribute: at most 16 attributes/,
    );
  });
});
