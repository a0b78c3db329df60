/**
 * Where the agent's resident memory goes: a ladder of fresh Node processes,
 * each running the compiled agent code (dist/) one step further than the
 * last — Node alone; + the modules `cloudsense agent` imports, with the
 * agent's V8 heap settings; + the first model (cpu classifier); + every
 * bundled classifier; + every time-to-exhaustion band (which the agent
 * loads only when a forecast needs its band) — once per scoring engine
 * (`agent.models.engine`: onnxruntime, trees). Each step prints VmRSS, its
 * anonymous and file-backed parts, the V8 heap and the memory V8 counts as
 * external, after a full garbage collection, in the environment the agent's
 * systemd unit sets (`Environment=` but HOME). The rest of the anonymous
 * memory is native: onnxruntime's sessions, the allocator's arenas, thread
 * stacks, compiled code.
 *
 *   npm run bench:agent:memory [-- --models <dir>] [--engines onnxruntime,trees]
 *     [--node-flags=--max-semi-space-size=1]
 *
 * Needs `npm run build`. About 40 s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { printTable } from './lib/table.js';
import { unitEnvironment } from './lib/unit-environment.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');
const KINDS = ['cpu', 'memory', 'swap', 'filesystem', 'inodes', 'fds'];

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: join(ROOT, 'models', 'baseline') },
    'node-flags': { type: 'string', default: '' },
    engines: { type: 'string', default: 'onnxruntime,trees' },
  },
});

const STEPS = [
  'node alone',
  '+ the agent command’s modules',
  '+ first model (cpu classifier)',
  '+ all classifiers',
  '+ all bands',
] as const;

/**
 * The program each rung runs: steps 0..step, then a full collection, then
 * one JSON line of figures. Plain JavaScript against dist/, so the figures
 * are the built agent's, without a TypeScript loader.
 */
const PROGRAM = `
const [step, dist, models, kinds, engine] = [Number(process.argv[1]), process.argv[2], process.argv[3], process.argv[4].split(','), process.argv[5]];
const { readFileSync } = await import('node:fs');
const at = (f) => new URL(f, 'file://' + dist + '/').href;
if (step >= 1) {
  // As \`cloudsense agent\` does before loading its modules (agent/v8-heap.ts).
  (await import(at('agent/v8-heap.js'))).useAgentHeapSettings();
  await import(at('cli/commands/agent.js'));
  await import(at('agent/agent.js'));
}
const held = [];
let sessions = 0;
if (step >= 2) {
  const { ForecastModel, TimeToExhaustionBand } = await import(at('shared/inference/forecast-model.js'));
  const { modelFilesIn } = await import(at('shared/inference/model-files.js'));
  const files = kinds.map((k) => modelFilesIn(models, k)).filter(Boolean);
  for (const f of step === 2 ? files.slice(0, 1) : files) held.push(await ForecastModel.load(f.model, { engine })), sessions++;
  if (step >= 4) for (const f of files) if (f.band) held.push(await TimeToExhaustionBand.load(f.band, { engine })), (sessions += 3);
}
globalThis.gc();
await new Promise((r) => setTimeout(r, 1000));
globalThis.gc();
const status = readFileSync('/proc/self/status', 'utf8');
const kib = (k) => Number(new RegExp('^' + k + ':\\\\s+(\\\\d+)', 'm').exec(status)[1]);
const m = process.memoryUsage();
console.log(JSON.stringify({
  rss: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024, file: kib('RssFile') / 1024,
  heapUsed: m.heapUsed / 1048576, heapTotal: m.heapTotal / 1048576, external: m.external / 1048576,
  threads: kib('Threads'), sessions,
}));
`;

interface Rung {
  rss: number;
  anon: number;
  file: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  threads: number;
}

if (!existsSync(join(DIST, 'agent', 'agent.js'))) throw new Error('run `npm run build` first');
const flags = args['node-flags'].split(' ').filter(Boolean);
const rows: string[][] = [];
for (const engine of args.engines.split(',')) {
  let previous: Rung | undefined;
  for (let step = 0; step < STEPS.length; step++) {
    const run = spawnSync(
      process.execPath,
      [
        ...flags,
        '--expose-gc',
        '--input-type=module',
        '-e',
        PROGRAM,
        String(step),
        DIST,
        args.models,
        KINDS.join(','),
        engine,
      ],
      // Resolves onnxruntime-node from the package; the step's modules by their dist/ URLs.
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...unitEnvironment(), NODE_OPTIONS: '' } },
    );
    if (run.status !== 0) throw new Error(`step ${STEPS[step]} failed:\n${run.stderr}`);
    const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Rung & { sessions: number };
    const f = (x: number) => x.toFixed(1);
    rows.push([
      engine,
      STEPS[step]!,
      String(r.sessions),
      f(r.rss),
      previous ? `${r.rss >= previous.rss ? '+' : ''}${f(r.rss - previous.rss)}` : '',
      f(r.anon),
      f(r.file),
      `${f(r.heapUsed)} / ${f(r.heapTotal)}`,
      f(r.external),
      f(r.anon - r.heapTotal),
      String(r.threads),
    ]);
    previous = r;
  }
}
console.log(
  `models: ${pathToFileURL(args.models).pathname}; Node ${process.version}` +
    (flags.length ? `, flags ${flags.join(' ')}` : '') +
    '\nMiB after a full GC; native = anonymous resident memory outside the V8 heap\n',
);
printTable(
  [
    'engine',
    'step',
    'models',
    'RSS',
    'Δ RSS',
    'anon',
    'file',
    'V8 heap used / total',
    'external',
    'native',
    'threads',
  ],
  rows,
);
