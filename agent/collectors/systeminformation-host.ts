/**
 * The host read with systeminformation, for platforms without /proc (macOS,
 * Windows, the BSDs). Costlier than the /proc path (its filesystem and
 * network calls start processes) and with less in it: no inodes, no file
 * descriptors, no pressure-stall information.
 */
import { availableParallelism, loadavg } from 'node:os';
import type systeminformation from 'systeminformation';
import { mountpointProblem } from '../../shared/resources/resource-id.js';
import type { HostReader, HostSnapshot, FilesystemReading } from './host-snapshot.js';
import { MAX_FILESYSTEMS, type MountRules } from './mount-rules.js';

type SystemInformation = typeof systeminformation;
let loading: Promise<SystemInformation> | undefined;

/**
 * systeminformation, loaded on first use: the Linux agent reads /proc and
 * never needs it, and importing it costs about 1 MiB of heap.
 */
function systemInformation(): Promise<SystemInformation> {
  loading ??= import('systeminformation').then((m) => m.default);
  return loading;
}

export class SystemInformationHostReader implements HostReader {
  private primed: Promise<void> | undefined;

  constructor(private readonly rules: MountRules) {}

  /** systeminformation measures CPU between two calls: the first only sets the baseline. */
  prime(): Promise<void> {
    this.primed ??= systemInformation()
      .then((si) => si.currentLoad())
      .then(() => undefined);
    return this.primed;
  }

  async read(): Promise<HostSnapshot> {
    await this.prime();
    const si = await systemInformation();
    const [load, mem, filesystems, network] = await Promise.all([
      si.currentLoad(),
      si.mem(),
      si.fsSize(),
      si.networkStats('*'),
    ]);
    const readings: FilesystemReading[] = [];
    const seen = new Set<string>();
    for (const fs of filesystems) {
      if (readings.length >= MAX_FILESYSTEMS) break;
      if (seen.has(fs.mount) || !(fs.size > 0) || mountpointProblem(fs.mount)) continue;
      if (fs.fs.length > 256 || !this.rules.admits(fs.mount, fs.type)) continue;
      seen.add(fs.mount);
      readings.push({
        device: fs.fs,
        mountpoint: fs.mount,
        type: fs.type,
        sizeBytes: fs.size,
        usedBytes: fs.used,
        freeBytes: fs.available,
        reservedBytes: Math.max(0, fs.size - fs.used - fs.available),
      });
    }
    return {
      cpuUtilization: Number.isFinite(load.currentLoad)
        ? Math.min(1, Math.max(0, load.currentLoad / 100))
        : undefined,
      logicalCpus: availableParallelism(),
      loadAverage: loadavg(),
      memory: { totalBytes: mem.total, freeBytes: mem.free, availableBytes: mem.available },
      swap: { totalBytes: mem.swaptotal, freeBytes: mem.swapfree },
      filesystems: readings,
      fileDescriptors: undefined,
      pressure: [],
      network: network
        .filter((nic) => nic.iface !== 'lo' && nic.iface !== 'lo0')
        .map((nic) => ({ name: nic.iface, receiveBytes: nic.rx_bytes, transmitBytes: nic.tx_bytes })),
    };
  }
}
