import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Contender,
  type EvaluationRows,
  evaluateForecasts,
} from '../../models/evaluation/forecast-evaluation.js';
import { renderEvaluationHtml } from '../../models/evaluation/evaluation-html.js';
import { formatDuration, formatEvaluationTable } from '../../models/evaluation/evaluation-table.js';
import { indexExhaustionEvents } from '../../models/evaluation/lead-time.js';
import { SeededRandom } from '../../models/random.js';

// Three series, rows every 10 minutes, a 30-minute horizon (labels were worked
// out by hand from the event times):
//   series 0: rows at 0..30 and 50..90 min; event A at 40 min, event B at 100 min
//   series 1: rows at 0..30 min; event C at 35 min
//   series 2: rows at 0..30 min; no event (censored)
// Figures from scikit-learn are marked; NaN scores were given it as -1e9.
const T0 = Date.UTC(2026, 2, 1);
const MIN = 60_000;
const rowMinutes = [0, 10, 20, 30, 50, 60, 70, 80, 90, 0, 10, 20, 30, 0, 10, 20, 30];
const rowSeries = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
const eventMinute = [40, 40, 40, 40, 100, 100, 100, 100, 100, 35, 35, 35, 35, NaN, NaN, NaN, NaN];
const labels = [0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0];

function rowsOf(order: number[] = rowMinutes.map((_, i) => i)): EvaluationRows {
  return {
    labels: Float64Array.from(order, (i) => labels[i]!),
    seriesIndex: Uint32Array.from(order, (i) => rowSeries[i]!),
    timestampsMs: Float64Array.from(order, (i) => T0 + rowMinutes[i]! * MIN),
    timeToExhaustionS: Float64Array.from(order, (i) => (eventMinute[i]! - rowMinutes[i]!) * 60),
    numRows: order.length,
  };
}

function contendersOf(order: number[] = rowMinutes.map((_, i) => i)): Contender[] {
  const pick = (values: number[]) => Float64Array.from(order, (i) => values[i]!);
  // The rule alerts early on A (from 20 min), misses B, catches C from 10 min, and has no opinion on series 2.
  const rule: Contender = {
    name: 'static_threshold',
    kind: 'rule',
    score: pick([0.6, 0.2, 0.7, 0.8, 0.6, 0.6, 0.3, 0.3, 0.4, NaN, 0.7, 0.8, 0.9, 0.9, NaN, NaN, NaN]),
    alert: pick([1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0]),
  };
  const probability = pick([
    0.1, 0.6, 0.7, 0.9, 0.2, 0.3, 0.55, 0.8, 0.95, 0.05, 0.35, 0.65, 0.85, 0.1, 0.15, 0.2, 0.45,
  ]);
  const model: Contender = {
    name: 'model',
    kind: 'model',
    score: probability,
    probability,
    alert: probability.map((p) => (p >= 0.5 ? 1 : 0)),
    operatingThreshold: 0.5,
  };
  return [model, rule];
}

const close = (actual: number | null | undefined, expected: number, what = '') =>
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) < 1e-9,
    `${what}: ${actual} ≠ ${expected}`,
  );

describe('evaluateForecasts', () => {
  const evaluation = evaluateForecasts(rowsOf(), contendersOf());
  const [model, rule] = evaluation.contenders as [
    (typeof evaluation.contenders)[0],
    (typeof evaluation.contenders)[0],
  ];

  it('counts rows, positives and distinct events', () => {
    assert.equal(evaluation.rows, 17);
    assert.equal(evaluation.positives, 9);
    assert.equal(evaluation.events, 3);
    assert.equal(evaluation.targetRecall, 0.83);
  });

  it('identifies an event by series and start time, rounding to the ms', () => {
    const rows = rowsOf();
    // A time to exhaustion with floating-point noise still points at the same start.
    (rows.timeToExhaustionS as Float64Array)[2] = 1200.0000002;
    const index = indexExhaustionEvents(rows);
    assert.equal(index.events, 3);
    assert.deepEqual([...index.eventOfRow], [-1, 0, 0, 0, -1, -1, 1, 1, 1, -1, 2, 2, 2, -1, -1, -1, -1]);
    assert.deepEqual([...index.eventSeries], [0, 0, 1]);
    assert.deepEqual([...index.eventStartMs], [T0 + 40 * MIN, T0 + 100 * MIN, T0 + 35 * MIN]);
  });

  it('gives lead time as the earliest alert inside the horizon, and counts a missed event', () => {
    // Rule: A first alerted 20 min before (row at 20 min), B missed, C 25 min before.
    assert.equal(rule.eventsDetected, 2);
    close(rule.eventRecall, 2 / 3, 'event recall');
    assert.deepEqual(rule.leadTimesS, [1200, 1500]);
    close(rule.leadTimeS?.median, 1350, 'median');
    close(rule.leadTimeS?.p10, 1230, 'p10');
    close(rule.leadTimeS?.p90, 1470, 'p90');
    // Model: A and B at 30 min, C at 15 min.
    assert.equal(model.eventsDetected, 3);
    assert.deepEqual(model.leadTimesS, [900, 1800, 1800]);
    close(model.leadTimeS?.median, 1800, 'model median');
  });

  it('counts alert episodes per series, and those without an event as false alarms', () => {
    // Rule: {s0 0m} false, {s0 20–30m}, {s0 50–60m} false, {s1 10–30m}, {s2 0m} false. Event A
    // at 40m splits s0's 20–60m run; s1's last alert and s2's first are neighbours in row order
    // but not one episode.
    assert.equal(rule.alertEpisodes, 5);
    assert.equal(rule.falseAlarmEpisodes, 3);
    assert.equal(model.alertEpisodes, 3);
    assert.equal(model.falseAlarmEpisodes, 0);
  });

  it('gives the share of alert episodes an event followed, at the threshold that warns of 83 % of events', () => {
    // 3 events: all three must be warned of. Model: events peak at 0.9 (A), 0.95 (B), 0.85 (C), so
    // the threshold is 0.85, and its three episodes (s0 30m, s0 90m, s1 30m) each precede an event.
    assert.deepEqual(model.eventPrecisionAtRecall, {
      threshold: 0.85,
      eventRecall: 1,
      alertEpisodes: 3,
      falseAlarmEpisodes: 0,
      precision: 1,
    });
    // Rule: events peak at 0.8, 0.4 and 0.9, so the threshold is 0.4: episodes s0 {0m} false,
    // {20–30m}, {50–60m} false (event A at 40m splits them), {90m}; s1 {10–30m}; s2 {0m} false.
    assert.deepEqual(rule.eventPrecisionAtRecall, {
      threshold: 0.4,
      eventRecall: 1,
      alertEpisodes: 6,
      falseAlarmEpisodes: 3,
      precision: 0.5,
    });
    // Half the events: two must be warned of; the model's threshold rises to 0.9.
    const half = evaluateForecasts(rowsOf(), contendersOf(), { targetRecall: 0.5 }).contenders[0]!;
    assert.deepEqual(half.eventPrecisionAtRecall, {
      threshold: 0.9,
      eventRecall: 2 / 3,
      alertEpisodes: 2,
      falseAlarmEpisodes: 0,
      precision: 1,
    });
    // No opinion on some of an event's rows does not hide the score of the others.
    const [model2] = contendersOf();
    const patchy = Float64Array.from(model2!.score, (x, i) => (i === 3 || i === 8 ? NaN : x));
    const partial = evaluateForecasts(rowsOf(), [{ ...model2!, score: patchy }]).contenders[0]!;
    assert.equal(partial.eventPrecisionAtRecall?.threshold, 0.7);
    assert.equal(partial.eventPrecisionAtRecall?.eventRecall, 1);
    // No opinion on every row of event C: warning of all events is out of reach.
    const [, blind] = contendersOf();
    const score = Float64Array.from(blind!.score, (x, i) => (rowSeries[i] === 1 ? NaN : x));
    const all = evaluateForecasts(rowsOf(), [{ ...blind!, score }], { targetRecall: 1 }).contenders[0]!;
    assert.equal(all.eventPrecisionAtRecall, null);
  });

  it('gives precision, recall and F1 at the alert decision', () => {
    assert.equal(rule.alerts, 9);
    assert.deepEqual([rule.truePositives, rule.falsePositives, rule.falseNegatives], [5, 4, 4]);
    close(rule.precision, 5 / 9, 'precision');
    close(rule.recall, 5 / 9, 'recall');
    close(rule.f1, 5 / 9, 'f1');
    close(model.precision, 1, 'model precision');
    close(model.recall, 8 / 9, 'model recall');
    close(model.f1, 16 / 17, 'model f1');
    assert.equal(model.operatingThreshold, 0.5);
    assert.equal(rule.operatingThreshold, null);
  });

  it('ranks NaN scores lowest (scikit-learn figures)', () => {
    assert.equal(rule.noOpinionRows, 4);
    close(rule.rocAuc, 0.7152777777777778, 'rule ROC-AUC');
    close(rule.prAuc, 0.6991452991452991, 'rule PR-AUC');
    close(model.rocAuc, 0.9861111111111112, 'model ROC-AUC');
    close(model.prAuc, 0.9888888888888892, 'model PR-AUC');
  });

  it('reports the best precision at recall ≥ the target', () => {
    assert.deepEqual(model.precisionAtRecall, {
      targetRecall: 0.83,
      precision: 1,
      recall: 8 / 9,
      scoreThreshold: 0.55,
    });
    // The rule reaches 0.83 only by alerting at its lowest positive score, 0.2: 9 of 13.
    close(rule.precisionAtRecall?.precision, 9 / 13, 'rule P@R');
    assert.equal(rule.precisionAtRecall?.scoreThreshold, 0.2);
  });

  it('gives Brier and calibration bins for models only', () => {
    close(model.brier, 0.08764705882352943, 'Brier');
    assert.equal(rule.brier, null);
    assert.equal(rule.calibration, null);
    const bins = model.calibration!;
    assert.equal(bins.length, 10);
    assert.deepEqual(
      bins.map((b) => b.count),
      [1, 3, 2, 2, 1, 1, 2, 1, 2, 2],
    );
    close(bins[1]!.meanPredicted, 0.35 / 3, 'bin 1 mean');
    close(bins[3]!.observedRate, 0.5, 'bin 3 rate');
    close(bins[3]!.meanPredicted, 0.325, 'bin 3 mean');
    assert.equal(bins[9]!.upper, 1);
  });

  it('draws PR curves from the top threshold to recall 1 at the base rate, ROC from (0,0) to (1,1)', () => {
    assert.equal(model.prCurve.x[0], 1 / 9);
    assert.equal(model.prCurve.y[0], 1);
    assert.equal(model.prCurve.x.at(-1), 1);
    close(model.prCurve.y.at(-1), 9 / 17, 'PR end');
    // The rule's lowest threshold is the no-opinion block: everything alerts.
    assert.equal(rule.prCurve.x.at(-1), 1);
    close(rule.prCurve.y.at(-1), 9 / 17, 'rule PR end');
    for (const c of [model, rule]) {
      assert.deepEqual([c.rocCurve.x[0], c.rocCurve.y[0]], [0, 0]);
      assert.deepEqual([c.rocCurve.x.at(-1), c.rocCurve.y.at(-1)], [1, 1]);
    }
  });

  it('gives the same figures whatever the row order', () => {
    const random = new SeededRandom(7);
    const rng = () => random.next();
    const order = rowMinutes.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const shuffled = evaluateForecasts(rowsOf(order), contendersOf(order));
    assert.deepEqual(
      shuffled.contenders.map((c) => [
        c.rocAuc,
        c.prAuc,
        c.leadTimesS,
        c.alertEpisodes,
        c.falseAlarmEpisodes,
      ]),
      evaluation.contenders.map((c) => [
        c.rocAuc,
        c.prAuc,
        c.leadTimesS,
        c.alertEpisodes,
        c.falseAlarmEpisodes,
      ]),
    );
  });

  it('is plain JSON, with null where a figure does not exist', () => {
    const none = evaluateForecasts(
      {
        labels: [0, 0],
        seriesIndex: [0, 0],
        timestampsMs: [0, 1],
        timeToExhaustionS: [NaN, NaN],
        numRows: 2,
      },
      [{ name: 'quiet', kind: 'rule', score: [NaN, NaN], alert: [0, 0] }],
    );
    const c = none.contenders[0]!;
    assert.equal(c.rocAuc, null);
    assert.equal(c.prAuc, null);
    assert.equal(c.precision, null);
    assert.equal(c.recall, null);
    assert.equal(c.f1, null);
    assert.equal(c.eventRecall, null);
    assert.equal(c.leadTimeS, null);
    assert.equal(c.precisionAtRecall, null);
    assert.deepEqual(c.prCurve, { x: [], y: [] });
    assert.deepEqual(JSON.parse(JSON.stringify(evaluation)), evaluation);
  });

  it('thins long curves to the point limit, keeping both ends', () => {
    const n = 5000;
    const random = new SeededRandom(3);
    const rng = () => random.next();
    const y = Float64Array.from({ length: n }, () => (rng() < 0.2 ? 1 : 0));
    const score = Float64Array.from(y, (l) => l + rng() * 1.5);
    const e = evaluateForecasts(
      {
        labels: y,
        seriesIndex: new Uint32Array(n),
        timestampsMs: new Float64Array(n),
        timeToExhaustionS: new Float64Array(n).fill(NaN),
        numRows: n,
      },
      [{ name: 'm', kind: 'model', score, alert: new Uint8Array(n) }],
      { maxCurvePoints: 50 },
    );
    const c = e.contenders[0]!;
    assert.ok(c.prCurve.x.length <= 50 && c.prCurve.x.length > 40, `${c.prCurve.x.length} PR points`);
    assert.ok(c.rocCurve.x.length <= 50 && c.rocCurve.x.length > 40, `${c.rocCurve.x.length} ROC points`);
    assert.equal(c.prCurve.x.at(-1), 1);
    assert.deepEqual(
      [c.rocCurve.x[0], c.rocCurve.y[0], c.rocCurve.x.at(-1), c.rocCurve.y.at(-1)],
      [0, 0, 1, 1],
    );
  });

  it('rejects columns of the wrong length and names used twice', () => {
    const rows = rowsOf();
    const [model] = contendersOf();
    assert.throws(
      () => evaluateForecasts(rows, [{ ...model!, alert: [1, 0] }]),
      /contenders\.0\.alert has 2 entries for 17 rows/,
    );
    assert.throws(() => evaluateForecasts(rows, [model!, model!]), /used twice/);
  });
});

describe('formatEvaluationTable', () => {
  it('lines up one row per contender with its figures', () => {
    const table = formatEvaluationTable(evaluateForecasts(rowsOf(), contendersOf()));
    const lines = table.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(
      lines[0]!,
      /^contender\s+kind\s+ROC-AUC\s+PR-AUC\s+precision\s+recall\s+F1\s+P@R≥0\.83\s+Brier\s+events\s+median lead\s+false alarms\s+event P@R≥0\.83$/,
    );
    assert.match(
      lines[2]!,
      /^model\s+model\s+0\.986\s+0\.989\s+1\.000\s+0\.889\s+0\.941\s+1\.000\s+0\.088\s+3\/3\s+30m\s+0\s+1\.000$/,
    );
    assert.match(
      lines[3]!,
      /^static_threshold\s+rule\s+0\.715\s+0\.699\s+0\.556\s+0\.556\s+0\.556\s+0\.692\s+-\s+2\/3\s+23m\s+3\s+0\.500$/,
    );
    // Right-aligned figures end in the same column.
    const end = (line: string, text: string) => line.indexOf(text) + text.length;
    assert.equal(end(lines[2]!, '0.986'), end(lines[3]!, '0.715'));
  });

  it('writes durations the way operators say them', () => {
    assert.equal(formatDuration(42 * 60), '42m');
    assert.equal(formatDuration(3 * 3600 + 10 * 60), '3h10m');
    assert.equal(formatDuration(3 * 3600 + 5 * 60 + 20), '3h05m');
    assert.equal(formatDuration(45), '45s');
    assert.equal(formatDuration(26 * 3600), '1d02h');
    assert.equal(formatDuration(6 * 3600 + 10), '6h');
    assert.equal(formatDuration(2 * 86400), '2d');
    assert.equal(formatDuration(null), '-');
    assert.equal(formatDuration(NaN), '-');
  });
});

describe('renderEvaluationHtml', () => {
  const evaluation = evaluateForecasts(rowsOf(), contendersOf());
  const html = renderEvaluationHtml(evaluation, {
    title: 'Disk <script>alert(1)</script> & co',
    resource: 'filesystem',
    dataRange: { from: '2026-03-01', to: '2026-03-02' },
    generatedAt: '2026-03-03T00:00:00Z',
    notes: ['Hold-out: the last "7" days'],
  });

  it('is one self-contained page with an <svg> per chart', () => {
    assert.match(html, /^<!doctype html>/);
    // PR, ROC, a lead-time histogram per contender, calibration.
    assert.equal(html.match(/<svg /g)?.length, 2 + 2 + 1);
    assert.doesNotMatch(html, /<script|<link|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    for (const name of ['model', 'static_threshold']) assert.ok(html.includes(name));
    assert.ok(html.includes('3/3'));
  });

  it('escapes the text it interpolates', () => {
    assert.ok(html.includes('Disk &lt;script&gt;alert(1)&lt;/script&gt; &amp; co'));
    assert.ok(html.includes('the last &quot;7&quot; days'));
  });

  it('escapes contender names in the table and the charts', () => {
    const [model, rule] = contendersOf();
    const page = renderEvaluationHtml(
      evaluateForecasts(rowsOf(), [model!, { ...rule!, name: '<b>rule</b>' }]),
      { title: 't', resource: 'memory', generatedAt: 'now' },
    );
    assert.doesNotMatch(page, /<b>/);
    assert.ok(page.includes('&lt;b&gt;rule&lt;/b&gt;'));
  });
});

describe('evaluateForecasts at scale', () => {
  it('evaluates 2 million rows with 4 contenders in a few seconds', (t) => {
    const n = 2_000_000;
    const perSeries = 1000;
    const random = new SeededRandom(11);
    const rng = () => random.next();
    const rows: EvaluationRows = {
      labels: new Float64Array(n),
      seriesIndex: new Uint32Array(n),
      timestampsMs: new Float64Array(n),
      timeToExhaustionS: new Float64Array(n).fill(NaN),
      numRows: n,
    };
    const labelsOut = rows.labels as Float64Array;
    const tte = rows.timeToExhaustionS as Float64Array;
    const ts = rows.timestampsMs as Float64Array;
    const series = rows.seriesIndex as Uint32Array;
    // An event every 200 rows (minutes) of a series, labelled over the 30 rows before it.
    for (let i = 0; i < n; i++) {
      const s = Math.floor(i / perSeries);
      const k = i % perSeries;
      series[i] = s;
      ts[i] = T0 + k * MIN;
      const toEvent = 200 - (k % 200);
      tte[i] = toEvent * 60;
      labelsOut[i] = toEvent <= 30 ? 1 : 0;
    }
    const contenders: Contender[] = ['model', 'static_threshold', 'predict_linear', 'fill_rate'].map(
      (name, c) => {
        const score = new Float64Array(n);
        const alert = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          const s = labelsOut[i]! * (0.3 + 0.1 * c) + rng() * 0.7;
          score[i] = c === 3 && rng() < 0.3 ? NaN : s;
          alert[i] = s > 0.6 ? 1 : 0;
        }
        return c === 0
          ? { name, kind: 'model', score, alert, probability: score, operatingThreshold: 0.6 }
          : { name, kind: 'rule', score, alert };
      },
    );
    const started = performance.now();
    const evaluation = evaluateForecasts(rows, contenders);
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`2M rows × 4 contenders evaluated in ${seconds.toFixed(2)} s`);
    assert.equal(evaluation.events, (n / perSeries) * 5);
    assert.ok(evaluation.contenders.every((c) => c.prCurve.x.length <= 200 && c.rocCurve.x.length <= 200));
    // Loose: a guard against quadratic work, not a benchmark.
    assert.ok(seconds < 60, `${seconds} s`);
  });
});
