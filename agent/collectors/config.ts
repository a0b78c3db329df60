import { z } from 'zod';

/**
 * Mountpoints never collected by default: the per-container mounts of
 * container runtimes (their own disks are watched where they are mounted,
 * e.g. `/var/lib/docker`, which these patterns leave in), and the kernel's
 * trees, where nothing holds data.
 */
export const DEFAULT_EXCLUDED_MOUNTPOINTS: readonly string[] = [
  '/proc/**',
  '/sys/**',
  '/run/credentials/**',
  '/run/containerd/**',
  '/run/docker/**',
  '/var/lib/docker/**',
  '/var/lib/containers/storage/**',
];

/**
 * Filesystem types not collected by default: memory-backed (tmpfs, devtmpfs:
 * their pages count as memory), read-only images that are always full
 * (squashfs snaps, erofs, iso9660), container layers (overlay: the disk under
 * it is collected where it is mounted) and desktop or container FUSE helpers
 * that hold no data of their own.
 */
export const DEFAULT_EXCLUDED_FS_TYPES: readonly string[] = [
  'tmpfs',
  'devtmpfs',
  'overlay',
  'squashfs',
  'erofs',
  'iso9660',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
  'fuse.snapfuse',
];

const MOUNTPOINT_PATTERN = /^\/[^\0]*$/;
const FS_TYPE_PATTERN = /^[A-Za-z0-9._*?+-]+$/;

/**
 * A list of patterns, from YAML as a sequence or from an environment
 * variable as one comma-separated string (`/,/data/**`).
 */
const patternList = (item: z.ZodString) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : value,
    z.array(item).max(256, 'at most 256 patterns'),
  );

const mountpointPatterns = patternList(
  z
    .string()
    .max(512)
    .regex(MOUNTPOINT_PATTERN, 'a mountpoint pattern starts with "/", e.g. "/data" or "/var/lib/docker/**"'),
);
const fsTypePatterns = patternList(
  z.string().max(64).regex(FS_TYPE_PATTERN, 'a filesystem type such as "ext4", "tmpfs" or "fuse.*"'),
);

/**
 * Which mounted filesystems are collected. A mount is collected when its
 * mountpoint matches `include` (or `include` is empty) and no `exclude`
 * pattern, and its type matches `includeTypes` (or that is empty) and no
 * `excludeTypes` pattern. Kernel interfaces (proc, sysfs, cgroup, autofs…)
 * are never collected, whatever these say.
 *
 * Mountpoint patterns: `*` matches within one path segment, `**` across
 * segments, `?` one character; anything else matches itself
 * (`/var/lib/docker/**` is everything below `/var/lib/docker`, not the
 * directory itself). Type patterns take `*` and `?` (`fuse.*`).
 */
export const MountsSectionSchema = z
  .object({
    /** Mountpoint patterns to collect; empty: every mountpoint. Default `[]`. */
    include: mountpointPatterns.default([]),
    /** Mountpoint patterns never collected. Default `DEFAULT_EXCLUDED_MOUNTPOINTS`. */
    exclude: mountpointPatterns.default([...DEFAULT_EXCLUDED_MOUNTPOINTS]),
    /** Filesystem types to collect; empty: every type. Default `[]`. */
    includeTypes: fsTypePatterns.default([]),
    /** Filesystem types never collected. Default `DEFAULT_EXCLUDED_FS_TYPES`. */
    excludeTypes: fsTypePatterns.default([...DEFAULT_EXCLUDED_FS_TYPES]),
  })
  .strict()
  .prefault({});
export type MountsSection = z.infer<typeof MountsSectionSchema>;

/** How the agent collects host metrics (docs/metrics.md). */
export const CollectSectionSchema = z
  .object({
    mounts: MountsSectionSchema,
    /**
     * Where the host's root filesystem is mounted when the agent runs in a
     * container (`-v /:/host:ro,rslave` → `/host`): only mounts at or below
     * it are collected, reported by their path on the host (`/host/data` as
     * `/data`). Default: none, the agent sees the host's own mounts.
     */
    hostRoot: z
      .string()
      .regex(/^\/[^\0]*[^/]$/, 'an absolute directory path without a trailing "/", e.g. "/host"')
      .optional(),
  })
  .strict()
  .prefault({});
export type CollectSection = z.infer<typeof CollectSectionSchema>;
