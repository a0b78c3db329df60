/** `/proc/sys/fs/file-nr`: the kernel's open-file table, system-wide. */

export interface FileDescriptorReading {
  /** Allocated file handles minus allocated-but-unused ones (always 0 since Linux 2.6). */
  readonly inUse: number;
  /** fs.file-max: the most the kernel hands out (non-root opens fail with ENFILE past it). */
  readonly max: number;
}

/** `allocated unused max`; undefined when malformed. */
export function parseFileNr(text: string): FileDescriptorReading | undefined {
  const fields = text.trim().split(/\s+/).map(Number);
  const [allocated, unused, max] = fields;
  if (fields.length !== 3 || allocated === undefined || unused === undefined || max === undefined) {
    return undefined;
  }
  if (![allocated, unused, max].every((n) => Number.isFinite(n) && n >= 0)) return undefined;
  return { inUse: Math.max(0, allocated - unused), max };
}

/** In use ÷ maximum, as node-mixin computes it; undefined when there is no maximum. */
export function fileDescriptorUtilization(reading: FileDescriptorReading): number | undefined {
  return reading.max > 0 ? Math.min(1, reading.inUse / reading.max) : undefined;
}
