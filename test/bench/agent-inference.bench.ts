/**
 * The agent's per-cycle cost of local inference for this host: its real
 * resources (one collection through the agent's collector), 24 h of
 * history pushed through the agent's ResourceForecaster so every window is
 * full, then cycles of observe (features) + forecast (one scoring call per
 * model, with the engine of `--engine`: trees, the agent's default, or
 * onnxruntime) timed in process CPU time, in this process. Also the resident
 * memory of the process before and after the models are loaded (bands are
 * loaded only when a forecast needs one), and with the extractors full.
 * Prints each figure next to its target; never fails on time. The agent as a
 * whole process, next to node_exporter, is `npm run bench:agent`.
 *
 *   npm run bench:agent:inference [-- <model dir>] [--engine trees|onnxruntime]   (default: the bundled models, trees)
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { DEFAULT_AGENT_SCORING_ENGINE } from '../../agent/inference/config.js';
import { HostMetricsCollector } from '../../agent/collectors/host-metrics.js';
import { CollectSectionSchema } from '../../agent/collectors/config.js';
import { loadModelDir } from '../../agent/inference/model-dir.js';
import { ModelSet } from '../../agent/inference/model-set.js';
import { ResourceForecaster } from '../../agent/inference/resource-forecaster.js';
import { BUNDLED_MODELS_DIR } from '../../shared/inference/model-files.js';
import { SCORING_ENGINES } from '../../shared/inference/scorer.js';
import type { MetricPoint, TelemetryMessage } from '../../shared/wire/telemetry.js';
import { seededRandom } from '../helpers/random-gbdt.js';

const TARGET_CPU_MS_PER_CYCLE = 10;
/** 80 MB, 76.3 MiB. */
const TARGET_RSS_MB = 80;
const INTERVAL_MS = 10_000;
const HISTORY_MS = 24 * 3_600_000;
const CYCLES = 300;

const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
const log = pino({ level: 'warn' });

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { engine: { type: 'string', default: DEFAULT_AGENT_SCORING_ENGINE } },
    allowPositionals: true,
  });
  const dir = positionals[0] ?? BUNDLED_MODELS_DIR;
  const engine = z.enum(SCORING_ENGINES).parse(values.engine);
  const rssStart = process.memoryUsage().rss;
  const models = new ModelSet();
  const loaded = await loadModelDir(dir, { configured: true, source: 'bundled', log, engine });
  for (const [kind, model] of loaded) await models.setModel(kind, model);
  if (loaded.size === 0) throw new Error(`no models in ${dir}`);
  const rssModels = process.memoryUsage().rss;

  const collector = new HostMetricsCollector({ collect: CollectSectionSchema.parse(undefined), log });
  await collector.prime();
  await new Promise((r) => setTimeout(r, 1000));
  const real = await collector.collect();
  const forecaster = new ResourceForecaster({ models, exhaustion: {}, log });

  // A day of history at the agent's default interval: the real readings with some noise.
  const rand = seededRandom(11);
  const start = Date.now() - HISTORY_MS;
  const message = (t: number): Omit<TelemetryMessage, 'seq'> => ({
    schemaVersion: 1,
    hostId: 'bench',
    timestamp: t,
    intervalSeconds: INTERVAL_MS / 1000,
    metrics: real.map((p): MetricPoint => (p.unit === '1' ? { ...p, value: jitter(p.value, rand) } : p)),
  });
  let t = start;
  for (; t < start + HISTORY_MS; t += INTERVAL_MS) forecaster.observe(message(t));
  const resources = forecaster.observe(message(t));
  const rssHistory = process.memoryUsage().rss;

  const cpuMs: number[] = [];
  const wallMs: number[] = [];
  for (let i = 0; i < CYCLES; i++) {
    t += INTERVAL_MS;
    const m = message(t);
    const cpu = process.cpuUsage();
    const wall = performance.now();
    await forecaster.forecast(forecaster.observe(m), t);
    wallMs.push(performance.now() - wall);
    const d = process.cpuUsage(cpu);
    cpuMs.push((d.user + d.system) / 1000);
  }
  await models.close();

  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
  const lines = [
    `models: ${[...loaded.keys()].join(', ')} from ${dir}, engine ${engine}`,
    `resources forecast per cycle: ${resources.length} (${resources.join(', ')})`,
    `features + inference per cycle, CPU ms: p50 ${q(cpuMs, 0.5).toFixed(2)}, p95 ${q(cpuMs, 0.95).toFixed(2)}, ` +
      `mean ${(cpuMs.reduce((a, b) => a + b, 0) / cpuMs.length).toFixed(2)} ` +
      `(target < ${TARGET_CPU_MS_PER_CYCLE}: ${q(cpuMs, 0.5) < TARGET_CPU_MS_PER_CYCLE ? 'met' : 'missed'})`,
    `wall ms: p50 ${q(wallMs, 0.5).toFixed(2)}, p95 ${q(wallMs, 0.95).toFixed(2)}`,
    `RSS MiB: ${mib(rssStart)} before the models, ${mib(rssModels)} with them (+${mib(rssModels - rssStart)}), ` +
      `${mib(rssHistory)} with 24 h of history in the extractors ` +
      `(this process also holds tsx and the test helpers; the agent's target is < ${TARGET_RSS_MB} MB)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function jitter(value: number, rand: () => number): number {
  return Math.min(1, Math.max(0, value + (rand() - 0.5) * 0.02));
}

await main();
