/**
 * Timestamps of imported CSV rows, to Unix epoch milliseconds.
 *
 * - ISO 8601 / RFC 3339: `2026-03-01T10:00:00Z`, `2026-03-01 10:00:00.250+01:00`,
 *   `2026-03-01T10:00+0100`, `2026-03-01` (midnight). A time without a zone
 *   is read in the `--timezone` zone; without one it is an error, because
 *   guessing the zone would shift the whole history by hours.
 * - Unix time as a number, fractions allowed, its unit told by magnitude:
 *   below 1e11 seconds (1e11 s is the year 5138), below 1e14 milliseconds
 *   (1e11 ms is 1973-03-03), below 1e17 microseconds, otherwise nanoseconds.
 *
 * Everything is rounded to the millisecond, the store's resolution.
 */

/** Turns wall-clock fields read as if in UTC (`Date.UTC(...)`) into the real instant in a zone. */
export interface TimeZone {
  /** As given: `UTC`, `+02:00`, `Europe/Berlin`. */
  readonly name: string;
  localToUtc(localMs: number): number;
}

export type TimestampResult = { ms: number } | { problem: string };

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Offsets of every zone in use are whole multiples of 15 minutes, and so are their change instants. */
const OFFSET_STEP_MS = 15 * MINUTE_MS;

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;
const NUMBER_PATTERN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const OFFSET_PATTERN = /^([+-])(\d{2})(?::?(\d{2}))?$/;

/** Unix time magnitudes: at or above each bound the next finer unit is meant. */
const UNIX_UNITS: ReadonlyArray<[bound: number, msPerUnit: number]> = [
  [1e11, 1000],
  [1e14, 1],
  [1e17, 1e-3],
  [Infinity, 1e-6],
];

export const UTC: TimeZone = { name: 'UTC', localToUtc: (ms) => ms };

/**
 * A zone for `--timezone`: `UTC`, a fixed offset (`+02:00`, `-0530`) or an
 * IANA name (`Europe/Berlin`, daylight saving time included). Throws a
 * RangeError naming what is accepted.
 */
export function parseTimeZone(text: string): TimeZone {
  const name = text.trim();
  if (/^(utc|z|gmt)$/i.test(name)) return UTC;
  const fixed = OFFSET_PATTERN.exec(name);
  if (fixed) {
    const offset = offsetMs(fixed);
    if (offset === undefined) throw new RangeError(`time zone offset "${name}" is out of range`);
    return { name, localToUtc: (ms) => ms - offset };
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  } catch {
    throw new RangeError(
      `unknown time zone "${name}": use UTC, an offset such as +02:00, or an IANA name such as Europe/Berlin`,
    );
  }
  return ianaZone(name, format);
}

function ianaZone(name: string, format: Intl.DateTimeFormat): TimeZone {
  // Intl is slow (microseconds a call) and a file has a million rows: cache the offset per 15-minute step.
  const cache = new Map<number, number>();
  const offsetAt = (utcMs: number): number => {
    const step = Math.floor(utcMs / OFFSET_STEP_MS);
    let offset = cache.get(step);
    if (offset === undefined) {
      const at = step * OFFSET_STEP_MS;
      const f: Record<string, number> = {};
      for (const p of format.formatToParts(at)) if (p.type !== 'literal') f[p.type] = Number(p.value);
      offset = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!) - at;
      cache.set(step, offset);
    }
    return offset;
  };
  return {
    name,
    // A wall-clock time has the offset in force a day before it or the one a day after (zones change at most
    // once in two days). When both fit (the repeated hour as clocks fall back) the earlier instant is taken;
    // when neither does (the hour skipped as clocks spring forward) the earlier offset is: 02:30 → 03:30.
    localToUtc(localMs) {
      const before = localMs - offsetAt(localMs - DAY_MS);
      const after = localMs - offsetAt(localMs + DAY_MS);
      const beforeFits = before + offsetAt(before) === localMs;
      const afterFits = after + offsetAt(after) === localMs;
      if (beforeFits && afterFits) return Math.min(before, after);
      return afterFits ? after : before;
    },
  };
}

function offsetMs(match: RegExpExecArray): number | undefined {
  const [, sign, hh, mm] = match;
  const hours = Number(hh);
  const minutes = Number(mm ?? '0');
  if (hours > 23 || minutes > 59) return undefined;
  return (sign === '-' ? -1 : 1) * (hours * 60 + minutes) * MINUTE_MS;
}

/** A CSV time field in milliseconds since the epoch, or why it is not one. */
export function parseTimestamp(text: string, zone: TimeZone | undefined): TimestampResult {
  if (text === '') return { problem: 'the time is empty' };
  if (NUMBER_PATTERN.test(text)) return unixTime(Number(text));
  const m = ISO_PATTERN.exec(text);
  if (!m) {
    return {
      problem: `time "${clip(text)}" is neither ISO 8601 (2026-03-01T10:00:00Z) nor Unix seconds or milliseconds`,
    };
  }
  const [, y, mo, d, h, mi, s, fraction, zoneText] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? '0');
  const minute = Number(mi ?? '0');
  const second = Number(s ?? '0');
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return { problem: `time "${clip(text)}" is not a valid date and time` };
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const wall = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  wall.setUTCFullYear(year);
  const localMs = wall.getTime() + (fraction ? Number(`0.${fraction}`) * 1000 : 0);
  let ms: number;
  if (zoneText === undefined) {
    if (!zone) {
      return {
        problem: `time "${clip(text)}" has no zone: add one (Z, +02:00) or pass --timezone (UTC, +02:00, Europe/Berlin)`,
      };
    }
    ms = zone.localToUtc(localMs);
  } else if (/^(z|utc|gmt)$/i.test(zoneText)) {
    ms = localMs;
  } else {
    const offset = offsetMs(OFFSET_PATTERN.exec(zoneText)!);
    if (offset === undefined) return { problem: `time "${clip(text)}" has an offset out of range` };
    ms = localMs - offset;
  }
  return { ms: Math.round(ms) };
}

function unixTime(n: number): TimestampResult {
  if (!Number.isFinite(n)) return { problem: `time ${n} is not a finite number` };
  for (const [bound, msPerUnit] of UNIX_UNITS) {
    if (Math.abs(n) < bound) return { ms: Math.round(n * msPerUnit) };
  }
  return { problem: `time ${n} is out of range` };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
