import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../shared/errors.js';
import {
  ResourceIdSchema,
  canonicalResourceId,
  decodeMountpoint,
  encodeMountpoint,
  formatResourceId,
  isCanonicalResourceId,
  parseResourceId,
} from '../../shared/resources/resource-id.js';
import { extractPressure, extractUtilization } from '../../shared/resources/utilization.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import {
  type MetricPoint,
  type TelemetryMessage,
  TelemetryMessageSchema,
} from '../../shared/wire/telemetry.js';
import { HOST_ID_PATTERN } from '../../shared/wire/topics.js';

const MOUNTPOINTS = [
  '/',
  '/var/lib/docker',
  '/mnt/my disk',
  '/srv/a+b#c',
  '/data/50%',
  '/mnt/disk.1',
  "/weird/!'()*~",
  '/mnt/données/日本',
  '/mnt/😀',
  'C:',
];

describe('resource ids', () => {
  it('are the kind alone for host-wide resources', () => {
    for (const kind of ['cpu', 'memory', 'swap', 'fds'] as const) {
      assert.equal(formatResourceId({ kind }), kind);
      assert.deepEqual(parseResourceId(kind), { kind });
    }
  });

  it('percent-encode the mountpoint into one safe token and parse back to it', () => {
    for (const mountpoint of MOUNTPOINTS) {
      for (const kind of ['filesystem', 'inodes'] as const) {
        const id = formatResourceId({ kind, mountpoint });
        assert.match(id, /^(filesystem|inodes):(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/, id);
        assert.deepEqual(parseResourceId(id), { kind, mountpoint });
        assert.ok(isCanonicalResourceId(id));
        // One MQTT topic level, and a valid host-id-like token apart from ':' and '%'.
        assert.ok(!/[/+#.\s\0]/.test(id), id);
        assert.ok(HOST_ID_PATTERN.test(id.replace(/[:%]/g, '-')), id);
      }
    }
    assert.equal(formatResourceId({ kind: 'filesystem', mountpoint: '/' }), 'filesystem:%2F');
    assert.equal(
      formatResourceId({ kind: 'inodes', mountpoint: '/var/lib/docker' }),
      'inodes:%2Fvar%2Flib%2Fdocker',
    );
    assert.equal(encodeMountpoint('/mnt/disk.1'), '%2Fmnt%2Fdisk%2E1');
  });

  it('accept the raw form people type and give the canonical one', () => {
    assert.deepEqual(parseResourceId('filesystem:/var/lib/docker'), {
      kind: 'filesystem',
      mountpoint: '/var/lib/docker',
    });
    assert.equal(canonicalResourceId('filesystem:/data/50%'), 'filesystem:%2Fdata%2F50%25');
    assert.equal(canonicalResourceId('inodes:/'), 'inodes:%2F');
    assert.equal(isCanonicalResourceId('inodes:/'), false);
    assert.equal(ResourceIdSchema.parse('filesystem:/srv'), 'filesystem:%2Fsrv');
    assert.equal(ResourceIdSchema.safeParse('disk:/srv').success, false);
  });

  it('refuse what is not an id, saying what one looks like', () => {
    const bad: [string, RegExp][] = [
      ['', /unknown resource/],
      ['gpu', /unknown resource/],
      ['CPU', /unknown resource/],
      ['cpu:0', /takes no/],
      ['filesystem', /needs a mountpoint/],
      ['filesystem:', /encoded mountpoint/],
      ['filesystem:var/lib', /encoded mountpoint/],
      ['filesystem:%2fvar', /upper-case hex|encoded mountpoint/],
      ['filesystem:%41', /not canonical: write A/],
      ['filesystem:%FF', /not valid UTF-8/],
      ['filesystem:%00', /NUL/],
      [`filesystem:/${'x'.repeat(300)}`, /longer than 256/],
      [`filesystem:${'%2F'.repeat(3000)}`, /longer than/],
    ];
    for (const [id, message] of bad) {
      assert.throws(
        () => parseResourceId(id),
        (err: unknown) => err instanceof ValidationError && message.test(err.message),
        id,
      );
    }
    assert.throws(() => decodeMountpoint('%2'), ValidationError);
    assert.throws(() => encodeMountpoint(''), ValidationError);
  });
});

const TS = 1_790_000_000_000;

function message(metrics: MetricPoint[]): TelemetryMessage {
  return TelemetryMessageSchema.parse({
    schemaVersion: 1,
    hostId: 'web-01',
    seq: 1,
    timestamp: TS,
    intervalSeconds: 10,
    metrics,
  });
}

const fsAttrs = (mount: string) => ({
  [ATTR.device]: '/dev/sda1',
  [ATTR.mountpoint]: mount,
  [ATTR.fsType]: 'ext4',
});
const psi = (name: string, resource: string, scope: string, value: number): MetricPoint => ({
  name,
  unit: '1',
  value,
  attributes: { [ATTR.pressureResource]: resource, [ATTR.pressureScope]: scope },
});

describe('utilisation from telemetry', () => {
  it('reads one sample per resource from what the agent publishes, with its PSI', () => {
    const msg = message([
      { ...METRIC.cpuUtilization, value: 0.31 },
      { ...METRIC.cpuLogicalCount, value: 8 },
      { ...METRIC.memoryUsage, value: 1e9, attributes: { [ATTR.memoryState]: 'used' } },
      { ...METRIC.memoryUtilization, value: 0.62, attributes: { [ATTR.memoryState]: 'used' } },
      { ...METRIC.pagingUtilization, value: 0.05, attributes: { [ATTR.pagingState]: 'used' } },
      { ...METRIC.filesystemUtilization, value: 0.71, attributes: fsAttrs('/') },
      { ...METRIC.filesystemUtilization, value: 0.2, attributes: fsAttrs('/var/lib/docker') },
      { ...METRIC.filesystemInodesUtilization, value: 0.11, attributes: fsAttrs('/') },
      { ...METRIC.fileDescriptorUtilization, value: 0.03 },
      psi(METRIC.pressureAvg10.name, 'cpu', 'some', 0.12),
      psi(METRIC.pressureAvg60.name, 'cpu', 'some', 0.08),
      psi(METRIC.pressureAvg10.name, 'cpu', 'full', 0.5),
      psi(METRIC.pressureAvg60.name, 'memory', 'some', 0.01),
      psi(METRIC.pressureAvg10.name, 'io', 'some', 0.3),
    ]);
    const samples = extractUtilization(msg);
    assert.deepEqual(
      samples.map((s) => [s.resourceId, s.value, s.timestampMs]),
      [
        ['cpu', 0.31, TS],
        ['memory', 0.62, TS],
        ['swap', 0.05, TS],
        ['filesystem:%2F', 0.71, TS],
        ['filesystem:%2Fvar%2Flib%2Fdocker', 0.2, TS],
        ['inodes:%2F', 0.11, TS],
        ['fds', 0.03, TS],
      ],
    );
    const byId = new Map(samples.map((s) => [s.resourceId, s]));
    assert.deepEqual(byId.get('cpu')!.pressure, { someAvg10: 0.12, someAvg60: 0.08 });
    assert.deepEqual(byId.get('swap')!.pressure, { someAvg10: NaN, someAvg60: 0.01 });
    assert.deepEqual(byId.get('filesystem:%2F')!.pressure, { someAvg10: 0.3, someAvg60: NaN });
    assert.equal(byId.get('fds')!.pressure, undefined);
    assert.deepEqual(byId.get('inodes:%2F')!.resource, { kind: 'inodes', mountpoint: '/' });
  });

  it("gives swap's sample memory's utilisation from the same message as its companion, and no other sample one", () => {
    const samples = extractUtilization(
      message([
        { ...METRIC.pagingUtilization, value: 0.05, attributes: { [ATTR.pagingState]: 'used' } },
        { ...METRIC.cpuUtilization, value: 0.31 },
        { ...METRIC.memoryUtilization, value: 0.93, attributes: { [ATTR.memoryState]: 'used' } },
        { ...METRIC.fileDescriptorUtilization, value: 0.03 },
      ]),
    );
    assert.deepEqual(
      samples.map((s) => [s.resourceId, s.companion]),
      [
        ['swap', 0.93],
        ['cpu', undefined],
        ['memory', undefined],
        ['fds', undefined],
      ],
    );
    // No capacities in that message: no ratio.
    assert.equal(samples[0]!.companionCapacityRatio, undefined);
    // With memory's limit and swap's used and free bytes: memory ÷ swap. A per-device figure is not the total.
    const GIB = 2 ** 30;
    const sized = extractUtilization(
      message([
        { ...METRIC.pagingUtilization, value: 0.25, attributes: { [ATTR.pagingState]: 'used' } },
        { ...METRIC.memoryUtilization, value: 0.93, attributes: { [ATTR.memoryState]: 'used' } },
        {
          ...METRIC.pagingUsage,
          value: 99 * GIB,
          attributes: { [ATTR.pagingState]: 'used', device: '/dev/sdb2' },
        },
        { ...METRIC.pagingUsage, value: 0.5 * GIB, attributes: { [ATTR.pagingState]: 'used' } },
        { ...METRIC.pagingUsage, value: 1.5 * GIB, attributes: { [ATTR.pagingState]: 'free' } },
        { ...METRIC.memoryLimit, value: 16 * GIB },
      ]),
    );
    assert.deepEqual(
      sized.map((s) => [s.resourceId, s.companion, s.companionCapacityRatio]),
      [
        ['swap', 0.93, 8],
        ['memory', undefined, undefined],
      ],
    );
    // A swap of zero bytes, or a missing part, gives no ratio.
    for (const free of [undefined, 0]) {
      const points: MetricPoint[] = [
        { ...METRIC.pagingUtilization, value: 0, attributes: { [ATTR.pagingState]: 'used' } },
        { ...METRIC.memoryUtilization, value: 0.5, attributes: { [ATTR.memoryState]: 'used' } },
        { ...METRIC.pagingUsage, value: 0, attributes: { [ATTR.pagingState]: 'used' } },
        { ...METRIC.memoryLimit, value: 16 * GIB },
      ];
      if (free !== undefined)
        points.push({ ...METRIC.pagingUsage, value: free, attributes: { [ATTR.pagingState]: 'free' } });
      assert.equal(extractUtilization(message(points))[0]!.companionCapacityRatio, undefined, String(free));
    }
    // Without a (valid) memory reading, swap has no companion.
    const alone = extractUtilization(
      message([
        { ...METRIC.pagingUtilization, value: 0.05, attributes: { [ATTR.pagingState]: 'used' } },
        { ...METRIC.memoryUtilization, value: 1.5, attributes: { [ATTR.memoryState]: 'used' } },
      ]),
    );
    assert.deepEqual(
      alone.map((s) => [s.resourceId, s.companion]),
      [['swap', undefined]],
    );
  });

  it('gives every sample the host’s UTC offset when the message has a plausible one', () => {
    const withOffset = (value: number) =>
      extractUtilization(
        message([
          { ...METRIC.cpuUtilization, value: 0.5 },
          { ...METRIC.fileDescriptorUtilization, value: 0.1 },
          { ...METRIC.timeZoneOffset, value },
        ]),
      ).map((s) => s.utcOffsetS);
    assert.deepEqual(withOffset(-4 * 3600), [-4 * 3600, -4 * 3600]);
    assert.deepEqual(withOffset(5.75 * 3600), [5.75 * 3600, 5.75 * 3600]);
    // Beyond UTC−12 … UTC+14 is no time zone: left out, not trusted.
    assert.deepEqual(withOffset(15 * 3600), [undefined, undefined]);
    assert.equal(
      extractUtilization(message([{ ...METRIC.cpuUtilization, value: 0.5 }]))[0]!.utcOffsetS,
      undefined,
    );
  });

  it('skips points that are not a resource’s utilisation, or out of range, and keeps the first of a pair', () => {
    const msg = message([
      { ...METRIC.cpuUtilization, value: 0.9, attributes: { 'cpu.logical_number': '0' } },
      { ...METRIC.memoryUtilization, value: 0.3, attributes: { [ATTR.memoryState]: 'free' } },
      { ...METRIC.memoryUtilization, value: 1.5, attributes: { [ATTR.memoryState]: 'used' } },
      { ...METRIC.filesystemUtilization, value: 0.5 },
      { ...METRIC.filesystemUtilization, value: 0.4, attributes: fsAttrs('/srv') },
      { ...METRIC.filesystemUtilization, value: 0.6, attributes: fsAttrs('/srv') },
      psi(METRIC.pressureAvg10.name, 'gpu', 'some', 0.1),
    ]);
    assert.deepEqual(
      extractUtilization(msg).map((s) => [s.resourceId, s.value]),
      [['filesystem:%2Fsrv', 0.4]],
    );
    assert.deepEqual(extractPressure(msg), {});
  });
});
