/**
 * The agent as it runs on a host, next to Prometheus' node_exporter, the
 * program people run on every host today. Real processes: a `cloudsense
 * aggregator` (embedded broker and store, on free loopback ports) that the
 * agent publishes to and that acknowledges what it stored; the agent
 * (`node bin/cloudsense.js agent`, interval 10 s, the bundled models; with
 * `--binary`, the single executable dist/cloudsense-agent-linux-x64 as well,
 * started after a first run has unpacked its files, as on a host where it
 * has run before);
 * and Debian's /usr/bin/prometheus-node-exporter on a free loopback port,
 * scraped over HTTP every 15 s as Prometheus would.
 *
 * After a warm-up, samples every process's resident memory (VmRSS; median,
 * peak and last) and CPU time (/proc/PID/stat utime + stime): the agent's
 * per collection cycle (collect + features + inference + publish, cycles
 * counted from the telemetry it publishes), node_exporter's per scrape.
 * Prints one table with the targets; never fails on time. Ctrl-C ends the
 * measurement early, prints what was measured and stops every process.
 *
 *   npm run bench:agent [-- --minutes 5] [--warmup 60] [--binary] [--models <dir>] [--engine trees|onnxruntime]
 *
 * The agents run with the environment the systemd unit gives them
 * (deploy/systemd/cloudsense-agent.service, `Environment=` lines but HOME),
 * and the agent's default scoring engine unless `--engine` says otherwise.
 *
 * `--minutes 0.5 --warmup 15` is a smoke check. Needs `npm run build`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import { DEFAULT_AGENT_SCORING_ENGINE } from '../../agent/inference/config.js';
import { freePort, waitFor } from '../helpers/net.js';
import { BenchProcess } from './lib/bench-process.js';
import { procCpuMs, procMemory, summarize, type ProcMemory } from './lib/proc-stats.js';
import { printTable } from './lib/table.js';
import { unitEnvironment } from './lib/unit-environment.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'cloudsense.js');
const EXECUTABLE = join(ROOT, 'dist', 'cloudsense-agent-linux-x64');
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const NODE_EXPORTER_INSTALL =
  'install Debian prometheus-node-exporter (apt-get install prometheus-node-exporter)';

/** The target is 80 MB, read strictly: 80 × 10⁶ bytes, 76.3 MiB. */
const TARGET_RSS_MB = 80;
const MIB_PER_MB = 1e6 / 2 ** 20;
const TARGET_CPU_MS_PER_CYCLE = 10;
const INTERVAL_S = 10;
/** Prometheus' usual scrape interval. */
const SCRAPE_EVERY_MS = 15_000;
/** Resident memory is sampled this often, ms. */
const SAMPLE_EVERY_MS = 2_000;

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '60' },
    binary: { type: 'boolean', default: false },
    models: { type: 'string' },
    engine: { type: 'string' },
  },
});
const measureMs = Number(args.minutes) * 60_000;
const warmupMs = Number(args.warmup) * 1000;
if (!(measureMs > 0) || !(warmupMs >= 0)) throw new Error('--minutes must be > 0 and --warmup ≥ 0');

/** One measured process: memory samples after the warm-up, and a CPU window between two events. */
class Measured {
  readonly memory: ProcMemory[] = [];
  /** CPU ms at the event that opened the window, and at the latest event in it. */
  private cpuStart: number | undefined;
  private cpuLast: number | undefined;
  /** Events (cycles, scrapes) after the one that opened the window. */
  events = 0;

  constructor(
    readonly name: string,
    readonly proc: BenchProcess,
  ) {}

  sample(): void {
    const m = procMemory(this.proc.pid);
    if (m) this.memory.push(m);
  }

  /** Called at each cycle or scrape: opens the window at the first one in the measurement, counts the rest. */
  event(measuring: boolean): void {
    if (!measuring) return;
    const cpu = procCpuMs(this.proc.pid);
    if (cpu === undefined) return;
    if (this.cpuStart === undefined) this.cpuStart = cpu;
    else this.events++;
    this.cpuLast = cpu;
  }

  get cpuMs(): number {
    return this.cpuStart === undefined ? NaN : this.cpuLast! - this.cpuStart;
  }
}

const work = mkdtempSync(join(tmpdir(), 'cloudsense-bench-agent-'));
const processes: BenchProcess[] = [];
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) {
    BenchProcess.killAll();
    process.exit(130);
  }
  interrupted = true;
  process.stderr.write('\nstopping: printing what was measured (Ctrl-C again to kill everything)\n');
});

function start(name: string, command: string, argv: string[], env: NodeJS.ProcessEnv = {}): BenchProcess {
  const p = new BenchProcess(name, command, argv, env);
  processes.push(p);
  return p;
}

/** Sleeps `ms`, waking early on Ctrl-C. */
async function sleepUnlessInterrupted(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!interrupted && Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(500, until - Date.now())));
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first');
  const ports = { http: await freePort(), mqtt: await freePort(), exporter: await freePort() };

  const aggregator = start(
    'aggregator',
    process.execPath,
    [CLI, 'aggregator', '--http-port', String(ports.http), '--mqtt-port', String(ports.mqtt)],
    { CLOUDSENSE_DATA_DIR: join(work, 'aggregator'), CLOUDSENSE_LOG__FORMAT: 'json' },
  );
  await aggregator.waitForLine(/aggregator ready/);

  // The peer. Missing: the agent is measured alone, except in CI, where a missing peer is a broken pipeline.
  let exporter: Measured | undefined;
  let exporterVersion = '';
  if (existsSync(NODE_EXPORTER)) {
    const p = start('node_exporter', NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${ports.exporter}`]);
    exporter = new Measured('node_exporter', p);
    exporterVersion =
      /version=([\d.]+)/.exec(await p.waitForLine(/Starting node_exporter/, 30_000))?.[1] ?? '';
  } else if (process.env.CI === 'true') {
    throw new Error(`${NODE_EXPORTER} is required in CI but missing: ${NODE_EXPORTER_INSTALL}`);
  } else {
    process.stderr.write(
      `node_exporter not measured: ${NODE_EXPORTER} is missing; ${NODE_EXPORTER_INSTALL}\n`,
    );
  }
  const scrapeUrl = `http://127.0.0.1:${ports.exporter}/metrics`;
  let series = 0;
  const scrape = async (): Promise<boolean> => {
    const res = await fetch(scrapeUrl);
    const text = await res.text();
    series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    return res.ok;
  };
  if (exporter) await waitFor('node_exporter answering', async () => ((await scrape()) ? true : undefined));

  // The agents: the CLI under Node, and the single executable when asked for and built.
  const config = join(work, 'agent.yaml');
  writeFileSync(config, `agent:\n  intervalSeconds: ${INTERVAL_S}\n`);
  const agentEnv = {
    ...unitEnvironment(),
    ...(args.models ? { CLOUDSENSE_AGENT__MODELS__DIR: args.models } : {}),
    ...(args.engine ? { CLOUDSENSE_AGENT__MODELS__ENGINE: args.engine } : {}),
  };
  const agentArgs = (hostId: string) => [
    'agent',
    '--config',
    config,
    '--host-id',
    hostId,
    '--mqtt-port',
    String(ports.mqtt),
    '--data-dir',
    join(work, hostId),
    '--log-format',
    'json',
  ];
  const agents = new Map<string, Measured>();
  agents.set(
    'bench-node',
    new Measured(
      'agent (node bin/cloudsense.js)',
      start('agent', process.execPath, [CLI, ...agentArgs('bench-node')], agentEnv),
    ),
  );
  if (args.binary) {
    if (!existsSync(EXECUTABLE))
      throw new Error(`${EXECUTABLE} is missing: run \`npm run build:agent\` first`);
    const seaEnv = { ...agentEnv, XDG_CACHE_HOME: join(work, 'cache') };
    // The first start unpacks onnxruntime and the models (once per version); measure a start after that.
    const once = start(
      'agent executable --once',
      EXECUTABLE,
      ['--once', '--print', '--data-dir', join(work, 'once')],
      seaEnv,
    );
    if ((await once.exited).code !== 0)
      throw new Error(`${EXECUTABLE} --once --print failed:\n${once.tail()}`);
    const p = start('agent executable', EXECUTABLE, agentArgs('bench-sea').slice(1), seaEnv);
    agents.set('bench-sea', new Measured('agent (cloudsense-agent-linux-x64)', p));
  }
  const loaded = new Map<string, string>();
  for (const [hostId, agent] of agents) {
    const line = await agent.proc.waitForLine(/"msg":"(forecast models loaded|no forecast models)/);
    const { kinds } = JSON.parse(line) as { kinds: string[] };
    loaded.set(hostId, kinds.length > 0 ? kinds.join(', ') : 'none');
    await agent.proc.waitForLine(/"msg":"agent started"/);
  }

  let measuring = false;
  const observer = await connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: 'bench-observer' });
  observer.on('message', (topic) => {
    const hostId = topic.split('/')[3]!;
    agents.get(hostId)?.event(measuring);
  });
  await observer.subscribeAsync('cloudsense/v1/hosts/+/telemetry', { qos: 0 });

  const measured = [...agents.values(), ...(exporter ? [exporter] : [])];
  const sampler = setInterval(() => {
    if (measuring) for (const m of measured) m.sample();
  }, SAMPLE_EVERY_MS);
  const scraper = setInterval(() => {
    if (!exporter) return;
    scrape().then(
      () => exporter.event(measuring),
      (err: unknown) => process.stderr.write(`scrape failed: ${String(err)}\n`),
    );
  }, SCRAPE_EVERY_MS);

  const minutes = (ms: number) => (ms / 60_000).toFixed(1);
  process.stderr.write(`warming up for ${warmupMs / 1000} s, then measuring for ${minutes(measureMs)} min\n`);
  await sleepUnlessInterrupted(warmupMs);
  measuring = true;
  const measureStart = Date.now();
  await sleepUnlessInterrupted(measureMs);
  // Close the windows on the next cycle and scrape, so each counts whole periods.
  if (!interrupted) await sleepUnlessInterrupted(Math.max(INTERVAL_S * 1000, SCRAPE_EVERY_MS));
  measuring = false;
  const measuredMs = Date.now() - measureStart;
  clearInterval(sampler);
  clearInterval(scraper);
  await observer.endAsync();

  const stopped = new Map<
    string,
    { lastSeq: number; confirmedSeq: number; forecastCpuMsPerCycle?: number }
  >();
  for (const [hostId, agent] of agents) {
    await agent.proc.stop('SIGTERM');
    const line = agent.proc.lines.find((l) => l.includes('"msg":"agent stopped"'));
    if (line) stopped.set(hostId, JSON.parse(line) as { lastSeq: number; confirmedSeq: number });
  }

  const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const rows = measured.map((m) => {
    const rss = summarize(m.memory.map((s) => s.rssMiB));
    const last = m.memory.at(-1);
    const perEvent = m.cpuMs / m.events;
    return [
      m.name,
      f1(rss.median),
      f1(rss.max),
      f1(rss.last),
      last ? `${f1(last.anonMiB)} / ${f1(last.fileMiB)}` : '-',
      last ? f1(last.peakMiB) : '-',
      f1(m.cpuMs),
      `${m.events} ${m === exporter ? 'scrapes' : 'cycles'}`,
      f2(perEvent),
    ];
  });

  const lines = [
    `measured ${minutes(measuredMs)} min after a ${warmupMs / 1000} s warm-up; Node ${process.version}` +
      (exporter ? `, node_exporter ${exporterVersion} (Debian defaults, ${series} series a scrape)` : ''),
    `agents' environment: ${Object.entries(agentEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}; scoring engine: ${args.engine ?? DEFAULT_AGENT_SCORING_ENGINE}`,
  ];
  for (const [hostId] of agents) {
    const s = stopped.get(hostId);
    lines.push(
      `${hostId}: interval ${INTERVAL_S} s, models: ${loaded.get(hostId)}` +
        (s
          ? `; ${s.lastSeq} messages, ${s.confirmedSeq} acknowledged by the aggregator` +
            (s.forecastCpuMsPerCycle !== undefined
              ? `; features + inference alone ${s.forecastCpuMsPerCycle} ms CPU per cycle`
              : '')
          : '; no stop line'),
    );
  }
  console.log(`${lines.join('\n')}\n`);
  printTable(
    [
      'process',
      'RSS median MiB',
      'peak MiB',
      'last MiB',
      'last anon / file MiB',
      'VmHWM MiB',
      'CPU ms',
      'periods',
      'CPU ms per period',
    ],
    rows,
  );
  console.log('');
  for (const m of agents.values()) {
    const rss = summarize(m.memory.map((s) => s.rssMiB)).median;
    const cpu = m.cpuMs / m.events;
    const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
    console.log(
      `${m.name}: RSS median ${f1(rss)} MiB (${f1(rss / MIB_PER_MB)} MB), target < ${TARGET_RSS_MB} MB: ` +
        `${verdict(rss < TARGET_RSS_MB * MIB_PER_MB)}; ` +
        `CPU per cycle ${f2(cpu)} ms, target < ${TARGET_CPU_MS_PER_CYCLE}: ${verdict(cpu < TARGET_CPU_MS_PER_CYCLE)}`,
    );
  }
}

try {
  await main();
} finally {
  for (const p of processes.reverse()) await p.stop('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
