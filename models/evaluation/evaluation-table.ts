/**
 * The side-by-side comparison as a plain-text table, for terminals and logs:
 * one line per contender.
 */
import type { ContenderEvaluation, ForecastEvaluation } from './forecast-evaluation.js';
import { type ColumnAlign, textTable } from './text-table.js';

/** Shown where a figure does not exist (no alert, no probability, no event). */
export const MISSING = '-';

/** A ratio with three decimals, or MISSING. */
export function formatRatio(x: number | null): string {
  return x === null || !Number.isFinite(x) ? MISSING : x.toFixed(3);
}

/**
 * A duration in seconds the way operators say it: `45s`, `42m`, `3h10m`,
 * `3h`, `2d04h`, `1d`; minutes are rounded. MISSING for null or NaN.
 */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return MISSING;
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 59.5) return `${sign}${Math.round(s)}s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${sign}${minutes}m`;
  if (minutes < 24 * 60) {
    const rest = minutes % 60;
    return `${sign}${Math.floor(minutes / 60)}h${rest === 0 ? '' : `${pad2(rest)}m`}`;
  }
  const hours = Math.round(minutes / 60);
  const rest = hours % 24;
  return `${sign}${Math.floor(hours / 24)}d${rest === 0 ? '' : `${pad2(rest)}h`}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** The table's columns: header, alignment and the cell of one contender. */
function columns(
  evaluation: ForecastEvaluation,
): { head: string; align: ColumnAlign; cell: (c: ContenderEvaluation) => string }[] {
  return [
    { head: 'contender', align: 'left', cell: (c) => c.name },
    { head: 'kind', align: 'left', cell: (c) => c.kind },
    { head: 'ROC-AUC', align: 'right', cell: (c) => formatRatio(c.rocAuc) },
    { head: 'PR-AUC', align: 'right', cell: (c) => formatRatio(c.prAuc) },
    { head: 'precision', align: 'right', cell: (c) => formatRatio(c.precision) },
    { head: 'recall', align: 'right', cell: (c) => formatRatio(c.recall) },
    { head: 'F1', align: 'right', cell: (c) => formatRatio(c.f1) },
    {
      head: `P@R≥${formatTarget(evaluation.targetRecall)}`,
      align: 'right',
      cell: (c) => formatRatio(c.precisionAtRecall?.precision ?? null),
    },
    { head: 'Brier', align: 'right', cell: (c) => formatRatio(c.brier) },
    { head: 'events', align: 'right', cell: (c) => `${c.eventsDetected}/${evaluation.events}` },
    { head: 'median lead', align: 'right', cell: (c) => formatDuration(c.leadTimeS?.median ?? null) },
    { head: 'false alarms', align: 'right', cell: (c) => String(c.falseAlarmEpisodes) },
    {
      head: `event P@R≥${formatTarget(evaluation.targetRecall)}`,
      align: 'right',
      cell: (c) => formatRatio(c.eventPrecisionAtRecall?.precision ?? null),
    },
  ];
}

/** The recall target as it reads in a header: `0.83`, `0.9`. */
export function formatTarget(recall: number): string {
  return String(Number(recall.toFixed(3)));
}

/** One aligned line per contender, under a header (see columns for the figures). */
export function formatEvaluationTable(evaluation: ForecastEvaluation): string {
  const { head, align, body } = evaluationTableCells(evaluation);
  return textTable(head, body, align);
}

/** Header, alignment and cells of the table, shared with other renderings (the HTML report). */
export function evaluationTableCells(evaluation: ForecastEvaluation): {
  head: string[];
  align: ColumnAlign[];
  body: string[][];
} {
  const cols = columns(evaluation);
  return {
    head: cols.map((c) => c.head),
    align: cols.map((c) => c.align),
    body: evaluation.contenders.map((contender) => cols.map((c) => c.cell(contender))),
  };
}
