import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTimeZone, parseTimestamp, UTC, type TimeZone } from '../../aggregator/import/timestamps.js';

function ms(text: string, zone?: TimeZone): number {
  const result = parseTimestamp(text, zone);
  assert.ok('ms' in result, `${text}: ${'problem' in result ? result.problem : ''}`);
  return result.ms;
}

function problem(text: string, zone?: TimeZone): string {
  const result = parseTimestamp(text, zone);
  assert.ok('problem' in result, `${text} should not parse, got ${JSON.stringify(result)}`);
  return result.problem;
}

const T = Date.UTC(2026, 2, 1, 10, 0, 0); // 2026-03-01T10:00:00Z

describe('import timestamps', () => {
  it('reads ISO 8601 with a zone: Z, offsets with and without colon, a space for T, fractions', () => {
    assert.equal(ms('2026-03-01T10:00:00Z'), T);
    assert.equal(ms('2026-03-01T10:00:00z'), T);
    assert.equal(ms('2026-03-01 10:00:00Z'), T);
    assert.equal(ms('2026-03-01T11:00:00+01:00'), T);
    assert.equal(ms('2026-03-01T11:00:00+0100'), T);
    assert.equal(ms('2026-03-01T05:30:00-04:30'), T);
    assert.equal(ms('2026-03-01T10:00Z'), T);
    assert.equal(ms('2026-03-01T10:00:00.250Z'), T + 250);
    assert.equal(ms('2026-03-01T10:00:00,5Z'), T + 500);
    assert.equal(ms('2026-03-01T10:00:00.123456789Z'), T + 123);
    assert.equal(ms('2026-03-01T10:00:00 UTC'), T);
  });

  it('reads Unix time, its unit told by magnitude, fractions allowed', () => {
    const s = T / 1000;
    assert.equal(ms(String(s)), T, 'seconds');
    assert.equal(ms(`${s}.25`), T + 250, 'fractional seconds');
    assert.equal(ms('1.7723592e9'), 1_772_359_200_000, 'seconds in exponent notation');
    assert.equal(ms(String(T)), T, 'milliseconds');
    assert.equal(ms(`${T}.4`), T, 'fractional milliseconds round');
    assert.equal(ms(String(T * 1000)), T, 'microseconds');
    assert.equal(ms(`${T}000000`), T, 'nanoseconds');
    // The boundary: 1e11 s would be the year 5138, 1e11 ms is 1973-03-03.
    assert.equal(ms('99999999999'), 99_999_999_999_000);
    assert.equal(ms('100000000000'), 100_000_000_000);
  });

  it('refuses a time without a zone unless --timezone gives one', () => {
    assert.match(problem('2026-03-01 10:00:00'), /has no zone: .*--timezone/);
    assert.match(problem('2026-03-01'), /has no zone/);
    assert.equal(ms('2026-03-01 10:00:00', UTC), T);
    assert.equal(ms('2026-03-01', UTC), Date.UTC(2026, 2, 1));
    assert.equal(ms('2026-03-01 12:00:00', parseTimeZone('+02:00')), T);
    assert.equal(ms('2026-03-01 05:00:00', parseTimeZone('-0500')), T);
    // A zone in the text wins over --timezone.
    assert.equal(ms('2026-03-01T10:00:00Z', parseTimeZone('+02:00')), T);
  });

  it('follows daylight saving time in an IANA zone', () => {
    const berlin = parseTimeZone('Europe/Berlin');
    assert.equal(ms('2026-03-01 11:00:00', berlin), T, 'winter: UTC+1');
    assert.equal(ms('2026-07-01 12:00:00', berlin), Date.UTC(2026, 6, 1, 10), 'summer: UTC+2');
    // 2026-10-25 02:30 happens twice in Berlin: the first (still UTC+2) is taken.
    assert.equal(ms('2026-10-25 02:30:00', berlin), Date.UTC(2026, 9, 25, 0, 30));
    assert.equal(ms('2026-10-25 03:30:00', berlin), Date.UTC(2026, 9, 25, 2, 30));
    // 2026-03-29 02:30 does not exist in Berlin: read with the offset before the change, i.e. 03:30 CEST.
    assert.equal(ms('2026-03-29 02:30:00', berlin), Date.UTC(2026, 2, 29, 1, 30));
    assert.equal(ms('2026-03-29 01:59:00', berlin), Date.UTC(2026, 2, 29, 0, 59));
    assert.equal(ms('2026-03-29 03:00:00', berlin), Date.UTC(2026, 2, 29, 1, 0));
    const kolkata = parseTimeZone('Asia/Kolkata');
    assert.equal(ms('2026-03-01 15:30:00', kolkata), T);
  });

  it('says what is wrong with a time it cannot read', () => {
    assert.match(problem(''), /empty/);
    assert.match(problem('yesterday'), /neither ISO 8601 .* nor Unix/);
    assert.match(problem('01/03/2026 10:00'), /neither ISO 8601/);
    assert.match(problem('2026-02-30T10:00:00Z'), /not a valid date/);
    assert.match(problem('2026-13-01T10:00:00Z'), /not a valid date/);
    assert.match(problem('2026-03-01T24:00:00Z'), /not a valid date/);
    assert.match(problem('2026-03-01T10:00:00+25:00'), /offset out of range/);
  });

  it('names what --timezone accepts', () => {
    assert.throws(
      () => parseTimeZone('Mars/Olympus'),
      /unknown time zone "Mars\/Olympus": use UTC, an offset/,
    );
    assert.throws(() => parseTimeZone('+24:00'), /out of range/);
    assert.equal(parseTimeZone('utc'), UTC);
  });
});
