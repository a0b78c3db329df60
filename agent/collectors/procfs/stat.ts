/**
 * `/proc/stat`: CPU time since boot, summed over all CPUs, in clock ticks
 * (USER_HZ, 100 a second). Utilisation is the busy share of the ticks that
 * passed between two readings.
 */

export interface CpuTimes {
  /** user + nice + system + irq + softirq (guest time is already inside user and nice). */
  readonly busy: number;
  /** busy + idle + iowait + steal. */
  readonly total: number;
}

/** The aggregate `cpu ` line of /proc/stat; undefined when it is missing or malformed. */
export function parseCpuTimes(text: string): CpuTimes | undefined {
  const start = text.startsWith('cpu ') ? 0 : text.indexOf('\ncpu ') + 1;
  if (start < 0 || !text.startsWith('cpu ', start)) return undefined;
  const end = text.indexOf('\n', start);
  const fields = text
    .slice(start + 4, end < 0 ? undefined : end)
    .trim()
    .split(/\s+/)
    .map(Number);
  // Fields: user nice system idle iowait irq softirq steal guest guest_nice;
  // kernels before 2.6.33 have fewer, and a missing one counts as 0.
  if (fields.length < 4 || fields.some((f) => !Number.isFinite(f) || f < 0)) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq;
  // iowait is idle time with I/O outstanding (io pressure measures that stall); steal
  // is time the hypervisor gave to someone else: neither is this host's work,
  // as in node-mixin's `1 - rate(idle|iowait|steal)`.
  return { busy, total: busy + idle + iowait + steal };
}

/**
 * The busy share of CPU time between two readings, 0..1; undefined when no
 * time passed or a counter went back (a wrapped or reset counter).
 */
export function cpuUtilization(previous: CpuTimes, current: CpuTimes): number | undefined {
  const total = current.total - previous.total;
  const busy = current.busy - previous.busy;
  if (!(total > 0) || busy < 0) return undefined;
  return Math.min(1, busy / total);
}
