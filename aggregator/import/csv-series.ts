/**
 * One time series read from CSV exports of other monitoring systems: a
 * header line, then rows with at least a time and a value column.
 *
 * Every data row becomes a sample or is accounted for:
 * - a bad row (BadRowReport) when its column count, quoting, time or value
 *   is wrong, or a ratio falls outside 0..1, or it repeats a time with
 *   another value;
 * - a gap when the value is empty, NaN, NA, null or none (exports write gaps
 *   so; a gap is no sample, not an error);
 * - a repeat when it repeats another row's time and value exactly (exports
 *   of adjacent periods share their boundary row).
 * Rows may come in any order (Netdata exports newest first): the series is
 * sorted by time. Samples are kept in typed arrays, 24 bytes a row, never as
 * one object per row.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ValidationError, errorMessage } from '../../shared/errors.js';
import type { BadRowReason, BadRowReport } from './bad-rows.js';
import { CsvRecordReader, detectDelimiter, type CsvRecord, type Delimiter } from './csv-records.js';
import { parseTimestamp, type TimeZone } from './timestamps.js';

export interface CsvSeriesOptions {
  /** Time column by name or 1-based index. Default: one named `timestamp` or `time`, else the first. */
  timeColumn?: string | undefined;
  /** Value column by name or 1-based index. Default: one named `value`, else the other of two columns. */
  valueColumn?: string | undefined;
  /** Every value is multiplied by this (0.01: percent to ratio). Default 1. */
  scale?: number | undefined;
  /** Values must lie in 0..1 after scaling. Default false. */
  ratio?: boolean | undefined;
  /** The zone of times written without one; undefined makes such times bad rows. */
  timeZone?: TimeZone | undefined;
  /** Times after this instant (Unix ms) are bad rows. Default: an hour from now. */
  latestMs?: number | undefined;
}

/** What one file held. */
export interface FileSummary {
  file: string;
  timeColumn: string;
  valueColumn: string;
  delimiter: Delimiter;
  /** Data records after the header. */
  records: number;
  /** Records that became samples (before repeats across the whole series are removed). */
  accepted: number;
  /** Records with an empty value. */
  gaps: number;
}

/** Cells that mean "no value here", lower-cased. */
const MISSING = new Set(['', 'nan', 'na', 'n/a', 'null', 'none']);
const TIME_NAMES = ['timestamp', 'time'];
const VALUE_NAMES = ['value'];
/** How far a time may lie ahead of the clock before it is taken for a wrong unit or zone. */
export const FUTURE_TOLERANCE_MS = 3_600_000;
/** Ratios this close outside 0..1 are rounding noise of the exporter (1 − idle), clamped, not bad rows. */
export const RATIO_TOLERANCE = 1e-6;
/** Interval of a series too short to tell, seconds. */
export const DEFAULT_INTERVAL_SECONDS = 60;
/** The telemetry schema's limits on `intervalSeconds`. */
const MIN_INTERVAL_SECONDS = 1;
const MAX_INTERVAL_SECONDS = 86_400;

/** Samples of a series as they are read, in columns: time, value, and where each came from. */
export class SeriesRows {
  timestampsMs = new Float64Array(4096);
  values = new Float64Array(4096);
  fileIndexes = new Uint16Array(4096);
  lines = new Uint32Array(4096);
  length = 0;

  push(timestampMs: number, value: number, fileIndex: number, line: number): void {
    if (this.length === this.timestampsMs.length) this.grow();
    const i = this.length++;
    this.timestampsMs[i] = timestampMs;
    this.values[i] = value;
    this.fileIndexes[i] = fileIndex;
    this.lines[i] = line;
  }

  private grow(): void {
    const size = this.timestampsMs.length * 2;
    const grown = <T extends Float64Array | Uint16Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.timestampsMs = grown(this.timestampsMs, (n) => new Float64Array(n));
    this.values = grown(this.values, (n) => new Float64Array(n));
    this.fileIndexes = grown(this.fileIndexes, (n) => new Uint16Array(n));
    this.lines = grown(this.lines, (n) => new Uint32Array(n));
  }
}

/** Most files one import may read (file indexes are 16-bit). */
export const MAX_FILES = 65_535;

/**
 * Reads one file's lines into `rows`, bad rows into `bad`. Problems with the
 * file as a whole (no header, unknown column) throw a ValidationError.
 */
export class CsvSeriesParser {
  private reader: CsvRecordReader | undefined;
  private header: string[] | undefined;
  private timeIndex = 0;
  private valueIndex = 1;
  private readonly records: CsvRecord[] = [];
  private readonly summary: FileSummary;
  private readonly scale: number;
  /** 100 for a scale of 0.01: dividing by it gives 0.57 for 57, where multiplying gives 0.5700000000000001. */
  private readonly divisor: number | undefined;
  private readonly latestMs: number;

  constructor(
    private readonly file: string,
    private readonly fileIndex: number,
    private readonly options: CsvSeriesOptions,
    private readonly rows: SeriesRows,
    private readonly bad: BadRowReport,
  ) {
    this.summary = {
      file,
      timeColumn: '',
      valueColumn: '',
      delimiter: ',',
      records: 0,
      accepted: 0,
      gaps: 0,
    };
    this.scale = options.scale ?? 1;
    const inverse = 1 / this.scale;
    this.divisor = Number.isInteger(inverse) && inverse > 1 ? inverse : undefined;
    this.latestMs = options.latestMs ?? Date.now() + FUTURE_TOLERANCE_MS;
  }

  /** One physical line of the file, without its line break; `lineNo` is 1-based. */
  line(text: string, lineNo: number): void {
    if (!this.reader) {
      const clean = lineNo === 1 && text.startsWith('\uFEFF') ? text.slice(1) : text;
      if (clean.trim() === '') return;
      this.summary.delimiter = detectDelimiter(clean);
      this.reader = new CsvRecordReader(this.summary.delimiter);
      text = clean;
    }
    this.reader.push(text, lineNo, this.records);
    this.drain();
  }

  /** The end of the file: the summary, or a ValidationError when it held no header or no data rows. */
  end(): FileSummary {
    this.reader?.end(this.records);
    this.drain();
    if (!this.header) throw new ValidationError(`${this.file}: the file is empty; a header line is expected`);
    if (this.summary.records === 0) throw new ValidationError(`${this.file}: no data rows after the header`);
    return { ...this.summary };
  }

  private drain(): void {
    for (const record of this.records) {
      if (!this.header) this.readHeader(record);
      else this.readRecord(record);
    }
    this.records.length = 0;
  }

  private readHeader(record: CsvRecord): void {
    if ('problem' in record) {
      throw new ValidationError(`${this.file}:${record.line}: the header line: ${record.problem}`);
    }
    const names = record.fields;
    if (names.length < 2) {
      throw new ValidationError(
        `${this.file}:${record.line}: the header has one column ("${names[0]}"); a time and a value column ` +
          'separated by a comma, tab or semicolon are needed',
      );
    }
    this.header = names;
    const where = `${this.file}:${record.line}`;
    this.timeIndex =
      this.options.timeColumn !== undefined
        ? columnIndex(names, this.options.timeColumn, '--time-column', where)
        : Math.max(0, findName(names, TIME_NAMES));
    if (this.options.valueColumn !== undefined) {
      this.valueIndex = columnIndex(names, this.options.valueColumn, '--value-column', where);
    } else {
      const named = findName(names, VALUE_NAMES);
      if (named >= 0) this.valueIndex = named;
      else if (names.length === 2) this.valueIndex = 1 - this.timeIndex;
      else {
        throw new ValidationError(
          `${where}: ${names.length} columns (${names.map((n) => `"${n}"`).join(', ')}) and none is named ` +
            '"value": choose one with --value-column NAME (or its 1-based number)',
        );
      }
    }
    if (this.timeIndex === this.valueIndex) {
      throw new ValidationError(
        `${where}: the time and the value would both be column ${this.timeIndex + 1} ("${names[this.timeIndex]}"); ` +
          'set --time-column or --value-column',
      );
    }
    this.summary.timeColumn = names[this.timeIndex]!;
    this.summary.valueColumn = names[this.valueIndex]!;
  }

  private readRecord(record: CsvRecord): void {
    this.summary.records++;
    if ('problem' in record) return this.reject('quoting', record.line, record.problem);
    const fields = record.fields;
    const expected = this.header!.length;
    if (fields.length !== expected) {
      return this.reject(
        'columns',
        record.line,
        `${fields.length} fields, but the header has ${expected} columns`,
      );
    }
    const time = parseTimestamp(fields[this.timeIndex]!, this.options.timeZone);
    if ('problem' in time) return this.reject('time', record.line, time.problem);
    if (time.ms <= 0) {
      return this.reject('time', record.line, `time "${fields[this.timeIndex]}" is not after 1970-01-01`);
    }
    if (time.ms > this.latestMs) {
      return this.reject(
        'time',
        record.line,
        `time "${fields[this.timeIndex]}" (${new Date(time.ms).toISOString()}) is more than an hour in the ` +
          'future: is the zone (or --timezone) right?',
      );
    }
    const text = fields[this.valueIndex]!;
    if (MISSING.has(text.toLowerCase())) {
      this.summary.gaps++;
      return;
    }
    const raw = Number(text);
    if (!Number.isFinite(raw) || /^[+-]?0[xob]/i.test(text)) {
      return this.reject('value', record.line, `value "${clip(text)}" is not a finite number`);
    }
    let value = this.divisor !== undefined ? raw / this.divisor : raw * this.scale;
    if (this.options.ratio) {
      if (value < -RATIO_TOLERANCE || value > 1 + RATIO_TOLERANCE) {
        const hint = this.scale === 1 && value > 1 && value <= 100 ? ' (did you mean --scale 0.01?)' : '';
        return this.reject(
          'range',
          record.line,
          `value ${text}${this.scale === 1 ? '' : ` × ${this.scale} = ${value}`} is outside 0..1${hint}`,
        );
      }
      value = Math.min(1, Math.max(0, value));
    }
    this.rows.push(time.ms, value, this.fileIndex, record.line);
    this.summary.accepted++;
  }

  private reject(reason: BadRowReason, line: number, message: string): void {
    this.bad.add({ reason, file: this.file, fileIndex: this.fileIndex, line, message });
  }
}

/**
 * Streams a file through a CsvSeriesParser. `onProgress` gets the bytes read
 * so far every few thousand lines.
 */
export async function readCsvSeriesFile(
  path: string,
  fileIndex: number,
  options: CsvSeriesOptions,
  rows: SeriesRows,
  bad: BadRowReport,
  onProgress?: (bytesRead: number) => void,
): Promise<FileSummary> {
  if (fileIndex >= MAX_FILES) throw new ValidationError(`at most ${MAX_FILES} files in one import`);
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
  } catch (err) {
    throw new ValidationError(`cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const parser = new CsvSeriesParser(path, fileIndex, options, rows, bad);
  const input = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const text of lines) {
      parser.line(text, ++lineNo);
      if (onProgress && lineNo % 8192 === 0) onProgress(input.bytesRead);
    }
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(`cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  } finally {
    lines.close();
    input.destroy();
  }
  onProgress?.(input.bytesRead);
  return parser.end();
}

/** A series ready to write: unique times in increasing order, Unix ms, with their values. */
export interface ImportSeries {
  timestampsMs: Float64Array;
  values: Float64Array;
  /** Rows dropped because an earlier row had the same time and value. */
  repeated: number;
}

/**
 * Sorts the rows of every file by time (rows of equal time keep file and
 * line order) and keeps the first row of each time: later rows with the
 * same value are repeats, with another value bad rows.
 */
export function finishSeries(rows: SeriesRows, files: readonly string[], bad: BadRowReport): ImportSeries {
  const n = rows.length;
  const { timestampsMs: ts, values, fileIndexes, lines } = rows;
  const order = new Uint32Array(n);
  let ascending = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && ts[i]! < ts[i - 1]!) ascending = false;
  }
  if (!ascending) order.sort((a, b) => ts[a]! - ts[b]! || a - b);
  const outTs = new Float64Array(n);
  const outValues = new Float64Array(n);
  let k = 0;
  let kept = -1;
  let repeated = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    if (kept >= 0 && ts[i] === ts[kept]) {
      if (values[i] === values[kept]) repeated++;
      else {
        const same = fileIndexes[i] === fileIndexes[kept] ? '' : `${files[fileIndexes[kept]!]} `;
        bad.add({
          reason: 'conflict',
          file: files[fileIndexes[i]!]!,
          fileIndex: fileIndexes[i]!,
          line: lines[i]!,
          message: `time ${new Date(ts[i]!).toISOString()} is also on ${same}line ${lines[kept]}, with value ${values[kept]} (here ${values[i]})`,
        });
      }
      continue;
    }
    outTs[k] = ts[i]!;
    outValues[k] = values[i]!;
    k++;
    kept = i;
  }
  return { timestampsMs: outTs.slice(0, k), values: outValues.slice(0, k), repeated };
}

/** The median spacing of increasing times, in whole seconds within the telemetry schema's 1..86400. */
export function medianIntervalSeconds(timestampsMs: Float64Array): number {
  if (timestampsMs.length < 2) return DEFAULT_INTERVAL_SECONDS;
  const gaps = new Float64Array(timestampsMs.length - 1);
  for (let i = 1; i < timestampsMs.length; i++) gaps[i - 1] = timestampsMs[i]! - timestampsMs[i - 1]!;
  gaps.sort();
  const mid = gaps.length >> 1;
  const median = gaps.length % 2 === 1 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
  return Math.min(MAX_INTERVAL_SECONDS, Math.max(MIN_INTERVAL_SECONDS, Math.round(median / 1000)));
}

function findName(names: readonly string[], wanted: readonly string[]): number {
  for (const w of wanted) {
    const i = names.findIndex((n) => n.toLowerCase() === w);
    if (i >= 0) return i;
  }
  return -1;
}

/** A column by its name (exact, else ignoring case), else by its 1-based number. */
function columnIndex(names: readonly string[], spec: string, flag: string, where: string): number {
  const exact = names.indexOf(spec);
  if (exact >= 0) return exact;
  const folded = names.filter((n) => n.toLowerCase() === spec.toLowerCase());
  if (folded.length === 1) return names.indexOf(folded[0]!);
  if (/^\d+$/.test(spec)) {
    const n = Number(spec);
    if (n >= 1 && n <= names.length) return n - 1;
  }
  throw new ValidationError(
    `${where}: ${flag} ${spec}: no such column; the header has ${names.map((n) => `"${n}"`).join(', ')}` +
      ` (or give a number 1..${names.length})`,
  );
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
