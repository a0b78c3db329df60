/** `/proc/meminfo`: memory and swap, system-wide (or the container's, where lxcfs stands in for it). */

export interface MemoryReading {
  /** MemTotal, bytes. */
  readonly totalBytes: number;
  /** MemFree: not used for anything, bytes. */
  readonly freeBytes: number;
  /** MemAvailable: what new work could get without swapping (free plus reclaimable cache), bytes. */
  readonly availableBytes: number;
}

export interface SwapReading {
  /** SwapTotal, bytes; 0 without swap. */
  readonly totalBytes: number;
  /** SwapFree, bytes. */
  readonly freeBytes: number;
}

/** Every `Name: value [kB]` line, in bytes. */
export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const [amount, unit] = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    const value = Number(amount);
    if (amount === undefined || amount === '' || !Number.isFinite(value)) continue;
    values.set(line.slice(0, colon), unit === 'kB' ? value * 1024 : value);
  }
  return values;
}

export function memoryOf(meminfo: ReadonlyMap<string, number>): MemoryReading | undefined {
  const total = meminfo.get('MemTotal');
  const free = meminfo.get('MemFree');
  if (total === undefined || free === undefined || !(total > 0)) return undefined;
  // MemAvailable exists since Linux 3.14; before it, free + buffers + page cache
  // + reclaimable slab is the usual estimate.
  const available =
    meminfo.get('MemAvailable') ??
    free + (meminfo.get('Buffers') ?? 0) + (meminfo.get('Cached') ?? 0) + (meminfo.get('SReclaimable') ?? 0);
  return { totalBytes: total, freeBytes: Math.min(free, total), availableBytes: Math.min(available, total) };
}

export function swapOf(meminfo: ReadonlyMap<string, number>): SwapReading | undefined {
  const total = meminfo.get('SwapTotal');
  const free = meminfo.get('SwapFree');
  if (total === undefined || free === undefined) return undefined;
  return { totalBytes: total, freeBytes: Math.min(free, total) };
}
