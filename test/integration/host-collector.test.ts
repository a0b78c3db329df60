/**
 * The real host collector on this machine: what it must produce here (CPU,
 * memory, file descriptors, the root filesystem's space and inodes, PSI where
 * the kernel has it), as ratios in 0..1, in a valid telemetry message, and
 * found by the features' `extractUtilization`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { CollectSectionSchema } from '../../agent/collectors/config.js';
import { HostMetricsCollector } from '../../agent/collectors/host-metrics.js';
import { parseMountinfo } from '../../agent/collectors/procfs/mountinfo.js';
import { extractPressure, extractUtilization } from '../../shared/resources/utilization.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import { TelemetryMessageSchema, type TelemetryMessage } from '../../shared/wire/telemetry.js';

const linux = process.platform === 'linux' && existsSync('/proc/stat');

/** The type of the filesystem mounted at `/` here (the last mount there wins). */
function rootFsType(): string | undefined {
  const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  return mounts.filter((m) => m.mountpoint === '/').at(-1)?.fsType;
}

describe('host collector on this machine', { skip: !linux && 'needs Linux /proc' }, () => {
  it('produces every resource the features read, each in 0..1', async (t) => {
    const collect = CollectSectionSchema.parse(undefined);
    // In a container `/` is an overlay, which the defaults skip; admit it here so
    // that the test still sees a root filesystem.
    const rootType = rootFsType();
    if (rootType && collect.mounts.excludeTypes.includes(rootType)) {
      collect.mounts.excludeTypes = collect.mounts.excludeTypes.filter((type) => type !== rootType);
    }
    const collector = new HostMetricsCollector({ collect, log: pino({ level: 'silent' }) });
    assert.equal(collector.source, 'linux');
    await collector.prime(); // returns once a CPU figure can be measured

    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const metrics = await collector.collect();
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    t.diagnostic(
      `one cycle: ${metrics.length} points, ${wallMs.toFixed(2)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(2)} ms CPU`,
    );

    const message: TelemetryMessage = TelemetryMessageSchema.parse({
      schemaVersion: 1,
      hostId: 'test-host',
      seq: 1,
      timestamp: Date.now(),
      intervalSeconds: 10,
      metrics,
    });
    for (const point of metrics.filter((p) => p.unit === '1')) {
      assert.ok(
        point.value >= 0 && point.value <= 1,
        `${point.name} ${JSON.stringify(point.attributes)}: ${point.value}`,
      );
    }

    const samples = new Map(extractUtilization(message).map((s) => [s.resourceId, s]));
    const expected = ['cpu', 'memory', 'fds', 'filesystem:%2F'];
    if (statfsSync('/').files > 0) expected.push('inodes:%2F');
    for (const id of expected)
      assert.ok(samples.has(id), `no sample for ${id}; got ${[...samples.keys()].join(', ')}`);
    // Every sample carries the host's local-time offset, as this process sees it.
    assert.equal(samples.get('cpu')!.utcOffsetS, -new Date().getTimezoneOffset() * 60);

    const root = metrics.find(
      (p) => p.name === METRIC.filesystemUtilization.name && p.attributes?.[ATTR.mountpoint] === '/',
    );
    assert.equal(root?.attributes?.[ATTR.fsType], rootType);

    if (existsSync('/proc/pressure/cpu')) {
      const pressure = extractPressure(message);
      for (const resource of ['cpu', 'memory', 'io'] as const) {
        if (!existsSync(`/proc/pressure/${resource}`)) continue;
        assert.ok(pressure[resource], `no PSI for ${resource}`);
        assert.ok(pressure[resource].someAvg10 >= 0 && pressure[resource].someAvg60 <= 1);
      }
      assert.ok(samples.get('cpu')?.pressure, 'the CPU sample carries its PSI');
    } else {
      t.diagnostic('no /proc/pressure here: PSI not checked');
    }
  });
});
