import { z } from 'zod';
import { DurationSchema } from '../../shared/config/duration.js';

/**
 * When appended records are forced to disk (fsync):
 * - `always`: before `append` resolves. A power cut loses nothing that was
 *   appended; costs one disk flush per message.
 * - `interval` (default): at most `fsyncInterval` after the append. A power
 *   cut loses at most that much telemetry (a crash of the agent alone loses
 *   nothing: the data is in the kernel's page cache).
 * - `never`: left to the kernel's write-back (about 30 s on Linux). A power
 *   cut can lose that much; a torn tail is cut off at the next start.
 */
export const FSYNC_POLICIES = ['always', 'interval', 'never'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

/** Queue size bound, bytes on disk (256 MiB). */
export const DEFAULT_QUEUE_MAX_BYTES = 256 * 1024 * 1024;
/** Oldest telemetry the queue keeps, ms (7 days). */
export const DEFAULT_QUEUE_MAX_AGE_MS = 7 * 86_400_000;
export const DEFAULT_FSYNC_POLICY: FsyncPolicy = 'interval';
/** Time between flushes under the `interval` policy, ms. */
export const DEFAULT_FSYNC_INTERVAL_MS = 1000;

const MIN_QUEUE_BYTES = 1024 * 1024;
const MAX_QUEUE_BYTES = 1024 ** 4;

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Bytes as an integer or a string with a unit: `256MiB`, `1GB` (KB/MB/GB decimal, KiB/MiB/GiB binary). */
export const ByteSizeSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
  } else {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(value.trim());
    const unit = match && SIZE_UNITS[match[2]!.toLowerCase()];
    if (match && unit) return Math.floor(Number(match[1]) * unit);
  }
  ctx.addIssue({ code: 'custom', message: `expected a size such as 256MiB or 1GB, got "${value}"` });
  return z.NEVER;
});

export const QueueSectionSchema = z
  .object({
    /** Directory of the queue's segment files. Default `{dataDir}/queue/{hostId}`. */
    dir: z.string().min(1).optional(),
    /** Most disk space the queue takes; past it the oldest telemetry is dropped (and counted). Default 256MiB. */
    maxSize: ByteSizeSchema.refine((bytes) => bytes >= MIN_QUEUE_BYTES && bytes <= MAX_QUEUE_BYTES, {
      message: 'between 1MiB and 1TiB',
    }).prefault('256MiB'),
    /** Telemetry older than this is dropped (and counted) even when there is room. Default 7d. */
    maxAge: DurationSchema.refine((ms) => ms >= 60_000 && ms <= 366 * 86_400_000, {
      message: 'between 1m and 366d',
    }).prefault('7d'),
    /** When appended telemetry is forced to disk: always | interval | never. Default interval. */
    fsync: z.enum(FSYNC_POLICIES).default(DEFAULT_FSYNC_POLICY),
    /** Time between flushes under `fsync: interval`. Default 1s. */
    fsyncInterval: DurationSchema.refine((ms) => ms >= 10 && ms <= 60_000, {
      message: 'between 10ms and 1m',
    }).prefault('1s'),
  })
  .strict()
  .prefault({});
export type QueueSection = z.infer<typeof QueueSectionSchema>;
