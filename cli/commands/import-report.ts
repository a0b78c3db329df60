import { BAD_ROW_LABELS, type BadRow, type BadRowReport } from '../../aggregator/import/bad-rows.js';
import type { FileSummary } from '../../aggregator/import/csv-series.js';
import type { ImportTarget } from '../../aggregator/import/import-target.js';
import { type ImportPlan, type OverlapMode, describeSeries } from '../../aggregator/import/store-import.js';

/** Bad rows shown when an import is refused. */
const SHOWN_BAD_ROWS = 10;

/** Why an import was refused: the first bad rows, the count by reason, and what to do. */
export function badRowLines(bad: BadRowReport, usable: number, files: readonly string[]): string[] {
  const shown = bad.firstRows(SHOWN_BAD_ROWS);
  const lines = [
    `${count(bad.total, 'bad row')}; nothing was imported:`,
    ...shown.map((r) => `  ${r.file}:${r.line}: ${BAD_ROW_LABELS[r.reason]}: ${r.message}`),
  ];
  if (bad.total > shown.length) {
    lines.push(`  … and ${n(bad.total - shown.length)} more (${byReason(bad, files)})`);
  }
  const percent = shown.some((r) => r.message.includes('--scale 0.01'));
  if (usable === 0) {
    lines.push(
      percent
        ? 'No row can be imported as it is: the values look like percentages; add --scale 0.01.'
        : 'No row can be imported as it is.',
    );
  } else {
    lines.push(
      `Fix ${bad.total === 1 ? 'it' : 'them'}${percent ? ' (percentages need --scale 0.01)' : ''}, or pass ` +
        `--skip-bad-rows to import the other ${count(usable, 'row')}.`,
    );
  }
  return lines;
}

export interface SummaryInput {
  hostId: string;
  target: ImportTarget;
  overlap: OverlapMode;
  plan: ImportPlan;
  /** Rows that repeated another row's time and value. */
  repeated: number;
  files: readonly FileSummary[];
  bad: BadRowReport;
  intervalSeconds: number;
  /** Samples written (fewer than planned when interrupted). */
  written: number;
  seconds: number;
  /** The store's description. */
  store: string;
}

/** The summary of an import: what was written, what was read, what was left out and why, and where it went. */
export function summaryLines(s: SummaryInput): string[] {
  const ts = s.plan.timestampsMs;
  const series = `${s.hostId} ${describeSeries(s.target)}`;
  const imported =
    s.written > 0
      ? `${count(s.written, 'sample')} of ${series}, ${iso(ts[0]!)} to ${iso(ts[s.written - 1]!)}, ` +
        `every ${s.intervalSeconds} s, in ${seconds(s.seconds)} (${n(Math.round(s.written / Math.max(s.seconds, 1e-3)))} samples/s)`
      : `nothing new for ${series}: every row is already stored` +
        (s.overlap === 'skip' && s.plan.inside > 0 ? ' or inside the stored range' : '');
  const records = s.files.reduce((a, f) => a + f.records, 0);
  const lines = [
    `imported   ${imported}`,
    `read       ${count(records, 'row')} from ${s.files.map((f) => `${f.file} (${f.timeColumn}, ${f.valueColumn})`).join(', ')}`,
  ];
  if (s.bad.total > 0) {
    lines.push(
      `skipped    ${count(s.bad.total, 'bad row')}: ${byReason(
        s.bad,
        s.files.map((f) => f.file),
      )}`,
    );
  }
  const gaps = s.files.reduce((a, f) => a + f.gaps, 0);
  const leftOut: string[] = [];
  if (gaps > 0) leftOut.push(`${count(gaps, 'empty value')} (gaps)`);
  if (s.repeated > 0) leftOut.push(`${count(s.repeated, 'repeated row')} (same time and value)`);
  if (s.plan.alreadyStored > 0) leftOut.push(`${count(s.plan.alreadyStored, 'row')} already stored`);
  if (s.overlap === 'skip' && s.plan.inside > 0) {
    leftOut.push(`${count(s.plan.inside, 'row')} inside the stored range (--overlap skip)`);
  }
  if (leftOut.length > 0) lines.push(`left out   ${leftOut.join(', ')}`);
  lines.push(
    s.target.resourceId !== undefined
      ? `training   reads it as resource ${s.target.resourceId}`
      : `training   does not read it${s.target.note ? `: ${s.target.note}` : ' (not a resource utilisation)'}`,
    `store      ${s.store}`,
  );
  return lines;
}

/** `bad value 2 (lines 5, 9), wrong column count 1 (line 12)`; with several files, `a.csv:5`. */
function byReason(bad: BadRowReport, files: readonly string[]): string {
  const where = (rows: BadRow[], more: boolean) => {
    const places = rows.map((r) => (files.length > 1 ? `${r.file}:${r.line}` : String(r.line)));
    const word = files.length > 1 ? '' : places.length > 1 || more ? 'lines ' : 'line ';
    return `${word}${places.join(', ')}${more ? ', …' : ''}`;
  };
  return bad
    .byReason()
    .map(
      (r) => `${BAD_ROW_LABELS[r.reason]} ${n(r.count)} (${where(r.examples, r.count > r.examples.length)})`,
    )
    .join(', ');
}

function n(x: number): string {
  return x.toLocaleString('en');
}

function count(x: number, noun: string): string {
  return `${n(x)} ${noun}${x === 1 ? '' : 's'}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function seconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
