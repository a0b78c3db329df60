/**
 * Generated utilisation series for the feature tests and benchmark: regular,
 * irregular with gaps, sawtooth. Seeded, so a failure repeats.
 */
import type { SeriesHistory } from '../../shared/features/replay.js';
import { seededRandom } from './random-gbdt.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** Monday 2026-01-05 00:00 UTC: aligned to every bucket width the features use. */
export const T0 = Date.UTC(2026, 0, 5);

export interface GeneratedSeries extends SeriesHistory {
  name: string;
  timestampsMs: Float64Array;
  values: Float64Array;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** A daily wave plus drift and noise, sampled every `intervalMs`. */
export function regularSeries(
  name: string,
  intervalMs: number,
  durationMs: number,
  seed: number,
): GeneratedSeries {
  const rand = seededRandom(seed);
  const n = Math.floor(durationMs / intervalMs) + 1;
  const timestampsMs = new Float64Array(n);
  const values = new Float64Array(n);
  let walk = 0;
  for (let i = 0; i < n; i++) {
    const t = T0 + i * intervalMs;
    walk += (rand() - 0.5) * 0.002;
    timestampsMs[i] = t;
    values[i] = clamp01(0.45 + 0.2 * Math.sin((2 * Math.PI * (t - T0)) / DAY) + walk + (rand() - 0.5) * 0.05);
  }
  return { name, timestampsMs, values };
}

/**
 * Irregular spacing (1 s to 2 min), gaps of 15 min to 3 h, a few samples out
 * of order, repeated or NaN, PSI on most samples, and a UTC offset that is
 * unknown at first, then UTC+1, then UTC+2 (daylight saving) with a few
 * samples missing it, and a companion utilisation (memory for swap) that
 * climbs and falls, missing on some samples and for one stretch of hours,
 * with the two capacities' ratio (memory resized once; missing, zero or
 * infinite on a few samples).
 */
export function irregularSeries(name: string, durationMs: number, seed: number): GeneratedSeries {
  const rand = seededRandom(seed);
  const ts: number[] = [];
  const vs: number[] = [];
  const p10: number[] = [];
  const p60: number[] = [];
  let t = T0;
  let v = 0.5;
  while (t < T0 + durationMs) {
    const r = rand();
    t += r < 0.01 ? 15 * MINUTE + rand() * 165 * MINUTE : SECOND + Math.floor(rand() * 119 * SECOND);
    v = clamp01(v + (rand() - 0.48) * 0.02);
    const odd = rand();
    if (odd < 0.005) {
      ts.push(t - 30 * SECOND); // out of order
    } else if (odd < 0.01 && ts.length > 0) {
      ts.push(ts[ts.length - 1]!); // repeated timestamp
    } else {
      ts.push(t);
    }
    vs.push(odd > 0.995 ? NaN : v);
    const hasPsi = rand() < 0.9;
    p10.push(hasPsi ? rand() * 0.3 : NaN);
    p60.push(hasPsi ? rand() * 0.2 : NaN);
  }
  return {
    name,
    timestampsMs: Float64Array.from(ts),
    values: Float64Array.from(vs),
    pressureSomeAvg10: Float64Array.from(p10),
    pressureSomeAvg60: Float64Array.from(p60),
    utcOffsetS: Float64Array.from(ts, (_, i) =>
      i < 50 || i % 97 === 0 ? NaN : i < ts.length / 2 ? 3600 : 7200,
    ),
    companion: companionOf(ts, seed),
    companionCapacityRatio: Float64Array.from(ts, (_, i) =>
      i % 89 === 0 ? NaN : i % 151 === 0 ? 0 : i % 211 === 0 ? Infinity : i < ts.length / 3 ? 4 : 8,
    ),
  };
}

/** A companion series for the samples at `ts`, from its own random stream (the main series stays as it was). */
function companionOf(ts: readonly number[], seed: number): Float64Array {
  const rand = seededRandom(seed + 1000);
  const out = new Float64Array(ts.length);
  let v = 0.6;
  for (let i = 0; i < ts.length; i++) {
    v = clamp01(v + (rand() - 0.45) * 0.01);
    if (v >= 0.99) v = 0.5; // a restart
    const missing = rand() < 0.05 || (ts[i]! - T0 >= DAY && ts[i]! - T0 < DAY + 3 * HOUR);
    out[i] = missing ? NaN : v;
  }
  return out;
}

/** Fills linearly from 0.2 to 0.97 over `periodMs`, then drops back (a cleanup job), sampled every `intervalMs`. */
export function sawtoothSeries(
  name: string,
  intervalMs: number,
  periodMs: number,
  durationMs: number,
  seed: number,
): GeneratedSeries {
  const rand = seededRandom(seed);
  const n = Math.floor(durationMs / intervalMs) + 1;
  const timestampsMs = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = T0 + i * intervalMs + Math.floor(rand() * 100);
    const phase = ((t - T0) % periodMs) / periodMs;
    timestampsMs[i] = t;
    values[i] = 0.2 + 0.77 * phase;
  }
  return { name, timestampsMs, values };
}
