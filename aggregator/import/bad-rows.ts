/**
 * Rows of an import that cannot become samples, counted by reason with the
 * first few of each kept as examples (file, line, what is wrong), so a file
 * of a million bad rows costs no more memory than one of ten.
 */

export const BAD_ROW_REASONS = ['columns', 'quoting', 'time', 'value', 'range', 'conflict'] as const;
export type BadRowReason = (typeof BAD_ROW_REASONS)[number];

/** How each reason reads in a summary. */
export const BAD_ROW_LABELS: Readonly<Record<BadRowReason, string>> = {
  columns: 'wrong column count',
  quoting: 'broken quoting',
  time: 'bad time',
  value: 'bad value',
  range: 'value out of range',
  conflict: 'same time, other value',
};

/** Examples kept per reason. */
export const MAX_EXAMPLES = 5;

export interface BadRow {
  reason: BadRowReason;
  /** The file as given, and its position in the list of files. */
  file: string;
  fileIndex: number;
  /** 1-based line number in `file` (where the record starts). */
  line: number;
  message: string;
}

export class BadRowReport {
  private readonly counts = new Map<BadRowReason, number>();
  private readonly examples = new Map<BadRowReason, BadRow[]>();

  add(row: BadRow): void {
    this.counts.set(row.reason, (this.counts.get(row.reason) ?? 0) + 1);
    const kept = this.examples.get(row.reason) ?? [];
    if (kept.length < MAX_EXAMPLES) kept.push(row);
    this.examples.set(row.reason, kept);
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  count(reason: BadRowReason): number {
    return this.counts.get(reason) ?? 0;
  }

  /** Reasons that occurred, in a fixed order, each with its count and examples (in file and line order). */
  byReason(): Array<{ reason: BadRowReason; count: number; examples: BadRow[] }> {
    return BAD_ROW_REASONS.filter((r) => this.counts.has(r)).map((reason) => ({
      reason,
      count: this.counts.get(reason)!,
      examples: [...this.examples.get(reason)!].sort(inFileOrder),
    }));
  }

  /** The examples of every reason, in file and line order: what to show when the import is refused. */
  firstRows(limit: number): BadRow[] {
    return this.byReason()
      .flatMap((r) => r.examples)
      .sort(inFileOrder)
      .slice(0, limit);
  }
}

function inFileOrder(a: BadRow, b: BadRow): number {
  return a.fileIndex - b.fileIndex || a.line - b.line;
}
