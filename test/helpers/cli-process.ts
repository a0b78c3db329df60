import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/cloudsense.js', import.meta.url));
const running = new Set<CliProcess>();

/** A real `cloudsense` process (the built CLI), its output captured line by line. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the process has exited and its output streams are drained. */
  readonly closed: Promise<void>;
  private stdoutText = '';
  private waiters: Array<() => void> = [];

  private constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: string) => {
      this.stdoutText += chunk;
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop()!;
        this.lines.push(...parts);
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
    this.closed = new Promise((resolve) => this.child.on('close', () => resolve()));
    running.add(this);
  }

  static start(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
    return new CliProcess(args, env);
  }

  get output(): string {
    return this.lines.join('\n');
  }

  /** Everything written to standard output so far (complete after `closed`). */
  get stdout(): string {
    return this.stdoutText;
  }

  /** Resolves with the first output line matching `pattern`; rejects on exit or timeout. */
  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`process exited before printing ${pattern}:\n${this.output}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}:\n${this.output}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a signal and waits for the exit. */
  async stop(
    signal: NodeJS.Signals = 'SIGINT',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** SIGKILLs every process still running; call from `after` hooks. */
  static killAll(): void {
    for (const p of running) p.child.kill('SIGKILL');
  }
}

process.on('exit', () => CliProcess.killAll());

/** The loopback ports a test gives the aggregator. */
export interface AggregatorPorts {
  http: number;
  mqtt: number;
}

/**
 * `cloudsense aggregator` on `ports` with JSON logs and `dataDir`, plus any
 * `args` and `env` of the test; resolves once it logged "aggregator ready".
 */
export async function startAggregatorProcess(options: {
  dataDir: string;
  ports: AggregatorPorts;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}): Promise<CliProcess> {
  const { ports } = options;
  const proc = CliProcess.start(
    [
      'aggregator',
      '--http-port',
      String(ports.http),
      '--mqtt-port',
      String(ports.mqtt),
      '--log-format',
      'json',
      ...(options.args ?? []),
    ],
    { CLOUDSENSE_DATA_DIR: options.dataDir, ...options.env },
  );
  await proc.waitForLine(/aggregator ready/, options.readyTimeoutMs);
  return proc;
}

/**
 * `cloudsense agent` for `hostId`, publishing to the broker on loopback
 * `mqttPort` every `interval` seconds, with JSON logs and its queue in
 * `dataDir`, plus any `env` of the test.
 */
export function startAgentProcess(options: {
  hostId: string;
  mqttPort: number;
  dataDir: string;
  interval?: number;
  env?: NodeJS.ProcessEnv;
}): CliProcess {
  return CliProcess.start(
    [
      'agent',
      '--host-id',
      options.hostId,
      '--interval',
      String(options.interval ?? 1),
      '--mqtt-port',
      String(options.mqttPort),
      '--data-dir',
      options.dataDir,
      '--log-format',
      'json',
    ],
    options.env,
  );
}

/** Runs a short `cloudsense` command to completion, checks its exit code, and resolves with its stdout, trimmed. */
export async function runCli(args: string[], expectedCode = 0): Promise<string> {
  const proc = CliProcess.start(args);
  await proc.closed;
  assert.equal((await proc.exited).code, expectedCode, proc.output);
  return proc.stdout.trim();
}
