/**
 * Prometheus for tests: Debian's `promtool` on files and scraped text, a
 * real `prometheus` server on a loopback port, and the metric names a
 * scrape exposes and a PromQL expression reads (so dashboards and rules can
 * be checked against what the aggregator really serves).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { PROMETHEUS_PATH, PROMTOOL_PATH } from './require-tool.js';
import { waitFor } from './net.js';

export interface ToolResult {
  status: number | null;
  /** stdout and stderr together: promtool reports problems on either. */
  output: string;
}

/** Runs promtool with `args`, `input` on its standard input. */
export function promtool(args: readonly string[], input?: string, cwd?: string): ToolResult {
  const result = spawnSync(PROMTOOL_PATH, args, {
    input,
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Every sample name in Prometheus text exposition (`foo_bucket`, `foo_sum`… as written). */
export function exposedSampleNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** The value of the sample `name{labels}` whose labels include every pair in `labels`; undefined if none. */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map(
      [...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

/** PromQL words that look like metric names but are not. */
const PROMQL_WORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The metric names a PromQL expression (or a Grafana query such as
 * `label_values(metric, label)`) reads. Strings, label matchers, grouping
 * label lists, ranges, numbers and Grafana variables are removed first;
 * what remains that is not a function call or a keyword is a metric name.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\S+/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice(m.index + word.length).trimStart();
    const before = stripped[m.index - 1];
    if (after.startsWith('(') || PROMQL_WORDS.has(word.toLowerCase())) continue;
    // Part of a number (1e3) or a duration left outside brackets (5m).
    if (before !== undefined && /[0-9.]/.test(before)) continue;
    names.add(word);
  }
  // `label_values(metric, label)`: the second argument is a label, not a metric.
  const labelValues = /label_values\s*\(\s*[^,()]*,\s*([a-zA-Z_]\w*)\s*\)/.exec(expr);
  if (labelValues) names.delete(labelValues[1]!);
  return [...names];
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A real `prometheus` on 127.0.0.1:`port`, its TSDB in `dataDir`. */
export class PrometheusServer {
  private output = '';

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.output = (this.output + chunk).slice(-20_000);
      });
    }
    child.on('exit', () => running.delete(child));
  }

  /** Starts it and resolves once `/-/ready` answers 200. */
  static async start(configFile: string, dataDir: string, port: number): Promise<PrometheusServer> {
    const child = spawn(
      PROMETHEUS_PATH,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`);
    await waitFor(
      'prometheus to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited:\n${server.output}`);
        const res = await fetch(`${server.url}/-/ready`);
        return res.ok ? true : undefined;
      },
      60_000,
    ).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${server.output}`, { cause: err });
    });
    return server;
  }

  /** GET a Prometheus HTTP API path and return its `data`. */
  async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`GET ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
