/**
 * What Linux says about another process: resident memory from
 * /proc/PID/status and CPU time from /proc/PID/stat, the figures `ps` and
 * `top` show, so benchmarks compare processes written in any language.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

export interface ProcMemory {
  /** Resident set, MiB (VmRSS): anonymous + file-backed + shared memory pages. */
  rssMiB: number;
  /** Peak resident set since start, MiB (VmHWM). */
  peakMiB: number;
  /** Of the resident set: anonymous pages (heap, stacks), MiB. */
  anonMiB: number;
  /** Of the resident set: pages of mapped files (the executable, shared libraries), MiB. */
  fileMiB: number;
}

/** Memory of `pid`, or undefined once it has exited. */
export function procMemory(pid: number): ProcMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return {
    rssMiB: kib('VmRSS') / 1024,
    peakMiB: kib('VmHWM') / 1024,
    anonMiB: kib('RssAnon') / 1024,
    fileMiB: kib('RssFile') / 1024,
  };
}

/** User + system CPU time `pid` has used, all its threads, ms (10 ms resolution); undefined once it has exited. */
export function procCpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis start at 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

/** Median, max and last of a series (NaN when empty). */
export function summarize(values: readonly number[]): { median: number; max: number; last: number } {
  if (values.length === 0) return { median: NaN, max: NaN, last: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, max: sorted.at(-1)!, last: values.at(-1)! };
}
