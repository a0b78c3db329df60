/**
 * A process a benchmark starts (the agent, its broker, a peer program),
 * output captured line by line, stopped by the benchmark at the end, and
 * killed if the benchmark itself exits first (an error, Ctrl-C).
 */
import { spawn, type ChildProcess } from 'node:child_process';

const running = new Set<BenchProcess>();

export class BenchProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(
    /** For messages. */
    readonly name: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ) {
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop()!;
        this.lines.push(...parts);
        // Keep the tail only: a run of many minutes must not grow the benchmark's own memory.
        if (this.lines.length > 2_000) this.lines.splice(0, this.lines.length - 1_000);
        for (const w of this.waiters.splice(0)) w();
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        running.delete(this);
        for (const w of this.waiters.splice(0)) w();
        resolve({ code, signal });
      });
    });
    this.child.on('error', () => undefined); // reported through `exited` (code null)
    running.add(this);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first output line matching `pattern`; rejects on exit or timeout. */
  async waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (!this.alive) throw new Error(`${this.name} exited before printing ${pattern}:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out waiting for ${pattern}:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last output lines, for error messages. */
  tail(n = 20): string {
    return this.lines.slice(-n).join('\n');
  }

  /** SIGKILLs every process still running. */
  static killAll(): void {
    for (const p of running) p.child.kill('SIGKILL');
  }
}

process.on('exit', () => BenchProcess.killAll());
