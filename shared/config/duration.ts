import { z } from 'zod';

/** Milliseconds per duration unit. */
const UNIT_MS = {
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
} as const;

/**
 * Prometheus-style durations: integer amounts with a unit, largest unit
 * first, each unit at most once: `500ms`, `30s`, `5m`, `1h30m`, `6h`, `1d`,
 * `1w`. No fractions and no bare numbers, so a value always says its unit.
 */
const DURATION_PATTERN = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

export const DURATION_HINT = 'a duration such as 30s, 5m, 1h, 1h30m, 6h or 1d (units w d h m s ms)';

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, w, d, h, m, s, ms] = match;
  const parts: [string | undefined, number][] = [
    [w, UNIT_MS.w],
    [d, UNIT_MS.d],
    [h, UNIT_MS.h],
    [m, UNIT_MS.m],
    [s, UNIT_MS.s],
    [ms, UNIT_MS.ms],
  ];
  let total = 0;
  for (const [amount, unit] of parts) if (amount !== undefined) total += Number(amount) * unit;
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The shortest duration string for a whole number of milliseconds: 5400000 → `1h30m`. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      out += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return out;
}

/** A duration string in configuration, parsed to milliseconds. */
export const DurationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HINT}, got "${text}"` });
    return z.NEVER;
  }
  return ms;
});
