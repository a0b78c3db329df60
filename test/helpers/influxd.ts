/**
 * A real InfluxDB 1.x server (`influxd` from Debian's `influxdb`) for tests:
 * on free loopback ports, with its data, meta and WAL dirs in a temporary
 * directory, usage reporting and self-monitoring off. It can be stopped
 * (gently or with SIGKILL) and started again on the same dirs and port, as
 * an outage would leave it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './net.js';
import { INFLUXD_PATH } from './require-tool.js';

/** How long influxd may take to answer /ping after a start, ms; generous for a busy machine. */
const START_TIMEOUT_MS = 60_000;
/** How long a SIGTERM may take before SIGKILL, ms. */
const STOP_TIMEOUT_MS = 15_000;

export class Influxd {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** The last lines influxd wrote, for failure messages. */
  private readonly output: string[] = [];

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly configPath: string,
  ) {}

  /** Creates the dirs and the configuration on two free loopback ports, and starts influxd. */
  static async start(options: { auth?: boolean } = {}): Promise<Influxd> {
    const dir = mkdtempSync(join(tmpdir(), 'cloudsense-influxd-'));
    const httpPort = await freePort();
    let rpcPort = await freePort();
    while (rpcPort === httpPort) rpcPort = await freePort();
    const configPath = join(dir, 'influxdb.conf');
    writeFileSync(
      configPath,
      [
        'reporting-disabled = true',
        // The RPC service (backup/restore) would take 8088 on every interface otherwise.
        `bind-address = "127.0.0.1:${rpcPort}"`,
        '[meta]',
        `  dir = "${join(dir, 'meta')}"`,
        '[data]',
        `  dir = "${join(dir, 'data')}"`,
        `  wal-dir = "${join(dir, 'wal')}"`,
        '  query-log-enabled = false',
        '[http]',
        `  bind-address = "127.0.0.1:${httpPort}"`,
        '  log-enabled = false',
        // With authentication on, the first user must be an admin, created before any other request.
        `  auth-enabled = ${options.auth === true}`,
        '[monitor]',
        '  store-enabled = false',
        '[continuous_queries]',
        '  enabled = false',
        '[logging]',
        '  level = "warn"',
        '',
      ].join('\n'),
    );
    const server = new Influxd(dir, httpPort, configPath);
    try {
      await server.restart();
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The store URL of a database on this server. */
  storeUrl(database: string): string {
    return `influx://127.0.0.1:${this.port}/${database}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts influxd on the same dirs and port, and waits for /ping. */
  async restart(): Promise<void> {
    if (this.child) return;
    const child = spawn(INFLUXD_PATH, ['run', '-config', this.configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.output.push(...chunk.split('\n').filter((l) => l !== ''));
        this.output.splice(0, Math.max(0, this.output.length - 50));
      });
    }
    this.exited = new Promise((resolve) =>
      child.on('exit', () => {
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    try {
      await waitFor(
        `influxd to answer /ping on port ${this.port}`,
        async () => {
          if (this.child !== child) throw new Error(`influxd exited:\n${this.output.join('\n')}`);
          const res = await fetch(`${this.url}/ping`);
          return res.status === 204 ? true : undefined;
        },
        START_TIMEOUT_MS,
        100,
      );
    } catch (err) {
      await this.stop('SIGKILL');
      throw new Error(`influxd did not start:\n${this.output.join('\n')}`, { cause: err });
    }
  }

  /** Stops influxd: SIGTERM, then SIGKILL when it has not exited in time. SIGKILL at once simulates a crash. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Runs InfluxQL with epoch-millisecond times and returns InfluxDB's JSON answer. */
  async query(
    database: string,
    q: string,
    auth?: { username: string; password: string },
  ): Promise<InfluxAnswer> {
    const headers: Record<string, string> = {};
    if (auth) {
      headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    const body = new URLSearchParams({ db: database, q, epoch: 'ms' });
    const res = await fetch(`${this.url}/query`, { method: 'POST', body, headers });
    if (!res.ok) throw new Error(`influxd query ${q}: ${res.status} ${await res.text()}`);
    return (await res.json()) as InfluxAnswer;
  }

  /** Stops influxd and deletes its dirs. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** InfluxDB's /query answer. */
export interface InfluxAnswer {
  results: Array<{
    error?: string;
    series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  }>;
}
