import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BadRowReport, MAX_EXAMPLES, type BadRowReason } from '../../aggregator/import/bad-rows.js';
import { CsvRecordReader, MAX_RECORD_LINES, type CsvRecord } from '../../aggregator/import/csv-records.js';
import {
  CsvSeriesParser,
  SeriesRows,
  finishSeries,
  medianIntervalSeconds,
  readCsvSeriesFile,
  type CsvSeriesOptions,
  type FileSummary,
} from '../../aggregator/import/csv-series.js';
import { UTC } from '../../aggregator/import/timestamps.js';
import { ValidationError } from '../../shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-import-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.UTC(2026, 0, 1);
const LATEST = Date.UTC(2026, 6, 1);

function records(text: string, delimiter: ',' | '\t' | ';' = ','): CsvRecord[] {
  const reader = new CsvRecordReader(delimiter);
  const out: CsvRecord[] = [];
  text.split('\n').forEach((line, i) => reader.push(line, i + 1, out));
  reader.end(out);
  return out;
}

interface Parsed {
  summary: FileSummary;
  rows: Array<[number, number, number]>;
  bad: BadRowReport;
}

/** Parses CSV text as one file: the samples as [time, value, line], the bad rows, the summary. */
function parse(text: string, options: CsvSeriesOptions = {}): Parsed {
  const rows = new SeriesRows();
  const bad = new BadRowReport();
  const parser = new CsvSeriesParser('t.csv', 0, { latestMs: LATEST, ...options }, rows, bad);
  text.split('\n').forEach((line, i) => parser.line(line, i + 1));
  const summary = parser.end();
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < rows.length; i++) out.push([rows.timestampsMs[i]!, rows.values[i]!, rows.lines[i]!]);
  return { summary, rows: out, bad };
}

/** The bad rows of one reason as [line, message]. */
function badLines(bad: BadRowReport, reason: BadRowReason): Array<[number, string]> {
  return (bad.byReason().find((r) => r.reason === reason)?.examples ?? []).map((r) => [r.line, r.message]);
}

describe('CSV records (RFC 4180)', () => {
  it('splits plain and quoted fields, with delimiters, doubled quotes and padding inside', () => {
    assert.deepEqual(records('a,b,c\n 1 , 2 ,3'), [
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', '2', '3'] },
    ]);
    assert.deepEqual(records('"t","v, in %","say ""hi"""\n"",x,'), [
      { line: 1, fields: ['t', 'v, in %', 'say "hi"'] },
      { line: 2, fields: ['', 'x', ''] },
    ]);
    assert.deepEqual(records('a\tb\n"1\t2"\t3', '\t'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1\t2', '3'] },
    ]);
  });

  it('keeps a quoted line break in its field and numbers the record by its first line', () => {
    assert.deepEqual(records('a,b\n"x\ny",1\n2,3\n\n4,5\r'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x\ny', '1'] },
      { line: 4, fields: ['2', '3'] },
      { line: 6, fields: ['4', '5'] },
    ]);
  });

  it('reports broken quoting on the line where it starts, and reads on', () => {
    assert.deepEqual(records('a,b\n"x"y,1\n2,3'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, problem: 'text after the closing quote of field 1' },
      { line: 3, fields: ['2', '3'] },
    ]);
    // A quote never closed: the record ends at the end of the input, or after MAX_RECORD_LINES lines;
    // the lines after its start are read again as records of their own.
    assert.deepEqual(records('a,b\n"open,1\n2,3\n4,5'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, problem: 'a quoted field is never closed' },
      { line: 3, fields: ['2', '3'] },
      { line: 4, fields: ['4', '5'] },
    ]);
    const many = ['a,b', '"open,1', ...Array.from({ length: MAX_RECORD_LINES + 5 }, (_, i) => `${i},${i}`)];
    const out = records(many.join('\n'));
    assert.deepEqual(out[1], { line: 2, problem: 'a quoted field is never closed' });
    assert.equal(out.length, many.length);
    assert.deepEqual(out.at(-1), {
      line: many.length,
      fields: [String(MAX_RECORD_LINES + 4), String(MAX_RECORD_LINES + 4)],
    });
  });
});

describe('CSV series', () => {
  it('reads ISO, Unix seconds, fractional seconds and milliseconds, quoted or not', () => {
    const { rows, summary, bad } = parse(
      [
        'timestamp,value',
        '2026-01-01T00:00:00Z,0.5',
        `"${T / 1000 + 60}","0.25"`,
        `${T / 1000 + 120}.5,1`,
        `${T + 180_000},0`,
      ].join('\n'),
      { ratio: true },
    );
    assert.equal(bad.total, 0);
    assert.deepEqual(rows, [
      [T, 0.5, 2],
      [T + 60_000, 0.25, 3],
      [T + 120_500, 1, 4],
      [T + 180_000, 0, 5],
    ]);
    assert.deepEqual(summary, {
      file: 't.csv',
      timeColumn: 'timestamp',
      valueColumn: 'value',
      delimiter: ',',
      records: 4,
      accepted: 4,
      gaps: 0,
    });
  });

  it('finds the columns: time/timestamp and value by name, else the first and the other one', () => {
    assert.deepEqual(parse('value,Time\n0.5,2026-01-01T00:00:00Z').rows, [[T, 0.5, 2]]);
    assert.deepEqual(parse('"Time","web-01 cpu"\n2026-01-01T00:00:00Z,7').rows, [[T, 7, 2]]);
    assert.deepEqual(parse('a,b\n2026-01-01T00:00:00Z,7').rows, [[T, 7, 2]]);
    const netdata = 'time,user,system,idle\n2026-01-01T00:00:00Z,1,2,97';
    assert.throws(
      () => parse(netdata),
      (err: unknown) =>
        err instanceof ValidationError &&
        /t\.csv:1: 4 columns \("time", "user", "system", "idle"\) and none is named "value": choose one with --value-column/.test(
          err.message,
        ),
    );
    assert.deepEqual(parse(netdata, { valueColumn: 'system' }).rows, [[T, 2, 2]]);
    assert.deepEqual(parse(netdata, { valueColumn: 'IDLE' }).rows, [[T, 97, 2]]);
    assert.deepEqual(parse(netdata, { valueColumn: '2' }).rows, [[T, 1, 2]]);
    assert.deepEqual(
      parse('x,when,v\n9,2026-01-01T00:00:00Z,3', { timeColumn: 'when', valueColumn: '3' }).rows,
      [[T, 3, 2]],
    );
    assert.throws(() => parse(netdata, { valueColumn: 'steal' }), /--value-column steal: no such column/);
    assert.throws(() => parse(netdata, { valueColumn: 'time' }), /both be column 1/);
  });

  it('detects tab and semicolon separators and skips a byte order mark', () => {
    assert.deepEqual(parse('\uFEFFtime\tvalue\n2026-01-01T00:00:00Z\t3').rows, [[T, 3, 2]]);
    assert.deepEqual(parse('time;value\n2026-01-01T00:00:00Z;3').rows, [[T, 3, 2]]);
  });

  it('refuses a file without a header, with one column, or without data rows', () => {
    assert.throws(() => parse(''), /t\.csv: the file is empty; a header line is expected/);
    assert.throws(() => parse('timestamp\n1'), /the header has one column/);
    assert.throws(() => parse('timestamp,value\n\n'), /no data rows after the header/);
  });

  it('scales values, exactly for a percentage, and reads zoneless times with --timezone', () => {
    const { rows } = parse('time,value\n2026-01-01 00:00:00,57\n2026-01-01 01:00:00,100', {
      scale: 0.01,
      ratio: true,
      timeZone: UTC,
    });
    assert.deepEqual(rows, [
      [T, 0.57, 2],
      [T + 3_600_000, 1, 3],
    ]);
    assert.deepEqual(parse('t,v\n2026-01-01T00:00:00Z,3', { scale: 1024 }).rows, [[T, 3072, 2]]);
  });

  it('names the line of every bad row, by reason', () => {
    const { rows, bad, summary } = parse(
      [
        'time,value', // 1
        '2026-01-01T00:00:00Z,0.5', // 2 good
        '2026-01-01T00:01:00Z,0.5,x', // 3 columns
        '"2026-01-01T00:02:00Z"x,0.5', // 4 quoting
        'soon,0.5', // 5 time
        '2026-01-01 00:04:00,0.5', // 6 time without zone
        '2026-12-01T00:00:00Z,0.5', // 7 time in the future
        '0,0.5', // 8 time not after 1970
        '2026-01-01T00:05:00Z,abc', // 9 value
        '2026-01-01T00:06:00Z,Infinity', // 10 value
        '2026-01-01T00:07:00Z,0x1', // 11 value
        '2026-01-01T00:08:00Z,57', // 12 range, percent
        '2026-01-01T00:09:00Z,-0.2', // 13 range
        '2026-01-01T00:10:00Z,', // 14 gap
        '2026-01-01T00:11:00Z,NaN', // 15 gap
        '2026-01-01T00:12:00Z,1.0000001', // 16 rounding noise: clamped to 1
      ].join('\n'),
      { ratio: true },
    );
    assert.deepEqual(rows, [
      [T, 0.5, 2],
      [T + 12 * 60_000, 1, 16],
    ]);
    assert.equal(summary.records, 15);
    assert.equal(summary.gaps, 2);
    assert.equal(bad.total, 11);
    assert.deepEqual(badLines(bad, 'columns'), [[3, '3 fields, but the header has 2 columns']]);
    assert.deepEqual(badLines(bad, 'quoting'), [[4, 'text after the closing quote of field 1']]);
    const time = badLines(bad, 'time');
    assert.deepEqual(
      time.map(([line]) => line),
      [5, 6, 7, 8],
    );
    assert.match(time[0]![1], /"soon" is neither ISO 8601/);
    assert.match(time[1]![1], /has no zone/);
    assert.match(time[2]![1], /is more than an hour in the future/);
    assert.match(time[3]![1], /not after 1970/);
    assert.deepEqual(
      badLines(bad, 'value').map(([line]) => line),
      [9, 10, 11],
    );
    assert.match(badLines(bad, 'value')[0]![1], /value "abc" is not a finite number/);
    const range = badLines(bad, 'range');
    assert.deepEqual(range, [
      [12, 'value 57 is outside 0..1 (did you mean --scale 0.01?)'],
      [13, 'value -0.2 is outside 0..1'],
    ]);
  });

  it('counts every bad row but keeps only the first few of each reason', () => {
    const lines = [
      'time,value',
      ...Array.from({ length: 50 }, (_, i) => `2026-01-01T00:${String(i).padStart(2, '0')}:00Z,x`),
    ];
    const { bad } = parse(lines.join('\n'));
    assert.equal(bad.total, 50);
    assert.equal(bad.count('value'), 50);
    const [value] = bad.byReason();
    assert.equal(value!.examples.length, MAX_EXAMPLES);
    assert.deepEqual(
      value!.examples.map((e) => e.line),
      [2, 3, 4, 5, 6],
    );
  });

  it('sorts rows by time, drops exact repeats and reports a time repeated with another value', () => {
    const rows = new SeriesRows();
    const bad = new BadRowReport();
    const files = ['feb.csv', 'jan.csv'];
    const read = (fileIndex: number, text: string) => {
      const parser = new CsvSeriesParser(files[fileIndex]!, fileIndex, { latestMs: LATEST }, rows, bad);
      text.split('\n').forEach((line, i) => parser.line(line, i + 1));
      parser.end();
    };
    // Newest first, as Netdata exports; the files overlap in one boundary row.
    read(0, 'time,value\n2026-01-01T00:03:00Z,3\n2026-01-01T00:02:00Z,2');
    read(
      1,
      'time,value\n2026-01-01T00:02:00Z,2\n2026-01-01T00:01:00Z,1\n2026-01-01T00:00:00Z,0\n2026-01-01T00:01:00Z,9',
    );
    const series = finishSeries(rows, files, bad);
    assert.deepEqual([...series.timestampsMs], [T, T + 60_000, T + 120_000, T + 180_000]);
    assert.deepEqual([...series.values], [0, 1, 2, 3]);
    assert.equal(series.repeated, 1);
    assert.equal(bad.total, 1);
    const [conflict] = bad.byReason()[0]!.examples;
    assert.equal(conflict!.file, 'jan.csv');
    assert.equal(conflict!.line, 5);
    assert.match(
      conflict!.message,
      /time 2026-01-01T00:01:00.000Z is also on line 3, with value 1 \(here 9\)/,
    );
  });

  it('takes the median spacing as the interval, in whole seconds within 1..86400', () => {
    assert.equal(medianIntervalSeconds(Float64Array.from([0, 60_000, 120_000, 3_600_000])), 60);
    assert.equal(medianIntervalSeconds(Float64Array.from([0, 15_400, 30_000])), 15);
    assert.equal(medianIntervalSeconds(Float64Array.from([0, 100, 200])), 1);
    assert.equal(medianIntervalSeconds(Float64Array.from([0, 7 * 86_400_000])), 86_400);
    assert.equal(medianIntervalSeconds(Float64Array.from([T])), 60);
  });

  it('streams a file from disk, CRLF line ends included, reporting progress in bytes', async () => {
    const path = join(dir, 'crlf.csv');
    const body = [
      'timestamp,value',
      ...Array.from({ length: 20_000 }, (_, i) => `${T / 1000 + i * 10},${i % 100}`),
    ];
    writeFileSync(path, `${body.join('\r\n')}\r\n`);
    const rows = new SeriesRows();
    const bad = new BadRowReport();
    const seen: number[] = [];
    const summary = await readCsvSeriesFile(path, 0, { latestMs: LATEST }, rows, bad, (b) => seen.push(b));
    assert.equal(summary.accepted, 20_000);
    assert.equal(rows.length, 20_000);
    assert.equal(rows.timestampsMs[19_999], T + 199_990_000);
    assert.equal(rows.values[19_999], 99);
    assert.ok(seen.length >= 2 && seen.at(-1)! > 0, 'progress reported');
    await assert.rejects(
      readCsvSeriesFile(join(dir, 'missing.csv'), 0, {}, rows, bad),
      /cannot read .*missing\.csv/,
    );
  });
});
