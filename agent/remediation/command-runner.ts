/**
 * Runs a playbook's command: spawned from its argv (no shell, so no word
 * splitting, globbing or substitution of anything), in a process group of
 * its own so a timeout kills everything it started, optionally as another
 * user, with standard output and error kept up to a bound.
 */
import { spawn } from 'node:child_process';

/** After SIGTERM to the group, this long before SIGKILL, ms. */
export const KILL_GRACE_MS = 5000;

export interface CommandSpec {
  argv: readonly string[];
  timeoutMs: number;
  /** Run as this uid/gid; undefined for the agent's own. */
  uid?: number | undefined;
  gid?: number | undefined;
  /** The command's whole environment (nothing of the agent's is inherited beyond it). */
  env: Record<string, string>;
  /** Characters of each stream kept: the end, where errors are. */
  maxOutputChars: number;
}

export interface CommandResult {
  /** Null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
}

/** Keeps the last `max` characters written to it. */
class OutputTail {
  private text = '';
  private truncated = false;

  constructor(private readonly max: number) {}

  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max * 2) this.trim();
  }

  toString(): string {
    this.trim();
    return this.truncated && this.text.length === this.max ? `…${this.text.slice(1)}` : this.text;
  }

  private trim(): void {
    if (this.text.length <= this.max) return;
    this.text = this.text.slice(-this.max);
    this.truncated = true;
  }
}

/** A started command: its result, and a way to end it early (agent stop). */
export interface RunningCommand {
  readonly pid: number | undefined;
  readonly result: Promise<CommandResult>;
  /** SIGTERM to the process group, SIGKILL after the grace. */
  kill(): void;
}

/**
 * Starts the command. `result` rejects only when it could not be started
 * (no such program, permission denied); a non-zero exit or a timeout is a
 * result.
 */
export function startCommand(spec: CommandSpec): RunningCommand {
  const startedAt = performance.now();
  const [program, ...args] = spec.argv;
  const child = spawn(program!, args, {
    shell: false,
    // A process group of its own: kill(-pid) reaches whatever the command forks.
    detached: true,
    cwd: '/',
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  });
  const stdout = new OutputTail(spec.maxOutputChars);
  const stderr = new OutputTail(spec.maxOutputChars);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));

  let timedOut = false;
  let closed = false;
  let killTimer: NodeJS.Timeout | undefined;
  // The whole group, even when the program itself has exited: a child it left behind may still hold the pipes.
  const killGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined || closed) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  const kill = () => {
    if (killTimer) return;
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const timeout = setTimeout(() => {
    timedOut = true;
    kill();
  }, spec.timeoutMs);

  const result = new Promise<CommandResult>((resolve, reject) => {
    child.once('error', (err) => {
      closed = true;
      clearTimeout(timeout);
      clearTimeout(killTimer);
      reject(err);
    });
    // 'close', not 'exit': the output is complete once the pipes are closed.
    child.once('close', (exitCode, signal) => {
      closed = true;
      clearTimeout(timeout);
      clearTimeout(killTimer);
      resolve({
        exitCode,
        signal,
        timedOut,
        durationMs: Math.round(performance.now() - startedAt),
        stdout: stdout.toString(),
        stderr: stderr.toString(),
      });
    });
  });
  return { pid: child.pid, result, kill };
}
