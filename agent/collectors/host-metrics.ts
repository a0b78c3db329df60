import { availableParallelism, loadavg } from 'node:os';
import si from 'systeminformation';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import type { MetricPoint } from '../../shared/wire/telemetry.js';

/**
 * Filesystem types that hold no persistent data or are read-only images:
 * their fullness says nothing about exhaustion.
 */
export const PSEUDO_FILESYSTEM_TYPES = new Set([
  'tmpfs',
  'devtmpfs',
  'squashfs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'overlay',
  'nsfs',
  'iso9660',
]);

/** Collects this host's metrics with systeminformation, named after OTel host-metrics conventions. */
export class HostMetricsCollector {
  private primed = false;

  /**
   * systeminformation measures CPU utilisation between two calls; the first
   * call only sets the baseline, so prime it once before the first cycle.
   */
  async prime(): Promise<void> {
    if (this.primed) return;
    await si.currentLoad();
    this.primed = true;
  }

  async collect(): Promise<MetricPoint[]> {
    await this.prime();
    const [load, mem, filesystems, network] = await Promise.all([
      si.currentLoad(),
      si.mem(),
      si.fsSize(),
      si.networkStats('*'),
    ]);
    const points: MetricPoint[] = [];
    const add = (m: { name: string; unit: string }, value: number, attributes?: Record<string, string>) => {
      if (Number.isFinite(value)) points.push(attributes ? { ...m, value, attributes } : { ...m, value });
    };

    add(METRIC.cpuUtilization, clampRatio(load.currentLoad / 100));
    add(METRIC.cpuLogicalCount, availableParallelism());
    const [l1, l5, l15] = loadavg();
    add(METRIC.cpuLoad1m, l1 ?? NaN);
    add(METRIC.cpuLoad5m, l5 ?? NaN);
    add(METRIC.cpuLoad15m, l15 ?? NaN);

    // "used" is what cannot be reclaimed (total - available); "cached" is the
    // reclaimable rest above "free", so the three states sum to the total.
    const used = mem.total - mem.available;
    const cached = Math.max(0, mem.available - mem.free);
    add(METRIC.memoryLimit, mem.total);
    add(METRIC.memoryUsage, used, { [ATTR.memoryState]: 'used' });
    add(METRIC.memoryUsage, mem.free, { [ATTR.memoryState]: 'free' });
    add(METRIC.memoryUsage, cached, { [ATTR.memoryState]: 'cached' });
    if (mem.total > 0) add(METRIC.memoryUtilization, used / mem.total, { [ATTR.memoryState]: 'used' });

    add(METRIC.pagingUsage, mem.swapused, { [ATTR.pagingState]: 'used' });
    add(METRIC.pagingUsage, mem.swapfree, { [ATTR.pagingState]: 'free' });
    if (mem.swaptotal > 0)
      add(METRIC.pagingUtilization, mem.swapused / mem.swaptotal, { [ATTR.pagingState]: 'used' });

    const seenMounts = new Set<string>();
    for (const fs of filesystems) {
      if (PSEUDO_FILESYSTEM_TYPES.has(fs.type) || seenMounts.has(fs.mount) || fs.size <= 0) continue;
      seenMounts.add(fs.mount);
      const base = { [ATTR.device]: fs.fs, [ATTR.mountpoint]: fs.mount, [ATTR.fsType]: fs.type };
      // Blocks reserved for root are neither used nor free to ordinary users;
      // utilisation counts against what users can fill, as df does.
      const reserved = Math.max(0, fs.size - fs.used - fs.available);
      add(METRIC.filesystemLimit, fs.size, base);
      add(METRIC.filesystemUsage, fs.used, { ...base, [ATTR.fsState]: 'used' });
      add(METRIC.filesystemUsage, fs.available, { ...base, [ATTR.fsState]: 'free' });
      add(METRIC.filesystemUsage, reserved, { ...base, [ATTR.fsState]: 'reserved' });
      const usable = fs.used + fs.available;
      if (usable > 0) add(METRIC.filesystemUtilization, fs.used / usable, base);
    }

    for (const nic of network) {
      if (nic.iface === 'lo') continue;
      // Cumulative counters since boot, as OTel's system.network.io.
      add(METRIC.networkIo, nic.rx_bytes, { [ATTR.interface]: nic.iface, [ATTR.direction]: 'receive' });
      add(METRIC.networkIo, nic.tx_bytes, { [ATTR.interface]: nic.iface, [ATTR.direction]: 'transmit' });
    }
    return points;
  }
}

function clampRatio(x: number): number {
  return Math.min(1, Math.max(0, x));
}
