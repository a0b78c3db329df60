/** Which side of its column a cell sticks to. */
export type ColumnAlign = 'left' | 'right';

/**
 * A plain-text table as a string: header, a rule, the rows; columns padded to
 * their widest cell and separated by two spaces. Numbers read best right-aligned.
 */
export function textTable(
  head: readonly string[],
  body: readonly string[][],
  align: readonly ColumnAlign[],
): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    widths
      .map((w, i) => {
        const c = cells[i] ?? '';
        return align[i] === 'right' ? c.padStart(w) : c.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}
