import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ValidationError } from '../../shared/errors.js';
import type { TrainingSet } from '../gbdt/train.js';

/** Cells read as a missing value (NaN), as pandas and LightGBM do. */
const MISSING = new Set(['', 'na', 'nan', 'n/a', 'null', 'none']);

/** A numeric table read from CSV: a header of column names and row-major values (NaN for missing). */
export interface NumericTable {
  source: string;
  columns: string[];
  numRows: number;
  /** numRows × columns.length, row-major. */
  values: Float64Array;
}

/**
 * Reads a numeric CSV with a header line, streaming (the file is never held
 * whole as text). Comma-separated; a field may be wrapped in double quotes.
 * Empty, NA, NaN, null and none cells are missing values. Errors name the
 * file, line and column: ragged rows, non-numeric cells, duplicate or empty
 * column names.
 */
export async function readNumericCsv(path: string): Promise<NumericTable> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let columns: string[] | undefined;
  let values = new Float64Array(0);
  let numRows = 0;
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const fields = splitFields(line);
      if (!columns) {
        columns = header(fields, path, lineNo);
        values = new Float64Array(1024 * columns.length);
        continue;
      }
      if (fields.length !== columns.length) {
        throw new ValidationError(
          `${path}:${lineNo}: ${fields.length} fields, but the header has ${columns.length} columns`,
          { path: `line ${lineNo}` },
        );
      }
      if ((numRows + 1) * columns.length > values.length) {
        const grown = new Float64Array(values.length * 2);
        grown.set(values);
        values = grown;
      }
      const base = numRows * columns.length;
      for (let c = 0; c < fields.length; c++)
        values[base + c] = parseCell(fields[c]!, path, lineNo, columns[c]!);
      numRows++;
    }
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!columns) throw new ValidationError(`${path}: the file is empty; a header line is expected`);
  if (numRows === 0) throw new ValidationError(`${path}: no data rows after the header`);
  return { source: path, columns, numRows, values: values.slice(0, numRows * columns.length) };
}

function splitFields(line: string): string[] {
  const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
  return raw.split(',').map((f) => {
    const t = f.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

function header(fields: string[], path: string, lineNo: number): string[] {
  const seen = new Set<string>();
  fields.forEach((name, i) => {
    if (name === '')
      throw new ValidationError(`${path}:${lineNo}: column ${i + 1} of the header has no name`);
    if (seen.has(name))
      throw new ValidationError(`${path}:${lineNo}: column "${name}" appears twice in the header`);
    seen.add(name);
  });
  return fields;
}

function parseCell(cell: string, path: string, lineNo: number, column: string): number {
  if (MISSING.has(cell.toLowerCase())) return NaN;
  const v = Number(cell);
  if (Number.isNaN(v) || cell.startsWith('0x') || cell.startsWith('0X')) {
    throw new ValidationError(
      `${path}:${lineNo}: column "${column}": "${cell.slice(0, 40)}" is not a number`,
      {
        path: `line ${lineNo}, column ${column}`,
      },
    );
  }
  return v;
}

/**
 * Splits a table into features (every other column, as float32) and the
 * target column. The target must exist, have no missing values and vary.
 */
export function toTrainingSet(
  table: NumericTable,
  target: string,
  featureNames?: readonly string[],
): TrainingSet {
  const t = table.columns.indexOf(target);
  if (t < 0) {
    throw new ValidationError(
      `${table.source}: no target column "${target}"; the columns are ${table.columns.join(', ')}`,
      { path: 'target' },
    );
  }
  const names = featureNames ? [...featureNames] : table.columns.filter((_, c) => c !== t);
  const index = names.map((name) => {
    const c = table.columns.indexOf(name);
    if (c < 0 || c === t) throw new ValidationError(`${table.source}: missing feature column "${name}"`);
    return c;
  });
  if (names.length === 0) throw new ValidationError(`${table.source}: no feature columns besides the target`);
  const C = table.columns.length;
  const F = names.length;
  const features = new Float32Array(table.numRows * F);
  const labels = new Float64Array(table.numRows);
  let first: number | undefined;
  let varies = false;
  for (let r = 0; r < table.numRows; r++) {
    const y = table.values[r * C + t]!;
    if (Number.isNaN(y)) {
      throw new ValidationError(`${table.source}: data row ${r + 1}: the target "${target}" is missing`);
    }
    labels[r] = y;
    if (first === undefined) first = y;
    else if (y !== first) varies = true;
    for (let f = 0; f < F; f++) features[r * F + f] = table.values[r * C + index[f]!]!;
  }
  if (!varies) {
    throw new ValidationError(
      `${table.source}: the target "${target}" is constant (${first}); there is nothing to learn`,
    );
  }
  return { features, labels, numRows: table.numRows, featureNames: names };
}
