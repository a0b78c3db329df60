/**
 * V8 heap settings for the agent process, a long-running daemon that
 * allocates little per cycle but whose resident memory counts on every host.
 *
 * V8 grows its young generation (two semi-spaces) up to 16 MiB each as a
 * process allocates, and the agent's start-up (loading its modules and
 * models) is enough to grow it all the way, which the agent never needs
 * again: measured, the peak resident memory was 10-15 MiB higher and the
 * steady one 2-5 MiB. Keeping the semi-spaces at their initial 1 MiB costs
 * more, shorter scavenges; CPU per cycle stayed within the run-to-run
 * spread (docs/benchmarks.md).
 *
 * `--max-semi-space-size` is read only when the heap is set up, so it
 * cannot be set from inside the process; the growth factor can, and has the
 * same effect. It is set before the agent's modules are loaded. A Node run
 * with `NODE_OPTIONS=--max-semi-space-size=1` gets the same.
 */
import { setFlagsFromString } from 'node:v8';

/** The flags `useAgentHeapSettings` sets. */
export const AGENT_V8_FLAGS = ['--semi-space-growth-factor=1'] as const;

/** Applies AGENT_V8_FLAGS; call first thing in an agent-only process (not in `cloudsense up`). */
export function useAgentHeapSettings(): void {
  for (const flag of AGENT_V8_FLAGS) setFlagsFromString(flag);
}
