/**
 * Inline SVG charts drawn as strings, so a report is one file that needs no
 * script, font or network: a line chart on the unit square (PR, ROC,
 * calibration) and a histogram. Every interpolated text is escaped.
 */

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeMarkup(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Distinct, print-safe line colours, in contender order. */
export const CHART_COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
] as const;

export function chartColor(index: number): string {
  return CHART_COLORS[index % CHART_COLORS.length]!;
}

export interface ChartLine {
  name: string;
  color: string;
  /** Points in [0, 1] × [0, 1], parallel arrays. */
  x: readonly number[];
  y: readonly number[];
  /** Draw a dot at each point (few points, e.g. calibration bins); `labels` become their tooltips. */
  markers?: boolean;
  labels?: readonly string[];
}

export interface UnitChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  lines: readonly ChartLine[];
  /** A dashed reference line: 'rising' y = x (ROC chance, perfect calibration); or a horizontal level. */
  reference?: { kind: 'rising' } | { kind: 'level'; y: number; label: string };
}

const W = 560;
const H = 360;
const M = { left: 52, right: 150, top: 30, bottom: 44 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const fmt = (v: number) => (Math.round(v * 10) / 10).toString();

/** A line chart on [0, 1] × [0, 1] with axes, ticks every 0.2, and a legend on the right. */
export function unitSquareChart(spec: UnitChartSpec): string {
  const sx = (v: number) => M.left + clamp01(v) * PW;
  const sy = (v: number) => M.top + (1 - clamp01(v)) * PH;
  const parts: string[] = [];
  parts.push(svgOpen(W, H, spec.title));
  parts.push(`<text class="title" x="${M.left}" y="18">${escapeMarkup(spec.title)}</text>`);
  for (let k = 0; k <= 5; k++) {
    const v = k / 5;
    const label = v.toFixed(1);
    parts.push(`<line class="grid" x1="${fmt(sx(v))}" y1="${M.top}" x2="${fmt(sx(v))}" y2="${M.top + PH}"/>`);
    parts.push(
      `<line class="grid" x1="${M.left}" y1="${fmt(sy(v))}" x2="${M.left + PW}" y2="${fmt(sy(v))}"/>`,
    );
    parts.push(
      `<text class="tick" x="${fmt(sx(v))}" y="${M.top + PH + 16}" text-anchor="middle">${label}</text>`,
    );
    parts.push(
      `<text class="tick" x="${M.left - 6}" y="${fmt(sy(v) + 4)}" text-anchor="end">${label}</text>`,
    );
  }
  parts.push(axes(M.left, M.top, PW, PH, spec.xLabel, spec.yLabel));
  if (spec.reference?.kind === 'rising') {
    parts.push(`<line class="reference" x1="${sx(0)}" y1="${sy(0)}" x2="${sx(1)}" y2="${sy(1)}"/>`);
  } else if (spec.reference?.kind === 'level') {
    const y = fmt(sy(spec.reference.y));
    parts.push(`<line class="reference" x1="${sx(0)}" y1="${y}" x2="${sx(1)}" y2="${y}"/>`);
    parts.push(
      `<text class="tick" x="${sx(1) - 4}" y="${fmt(sy(spec.reference.y) - 4)}" text-anchor="end">${escapeMarkup(spec.reference.label)}</text>`,
    );
  }
  for (const line of spec.lines) {
    const pts = line.x.map((x, i) => `${fmt(sx(x))},${fmt(sy(line.y[i]!))}`).join(' ');
    if (pts) {
      parts.push(`<polyline fill="none" stroke="${line.color}" stroke-width="2" points="${pts}"/>`);
    }
    if (line.markers) {
      line.x.forEach((x, i) => {
        const tip = line.labels?.[i];
        parts.push(
          `<circle cx="${fmt(sx(x))}" cy="${fmt(sy(line.y[i]!))}" r="3.5" fill="${line.color}">${tip ? `<title>${escapeMarkup(tip)}</title>` : ''}</circle>`,
        );
      });
    }
  }
  parts.push(legend(spec.lines, M.left + PW + 16, M.top + 6));
  parts.push('</svg>');
  return parts.join('\n');
}

export interface HistogramSpec {
  title: string;
  /** A second, smaller line under the title. */
  subtitle?: string;
  xLabel: string;
  color: string;
  /** Bin edges, ascending, one more than counts. */
  edges: readonly number[];
  counts: readonly number[];
  /** Highest count on the y axis (share it between small multiples to compare them). */
  yMax: number;
  /** How to write an edge on the x axis. */
  formatEdge: (edge: number) => string;
}

const HW = 300;
const HH = 200;
const HM = { left: 50, right: 14, top: 40, bottom: 40 };
/** Characters of a histogram title that fit its width. */
const HISTOGRAM_TITLE_CHARS = 40;

/** A small histogram with count ticks on y and edge labels on x. */
export function histogramChart(spec: HistogramSpec): string {
  const pw = HW - HM.left - HM.right;
  const ph = HH - HM.top - HM.bottom;
  const lo = spec.edges[0] ?? 0;
  const hi = spec.edges[spec.edges.length - 1] ?? 1;
  const sx = (v: number) => HM.left + ((v - lo) / (hi - lo || 1)) * pw;
  const yMax = Math.max(1, spec.yMax);
  const sy = (v: number) => HM.top + (1 - v / yMax) * ph;
  const parts: string[] = [svgOpen(HW, HH, spec.title)];
  parts.push(
    `<text class="title" x="8" y="16">${escapeMarkup(truncate(spec.title, HISTOGRAM_TITLE_CHARS))}</text>`,
  );
  if (spec.subtitle) parts.push(`<text class="tick" x="8" y="31">${escapeMarkup(spec.subtitle)}</text>`);
  for (const v of countTicks(yMax)) {
    parts.push(
      `<line class="grid" x1="${HM.left}" y1="${fmt(sy(v))}" x2="${HM.left + pw}" y2="${fmt(sy(v))}"/>`,
    );
    parts.push(`<text class="tick" x="${HM.left - 5}" y="${fmt(sy(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  spec.counts.forEach((c, b) => {
    if (c <= 0) return;
    const x0 = sx(spec.edges[b]!);
    const x1 = sx(spec.edges[b + 1]!);
    const label = `${spec.formatEdge(spec.edges[b]!)}–${spec.formatEdge(spec.edges[b + 1]!)}: ${c}`;
    parts.push(
      `<rect x="${fmt(x0 + 0.5)}" y="${fmt(sy(c))}" width="${fmt(Math.max(1, x1 - x0 - 1))}" height="${fmt(sy(0) - sy(c))}" fill="${spec.color}"><title>${escapeMarkup(label)}</title></rect>`,
    );
  });
  const every = Math.ceil((spec.edges.length - 1) / 6);
  spec.edges.forEach((e, k) => {
    if (k % every !== 0 && k !== spec.edges.length - 1) return;
    parts.push(
      `<text class="tick" x="${fmt(sx(e))}" y="${HM.top + ph + 14}" text-anchor="middle">${escapeMarkup(spec.formatEdge(e))}</text>`,
    );
  });
  parts.push(axes(HM.left, HM.top, pw, ph, spec.xLabel, 'events'));
  parts.push('</svg>');
  return parts.join('\n');
}

function svgOpen(width: number, height: number, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeMarkup(title)}">`;
}

function axes(
  left: number,
  top: number,
  width: number,
  height: number,
  xLabel: string,
  yLabel: string,
): string {
  const bottom = top + height;
  return [
    `<line class="axis" x1="${left}" y1="${bottom}" x2="${left + width}" y2="${bottom}"/>`,
    `<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/>`,
    `<text class="label" x="${left + width / 2}" y="${bottom + 32}" text-anchor="middle">${escapeMarkup(xLabel)}</text>`,
    `<text class="label" transform="translate(${left - 38} ${top + height / 2}) rotate(-90)" text-anchor="middle">${escapeMarkup(yLabel)}</text>`,
  ].join('\n');
}

const LEGEND_CHARS = 18;

function legend(lines: readonly ChartLine[], x: number, y: number): string {
  return lines
    .map((line, k) => {
      const ly = y + k * 20;
      // The legend column holds about 18 characters; the full name stays in the tooltip.
      return `<line x1="${x}" y1="${ly}" x2="${x + 18}" y2="${ly}" stroke="${line.color}" stroke-width="3"/><text class="legend" x="${x + 24}" y="${ly + 4}">${escapeMarkup(truncate(line.name, LEGEND_CHARS))}<title>${escapeMarkup(line.name)}</title></text>`;
    })
    .join('\n');
}

/** Up to about five round count ticks from 0 to max. */
function countTicks(max: number): number[] {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw);
  const ticks: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) ticks.push(Math.round(v));
  return ticks;
}

function truncate(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** The CSS the charts' classes need, for the page's <style>. */
export const CHART_CSS = `
svg { max-width: 100%; height: auto; font-family: inherit; }
svg .title { font-size: 13px; font-weight: 600; fill: #222; }
svg .tick { font-size: 11px; fill: #555; }
svg .label, svg .legend { font-size: 12px; fill: #222; }
svg .grid { stroke: #e6e6e6; stroke-width: 1; }
svg .axis { stroke: #444; stroke-width: 1; }
svg .reference { stroke: #999; stroke-width: 1; stroke-dasharray: 4 4; }
`;
