/**
 * The agent's own cgroup (v2) memory limit, read once at start to say in the
 * log what the memory figures mean when the agent runs limited (docs/metrics.md).
 */

/** The cgroup v2 path in `/proc/self/cgroup` (the `0::/path` line); undefined on a v1-only host. */
export function parseCgroupV2Path(text: string): string | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3).trim() || '/';
  }
  return undefined;
}

/** `memory.max`: bytes, or undefined for `max` (no limit) and anything malformed. */
export function parseMemoryMax(text: string): number | undefined {
  const value = text.trim();
  if (!/^\d+$/.test(value)) return undefined;
  return Number(value);
}
