/**
 * The building blocks of workload shapes: smooth noise, a daily curve,
 * pulses and a few draws. All randomness comes from a SeededRandom, so a
 * seed fixes every series.
 */
import type { SeededRandom } from '../models/random.js';

/**
 * Mean-reverting noise (an Ornstein–Uhlenbeck process) with stationary
 * standard deviation `sigma` and correlation time `tauMs`. The update is the
 * exact discretisation, so its statistics do not depend on the sampling
 * interval: a host sampled every 10 s and one sampled every 5 min wander alike.
 */
export class SmoothNoise {
  private x: number;

  constructor(
    private readonly rng: SeededRandom,
    private readonly sigma: number,
    private readonly tauMs: number,
  ) {
    this.x = sigma * rng.normal();
  }

  next(dtMs: number): number {
    const phi = Math.exp(-dtMs / this.tauMs);
    this.x = this.x * phi + this.sigma * Math.sqrt(1 - phi * phi) * this.rng.normal();
    return this.x;
  }
}

/**
 * A 0..1 daily bump peaking at `peakHour` and lowest twelve hours later,
 * periodic over 24 h. `sharpness` ≥ 1 narrows the peak (traffic that is
 * concentrated in the evening rather than spread over the day).
 */
export function dayCurve(hour: number, peakHour: number, sharpness: number): number {
  const c = (1 + Math.cos((2 * Math.PI * (hour - peakHour)) / 24)) / 2;
  return c ** sharpness;
}

/**
 * A pulse over [startMs, startMs + durationMs): it rises with a raised cosine
 * over `rampMs`, holds 1, and falls over the last `fallMs` (by default as long
 * as the rise); 0 outside. Ramps longer than the pulse are shrunk in
 * proportion so that they fit.
 */
export function pulse(
  t: number,
  startMs: number,
  durationMs: number,
  rampMs: number,
  fallMs = rampMs,
): number {
  const into = t - startMs;
  if (into < 0 || into >= durationMs) return 0;
  const k = rampScale(durationMs, rampMs, fallMs);
  const rise = rampMs * k;
  const fall = fallMs * k;
  if (into < rise) return (1 - Math.cos((Math.PI * into) / rise)) / 2;
  const left = durationMs - into;
  if (left < fall) return (1 - Math.cos((Math.PI * left) / fall)) / 2;
  return 1;
}

/**
 * The mean of `pulse` over [from, to). CPU utilisation is a share of time
 * over the sampling interval, so a burst shorter than the interval must be
 * read as its average, not as its height at the sampling instant: a
 * 3-minute gzip at 60 % of a core reads as 36 % on a 5-minute sampler.
 */
export function pulseMean(
  from: number,
  to: number,
  startMs: number,
  durationMs: number,
  rampMs: number,
  fallMs = rampMs,
): number {
  if (to <= from) return pulse(to, startMs, durationMs, rampMs, fallMs);
  const k = rampScale(durationMs, rampMs, fallMs);
  const rise = rampMs * k;
  const fall = fallMs * k;
  const area = (t: number) => pulseArea(t - startMs, durationMs, rise, fall);
  return (area(to) - area(from)) / (to - from);
}

/** The factor (≤ 1) that shrinks rise and fall (both ≥ 0) in proportion when together they exceed the pulse. */
function rampScale(durationMs: number, rise: number, fall: number): number {
  const both = rise + fall;
  return both > durationMs && both > 0 ? durationMs / both : 1;
}

/** ∫ pulse from its start to `x` ms into it (closed form of the raised-cosine ramps). */
function pulseArea(x: number, duration: number, rise: number, fall: number): number {
  if (x <= 0) return 0;
  const plateau = duration - rise - fall;
  if (x <= rise) return x / 2 - (rise / (2 * Math.PI)) * Math.sin((Math.PI * x) / rise);
  if (x <= rise + plateau) return rise / 2 + (x - rise);
  if (x <= duration) {
    const y = x - rise - plateau;
    return rise / 2 + plateau + y / 2 + (fall / (2 * Math.PI)) * Math.sin((Math.PI * y) / fall);
  }
  return duration - rise / 2 - fall / 2;
}

/** A log-normal draw with the given median and log-space standard deviation. */
export function logNormal(rng: SeededRandom, median: number, sigma: number): number {
  return median * Math.exp(sigma * rng.normal());
}

export function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}

/** One of `items`, uniformly. */
export function pick<T>(rng: SeededRandom, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty list');
  return items[rng.int(0, items.length - 1)]!;
}

/** One of `items`, with probability proportional to its weight. */
export function weightedPick<T>(rng: SeededRandom, items: ReadonlyArray<readonly [T, number]>): T {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  let draw = rng.uniform(0, total);
  for (const [item, weight] of items) {
    draw -= weight;
    if (draw < 0) return item;
  }
  return items[items.length - 1]![0];
}

/** Rounds to `digits` decimals: parameters in the run record read better without 17 digits. */
export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
