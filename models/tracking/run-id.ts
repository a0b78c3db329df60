import { randomBytes } from 'node:crypto';

/**
 * Run ids are ULIDs: 26 Crockford base-32 characters, the first 10 the
 * creation time in milliseconds and the last 16 random (80 bits). Sorting ids
 * as strings sorts runs by start time, so a directory listing is already in
 * order and no index is needed. Ids made in the same millisecond by one
 * process increment the random part, so they still sort in creation order.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RUN_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

let lastTime = -1;
let lastRandom: number[] = [];

/** A new time-sortable run id; `now` is milliseconds since the epoch. */
export function newRunId(now: number = Date.now()): string {
  const time = Math.max(0, Math.floor(now));
  if (time > 2 ** 48 - 1) throw new RangeError(`time ${time} does not fit a ULID`);
  let random: number[];
  if (time === lastTime && incrementInPlace(lastRandom)) {
    random = lastRandom;
  } else {
    // 16 five-bit digits from 10 random bytes.
    const bytes = randomBytes(10);
    random = [];
    let buffer = 0;
    let bits = 0;
    for (const byte of bytes) {
      buffer = (buffer << 8) | byte;
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        random.push((buffer >> bits) & 31);
      }
      buffer &= (1 << bits) - 1;
    }
  }
  lastTime = time;
  lastRandom = random;
  return encodeTime(time) + random.map((d) => ALPHABET[d]).join('');
}

/** Milliseconds since the epoch at which a run id was made. */
export function runIdTime(runId: string): number {
  let time = 0;
  for (const ch of runId.slice(0, 10)) time = time * 32 + ALPHABET.indexOf(ch);
  return time;
}

function encodeTime(time: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[time % 32]! + out;
    time = Math.floor(time / 32);
  }
  return out;
}

/** Adds one to a base-32 digit array; false on overflow (then fresh random digits are drawn). */
function incrementInPlace(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]!++;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}
