/**
 * The evaluation as one self-contained HTML page: the side-by-side table, PR
 * and ROC curves, lead-time histograms and the calibration plot. Charts are
 * inline SVG drawn here; the page loads nothing (its Content-Security-Policy
 * forbids it), so it can be mailed, archived or opened offline.
 */
import { evaluationTableCells, formatDuration, formatRatio, formatTarget } from './evaluation-table.js';
import type { ContenderEvaluation, ForecastEvaluation } from './forecast-evaluation.js';
import {
  CHART_CSS,
  type ChartLine,
  chartColor,
  escapeMarkup,
  histogramChart,
  unitSquareChart,
} from './svg-charts.js';

export interface EvaluationReportMeta {
  title: string;
  /** The resource evaluated, e.g. 'filesystem' or 'memory'. */
  resource: string;
  /** Time range of the evaluated rows, as the caller wants it shown (e.g. ISO 8601). */
  dataRange?: { from: string; to: string };
  /** When the report was made, as the caller wants it shown (e.g. ISO 8601). */
  generatedAt: string;
  /** Free-text remarks, one paragraph each. */
  notes?: string[];
}

/** The most lead-time bins a histogram gets. */
const MAX_LEAD_BINS = 12;
/** Round lead-time bin widths to choose from, seconds. */
const LEAD_BIN_WIDTHS_S = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** Renders the page (see the file comment). */
export function renderEvaluationHtml(evaluation: ForecastEvaluation, meta: EvaluationReportMeta): string {
  const e = escapeMarkup;
  const lines = (pick: (c: ContenderEvaluation) => { x: number[]; y: number[] }): ChartLine[] =>
    evaluation.contenders.map((c, k) => ({ name: c.name, color: chartColor(k), ...pick(c) }));
  const baseRate = evaluation.rows === 0 ? 0 : evaluation.positives / evaluation.rows;

  const sections: string[] = [];
  sections.push(`<h1>${e(meta.title)}</h1>`);
  const facts = [
    `resource <strong>${e(meta.resource)}</strong>`,
    meta.dataRange ? `data ${e(meta.dataRange.from)} to ${e(meta.dataRange.to)}` : '',
    `generated ${e(meta.generatedAt)}`,
  ].filter(Boolean);
  sections.push(`<p class="meta">${facts.join(' · ')}</p>`);
  sections.push(
    `<p class="meta">${count(evaluation.rows)} rows, ${count(evaluation.positives)} labelled positive (base rate ${formatRatio(baseRate)}), ${count(evaluation.events)} exhaustion events.</p>`,
  );
  for (const note of meta.notes ?? []) sections.push(`<p class="note">${e(note)}</p>`);

  sections.push('<h2>Side by side</h2>', comparisonTable(evaluation), tableLegend(evaluation));

  sections.push('<h2>Precision and recall</h2>');
  sections.push(
    figure(
      unitSquareChart({
        title: 'Precision-recall curves',
        xLabel: 'recall',
        yLabel: 'precision',
        lines: lines((c) => c.prCurve),
        reference: { kind: 'level', y: baseRate, label: `base rate ${formatRatio(baseRate)}` },
      }),
      'Each point is one score threshold; the right end alerts on every row. A rule with no opinion on a row (NaN score) ranks it lowest.',
    ),
  );
  sections.push(
    figure(
      unitSquareChart({
        title: 'ROC curves',
        xLabel: 'false-positive rate',
        yLabel: 'true-positive rate',
        lines: lines((c) => c.rocCurve),
        reference: { kind: 'rising' },
      }),
      'The dashed diagonal is a random score.',
    ),
  );

  sections.push('<h2>Lead time</h2>', leadTimeSection(evaluation));
  sections.push('<h2>Calibration</h2>', calibrationSection(evaluation));

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${e(meta.title)}</title>
<style>${PAGE_CSS}${CHART_CSS}</style>
</head>
<body>
<main>
${sections.join('\n')}
</main>
</body>
</html>
`;
}

function comparisonTable(evaluation: ForecastEvaluation): string {
  const { head, align, body } = evaluationTableCells(evaluation);
  const cls = (i: number) => (align[i] === 'right' ? ' class="num"' : '');
  const th = head.map((h, i) => `<th${cls(i)}>${escapeMarkup(h)}</th>`).join('');
  const rows = body.map(
    (r, k) =>
      `<tr>${r
        .map((cell, i) =>
          i === 0
            ? `<td><span class="swatch" style="background:${chartColor(k)}"></span>${escapeMarkup(cell)}</td>`
            : `<td${cls(i)}>${escapeMarkup(cell)}</td>`,
        )
        .join('')}</tr>`,
  );
  return `<div class="scroll"><table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table></div>`;
}

function tableLegend(evaluation: ForecastEvaluation): string {
  const target = formatTarget(evaluation.targetRecall);
  return `<p class="caption">ROC-AUC and PR-AUC (average precision) rank rows by score. Precision, recall and F1 are at each
contender's own alert decision. P@R≥${target} is the best precision of any score threshold that still catches at
least ${target} of the positive rows. Brier needs a probability (models only). Events: exhaustion events with an alert
inside the horizon before them, of all events; lead time is how long before the event its first such alert came.
False alarms: runs of consecutive alerts on one series with no event within the horizon of any of them.</p>`;
}

function leadTimeSection(evaluation: ForecastEvaluation): string {
  if (evaluation.events === 0) return '<p>No exhaustion event in these rows: no lead time to show.</p>';
  let maxLead = 0;
  for (const c of evaluation.contenders) for (const t of c.leadTimesS) maxLead = Math.max(maxLead, t);
  const width =
    LEAD_BIN_WIDTHS_S.find((w) => Math.ceil(maxLead / w) <= MAX_LEAD_BINS) ??
    Math.ceil(maxLead / MAX_LEAD_BINS / 86400) * 86400;
  const bins = Math.max(1, Math.ceil(maxLead / width));
  const edges = Array.from({ length: bins + 1 }, (_, k) => k * width);
  const histograms = evaluation.contenders.map((c) => {
    const counts = new Array<number>(bins).fill(0);
    for (const t of c.leadTimesS) counts[Math.min(bins - 1, Math.floor(t / width))]!++;
    return counts;
  });
  const yMax = Math.max(1, ...histograms.flat());
  const charts = evaluation.contenders.map((c, k) => {
    const median = c.leadTimeS ? `median ${formatDuration(c.leadTimeS.median)}` : 'none detected';
    return histogramChart({
      title: c.name,
      subtitle: `${c.eventsDetected}/${evaluation.events} events detected, ${median}`,
      xLabel: 'lead time',
      color: chartColor(k),
      edges,
      counts: histograms[k]!,
      yMax,
      formatEdge: (edge) => (edge === 0 ? '0' : formatDuration(edge)),
    });
  });
  return `<div class="multiples">\n${charts.join('\n')}\n</div>
<p class="caption">Detected events by how long before their start the first alert came (same scales in every panel).
Lead time is capped by the label horizon: only alerts inside it count.</p>`;
}

function calibrationSection(evaluation: ForecastEvaluation): string {
  const calibrated = evaluation.contenders
    .map((c, k) => ({ c, k }))
    .filter(({ c }) => c.calibration !== null);
  if (calibrated.length === 0) return '<p>No contender gave probabilities: no calibration to show.</p>';
  const lines: ChartLine[] = calibrated.map(({ c, k }) => {
    const bins = c.calibration!.filter((b) => b.count > 0);
    return {
      name: c.name,
      color: chartColor(k),
      markers: true,
      x: bins.map((b) => b.meanPredicted!),
      y: bins.map((b) => b.observedRate!),
      labels: bins.map(
        (b) =>
          `${b.lower.toFixed(1)}–${b.upper.toFixed(1)}: ${count(b.count)} rows, predicted ${formatRatio(b.meanPredicted)}, observed ${formatRatio(b.observedRate)}`,
      ),
    };
  });
  return figure(
    unitSquareChart({
      title: 'Calibration',
      xLabel: 'mean predicted probability',
      yLabel: 'observed rate',
      lines,
      reference: { kind: 'rising' },
    }),
    'One dot per probability bin that holds rows (hover for its size); on the dashed diagonal, predicted equals observed.',
  );
}

function figure(svg: string, caption: string): string {
  return `<figure>\n${svg}\n<figcaption>${escapeMarkup(caption)}</figcaption>\n</figure>`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

const PAGE_CSS = `
body { margin: 0; background: #fff; color: #222;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; margin: 2px 0; }
.note { background: #f6f6f6; border-left: 3px solid #bbb; padding: 6px 10px; }
.caption, figcaption { color: #555; font-size: 13px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 14px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e3e3; text-align: left; white-space: nowrap; }
th { border-bottom: 2px solid #999; }
.num { text-align: right; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
figure { margin: 16px 0; }
.multiples { display: flex; flex-wrap: wrap; gap: 8px; }
`;
