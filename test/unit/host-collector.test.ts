import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { CollectionProblems } from '../../agent/collectors/collection-problems.js';
import { CollectSectionSchema } from '../../agent/collectors/config.js';
import { HostMetricsCollector, metricPoints } from '../../agent/collectors/host-metrics.js';
import type { HostSnapshot } from '../../agent/collectors/host-snapshot.js';
import { LinuxHostReader, MIN_CPU_WINDOW_MS } from '../../agent/collectors/linux-host.js';
import { MountRules } from '../../agent/collectors/mount-rules.js';
import { extractPressure, extractUtilization } from '../../shared/resources/utilization.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import {
  TelemetryMessageSchema,
  type MetricPoint,
  type TelemetryMessage,
} from '../../shared/wire/telemetry.js';

const procfs = (tree: string) => fileURLToPath(new URL(`../fixtures/procfs/${tree}`, import.meta.url));
const KiB = 1024;

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function capturingLog() {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

function message(metrics: MetricPoint[]): TelemetryMessage {
  return {
    schemaVersion: 1,
    hostId: 'web-01',
    seq: 1,
    timestamp: 1_790_000_000_000,
    intervalSeconds: 10,
    metrics,
  };
}

const named = (points: MetricPoint[], name: string) => points.filter((p) => p.name === name);

const SNAPSHOT: HostSnapshot = {
  cpuUtilization: 0.25,
  logicalCpus: 4,
  loadAverage: [1.5, 1.25, 1],
  memory: { totalBytes: 1000, freeBytes: 100, availableBytes: 400 },
  swap: { totalBytes: 200, freeBytes: 150 },
  filesystems: [
    {
      device: '/dev/sda1',
      mountpoint: '/',
      type: 'ext4',
      sizeBytes: 1000,
      usedBytes: 600,
      freeBytes: 350,
      reservedBytes: 50,
      inodes: { total: 100, free: 75 },
    },
    {
      device: '/dev/sdb',
      mountpoint: '/srv',
      type: 'btrfs',
      sizeBytes: 500,
      usedBytes: 100,
      freeBytes: 400,
      reservedBytes: 0,
    },
  ],
  fileDescriptors: { inUse: 900, max: 1000 },
  pressure: [
    { resource: 'cpu', scope: 'some', averages: { avg10: 0.5, avg60: 0.25 } },
    { resource: 'memory', scope: 'some', averages: { avg10: 0.01, avg60: 0.02 } },
    { resource: 'memory', scope: 'full', averages: { avg10: 0.005, avg60: 0.01 } },
    { resource: 'io', scope: 'some', averages: { avg10: 0.1, avg60: 0.2 } },
  ],
  network: [{ name: 'eth0', receiveBytes: 10, transmitBytes: 20 }],
};

describe('host metric points', () => {
  it('names every reading after the OTel conventions, in a fixed order', () => {
    const points = metricPoints(SNAPSHOT);
    assert.deepEqual(
      [...new Set(points.map((p) => p.name))],
      [
        'system.cpu.utilization',
        'system.cpu.logical.count',
        'system.cpu.load_average.1m',
        'system.cpu.load_average.5m',
        'system.cpu.load_average.15m',
        'system.memory.limit',
        'system.memory.usage',
        'system.memory.utilization',
        'system.paging.usage',
        'system.paging.utilization',
        'system.filesystem.limit',
        'system.filesystem.usage',
        'system.filesystem.utilization',
        'system.filesystem.inodes.utilization',
        'system.linux.file_descriptor.utilization',
        'system.network.io',
        'system.linux.pressure.avg10',
        'system.linux.pressure.avg60',
      ],
    );
    assert.deepEqual(
      named(points, METRIC.memoryUsage.name).map((p) => [p.attributes?.[ATTR.memoryState], p.value]),
      [
        ['used', 600],
        ['free', 100],
        ['cached', 300],
      ],
    );
    const root = { [ATTR.device]: '/dev/sda1', [ATTR.mountpoint]: '/', [ATTR.fsType]: 'ext4' };
    assert.deepEqual(named(points, METRIC.filesystemUtilization.name)[0], {
      ...METRIC.filesystemUtilization,
      value: 600 / 950,
      attributes: root,
    });
    assert.deepEqual(named(points, METRIC.filesystemInodesUtilization.name), [
      { ...METRIC.filesystemInodesUtilization, value: 0.25, attributes: root },
    ]);
    assert.equal(named(points, METRIC.filesystemUsage.name).length, 6);
    assert.deepEqual(named(points, METRIC.fileDescriptorUtilization.name), [
      { ...METRIC.fileDescriptorUtilization, value: 0.9 },
    ]);
    TelemetryMessageSchema.parse(message(points));
  });

  it('gives the features a sample for every resource, with its PSI', () => {
    const samples = extractUtilization(message(metricPoints(SNAPSHOT)));
    assert.deepEqual(
      samples.map((s) => [s.resourceId, s.value, s.pressure?.someAvg10]),
      [
        ['cpu', 0.25, 0.5],
        ['memory', 0.6, 0.01],
        ['swap', 0.25, 0.01],
        ['filesystem:%2F', 600 / 950, 0.1],
        ['inodes:%2F', 0.25, 0.1],
        ['filesystem:%2Fsrv', 0.2, 0.1],
        ['fds', 0.9, undefined],
      ],
    );
  });

  it('leaves out what is unknown: no swap, no CPU baseline, no inode table, no PSI', () => {
    const points = metricPoints({
      ...SNAPSHOT,
      cpuUtilization: undefined,
      swap: { totalBytes: 0, freeBytes: 0 },
      filesystems: SNAPSHOT.filesystems.slice(1),
      fileDescriptors: undefined,
      pressure: [],
    });
    const names = new Set(points.map((p) => p.name));
    for (const absent of [
      METRIC.cpuUtilization,
      METRIC.pagingUtilization,
      METRIC.filesystemInodesUtilization,
      METRIC.fileDescriptorUtilization,
      METRIC.pressureAvg10,
    ]) {
      assert.ok(!names.has(absent.name), absent.name);
    }
    assert.equal(named(points, METRIC.pagingUsage.name).length, 2, 'usage of no swap is 0 bytes');
  });
});

describe('Linux host reader on procfs fixtures', () => {
  const collect = CollectSectionSchema.parse(undefined);

  it('reads a host with PSI: some and full, but no cpu "full"', async () => {
    const { log } = capturingLog();
    const reader = new LinuxHostReader({
      rules: new MountRules({ ...collect.mounts, include: ['/'] }),
      log,
      problems: new CollectionProblems(log),
      procPath: procfs('host'),
    });
    const snapshot = await reader.read();
    assert.equal(snapshot.cpuUtilization, undefined, 'the fixture CPU counters do not move');
    assert.deepEqual(snapshot.memory, {
      totalBytes: 16303404 * KiB,
      freeBytes: 1204256 * KiB,
      availableBytes: 9870124 * KiB,
    });
    assert.deepEqual(snapshot.fileDescriptors, { inUse: 10240, max: 1048576 });
    assert.deepEqual(
      snapshot.pressure.map((p) => `${p.resource}/${p.scope}`),
      ['cpu/some', 'memory/some', 'memory/full', 'io/some', 'io/full'],
    );
    assert.deepEqual(
      snapshot.network.map((n) => n.name),
      ['eth0', 'docker0', 'vethab12cd'],
    );
    const pressure = extractPressure(message(metricPoints(snapshot)));
    assert.deepEqual(pressure, {
      cpu: { someAvg10: 0.0558, someAvg60: 0.2777 },
      memory: { someAvg10: 0.011, someAvg60: 0.0036 },
      io: { someAvg10: 0.1395, someAvg60: 0.095 },
    });
  });

  it('without PSI: no pressure points, one debug line per file, no warning', async () => {
    const { log, lines } = capturingLog();
    // A cgroup limit below MemTotal (2000 MiB in the fixture): said once, at start.
    const cgroupPath = mkdtempSync(join(tmpdir(), 'cloudsense-cgroup-'));
    writeFileSync(join(cgroupPath, 'memory.max'), `${512 * 1024 * 1024}\n`);
    const collector = new HostMetricsCollector({
      collect,
      log,
      procPath: procfs('no-psi'),
      platform: 'linux',
    });
    assert.equal(collector.source, 'linux');
    const reader = new LinuxHostReader({
      rules: new MountRules(collect.mounts),
      log,
      problems: new CollectionProblems(log),
      procPath: procfs('no-psi'),
      cgroupPath,
    });
    await reader.prime();
    const first = metricPoints(await reader.read());
    const second = metricPoints(await reader.read());
    for (const points of [first, second]) {
      assert.equal(named(points, METRIC.pressureAvg10.name).length, 0);
      assert.equal(named(points, METRIC.pagingUtilization.name).length, 0, 'no swap');
      assert.deepEqual(
        named(points, METRIC.networkIo.name).map((p) => [p.attributes?.[ATTR.interface], p.value]),
        [
          ['eth0', 5000],
          ['eth0', 7000],
        ],
      );
      assert.deepEqual(
        named(points, METRIC.filesystemUtilization.name).map((p) => p.attributes?.[ATTR.mountpoint]),
        ['/'],
        'the root is real; the fixture mount that does not exist here is left out',
      );
      const memory = named(points, METRIC.memoryUtilization.name)[0]!;
      assert.equal(memory.value, (2048000 - 864000) / 2048000);
    }
    assert.equal(lines.filter((l) => /pressure-stall/.test(l.msg)).length, 3);
    assert.ok(lines.filter((l) => /pressure-stall/.test(l.msg)).every((l) => l.level === 20));
    const warnings = lines.filter((l) => l.level >= 40);
    assert.deepEqual(
      warnings.map((l) => l.mountpoint),
      ['/cloudsense-fixture-not-mounted'],
      'one warning for the missing mount over two cycles, nothing else',
    );
    const limit = lines.find((l) => /cgroup memory limit/.test(l.msg));
    assert.equal(limit?.memoryMaxBytes, 512 * 1024 * 1024);
  });

  it('measures CPU over at least MIN_CPU_WINDOW_MS, from the first cycle on', async () => {
    const procPath = mkdtempSync(join(tmpdir(), 'cloudsense-procfs-'));
    cpSync(procfs('no-psi'), procPath, { recursive: true });
    const setStat = (busy: number, idle: number) =>
      writeFileSync(join(procPath, 'stat'), `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`);
    setStat(0, 0);
    const log = pino({ level: 'silent' });
    const reader = new LinuxHostReader({
      rules: new MountRules({ ...collect.mounts, include: ['/'] }),
      log,
      problems: new CollectionProblems(log),
      procPath,
    });
    await reader.prime(); // the baseline, then MIN_CPU_WINDOW_MS
    setStat(50, 50);
    assert.equal((await reader.read()).cpuUtilization, 0.5);
    // A cycle right after the last: measured from the baseline, still 500 ms or more back.
    setStat(60, 140);
    assert.equal((await reader.read()).cpuUtilization, 60 / 200);
    await sleep(MIN_CPU_WINDOW_MS);
    setStat(160, 140);
    assert.equal((await reader.read()).cpuUtilization, 1, 'from the previous reading: 100 busy ticks of 100');
  });

  it('takes the systeminformation path off Linux', () => {
    const collector = new HostMetricsCollector({
      collect,
      log: pino({ level: 'silent' }),
      platform: 'darwin',
    });
    assert.equal(collector.source, 'systeminformation');
  });
});
