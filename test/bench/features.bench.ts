/**
 * Feature-extraction benchmark: the per-sample cost on an agent for one host
 * with all its resources — cpu, memory, swap, 3 filesystems, 3 inode series
 * and fds, 10 series — where each sample is a push plus a feature vector for
 * every series (the agent scores all of them each interval). Measured once
 * the 24 h windows are full, at 1 s and at 5 min sampling; also the same
 * tick starting from the telemetry message (extractUtilization), the replay
 * path's throughput for training sets, and the memory a host's extractors
 * hold. Prints each figure next to its target; never fails on time.
 *
 *   npm run bench:features
 */
import { availableParallelism } from 'node:os';
import { FeatureExtractor } from '../../shared/features/extractor.js';
import { replaySeries } from '../../shared/features/replay.js';
import { FEATURE_COUNT, FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { resolveExhaustion } from '../../shared/resources/exhaustion.js';
import { type Resource, formatResourceId } from '../../shared/resources/resource-id.js';
import { extractUtilization } from '../../shared/resources/utilization.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import type { MetricPoint, TelemetryMessage } from '../../shared/wire/telemetry.js';
import { seededRandom } from '../helpers/random-gbdt.js';
import { DAY, HOUR, MINUTE, SECOND, T0 } from '../helpers/series.js';

const TARGET_MS_PER_SAMPLE = 0.2;
/** Measured windows per figure; the median is reported with the lowest and highest. */
const WINDOWS = 5;

const MOUNTS = ['/', '/var', '/srv/data'];
const RESOURCES: Resource[] = [
  { kind: 'cpu' },
  { kind: 'memory' },
  { kind: 'swap' },
  ...MOUNTS.map((mountpoint) => ({ kind: 'filesystem' as const, mountpoint })),
  ...MOUNTS.map((mountpoint) => ({ kind: 'inodes' as const, mountpoint })),
  { kind: 'fds' },
];
const SERIES = RESOURCES.length;

interface Host {
  extractors: FeatureExtractor[];
  /** One row per series: the batch the agent hands to the model each interval. */
  rows: Float32Array;
}

function newHost(): Host {
  return {
    extractors: RESOURCES.map(
      (r) => new FeatureExtractor({ kind: r.kind, exhaustion: resolveExhaustion({}, r) }),
    ),
    rows: new Float32Array(SERIES * FEATURE_COUNT),
  };
}

/** Utilisation of every series at every tick, precomputed so the timing holds only the extractor. */
function workload(ticks: number, seed: number): Float64Array {
  const rand = seededRandom(seed);
  const values = new Float64Array(ticks * SERIES);
  const level = RESOURCES.map((_, i) => 0.2 + 0.05 * i);
  for (let tick = 0; tick < ticks; tick++) {
    for (let s = 0; s < SERIES; s++) {
      const noise = s === 0 ? 0.2 : 0.002;
      level[s] = Math.min(0.99, Math.max(0.01, level[s]! + (rand() - 0.499) * noise * 0.1));
      values[tick * SERIES + s] = Math.min(1, Math.max(0, level[s]! + (rand() - 0.5) * noise));
    }
  }
  return values;
}

function tick(host: Host, t: number, values: Float64Array, at: number): void {
  for (let s = 0; s < SERIES; s++) {
    const extractor = host.extractors[s]!;
    extractor.push(t, values[at + s]!);
    extractor.vectorInto(t, host.rows, s * FEATURE_COUNT);
  }
}

interface Figure {
  median: number;
  min: number;
  max: number;
}

function summarise(perWindow: number[]): Figure {
  const sorted = [...perWindow].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** ms per tick at `intervalMs` sampling, once `warmMs` of history has filled the windows. */
function perTick(
  intervalMs: number,
  warmMs: number,
  ticksPerWindow: number,
): { figure: Figure; warmMsPerTick: number } {
  const warmTicks = Math.floor(warmMs / intervalMs);
  const total = warmTicks + WINDOWS * ticksPerWindow;
  const values = workload(total, 7);
  const host = newHost();
  const warmStart = performance.now();
  for (let i = 0; i < warmTicks; i++) tick(host, T0 + i * intervalMs, values, i * SERIES);
  const warmMsPerTick = (performance.now() - warmStart) / warmTicks;
  const perWindow: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const from = warmTicks + w * ticksPerWindow;
    const start = performance.now();
    for (let i = from; i < from + ticksPerWindow; i++) tick(host, T0 + i * intervalMs, values, i * SERIES);
    perWindow.push((performance.now() - start) / ticksPerWindow);
  }
  return { figure: summarise(perWindow), warmMsPerTick };
}

/** The whole agent step from the telemetry message: extractUtilization, then push + vector per resource. */
function perTickFromTelemetry(ticksPerWindow: number): Figure {
  const warmTicks = DAY / SECOND;
  const total = warmTicks + WINDOWS * ticksPerWindow;
  const values = workload(total, 11);
  const host = newHost();
  const slotOf = new Map(RESOURCES.map((r, i) => [formatResourceId(r), i]));
  const message = (i: number): TelemetryMessage => {
    const v = (s: number) => values[i * SERIES + s]!;
    const fs = (m: string) => ({ [ATTR.device]: '/dev/sda1', [ATTR.mountpoint]: m, [ATTR.fsType]: 'ext4' });
    const metrics: MetricPoint[] = [
      { ...METRIC.cpuUtilization, value: v(0) },
      { ...METRIC.memoryUtilization, value: v(1), attributes: { [ATTR.memoryState]: 'used' } },
      { ...METRIC.pagingUtilization, value: v(2), attributes: { [ATTR.pagingState]: 'used' } },
      ...MOUNTS.map((m, j) => ({ ...METRIC.filesystemUtilization, value: v(3 + j), attributes: fs(m) })),
      ...MOUNTS.map((m, j) => ({
        ...METRIC.filesystemInodesUtilization,
        value: v(6 + j),
        attributes: fs(m),
      })),
      { ...METRIC.fileDescriptorUtilization, value: v(9) },
    ];
    return {
      schemaVersion: 1,
      hostId: 'bench',
      seq: i + 1,
      timestamp: T0 + i * SECOND,
      intervalSeconds: 1,
      metrics,
    };
  };
  const step = (msg: TelemetryMessage) => {
    for (const sample of extractUtilization(msg)) {
      const s = slotOf.get(sample.resourceId)!;
      host.extractors[s]!.push(sample.timestampMs, sample.value, sample.pressure);
      host.extractors[s]!.vectorInto(sample.timestampMs, host.rows, s * FEATURE_COUNT);
    }
  };
  for (let i = 0; i < warmTicks; i++) tick(host, T0 + i * SECOND, values, i * SERIES);
  const perWindow: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const from = warmTicks + w * ticksPerWindow;
    const messages = Array.from({ length: ticksPerWindow }, (_, k) => message(from + k));
    const start = performance.now();
    for (const msg of messages) step(msg);
    perWindow.push((performance.now() - start) / ticksPerWindow);
  }
  return summarise(perWindow);
}

/** Training-set rows per second: a week of 1-minute history, a row every 5 minutes. */
function replayThroughput(): { rowsPerS: Figure; samplesPerS: Figure } {
  const samples = (7 * DAY) / MINUTE;
  const values = workload(samples, 13);
  const timestampsMs = new Float64Array(samples);
  const series = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    timestampsMs[i] = T0 + i * MINUTE;
    series[i] = values[i * SERIES + 3]!;
  }
  const evaluation = Float64Array.from({ length: samples / 5 }, (_, i) => T0 + i * 5 * MINUTE);
  const options = { kind: 'filesystem' as const, exhaustion: resolveExhaustion({}, 'filesystem:/') };
  const rates: number[] = [];
  const sampleRates: number[] = [];
  replaySeries({ timestampsMs, values: series }, evaluation, options);
  for (let w = 0; w < WINDOWS; w++) {
    const start = performance.now();
    replaySeries({ timestampsMs, values: series }, evaluation, options);
    const s = (performance.now() - start) / 1000;
    rates.push(evaluation.length / s);
    sampleRates.push(samples / s);
  }
  return { rowsPerS: summarise(rates), samplesPerS: summarise(sampleRates) };
}

/** Typed-array bytes a host's extractors hold (fixed at construction, whatever the sampling rate). */
function bytesPerHost(): number {
  const hosts = 50;
  const before = process.memoryUsage().arrayBuffers;
  const kept: Host[] = [];
  for (let i = 0; i < hosts; i++) kept.push(newHost());
  const after = process.memoryUsage().arrayBuffers;
  return kept.length > 0 ? (after - before) / hosts : 0;
}

const ms = (x: number) => `${x.toFixed(4)} ms`;
const fig = (f: Figure, fmt: (x: number) => string) => `${fmt(f.median)} (${fmt(f.min)}–${fmt(f.max)})`;
const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')}`;

const oneSecond = perTick(SECOND, DAY + HOUR, (30 * MINUTE) / SECOND);
const fiveMinutes = perTick(5 * MINUTE, 8 * DAY, 288);
const fromTelemetry = perTickFromTelemetry((30 * MINUTE) / SECOND);
const replay = replayThroughput();
const memory = bytesPerHost();

const rows: [string, string, string][] = [
  ['per sample, 1 s sampling, windows full', fig(oneSecond.figure, ms), `< ${TARGET_MS_PER_SAMPLE} ms`],
  ['per sample, 5 min sampling, 8 days in', fig(fiveMinutes.figure, ms), `< ${TARGET_MS_PER_SAMPLE} ms`],
  ['per sample, from the telemetry message', fig(fromTelemetry, ms), `< ${TARGET_MS_PER_SAMPLE} ms`],
  ['per sample, first day from empty (1 s)', ms(oneSecond.warmMsPerTick), `< ${TARGET_MS_PER_SAMPLE} ms`],
  ['replay, training rows per s (1 series)', `${fig(replay.rowsPerS, rate)}`, ''],
  ['replay, history samples per s', `${fig(replay.samplesPerS, rate)}`, ''],
  ['memory per host (10 series)', `${(memory / 1024).toFixed(0)} KiB`, ''],
];
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length), 'median (min–max)'.length);

console.log(
  `feature-extraction benchmark: one host = ${SERIES} series (cpu, memory, swap, 3 filesystems, ` +
    `3 inode series, fds); a sample = push + vector for each of them. ${FEATURE_COUNT} features, ` +
    `schema v${FEATURE_SCHEMA.version} (${FEATURE_SCHEMA.hash.slice(0, 12)}…); node ${process.version}, ` +
    `${availableParallelism()} CPUs; ${WINDOWS} measured windows per figure.`,
);
console.log(`\n${''.padEnd(w0)}  ${'median (min–max)'.padStart(w1)}  target`);
for (const [what, figure, target] of rows)
  console.log(`${what.padEnd(w0)}  ${figure.padStart(w1)}  ${target}`.trimEnd());
console.log('\nFigures are wall time on this machine; on a shared host expect run-to-run noise.');
