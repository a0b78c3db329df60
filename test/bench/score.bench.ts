/**
 * Scoring benchmark: a realistic ensemble (200 full depth-6 trees over 20
 * standard-normal features, binary objective) scored through onnxruntime
 * (OnnxScorer) and through the plain TypeScript walk (`predictRow`) of the
 * same trees. Prints throughput for batches and per-call latency for single
 * rows next to the targets, and the CPU that periodic scoring costs with
 * OnnxScorer's settings against onnxruntime's defaults (whose idle threads
 * spin). Never fails on time. Runs in well under a minute.
 *
 *   npm run bench:score
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { predictRow } from '../../models/gbdt/model.js';
import { exportGbdtToOnnx } from '../../models/onnx/export.js';
import { OnnxScorer } from '../../shared/inference/onnx-scorer.js';
import { loadScorer } from '../../shared/inference/scorer.js';
import { normalSample, randomModel, seededRandom } from '../helpers/random-gbdt.js';

const TREES = 200;
const DEPTH = 6;
const FEATURES = 20;
const BATCHES = [1_000, 10_000];
/** Wall time spent measuring each throughput figure, ms, split into windows. */
const THROUGHPUT_MS = 2_000;
const THROUGHPUT_WINDOWS = 5;
const LATENCY_WARMUP = 500;
const LATENCY_CALLS = 5_000;
/** Periodic scoring: a batch of this many rows every PERIOD_MS, for PERIODIC_MS. */
const PERIODIC_ROWS = 200;
const PERIOD_MS = 20;
const PERIODIC_MS = 2_000;
const TARGET_ROWS_PER_S = 250_000;
const TARGET_P99_MS = 1;

const rand = seededRandom(2026);
const model = randomModel(rand, {
  objective: 'binary',
  trees: TREES,
  features: FEATURES,
  maxDepth: DEPTH,
  full: true,
  sample: normalSample(rand, 10_000, FEATURES),
  leafScale: 0.05,
  baseScore: -2.2,
});
const bytes = exportGbdtToOnnx(model, { featureSchemaHash: 'bench', trainingRunId: 'bench' });
const data = Float32Array.from(normalSample(rand, Math.max(...BATCHES), FEATURES));

interface Row {
  path: string;
  threads: string;
  batch: string;
  figure: string;
  target: string;
}
const throughput: Row[] = [];
const latency: Row[] = [];
const periodic: Row[] = [];

/**
 * Rows per second of `run` (which handles `rows` rows): the median of
 * THROUGHPUT_WINDOWS windows, with the lowest and highest, since a neighbour
 * on a shared machine can take a core for part of the run.
 */
async function rowsPerSecond(
  rows: number,
  run: () => unknown,
): Promise<{ median: number; min: number; max: number }> {
  for (let i = 0; i < 3; i++) await run();
  const rates: number[] = [];
  for (let w = 0; w < THROUGHPUT_WINDOWS; w++) {
    let done = 0;
    const start = performance.now();
    while (performance.now() - start < THROUGHPUT_MS / THROUGHPUT_WINDOWS) {
      await run();
      done += rows;
    }
    rates.push(done / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { median: rates[rates.length >> 1]!, min: rates[0]!, max: rates[rates.length - 1]! };
}

/** p50 and p99 of per-call wall time, ms, after a warm-up. */
async function callLatency(call: (i: number) => unknown): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < LATENCY_WARMUP; i++) await call(i);
  const times = new Float64Array(LATENCY_CALLS);
  for (let i = 0; i < LATENCY_CALLS; i++) {
    const t0 = process.hrtime.bigint();
    await call(i);
    times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  times.sort();
  return { p50: times[Math.floor(LATENCY_CALLS * 0.5)]!, p99: times[Math.floor(LATENCY_CALLS * 0.99)]! };
}

/** Process CPU time (all threads), ms per wall-clock second, while `score` runs every PERIOD_MS. */
async function periodicCpu(score: () => Promise<unknown>): Promise<number> {
  await score();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < PERIODIC_MS) {
    await score();
    await sleep(PERIOD_MS);
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / ((performance.now() - start) / 1000);
}

const row = (i: number) => data.subarray(i * FEATURES, (i + 1) * FEATURES);
const fmtRate = (x: number) => Math.round(x).toLocaleString('en-US');
const fmtRates = (r: { median: number; min: number; max: number }) =>
  `${fmtRate(r.median)} (${fmtRate(r.min)}–${fmtRate(r.max)})`;
const fmtMs = (x: number) => (x < 1 ? `${(x * 1000).toFixed(1)} µs` : `${x.toFixed(2)} ms`);
const verdict = (ok: boolean) => (ok ? 'meets' : 'MISSES');

for (const threads of [1, 2]) {
  const scorer = await OnnxScorer.load(bytes, { intraOpNumThreads: threads });
  for (const batch of BATCHES) {
    const input = data.subarray(0, batch * FEATURES);
    const rate = await rowsPerSecond(batch, () => scorer.score(input, batch));
    const target =
      threads === 2 ? `≥ ${fmtRate(TARGET_ROWS_PER_S)} (${verdict(rate.median >= TARGET_ROWS_PER_S)})` : '';
    throughput.push({
      path: 'onnxruntime',
      threads: `${threads}`,
      batch: `${batch}`,
      figure: fmtRates(rate),
      target,
    });
  }
  const rows = data.length / FEATURES;
  const { p50, p99 } = await callLatency((i) => scorer.score(row(i % rows), 1));
  latency.push({
    path: 'onnxruntime',
    threads: `${threads}`,
    batch: '1',
    figure: `p50 ${fmtMs(p50)}, p99 ${fmtMs(p99)}`,
    target: `p99 < ${TARGET_P99_MS} ms (${verdict(p99 < TARGET_P99_MS)})`,
  });
  await scorer.release();
}

/** Throughput at every batch size and single-row latency of one single-threaded scoring path. */
async function measurePath(
  path: string,
  scoreRows: (input: Float32Array, batch: number) => unknown,
  scoreRow: (i: number) => unknown,
): Promise<void> {
  for (const batch of BATCHES) {
    const rate = await rowsPerSecond(batch, () => scoreRows(data.subarray(0, batch * FEATURES), batch));
    throughput.push({ path, threads: '1', batch: `${batch}`, figure: fmtRates(rate), target: '' });
  }
  const rows = data.length / FEATURES;
  const { p50, p99 } = await callLatency((i) => scoreRow(i % rows));
  latency.push({
    path,
    threads: '1',
    batch: '1',
    figure: `p50 ${fmtMs(p50)}, p99 ${fmtMs(p99)}`,
    target: `p99 < ${TARGET_P99_MS} ms (${verdict(p99 < TARGET_P99_MS)})`,
  });
}

{
  const out = new Float32Array(Math.max(...BATCHES));
  await measurePath(
    'TypeScript predictRow',
    (_input, batch) => {
      for (let i = 0; i < batch; i++) out[i] = predictRow(model, row(i));
    },
    (i) => predictRow(model, row(i)),
  );
  // The agent's default engine: the same ONNX file's trees walked in TypeScript (shared/inference/tree-scorer.ts).
  const trees = await loadScorer(bytes, { engine: 'trees' });
  await measurePath(
    'trees engine',
    (input, batch) => trees.score(input, batch),
    (i) => trees.score(row(i), 1),
  );
  await trees.release();
}

{
  const input = data.subarray(0, PERIODIC_ROWS * FEATURES);
  const scorer = await OnnxScorer.load(bytes, { intraOpNumThreads: 2 });
  const ours = await periodicCpu(() => scorer.score(input, PERIODIC_ROWS));
  await scorer.release();
  // Peer: the same model in a session with onnxruntime's default options (threads = cores, spinning on).
  const session = await InferenceSession.create(bytes);
  const tensor = new Tensor('float32', input, [PERIODIC_ROWS, FEATURES]);
  const defaults = await periodicCpu(() => session.run({ features: tensor }));
  await session.release();
  const batch = `${PERIODIC_ROWS}/${PERIOD_MS}ms`;
  const figure = (ms: number) => `${ms.toFixed(0)} ms/s`;
  periodic.push({ path: 'OnnxScorer (no spinning)', threads: '2', batch, figure: figure(ours), target: '' });
  periodic.push({
    path: 'onnxruntime defaults',
    threads: 'all',
    batch,
    figure: figure(defaults),
    target: '',
  });
}

function table(title: string, figureHeader: string, rows: Row[]): string {
  const header: Row = {
    path: title,
    threads: 'threads',
    batch: 'batch',
    figure: figureHeader,
    target: 'target',
  };
  const all = [header, ...rows];
  const width = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const line = (r: Row) =>
    [
      r.path.padEnd(width('path')),
      r.threads.padStart(width('threads')),
      r.batch.padStart(width('batch')),
      r.figure.padStart(width('figure')),
      r.target,
    ]
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

console.log(
  `scoring benchmark: ${TREES} trees, depth ${DEPTH} (full), ${FEATURES} features, binary; ` +
    `ONNX model ${(bytes.byteLength / 1024).toFixed(0)} KiB; node ${process.version}, ` +
    `${availableParallelism()} CPUs; ${THROUGHPUT_WINDOWS} windows in ${THROUGHPUT_MS / 1000} s per throughput figure, ` +
    `${LATENCY_CALLS} calls per latency figure after ${LATENCY_WARMUP} warm-up calls`,
);
console.log(`\n${table('batched throughput', 'rows/s, median (min–max)', throughput)}`);
console.log(`\n${table('single-row latency', 'per call', latency)}`);
console.log(`\n${table('periodic scoring, CPU time', 'CPU per wall s', periodic)}`);
console.log('\nFigures are wall time on this machine; on a shared host expect run-to-run noise.');
