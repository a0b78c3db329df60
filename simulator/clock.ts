/**
 * Simulated time. Everything in the simulator runs on Unix epoch
 * milliseconds of *simulated* time; a virtual host lives in a time zone of
 * its own, so that fleet-wide peaks do not all land on the same UTC hour.
 */
export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** 1970-01-01 was a Thursday: day 0 of the epoch has day-of-week 4 (0 = Sunday). */
const EPOCH_DAY_OF_WEEK = 4;

export interface LocalTime {
  /** Hour of the local day, fractional, 0 ≤ hour < 24. */
  readonly hour: number;
  /** Local day of the week, 0 = Sunday … 6 = Saturday. */
  readonly dayOfWeek: number;
  /** Whole local days since the epoch: changes at local midnight. */
  readonly day: number;
  /** Saturday or Sunday. */
  readonly weekend: boolean;
}

/** The local time at `t` (epoch ms) for a host whose clock is `utcOffsetHours` ahead of UTC. */
export function localTime(t: number, utcOffsetHours: number): LocalTime {
  const local = t + utcOffsetHours * HOUR_MS;
  const day = Math.floor(local / DAY_MS);
  const dayOfWeek = (((day + EPOCH_DAY_OF_WEEK) % 7) + 7) % 7;
  return {
    hour: (local - day * DAY_MS) / HOUR_MS,
    dayOfWeek,
    day,
    weekend: dayOfWeek === 0 || dayOfWeek === 6,
  };
}

/** The epoch ms of `hour` (fractional) on local day `day` of a host `utcOffsetHours` ahead of UTC. */
export function localDayTime(day: number, hour: number, utcOffsetHours: number): number {
  return day * DAY_MS + hour * HOUR_MS - utcOffsetHours * HOUR_MS;
}
