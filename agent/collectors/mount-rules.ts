/**
 * Which mounts are filesystems worth forecasting: kernel interfaces out,
 * the configured include/exclude rules applied, bind mounts of one
 * filesystem reported once.
 */
import { mountpointProblem } from '../../shared/resources/resource-id.js';
import type { MountsSection } from './config.js';
import type { MountEntry } from './procfs/mountinfo.js';

/**
 * Kernel interfaces and automount points: never collected, whatever the
 * configuration says, and never passed to statfs (on an autofs mountpoint
 * that would trigger the mount it stands for). Includes the names BSD and
 * macOS give theirs, for the systeminformation path.
 */
export const KERNEL_FILESYSTEM_TYPES: ReadonlySet<string> = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devfs',
  'devpts',
  'efivarfs',
  'fdescfs',
  'fusectl',
  'hugetlbfs',
  'mqueue',
  'nfsd',
  'nsfs',
  'proc',
  'procfs',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'sysfs',
  'tracefs',
]);

/**
 * Most filesystems collected per cycle. Each costs six points (about 1.2 KB
 * of telemetry); 100 stay well inside the aggregator's default payload limit.
 */
export const MAX_FILESYSTEMS = 100;

/** Telemetry attribute values are at most this long (shared/wire/telemetry.ts). */
const MAX_ATTRIBUTE_LENGTH = 256;

/**
 * A glob as a whole-string RegExp: `**` matches anything, `*` anything but
 * `/`, `?` one character other than `/`; everything else matches itself.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** The compiled `agent.collect.mounts` rules (config.ts has their meaning). */
export class MountRules {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  private readonly includeTypes: RegExp[];
  private readonly excludeTypes: RegExp[];

  constructor(section: MountsSection) {
    this.include = section.include.map(globToRegExp);
    this.exclude = section.exclude.map(globToRegExp);
    this.includeTypes = section.includeTypes.map(globToRegExp);
    this.excludeTypes = section.excludeTypes.map(globToRegExp);
  }

  /** True when a mount of this type at this mountpoint is collected. */
  admits(mountpoint: string, fsType: string): boolean {
    if (KERNEL_FILESYSTEM_TYPES.has(fsType)) return false;
    return (
      matchesOrEmpty(this.include, mountpoint) &&
      !this.exclude.some((re) => re.test(mountpoint)) &&
      matchesOrEmpty(this.includeTypes, fsType) &&
      !this.excludeTypes.some((re) => re.test(fsType))
    );
  }
}

function matchesOrEmpty(patterns: readonly RegExp[], value: string): boolean {
  return patterns.length === 0 || patterns.some((re) => re.test(value));
}

/** A filesystem chosen for collection. */
export interface SelectedMount {
  /** The `system.device` attribute: the mount source. */
  readonly device: string;
  /** The `system.filesystem.mountpoint` attribute: the path on the host. */
  readonly mountpoint: string;
  readonly fsType: string;
  /** Where to call statfs: the mountpoint as this process sees it (under `hostRoot` in a container). */
  readonly statPath: string;
}

/** Why a mount was left out, for one log line per mount rather than silence. */
export interface SkippedMount {
  readonly mountpoint: string;
  readonly reason: string;
}

export interface MountSelection {
  readonly mounts: SelectedMount[];
  /** Mounts the rules admitted but that cannot be reported (attribute limits, over `MAX_FILESYSTEMS`). */
  readonly skipped: SkippedMount[];
}

/** A mount the rules admitted, named by its path on the host. */
export interface MountCandidate {
  readonly entry: MountEntry;
  /** The path on the host (`entry.mountpoint` without `hostRoot`). */
  readonly mountpoint: string;
}

/**
 * The mounts the rules admit, in mount-table order: under `hostRoot` only
 * (when set) and named by their path on the host. A mount hides an earlier
 * one at the same mountpoint (statfs there reads the newer one), so only the
 * last mount at each mountpoint counts, admitted or not.
 */
export function admittedMounts(
  entries: readonly MountEntry[],
  rules: MountRules,
  hostRoot?: string,
): MountCandidate[] {
  const byMountpoint = new Map<string, MountCandidate | undefined>();
  for (const entry of entries) {
    const mountpoint = hostRoot === undefined ? entry.mountpoint : hostPath(entry.mountpoint, hostRoot);
    if (mountpoint === undefined) continue;
    // Delete first so that the map's order is that of the newest mount at each mountpoint.
    byMountpoint.delete(mountpoint);
    byMountpoint.set(mountpoint, rules.admits(mountpoint, entry.fsType) ? { entry, mountpoint } : undefined);
  }
  return [...byMountpoint.values()].filter((c): c is MountCandidate => c !== undefined);
}

/**
 * One mount per filesystem (`major:minor`), in the candidates' order: bind
 * mounts and repeated mounts show the same space; the mount of the
 * filesystem's root wins, then the shortest mountpoint, then the first.
 * Then attributes within the telemetry limits, and at most `MAX_FILESYSTEMS`.
 */
export function chooseFilesystems(candidates: readonly MountCandidate[]): MountSelection {
  const byDevice = new Map<string, MountCandidate>();
  for (const candidate of candidates) {
    const current = byDevice.get(candidate.entry.deviceId);
    if (!current || preferred(candidate, current)) byDevice.set(candidate.entry.deviceId, candidate);
  }
  const chosen = new Set(byDevice.values());
  const mounts: SelectedMount[] = [];
  const skipped: SkippedMount[] = [];
  for (const candidate of candidates) {
    if (!chosen.has(candidate)) continue;
    const { entry, mountpoint } = candidate;
    const problem =
      mountpointProblem(mountpoint) ??
      (entry.source.length > MAX_ATTRIBUTE_LENGTH
        ? `device name longer than ${MAX_ATTRIBUTE_LENGTH}`
        : undefined);
    if (problem) skipped.push({ mountpoint, reason: problem });
    else if (mounts.length >= MAX_FILESYSTEMS) {
      skipped.push({ mountpoint, reason: `more than ${MAX_FILESYSTEMS} filesystems` });
    } else {
      mounts.push({ device: entry.source, mountpoint, fsType: entry.fsType, statPath: entry.mountpoint });
    }
  }
  return { mounts, skipped };
}

/** `admittedMounts` then `chooseFilesystems`. */
export function selectMounts(
  entries: readonly MountEntry[],
  rules: MountRules,
  hostRoot?: string,
): MountSelection {
  return chooseFilesystems(admittedMounts(entries, rules, hostRoot));
}

function preferred(a: MountCandidate, b: MountCandidate): boolean {
  const aWhole = a.entry.root === '/';
  const bWhole = b.entry.root === '/';
  if (aWhole !== bWhole) return aWhole;
  return a.mountpoint.length < b.mountpoint.length;
}

/** `/host/data` → `/data` and `/host` → `/` for `hostRoot` `/host`; undefined outside it. */
export function hostPath(mountpoint: string, hostRoot: string): string | undefined {
  if (mountpoint === hostRoot) return '/';
  if (mountpoint.startsWith(`${hostRoot}/`)) return mountpoint.slice(hostRoot.length);
  return undefined;
}
