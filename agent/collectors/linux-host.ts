/**
 * The host read from /proc and statfs(2): a handful of small file reads and
 * one statfs per filesystem each cycle, no child process.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { PRESSURE_RESOURCES, type PressureResource } from '../../shared/resources/utilization.js';
import type { CollectionProblems } from './collection-problems.js';
import { FilesystemReader } from './filesystems.js';
import type { HostReader, HostSnapshot, PressureReading } from './host-snapshot.js';
import type { MountRules } from './mount-rules.js';
import { parseCgroupV2Path, parseMemoryMax } from './procfs/cgroup.js';
import { parseFileNr } from './procfs/file-nr.js';
import { memoryOf, parseMeminfo, swapOf } from './procfs/meminfo.js';
import { parseNetDev } from './procfs/net-dev.js';
import { PRESSURE_SCOPES, parsePressure } from './procfs/pressure.js';
import { cpuUtilization, parseCpuTimes, type CpuTimes } from './procfs/stat.js';

/**
 * Least time a CPU utilisation spans, ms: a few milliseconds hold a tick or
 * two of CPU time, and the share would read 0 or 1. Each reading is measured
 * from the latest earlier one at least this old (normally the previous
 * cycle's; after a cycle that came early, the one before), and `prime` waits
 * this long after the first so that the first cycle has a figure.
 */
export const MIN_CPU_WINDOW_MS = 500;

export interface LinuxHostReaderOptions {
  rules: MountRules;
  /** `agent.collect.hostRoot`. */
  hostRoot?: string | undefined;
  log: Logger;
  problems: CollectionProblems;
  /** Where procfs is mounted. Default `/proc`; tests point it at a fixture tree. */
  procPath?: string;
  /** Where the cgroup v2 hierarchy is mounted. Default `/sys/fs/cgroup`. */
  cgroupPath?: string;
}

export class LinuxHostReader implements HostReader {
  private readonly procPath: string;
  private readonly filesystems: FilesystemReader;
  /** Recent CPU readings, oldest first: the newest one at least MIN_CPU_WINDOW_MS old, and any younger. */
  private cpuReadings: Array<{ times: CpuTimes; atMs: number }> = [];
  /** The PSI files this kernel has, found by `prime`. */
  private pressureResources: PressureResource[] = [];
  private primed: Promise<void> | undefined;

  constructor(private readonly options: LinuxHostReaderOptions) {
    this.procPath = options.procPath ?? '/proc';
    this.filesystems = new FilesystemReader({
      readMountTable: () => this.readProc('self/mountinfo'),
      rules: options.rules,
      hostRoot: options.hostRoot,
      problems: options.problems,
      onSelection: (mountpoints) => options.log.info({ mountpoints }, 'collecting filesystems'),
    });
  }

  /**
   * Takes the CPU baseline, finds out which PSI files exist, and returns
   * MIN_CPU_WINDOW_MS after the baseline; the work is done once.
   */
  prime(): Promise<void> {
    this.primed ??= (async () => {
      const times = parseCpuTimes(this.readProc('stat') ?? '');
      const atMs = performance.now();
      if (times) this.cpuReadings = [{ times, atMs }];
      this.pressureResources = this.probePressure();
      await this.describeMemoryLimit();
      await sleep(MIN_CPU_WINDOW_MS - (performance.now() - atMs));
    })();
    return this.primed;
  }

  async read(): Promise<HostSnapshot> {
    await this.prime();
    const filesystems = this.filesystems.read();
    const cpu = this.readCpuUtilization();
    const meminfoText = this.readProc('meminfo');
    const meminfo = meminfoText === undefined ? undefined : parseMeminfo(meminfoText);
    const fileNr = this.readProc('sys/fs/file-nr');
    const netDev = this.readProc('net/dev');
    return {
      cpuUtilization: cpu,
      logicalCpus: availableParallelism(),
      loadAverage: loadavg(),
      memory: meminfo && memoryOf(meminfo),
      swap: meminfo && swapOf(meminfo),
      filesystems: await filesystems,
      fileDescriptors: fileNr === undefined ? undefined : parseFileNr(fileNr),
      pressure: this.readPressure(),
      network: netDev === undefined ? [] : parseNetDev(netDev).filter((nic) => nic.name !== 'lo'),
    };
  }

  /** Busy share since the latest reading at least MIN_CPU_WINDOW_MS old. */
  private readCpuUtilization(): number | undefined {
    const times = parseCpuTimes(this.readProc('stat') ?? '');
    if (!times) return undefined;
    const atMs = performance.now();
    const old = this.cpuReadings.filter((r) => atMs - r.atMs >= MIN_CPU_WINDOW_MS);
    const base = old.at(-1);
    // Keep the base (or, with none old enough, all) and everything younger; older ones are never needed again.
    this.cpuReadings = [...this.cpuReadings.slice(base ? old.length - 1 : 0), { times, atMs }];
    return base ? cpuUtilization(base.times, times) : undefined;
  }

  /**
   * A procfs file's text, or undefined (with one warning per file) when it
   * cannot be read. Read synchronously on purpose: procfs text is generated
   * in memory by the kernel and never waits for a disk, and a synchronous
   * read costs a few microseconds where the promise API's open/stat/read/close
   * round trips through the thread pool cost several times that in CPU.
   */
  private readProc(file: string): string | undefined {
    const path = join(this.procPath, file);
    try {
      const text = readFileSync(path, 'utf8');
      this.options.problems.clear(`read:${path}`);
      return text;
    } catch (err) {
      this.options.problems.report(
        `read:${path}`,
        'warn',
        { file: path, err: errorMessage(err) },
        'cannot read; its metrics are left out',
      );
      return undefined;
    }
  }

  /** The PSI resources whose file reads here. Missing PSI (kernel without it, `psi=0`) is normal. */
  private probePressure(): PressureResource[] {
    const found: PressureResource[] = [];
    for (const resource of PRESSURE_RESOURCES) {
      const path = join(this.procPath, 'pressure', resource);
      try {
        readFileSync(path, 'utf8');
        found.push(resource);
      } catch (err) {
        this.options.log.debug(
          { file: path, err: errorMessage(err) },
          'no pressure-stall information for this resource (kernel without PSI, or booted with psi=0)',
        );
      }
    }
    return found;
  }

  private readPressure(): PressureReading[] {
    const readings: PressureReading[] = [];
    for (const resource of this.pressureResources) {
      const text = this.readProc(`pressure/${resource}`);
      if (text === undefined) continue;
      const scopes = parsePressure(text);
      for (const scope of PRESSURE_SCOPES) {
        // The kernel reports cpu "full" at system level as zeros since 5.13, for
        // compatibility only (it is undefined there): not a figure to publish.
        if (resource === 'cpu' && scope === 'full') continue;
        const averages = scopes[scope];
        if (averages) readings.push({ resource, scope, averages });
      }
    }
    return readings;
  }

  /**
   * Says once in the log when this process runs under a cgroup v2 memory
   * limit below the machine's memory: the memory metrics describe the
   * machine (/proc/meminfo), not that limit (docs/metrics.md).
   */
  private async describeMemoryLimit(): Promise<void> {
    const cgroupRoot = this.options.cgroupPath ?? '/sys/fs/cgroup';
    try {
      const own = parseCgroupV2Path(await readFile(join(this.procPath, 'self/cgroup'), 'utf8'));
      if (own === undefined) return;
      // Inside a container with its own cgroup namespace the path is `/`; without
      // one, the container's cgroup is usually mounted at the root anyway.
      let limit: number | undefined;
      for (const dir of new Set([join(cgroupRoot, own), cgroupRoot])) {
        const text = await readFile(join(dir, 'memory.max'), 'utf8').catch(() => undefined);
        if (text !== undefined) {
          limit = parseMemoryMax(text);
          break;
        }
      }
      const total = memoryOf(parseMeminfo(this.readProc('meminfo') ?? ''))?.totalBytes;
      if (limit !== undefined && total !== undefined && limit < total) {
        this.options.log.info(
          { cgroup: own, memoryMaxBytes: limit, memTotalBytes: total },
          'this process runs under a cgroup memory limit; system.memory.* describe the whole machine, not the limit',
        );
      }
    } catch {
      // No cgroup v2 here: nothing to say.
    }
  }
}
