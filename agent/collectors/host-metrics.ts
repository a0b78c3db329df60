/**
 * The host collector: reads the host (from /proc on Linux, through
 * systeminformation elsewhere) and names what it read after OpenTelemetry's
 * host-metrics conventions (shared/wire/metric-names.ts, docs/metrics.md).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CloudSenseError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import type { MetricPoint } from '../../shared/wire/telemetry.js';
import { CollectionProblems } from './collection-problems.js';
import type { CollectSection } from './config.js';
import type { HostReader, HostSnapshot } from './host-snapshot.js';
import { LinuxHostReader } from './linux-host.js';
import { MountRules } from './mount-rules.js';
import { fileDescriptorUtilization } from './procfs/file-nr.js';
import { SystemInformationHostReader } from './systeminformation-host.js';

export interface HostMetricsCollectorOptions {
  /** `agent.collect`. */
  collect: CollectSection;
  log: Logger;
  /** Where procfs is mounted. Default `/proc`; tests point it at a fixture tree. */
  procPath?: string;
  /** Default `process.platform`. */
  platform?: NodeJS.Platform;
}

type Attributes = Record<string, string>;

/** Collects this host's metrics; Linux from /proc and statfs, other platforms through systeminformation. */
export class HostMetricsCollector {
  private readonly reader: HostReader;
  /** `linux` when reading /proc, `systeminformation` otherwise. */
  readonly source: 'linux' | 'systeminformation';

  constructor(options: HostMetricsCollectorOptions) {
    const rules = new MountRules(options.collect.mounts);
    const procPath = options.procPath ?? '/proc';
    const platform = options.platform ?? process.platform;
    if (platform === 'linux' && existsSync(join(procPath, 'stat'))) {
      this.source = 'linux';
      this.reader = new LinuxHostReader({
        rules,
        hostRoot: options.collect.hostRoot,
        log: options.log,
        problems: new CollectionProblems(options.log),
        procPath,
      });
    } else {
      if (platform === 'linux') {
        options.log.warn({ procPath }, 'procfs not found: collecting through systeminformation');
      }
      this.source = 'systeminformation';
      this.reader = new SystemInformationHostReader(rules);
    }
  }

  /** Takes the baselines that rates need (CPU time); call once before the first cycle. */
  prime(): Promise<void> {
    return this.reader.prime();
  }

  async collect(): Promise<MetricPoint[]> {
    const points = metricPoints(await this.reader.read());
    if (points.length === 0) {
      throw new CloudSenseError(
        'COLLECT_EMPTY',
        'no host metric could be read; see the warnings logged before',
      );
    }
    points.push(timeZoneOffsetPoint(new Date()));
    return points;
  }
}

/**
 * The local-time offset from UTC at `at`, seconds east, as the process sees
 * it (TZ, else /etc/localtime): the calendar features are in local time.
 * Daylight saving moves it twice a year, which is why every sample has it.
 */
export function timeZoneOffsetPoint(at: Date): MetricPoint {
  return { ...METRIC.timeZoneOffset, value: -at.getTimezoneOffset() * 60 };
}

/**
 * A snapshot as metric points, in a fixed order (the simulator publishes the
 * same order): CPU, memory, swap, each filesystem, file descriptors, network,
 * pressure. What the snapshot does not know has no point.
 */
export function metricPoints(snapshot: HostSnapshot): MetricPoint[] {
  const points: MetricPoint[] = [];
  const add = (m: { name: string; unit: string }, value: number | undefined, attributes?: Attributes) => {
    if (value === undefined || !Number.isFinite(value)) return;
    points.push(attributes ? { ...m, value, attributes } : { ...m, value });
  };

  add(METRIC.cpuUtilization, snapshot.cpuUtilization);
  add(METRIC.cpuLogicalCount, snapshot.logicalCpus);
  const [l1, l5, l15] = snapshot.loadAverage;
  add(METRIC.cpuLoad1m, l1);
  add(METRIC.cpuLoad5m, l5);
  add(METRIC.cpuLoad15m, l15);

  const { memory, swap } = snapshot;
  if (memory) {
    // "used" is what cannot be reclaimed (total − available); "cached" is the
    // reclaimable rest above "free", so the three states sum to the total.
    const used = memory.totalBytes - memory.availableBytes;
    add(METRIC.memoryLimit, memory.totalBytes);
    add(METRIC.memoryUsage, used, { [ATTR.memoryState]: 'used' });
    add(METRIC.memoryUsage, memory.freeBytes, { [ATTR.memoryState]: 'free' });
    add(METRIC.memoryUsage, Math.max(0, memory.availableBytes - memory.freeBytes), {
      [ATTR.memoryState]: 'cached',
    });
    if (memory.totalBytes > 0) {
      add(METRIC.memoryUtilization, used / memory.totalBytes, { [ATTR.memoryState]: 'used' });
    }
  }
  if (swap) {
    const used = swap.totalBytes - swap.freeBytes;
    add(METRIC.pagingUsage, used, { [ATTR.pagingState]: 'used' });
    add(METRIC.pagingUsage, swap.freeBytes, { [ATTR.pagingState]: 'free' });
    // No swap, no utilisation: 0 ÷ 0 is not "empty".
    if (swap.totalBytes > 0)
      add(METRIC.pagingUtilization, used / swap.totalBytes, { [ATTR.pagingState]: 'used' });
  }

  for (const fs of snapshot.filesystems) {
    const base = { [ATTR.device]: fs.device, [ATTR.mountpoint]: fs.mountpoint, [ATTR.fsType]: fs.type };
    add(METRIC.filesystemLimit, fs.sizeBytes, base);
    add(METRIC.filesystemUsage, fs.usedBytes, { ...base, [ATTR.fsState]: 'used' });
    add(METRIC.filesystemUsage, fs.freeBytes, { ...base, [ATTR.fsState]: 'free' });
    add(METRIC.filesystemUsage, fs.reservedBytes, { ...base, [ATTR.fsState]: 'reserved' });
    // Against what ordinary users can fill, as df shows it: root's reserve is not headroom.
    const usable = fs.usedBytes + fs.freeBytes;
    if (usable > 0) add(METRIC.filesystemUtilization, fs.usedBytes / usable, base);
    if (fs.inodes) {
      add(METRIC.filesystemInodesUtilization, (fs.inodes.total - fs.inodes.free) / fs.inodes.total, base);
    }
  }

  if (snapshot.fileDescriptors) {
    add(METRIC.fileDescriptorUtilization, fileDescriptorUtilization(snapshot.fileDescriptors));
  }

  for (const nic of snapshot.network) {
    // Cumulative counters, as OTel's system.network.io.
    add(METRIC.networkIo, nic.receiveBytes, { [ATTR.interface]: nic.name, [ATTR.direction]: 'receive' });
    add(METRIC.networkIo, nic.transmitBytes, { [ATTR.interface]: nic.name, [ATTR.direction]: 'transmit' });
  }

  for (const { resource, scope, averages } of snapshot.pressure) {
    const attributes = { [ATTR.pressureResource]: resource, [ATTR.pressureScope]: scope };
    add(METRIC.pressureAvg10, averages.avg10, attributes);
    add(METRIC.pressureAvg60, averages.avg60, attributes);
  }
  return points;
}
