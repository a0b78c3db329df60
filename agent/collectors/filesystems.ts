/**
 * Space and inodes of every collected filesystem, from the mount table and
 * one statfs(2) per filesystem: no `df` process, no shell.
 */
import type { StatsFs, Stats } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { errorMessage } from '../../shared/errors.js';
import type { CollectionProblems } from './collection-problems.js';
import type { FilesystemReading } from './host-snapshot.js';
import {
  admittedMounts,
  chooseFilesystems,
  type MountCandidate,
  type MountRules,
  type SelectedMount,
} from './mount-rules.js';
import { parseMountinfo } from './procfs/mountinfo.js';

/**
 * Longest wait for statfs (or stat) of one mount, ms. A hung network
 * filesystem blocks the call in the kernel; past this the cycle goes on
 * without that filesystem, and the mount is skipped until the call returns
 * (the blocked call holds one of libuv's four threads; asking again every
 * cycle would take them all).
 */
export const STATFS_TIMEOUT_MS = 1000;

export interface FilesystemReaderOptions {
  /** The text of the mount table (`/proc/self/mountinfo`); undefined when unreadable (the reader reports that). */
  readMountTable: () => string | undefined;
  rules: MountRules;
  /** `agent.collect.hostRoot`. */
  hostRoot?: string | undefined;
  problems: CollectionProblems;
  /** Told when the set of collected mountpoints changes. */
  onSelection?: (mountpoints: string[]) => void;
  /** Default STATFS_TIMEOUT_MS. */
  timeoutMs?: number;
  /** For tests; default `fs.promises.statfs` and `fs.promises.stat`. */
  statfs?: (path: string) => Promise<StatsFs>;
  stat?: (path: string) => Promise<Stats>;
}

const TIMED_OUT = Symbol('timed out');

export class FilesystemReader {
  private lastTable: string | undefined;
  private selection: SelectedMount[] = [];
  /** Paths whose statfs or stat has not returned yet. */
  private readonly pending = new Set<string>();
  private readonly timeoutMs: number;
  private readonly statfs: (path: string) => Promise<StatsFs>;
  private readonly stat: (path: string) => Promise<Stats>;

  constructor(private readonly options: FilesystemReaderOptions) {
    this.timeoutMs = options.timeoutMs ?? STATFS_TIMEOUT_MS;
    this.statfs = options.statfs ?? ((path) => statfs(path));
    this.stat = options.stat ?? ((path) => stat(path));
  }

  /** The filesystems collected now; none when the mount table is unreadable. */
  async read(): Promise<FilesystemReading[]> {
    const table = this.options.readMountTable();
    if (table === undefined) return [];
    // The table rarely changes: select (and stat) again only when it does.
    if (table !== this.lastTable) {
      this.selection = await this.select(table);
      this.lastTable = table;
    }
    const readings = await Promise.all(this.selection.map((mount) => this.readOne(mount)));
    return readings.filter((r): r is FilesystemReading => r !== undefined);
  }

  private async select(table: string): Promise<SelectedMount[]> {
    const { rules, hostRoot, problems, onSelection } = this.options;
    const candidates = admittedMounts(parseMountinfo(table), rules, hostRoot);
    // A file bind-mounted into a container (/etc/hosts, /etc/resolv.conf) is not a
    // filesystem to forecast; drop those before one of them stands for its device.
    const kinds = await Promise.all(candidates.map((c) => this.isDirectory(c)));
    const { mounts, skipped } = chooseFilesystems(candidates.filter((_c, i) => kinds[i]));
    for (const { mountpoint, reason } of skipped) {
      problems.report(`skip:${mountpoint}`, 'warn', { mountpoint, reason }, 'filesystem not collected');
    }
    const before = this.selection.map((m) => m.mountpoint).join('\n');
    const after = mounts.map((m) => m.mountpoint);
    if (this.lastTable === undefined || before !== after.join('\n')) onSelection?.(after);
    return mounts;
  }

  /** False for a file mount; true for a directory and when stat cannot tell (statfs will). */
  private async isDirectory(candidate: MountCandidate): Promise<boolean> {
    if (this.pending.has(candidate.entry.mountpoint)) return true;
    try {
      const stats = await this.timed(candidate.entry.mountpoint, this.stat(candidate.entry.mountpoint));
      return stats === TIMED_OUT || stats.isDirectory();
    } catch {
      return true;
    }
  }

  private async readOne(mount: SelectedMount): Promise<FilesystemReading | undefined> {
    const { problems } = this.options;
    const key = `statfs:${mount.mountpoint}`;
    let stats: StatsFs | typeof TIMED_OUT;
    try {
      // A call still hanging from an earlier cycle (statfs, or stat at selection): do not add another.
      stats = this.pending.has(mount.statPath)
        ? TIMED_OUT
        : await this.timed(mount.statPath, this.statfs(mount.statPath));
    } catch (err) {
      problems.report(
        key,
        'warn',
        { mountpoint: mount.mountpoint, path: mount.statPath, err: errorMessage(err) },
        'filesystem not collected: statfs failed',
      );
      return undefined;
    }
    if (stats === TIMED_OUT) {
      problems.report(
        key,
        'warn',
        { mountpoint: mount.mountpoint, timeoutMs: this.timeoutMs },
        'filesystem not collected: statfs did not answer (a hung network mount?); skipped until it does',
      );
      return undefined;
    }
    problems.clear(key, { mountpoint: mount.mountpoint });
    return filesystemReading(mount, stats);
  }

  /** `promise`, or TIMED_OUT after the timeout; `path` counts as pending until the promise settles. */
  private async timed<T>(path: string, promise: Promise<T>): Promise<T | typeof TIMED_OUT> {
    this.pending.add(path);
    let timer: NodeJS.Timeout | undefined;
    const settled = promise.finally(() => {
      this.pending.delete(path);
      clearTimeout(timer);
    });
    settled.catch(() => undefined); // the race below reports the error; this copy must not go unhandled
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.timeoutMs);
    });
    return Promise.race([settled, timeout]);
  }
}

/**
 * Space as `df` shows it: used = blocks − free blocks; what users can write
 * is `bavail`; the rest of the free blocks are reserved for root. Undefined
 * for a filesystem without blocks (a virtual one the rules let through).
 */
export function filesystemReading(
  mount: Pick<SelectedMount, 'device' | 'mountpoint' | 'fsType'>,
  stats: Pick<StatsFs, 'bsize' | 'blocks' | 'bfree' | 'bavail' | 'files' | 'ffree'>,
): FilesystemReading | undefined {
  // Blocks are in units of the fragment size, which Linux filesystems (all but a
  // few FUSE ones) set equal to bsize, the only one Node exposes. Ratios are unaffected.
  const { bsize, blocks } = stats;
  if (!(blocks > 0) || !(bsize > 0)) return undefined;
  const bfree = Math.min(stats.bfree, blocks);
  const bavail = Math.min(stats.bavail, bfree);
  const inodes =
    stats.files > 0 ? { total: stats.files, free: Math.min(stats.ffree, stats.files) } : undefined;
  return {
    device: mount.device,
    mountpoint: mount.mountpoint,
    type: mount.fsType,
    sizeBytes: blocks * bsize,
    usedBytes: (blocks - bfree) * bsize,
    freeBytes: bavail * bsize,
    reservedBytes: (bfree - bavail) * bsize,
    ...(inodes ? { inodes } : {}),
  };
}
