import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { brokerUrlOf } from '../../agent/config.js';
import { modelsDirOf } from '../../agent/inference/config.js';
import { readModelPublicKey } from '../../agent/model-updates/public-key.js';
import { dataDirStore } from '../../aggregator/aggregator.js';
import { loadConfig } from '../../shared/config/load.js';
import { BusyError, CloudSenseError, errorMessage } from '../../shared/errors.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { RESOURCE_KINDS } from '../../shared/resources/index.js';
import { VERSION } from '../../shared/version.js';
import {
  DEFAULT_HISTORY_INTERVAL_SECONDS,
  DEFAULT_LIVE_INTERVAL_SECONDS,
  DEFAULT_MODEL_HOSTS,
  MAX_MODEL_HOSTS,
  type SimulateConfig,
  SimulateConfigSchema,
  intervalSecondsOf,
  modeOf,
} from '../../simulator/config.js';
import { hostId } from '../../simulator/fleet.js';
import { GroundTruthRecorder } from '../../simulator/ground-truth/recorder.js';
import { SIMULATION_DIR, type RunRecord } from '../../simulator/ground-truth/run-record.js';
import { type HistoryProgress, writeHistory } from '../../simulator/history/history-writer.js';
import { PROFILE_NAMES } from '../../simulator/profiles.js';
import type { ModelUpdateSettings } from '../../simulator/publish/host-models.js';
import { LiveSimulation } from '../../simulator/publish/live-simulation.js';
import { Simulation, type SimulationSettings } from '../../simulator/simulation.js';
import { exitOnStartFailure, runUntilSignalled } from '../lifecycle.js';
import { configSources, exitOnConfigError, type FlagSpec } from '../options.js';
import { ProgressLine, formatDuration } from '../progress.js';

/** The command's flags and the config path each sets (flags override `CLOUDSENSE_*`, which override the file). */
const FLAGS: FlagSpec[] = [
  ['--hosts <n>', 'virtual hosts, 1..10000 (default 10)', 'simulate.hosts'],
  ['--seed <k>', 'seed: equal seeds give equal fleets, series and ground truth (default 1)', 'simulate.seed'],
  [
    '--interval <seconds>',
    `seconds between samples, 1..3600 (default ${DEFAULT_LIVE_INTERVAL_SECONDS} live, ${DEFAULT_HISTORY_INTERVAL_SECONDS} history)`,
    'simulate.intervalSeconds',
  ],
  ['--start <time>', 'simulated start, ISO 8601 (default: now; history: now minus --days)', 'simulate.start'],
  [
    '--host-prefix <prefix>',
    'host ids are <prefix>-000, <prefix>-001, … (default sim)',
    'simulate.hostPrefix',
  ],
  [
    '--profiles <list>',
    `only these profiles, comma-separated: ${PROFILE_NAMES.join(', ')}`,
    'simulate.profiles',
  ],
  ['--speed <x>', 'live: simulated seconds per real second, e.g. 60 (default 1)', 'simulate.speed'],
  [
    '--duration <time>',
    'live: stop after this much real time, seconds or e.g. 10m (default: until Ctrl-C)',
    'simulate.duration',
  ],
  [
    '--ground-truth-dir <dir>',
    'live: also write the ground truth into this directory',
    'simulate.groundTruthDir',
  ],
  [
    '--model-key <file>',
    "live: the aggregator's model-signing.pub; the first --model-hosts hosts take signed model updates",
    'simulate.modelKey',
  ],
  [
    '--model-hosts <n>',
    `live: how many hosts (the first ones) take model updates with --model-key, 1..${MAX_MODEL_HOSTS} (default ${DEFAULT_MODEL_HOSTS})`,
    'simulate.modelHosts',
  ],
  [
    '--broker <url>',
    'live: broker URL (env CLOUDSENSE_BROKER_URL, default mqtt://{mqtt.host}:{mqtt.port})',
    'agent.brokerUrl',
  ],
  ['--mqtt-host <host>', 'live: broker address (env CLOUDSENSE_MQTT_HOST, default 127.0.0.1)', 'mqtt.host'],
  ['--mqtt-port <port>', 'live: broker port (env CLOUDSENSE_MQTT_PORT, default 1883)', 'mqtt.port'],
  ['--days <d>', 'history: write this many days of history into the data dir instead', 'simulate.days'],
  [
    '--data-dir <dir>',
    'history: data dir; live: where hosts keep adopted models (env CLOUDSENSE_DATA_DIR, default ./data)',
    'dataDir',
  ],
  ['--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info)', 'log.level'],
  ['--log-format <format>', 'auto|json|pretty; auto is pretty on a terminal (default auto)', 'log.format'],
];

/** Exit status of a run stopped by Ctrl-C before it was done, as shells report SIGINT. */
const EXIT_INTERRUPTED = 130;

export function simulateCommand(): Command {
  const command = new Command('simulate')
    .summary('a fleet of virtual hosts with realistic workloads and known ground truth')
    .description(
      [
        'Simulate a fleet of virtual hosts (web, API, batch, database, office, spool, worker and idle profiles) ' +
          'whose workloads exhaust CPU, memory, swap, disks, inodes and file descriptors now and then, and record ' +
          'the ground truth of every exhaustion. Deterministic from --seed.',
        'Live mode (default): each virtual host publishes telemetry over MQTT exactly as a real agent does, ' +
          '--speed times faster than real time, until Ctrl-C or --duration.',
        "History mode (--days): writes that many days straight into the data dir's store, with the ground truth " +
          'in <data dir>/simulation/. No aggregator may be running on that data dir.',
        'Examples:\n' +
          '  cloudsense simulate --hosts 20 --speed 60\n' +
          '  cloudsense simulate --hosts 4 --speed 60 --model-key ./data/keys/model-signing.pub\n' +
          '  cloudsense simulate --hosts 50 --days 14 --data-dir ./data --seed 7',
      ].join('\n\n'),
    )
    .option('-c, --config <file>', 'YAML configuration file (env CLOUDSENSE_CONFIG)');
  for (const [flags, description] of FLAGS) command.option(flags, description);
  return command.action((options: Record<string, unknown>) => simulate(options));
}

async function simulate(options: Record<string, unknown>): Promise<void> {
  let config: SimulateConfig;
  try {
    config = loadConfig(SimulateConfigSchema, configSources(options, FLAGS));
  } catch (err) {
    exitOnConfigError(err);
  }
  const log = createLogger({ ...config.log, name: 'simulate' });
  if (modeOf(config) === 'history') await runHistory(config, log);
  else await runLive(config, log);
}

function settingsOf(config: SimulateConfig, startMs: number): SimulationSettings {
  const s = config.simulate;
  return {
    mode: modeOf(config),
    seed: s.seed,
    hosts: s.hosts,
    hostPrefix: s.hostPrefix,
    profiles: s.profiles,
    intervalSeconds: intervalSecondsOf(config),
    startMs,
    days: s.days,
    speed: modeOf(config) === 'live' ? (s.speed ?? 1) : undefined,
  };
}

/** Prints a failure in one line and exits: 2 when retrying cannot help, 1 otherwise. */
function fail(message: string, err?: unknown): never {
  process.stderr.write(`cloudsense simulate: ${message}\n`);
  process.exit(err instanceof CloudSenseError && err.permanent ? 2 : 1);
}

async function runHistory(config: SimulateConfig, log: Logger): Promise<void> {
  const dataDir = resolve(config.dataDir);
  const interval = intervalSecondsOf(config);
  const intervalMs = interval * 1000;
  const days = config.simulate.days!;
  const ticks = Math.floor((days * 86_400) / interval);
  // By default the history ends now, on the interval grid, as if the fleet had run until this moment.
  const startMs =
    config.simulate.start ?? Math.floor((Date.now() - ticks * intervalMs) / intervalMs) * intervalMs;
  const simulationDir = join(dataDir, SIMULATION_DIR);

  const store = dataDirStore(dataDir, config.aggregator.store);
  try {
    await store.start();
  } catch (err) {
    if (err instanceof BusyError) {
      fail(
        `cannot write history: ${err.message}.\n` +
          'If that is a running aggregator: stop the aggregator, or use live mode (leave out --days) to ' +
          'publish to it over MQTT.',
        err,
      );
    }
    fail(errorMessage(err), err);
  }

  let recorder: GroundTruthRecorder;
  let simulation: Simulation;
  try {
    const { hosts, hostPrefix } = config.simulate;
    const ids = new Set(Array.from({ length: hosts }, (_, i) => hostId(hostPrefix, i, hosts)));
    const clashing = (await store.latestPerHost()).map((h) => h.hostId).filter((id) => ids.has(id));
    if (clashing.length > 0) {
      throw new CloudSenseError(
        'SIMULATION_EXISTS',
        `${dataDir} already holds telemetry of ${clashing.slice(0, 3).join(', ')}` +
          `${clashing.length > 3 ? ` and ${clashing.length - 3} more` : ''}; writing again would duplicate it. ` +
          'Use another --data-dir or --host-prefix',
        { permanent: true },
      );
    }
    recorder = GroundTruthRecorder.create(simulationDir);
    simulation = new Simulation(settingsOf(config, startMs), [recorder]);
    await recorder.writeRun(simulation.record(false));
  } catch (err) {
    await store.stop();
    fail(errorMessage(err), err);
  }

  const progress = new ProgressLine(process.stderr);
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(1);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  progress.log(
    `writing ${days} day${days === 1 ? '' : 's'} of history for ${config.simulate.hosts} virtual hosts ` +
      `(${ticks} samples each, every ${interval} s, from ${new Date(startMs).toISOString()}) into ${store.description}`,
  );
  const started = Date.now();
  const report = throttledProgress(progress, started);
  let result: Awaited<ReturnType<typeof writeHistory>> | undefined;
  let failure: unknown;
  try {
    result = await writeHistory({
      simulation,
      store,
      ticks,
      batchMessages: config.simulate.batchMessages,
      signal: controller.signal,
      onProgress: report,
    });
  } catch (err) {
    failure = err;
  }
  progress.done();
  await store.stop().catch((err: unknown) => (failure ??= err));
  const seconds = result?.seconds ?? (Date.now() - started) / 1000;
  const counts = simulation.counts;
  const storeStats = {
    description: store.description,
    seconds: round(seconds, 3),
    messagesPerSecond: Math.round(counts.messages / Math.max(seconds, 1e-3)),
    pointsPerSecond: Math.round(counts.points / Math.max(seconds, 1e-3)),
  };
  const record = simulation.record(result?.completed === true && failure === undefined, storeStats);
  await recorder.writeRun(record);
  await recorder.close();
  log.flush();

  if (failure !== undefined) {
    fail(
      `history write failed after ${counts.ticks} of ${ticks} samples per host: ${errorMessage(failure)}\n` +
        `${dataDir} now holds a partial history; remove it (or ${SIMULATION_DIR}/ and the store) before running again`,
      failure,
    );
  }
  printHistorySummary(record, ticks, simulationDir);
  if (!record.completed) {
    process.stderr.write(
      `cloudsense simulate: interrupted after ${counts.ticks} of ${ticks} samples per host; ` +
        `${dataDir} holds a partial history (run.json says "completed": false)\n`,
    );
    process.exit(EXIT_INTERRUPTED);
  }
}

/** Progress every quarter second on a terminal; every 5 s (and at the end) as plain lines otherwise. */
function throttledProgress(progress: ProgressLine, started: number): (p: HistoryProgress) => void {
  const everyMs = process.stderr.isTTY ? 250 : 5000;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < everyMs && p.ticksDone < p.ticks) return;
    last = now;
    const seconds = Math.max((now - started) / 1000, 1e-3);
    progress.update(
      `simulated to ${new Date(p.simulatedMs).toISOString().slice(0, 16).replace('T', ' ')} · ` +
        `${p.messages.toLocaleString('en')} messages, ${p.points.toLocaleString('en')} points · ` +
        `${Math.round(p.points / seconds).toLocaleString('en')} points/s`,
      p.ticksDone / p.ticks,
      started,
    );
  };
}

function printHistorySummary(record: RunRecord, ticks: number, simulationDir: string): void {
  const { summary, config } = record;
  const store = summary.store!;
  const lines = [
    `history      ${config.hosts} hosts × ${config.days} days (${ticks} samples each, every ${config.intervalSeconds} s)`,
    `written      ${summary.messages.toLocaleString('en')} messages, ${summary.points.toLocaleString('en')} points ` +
      `in ${formatDuration(store.seconds * 1000)} (${store.pointsPerSecond.toLocaleString('en')} points/s) to ${store.description}`,
    `ground truth ${join(simulationDir, record.files.groundTruth)} (${summary.events} exhaustion events)`,
    `             ${join(simulationDir, record.files.incidents)} (${summary.incidents} incidents), ${join(simulationDir, 'run.json')}`,
    ...labelLines(record),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function labelLines(record: RunRecord): string[] {
  const lines = ['label windows, positive = exhausted within the horizon:'];
  for (const kind of RESOURCE_KINDS) {
    const s = record.summary.labels[kind];
    if (s.resources === 0) continue;
    lines.push(
      `  ${kind.padEnd(11)} ${(100 * s.positiveRate).toFixed(2).padStart(6)}% of ${s.windows.toLocaleString('en')}` +
        ` (${s.events} events on ${s.resources} resources)`,
    );
  }
  return lines;
}

async function runLive(config: SimulateConfig, log: Logger): Promise<void> {
  const intervalMs = intervalSecondsOf(config) * 1000;
  const startMs = config.simulate.start ?? Math.floor(Date.now() / intervalMs) * intervalMs;
  const brokerUrl = brokerUrlOf(config);
  const speed = config.simulate.speed ?? 1;
  let recorder: GroundTruthRecorder | undefined;
  try {
    if (config.simulate.groundTruthDir) recorder = GroundTruthRecorder.create(config.simulate.groundTruthDir);
  } catch (err) {
    fail(errorMessage(err), err);
  }
  const simulation = new Simulation(settingsOf(config, startMs), [
    ...(recorder ? [recorder] : []),
    {
      event: (e) =>
        log.debug(
          {
            hostId: e.hostId,
            resource: e.resource,
            start: new Date(e.startMs).toISOString(),
            cause: e.cause,
          },
          'exhaustion event',
        ),
    },
  ]);
  let modelUpdates: ModelUpdateSettings | undefined;
  try {
    modelUpdates = modelUpdatesOf(config);
  } catch (err) {
    exitOnConfigError(err);
  }
  const live = new LiveSimulation({
    simulation,
    brokerUrl,
    username: config.agent.username,
    password: config.agent.password,
    agentVersion: VERSION,
    speed,
    durationMs: config.simulate.duration,
    modelUpdates,
    log,
  });
  try {
    await recorder?.writeRun(simulation.record(false));
    await live.start();
  } catch (err) {
    await live.stop().catch(() => undefined);
    await recorder?.close();
    exitOnStartFailure(err, log);
  }
  log.info(
    {
      hosts: config.simulate.hosts,
      broker: brokerUrl,
      speed,
      intervalSeconds: intervalMs / 1000,
      start: new Date(startMs).toISOString(),
      groundTruth: recorder?.dir ?? null,
      modelHosts: config.simulate.modelKey ? Math.min(config.simulate.modelHosts, config.simulate.hosts) : 0,
    },
    'simulation running',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await live.stop();
      simulation.finish();
      if (recorder) {
        await recorder.writeRun(simulation.record(true));
        await recorder.close();
      }
      const s = live.stats();
      process.stdout.write(
        `simulated ${config.simulate.hosts} hosts for ${formatDuration(s.ticks * intervalMs)} of simulated time ` +
          `in ${formatDuration(s.realSeconds * 1000)} (${s.effectiveSpeed.toFixed(1)}× real time): ` +
          `${s.published} messages published, ${s.acknowledged} acknowledged, ${s.failed} failed; ` +
          `${simulation.counts.events} exhaustion events\n`,
      );
    })());
  runUntilSignalled(stop, log);
  void live.finished.then(async () => {
    try {
      await stop();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'error while stopping');
      log.flush();
      process.exit(1);
    }
    log.flush();
    process.exit(0);
  });
}

/** With `simulate.modelKey`: what the virtual hosts that take model updates need (the key read now). */
function modelUpdatesOf(config: SimulateConfig): ModelUpdateSettings | undefined {
  const { modelKey, modelHosts } = config.simulate;
  if (modelKey === undefined) return undefined;
  const { dir, configured } = modelsDirOf(config.agent.models);
  return {
    publicKey: readModelPublicKey(modelKey, 'simulate.modelKey'),
    modelsDir: dir,
    modelsDirConfigured: configured,
    dataDir: config.dataDir,
    exhaustion: config.exhaustion,
    maxHosts: modelHosts,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
