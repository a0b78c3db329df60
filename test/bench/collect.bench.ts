/**
 * Host collection benchmark: the cost of one collection cycle through the
 * /proc + statfs path the agent uses on Linux, next to its peer, the
 * systeminformation path (currentLoad, mem, fsSize, networkStats) that other
 * platforms use and that Linux used before. Prints wall time, this process's
 * CPU time (all its threads) and the CPU time of child processes (`df`, `sh`,
 * `cat`), per cycle, against the target of a few ms. Cycles are spaced as in
 * the agent (systeminformation caches network counters for 500 ms, which a
 * tight loop would measure instead). Never fails on time; about 20 s.
 *
 *   node --import tsx test/bench/collect.bench.ts
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { CollectSectionSchema } from '../../agent/collectors/config.js';
import { HostMetricsCollector } from '../../agent/collectors/host-metrics.js';
import { printTable } from './lib/table.js';

const CYCLES = 15;
/** Pause between cycles, ms: past systeminformation's cache, and long enough to reap child processes. */
const SPACING_MS = 600;
const TARGET_CPU_MS = 3;

/** CPU time of reaped child processes, ms (Linux: /proc/self/stat cutime + cstime, in 10 ms ticks). */
function childCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

async function measure(platform: NodeJS.Platform): Promise<string[]> {
  const collector = new HostMetricsCollector({
    collect: CollectSectionSchema.parse(undefined),
    log: pino({ level: 'silent' }),
    platform,
  });
  await collector.prime();
  await collector.collect();
  await sleep(SPACING_MS);
  const walls: number[] = [];
  let cpu = 0;
  let child = 0;
  let points = 0;
  for (let i = 0; i < CYCLES; i++) {
    const child0 = childCpuMs();
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    points = (await collector.collect()).length;
    walls.push(performance.now() - start);
    const used = process.cpuUsage(cpu0);
    cpu += (used.user + used.system) / 1000;
    await sleep(SPACING_MS);
    child += childCpuMs() - child0;
  }
  walls.sort((a, b) => a - b);
  const mean = walls.reduce((a, b) => a + b, 0) / CYCLES;
  return [
    collector.source,
    String(points),
    mean.toFixed(2),
    walls[CYCLES >> 1]!.toFixed(2),
    (cpu / CYCLES).toFixed(2),
    (child / CYCLES).toFixed(1),
    ((cpu + child) / CYCLES).toFixed(2),
  ];
}

const rows: string[][] = [];
if (process.platform === 'linux') rows.push(await measure('linux'));
rows.push(await measure('darwin')); // any platform but linux takes the systeminformation path
console.log(`one collection cycle, mean of ${CYCLES} (target: a few ms CPU, ≤ ${TARGET_CPU_MS} ms)\n`);
printTable(['path', 'points', 'wall ms', 'wall p50 ms', 'CPU ms', 'child CPU ms', 'total CPU ms'], rows);
