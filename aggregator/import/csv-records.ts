/**
 * CSV records after RFC 4180, fed one physical line at a time so a file of
 * any size streams through: fields separated by a delimiter, a field in
 * double quotes may hold delimiters, `""` for a quote, and line breaks. Spaces
 * around a field are dropped (exports pad columns). A record keeps the number
 * of the line it starts on, for error messages.
 */

export type CsvRecord = { line: number; fields: string[] } | { line: number; problem: string };

/** Delimiters recognised in a header line, in order of preference. */
export const DELIMITERS = [',', '\t', ';'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/**
 * Most lines one quoted field may span. Time series exports have no
 * multi-line fields, so a quote left open is a broken row, not a reason to
 * swallow the rest of the file into one record.
 */
export const MAX_RECORD_LINES = 32;

/** Parse of one record's text: its fields, a problem, or OPEN when a quoted field runs past the end. */
type Parsed = string[] | { problem: string } | typeof OPEN;
const OPEN = Symbol('open quote');

/** The delimiter of a header line: the first of `, TAB ;` that it contains, else a comma. */
export function detectDelimiter(headerLine: string): Delimiter {
  return DELIMITERS.find((d) => headerLine.includes(d)) ?? ',';
}

export class CsvRecordReader {
  /** Lines of a record whose quoted field is still open. */
  private held: Array<{ text: string; line: number }> = [];

  constructor(private readonly delimiter: Delimiter = ',') {}

  /**
   * Feeds one line (without its line break; a trailing CR is dropped) and
   * appends to `out` every record it completes. Blank lines between records
   * are skipped.
   */
  push(text: string, line: number, out: CsvRecord[]): void {
    const clean = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (this.held.length === 0) {
      if (clean.trim() === '') return;
      const parsed = parseRecord(clean, this.delimiter);
      if (parsed === OPEN) this.held.push({ text: clean, line });
      else out.push(toRecord(parsed, line));
      return;
    }
    this.held.push({ text: clean, line });
    const parsed = parseRecord(this.held.map((h) => h.text).join('\n'), this.delimiter);
    if (parsed !== OPEN) {
      out.push(toRecord(parsed, this.held[0]!.line));
      this.held = [];
    } else if (this.held.length >= MAX_RECORD_LINES) {
      this.giveUp(out);
    }
  }

  /** At the end of the input: a record still open is a broken one; the lines after its start are read again. */
  end(out: CsvRecord[]): void {
    while (this.held.length > 0) this.giveUp(out);
  }

  private giveUp(out: CsvRecord[]): void {
    const [first, ...rest] = this.held;
    this.held = [];
    out.push({ line: first!.line, problem: 'a quoted field is never closed' });
    for (const h of rest) this.push(h.text, h.line, out);
  }
}

function toRecord(parsed: string[] | { problem: string }, line: number): CsvRecord {
  return Array.isArray(parsed) ? { line, fields: parsed } : { line, problem: parsed.problem };
}

function parseRecord(text: string, delimiter: string): Parsed {
  // Most rows of an export have no quotes at all.
  if (!text.includes('"')) return text.split(delimiter).map((f) => f.trim());
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) return OPEN;
        value += text.slice(i, close);
        if (text[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      while (text[i] === ' ') i++;
      fields.push(value);
      if (i >= text.length) return fields;
      if (text[i] !== delimiter) {
        return { problem: `text after the closing quote of field ${fields.length}` };
      }
      i++;
      continue;
    }
    const next = text.indexOf(delimiter, i);
    if (next < 0) {
      fields.push(text.slice(i).trim());
      return fields;
    }
    fields.push(text.slice(i, next).trim());
    i = next + 1;
  }
}
