/**
 * Exhaustion forecasts judged side by side: a model against the rules people
 * alert with today (models/baselines), on the same rows of an exhaustion
 * dataset. Row-level figures (ROC/PR, precision and recall at the alert
 * decision, Brier, calibration) and event-level ones (events detected, lead
 * time, alert episodes that led nowhere, and the share of alert episodes an
 * exhaustion followed at the threshold that warns of the target share of
 * events).
 *
 * Cost per contender: one sort (the scores, for every threshold-based
 * figure) and a few linear passes over typed arrays; events are found once.
 * The result is plain JSON: figures that do not exist (a class missing, no
 * alert) are null, never NaN.
 */
import { ValidationError } from '../../shared/errors.js';
import { type Calibration, type CalibrationBin, DEFAULT_CALIBRATION_BINS, calibrate } from './calibration.js';
import {
  type CurvePoints,
  DEFAULT_MAX_CURVE_POINTS,
  type PrecisionAtRecall,
  precisionAtRecall,
  precisionRecallCurve,
  rocCurve,
} from './curves.js';
import {
  type EventPrecisionAtRecall,
  type EventRows,
  type ExhaustionEventIndex,
  alertEpisodes,
  eventPrecisionAtRecall,
  eventLeadTimesS,
  indexExhaustionEvents,
  quantileSorted,
  seriesTimeOrder,
} from './lead-time.js';
import { averagePrecisionOf, rocAucOf, thresholdCounts } from './metrics.js';

/** The rows to evaluate on; an ExhaustionDataset satisfies this. Parallel arrays of `numRows`. */
export interface EvaluationRows extends EventRows {
  /** 1 where an exhaustion event starts within the horizon, else 0. */
  labels: ArrayLike<number>;
  /** Series of each row (an index into the dataset's `series`). */
  seriesIndex: ArrayLike<number>;
  /** Evaluation time of each row, Unix epoch ms. */
  timestampsMs: ArrayLike<number>;
  /** Seconds to the next exhaustion start; NaN when censored. */
  timeToExhaustionS: ArrayLike<number>;
  numRows: number;
}

/** One forecaster's output on every row. */
export interface Contender {
  /** Unique among the contenders, e.g. 'model', 'static_threshold'. */
  name: string;
  kind: 'model' | 'rule';
  /** Higher = riskier; NaN = no opinion, ranked lowest. */
  score: ArrayLike<number>;
  /** 1 where it alerts at its operating point, else 0. */
  alert: ArrayLike<number>;
  /** Calibrated probability of the label, 0..1 (models): for Brier and calibration. */
  probability?: ArrayLike<number>;
  /** The probability threshold that made `alert` (models). */
  operatingThreshold?: number;
}

export interface ForecastEvaluationOptions {
  /** Recall at which the best precision is reported, 0..1. Default DEFAULT_TARGET_RECALL (0.83). */
  targetRecall?: number;
  /** Most points per PR and ROC curve. Default 200. */
  maxCurvePoints?: number;
  /** Equal-width probability bins of the calibration table. Default 10. */
  calibrationBins?: number;
}

/** Default recall of the "precision at recall ≥" figure. */
export const DEFAULT_TARGET_RECALL = 0.83;

/** Lead-time summary over detected events, seconds. */
export interface LeadTimeSummary {
  /** Half the detected events were alerted at least this long before they started. */
  median: number;
  /** 10th percentile: the short end. */
  p10: number;
  /** 90th percentile: the long end. */
  p90: number;
}

/** Every figure of one contender. Ratios are 0..1; null where undefined. */
export interface ContenderEvaluation {
  name: string;
  kind: 'model' | 'rule';
  /** Rows with a NaN score (no opinion). */
  noOpinionRows: number;
  /** Area under the ROC curve; null when a class is missing. */
  rocAuc: number | null;
  /** Average precision; null without positives. */
  prAuc: number | null;
  /** Rows alerted at the operating point. */
  alerts: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** Of the alerted rows, the share labelled 1; null without alerts. */
  precision: number | null;
  /** Of the rows labelled 1, the share alerted; null without positives. */
  recall: number | null;
  /** 2TP / (2TP + FP + FN); null when there is neither an alert nor a positive. */
  f1: number | null;
  /** The probability threshold behind `alert`, when given. */
  operatingThreshold: number | null;
  /** Best precision over score thresholds with recall ≥ the target; null without positives. */
  precisionAtRecall: PrecisionAtRecall | null;
  /** Brier score of `probability`; null without one. */
  brier: number | null;
  /** Reliability bins of `probability`; null without one. */
  calibration: CalibrationBin[] | null;
  /** PR curve for charts: x = recall, y = precision, highest threshold first (see curves.ts). */
  prCurve: CurvePoints;
  /** ROC curve for charts: x = false-positive rate, y = true-positive rate, from (0, 0) to (1, 1). */
  rocCurve: CurvePoints;
  /** Events with at least one alerted positive row. */
  eventsDetected: number;
  /** eventsDetected ÷ events; null without events. */
  eventRecall: number | null;
  /** Lead time over detected events, seconds; null when none was detected. */
  leadTimeS: LeadTimeSummary | null;
  /** Lead time of each detected event, seconds, ascending (for a histogram). */
  leadTimesS: number[];
  /** Runs of consecutive alerted rows of one series in time order, split at event starts. */
  alertEpisodes: number;
  /** Alert episodes without any row labelled 1: false alarms as an operator sees them. */
  falseAlarmEpisodes: number;
  /**
   * At the highest threshold that warns of the target recall's share of
   * events, the share of alert episodes an exhaustion followed (see
   * lead-time.ts); null without events or when the target is out of reach.
   */
  eventPrecisionAtRecall: EventPrecisionAtRecall | null;
}

export interface ForecastEvaluation {
  /** Rows evaluated. */
  rows: number;
  /** Rows labelled 1. */
  positives: number;
  /** Distinct exhaustion events with at least one row labelled 1 before them. */
  events: number;
  /** Recall target of `precisionAtRecall`, 0..1. */
  targetRecall: number;
  contenders: ContenderEvaluation[];
}

/** Evaluates every contender on the same rows (see the file comment). */
export function evaluateForecasts(
  rows: EvaluationRows,
  contenders: readonly Contender[],
  options: ForecastEvaluationOptions = {},
): ForecastEvaluation {
  const targetRecall = options.targetRecall ?? DEFAULT_TARGET_RECALL;
  const maxCurvePoints = options.maxCurvePoints ?? DEFAULT_MAX_CURVE_POINTS;
  const calibrationBins = options.calibrationBins ?? DEFAULT_CALIBRATION_BINS;
  checkInput(rows, contenders, { targetRecall, maxCurvePoints, calibrationBins });

  let positives = 0;
  for (let i = 0; i < rows.numRows; i++) if (rows.labels[i] === 1) positives++;
  const events = indexExhaustionEvents(rows);
  const order = seriesTimeOrder(rows);
  return {
    rows: rows.numRows,
    positives,
    events: events.events,
    targetRecall,
    contenders: contenders.map((c) =>
      evaluateContender(rows, c, events, order, { targetRecall, maxCurvePoints, calibrationBins }),
    ),
  };
}

function evaluateContender(
  rows: EvaluationRows,
  contender: Contender,
  events: ExhaustionEventIndex,
  order: Uint32Array | null,
  options: Required<ForecastEvaluationOptions>,
): ContenderEvaluation {
  const { labels, numRows: n } = rows;
  const { score, alert } = contender;

  let tp = 0;
  let fp = 0;
  let fn = 0;
  let noOpinion = 0;
  for (let i = 0; i < n; i++) {
    const s = score[i]!;
    if (s !== s) noOpinion++;
    const alerted = alert[i] === 1;
    if (labels[i] === 1) {
      if (alerted) tp++;
      else fn++;
    } else if (alerted) fp++;
  }

  const counts = thresholdCounts(labels, score);
  const calibration: Calibration | null = contender.probability
    ? calibrate(labels, contender.probability, options.calibrationBins)
    : null;

  const lead = eventLeadTimesS(events, rows.timeToExhaustionS, alert);
  const detected = lead.filter((t) => t === t).sort();
  const episodes = alertEpisodes(order, rows, alert);

  return {
    name: contender.name,
    kind: contender.kind,
    noOpinionRows: noOpinion,
    rocAuc: orNull(rocAucOf(counts)),
    prAuc: orNull(averagePrecisionOf(counts)),
    alerts: tp + fp,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision: tp + fp === 0 ? null : tp / (tp + fp),
    recall: tp + fn === 0 ? null : tp / (tp + fn),
    f1: tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn),
    operatingThreshold: contender.operatingThreshold ?? null,
    precisionAtRecall: precisionAtRecall(counts, options.targetRecall),
    brier: calibration?.brier ?? null,
    calibration: calibration?.bins ?? null,
    prCurve: precisionRecallCurve(counts, options.maxCurvePoints),
    rocCurve: rocCurve(counts, options.maxCurvePoints),
    eventsDetected: detected.length,
    eventRecall: events.events === 0 ? null : detected.length / events.events,
    leadTimeS:
      detected.length === 0
        ? null
        : {
            median: quantileSorted(detected, 0.5),
            p10: quantileSorted(detected, 0.1),
            p90: quantileSorted(detected, 0.9),
          },
    leadTimesS: Array.from(detected),
    alertEpisodes: episodes.episodes,
    falseAlarmEpisodes: episodes.falseEpisodes,
    eventPrecisionAtRecall: eventPrecisionAtRecall(events, order, rows, score, options.targetRecall),
  };
}

function orNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function checkInput(
  rows: EvaluationRows,
  contenders: readonly Contender[],
  options: Required<ForecastEvaluationOptions>,
): void {
  const n = rows.numRows;
  const lengthOf = (path: string, column: ArrayLike<number>) => {
    if (column.length !== n) {
      throw new ValidationError(`${path} has ${column.length} entries for ${n} rows`, { path });
    }
  };
  lengthOf('labels', rows.labels);
  lengthOf('seriesIndex', rows.seriesIndex);
  lengthOf('timestampsMs', rows.timestampsMs);
  lengthOf('timeToExhaustionS', rows.timeToExhaustionS);
  const names = new Set<string>();
  for (const [k, c] of contenders.entries()) {
    if (names.has(c.name)) {
      throw new ValidationError(`contender name '${c.name}' is used twice`, { path: `contenders.${k}.name` });
    }
    names.add(c.name);
    lengthOf(`contenders.${k}.score`, c.score);
    lengthOf(`contenders.${k}.alert`, c.alert);
    if (c.probability) lengthOf(`contenders.${k}.probability`, c.probability);
  }
  if (!(options.targetRecall >= 0 && options.targetRecall <= 1)) {
    throw new ValidationError(`targetRecall ${options.targetRecall} is outside 0..1`, {
      path: 'targetRecall',
    });
  }
  if (!(options.maxCurvePoints >= 2)) {
    throw new ValidationError(`maxCurvePoints ${options.maxCurvePoints} must be at least 2`, {
      path: 'maxCurvePoints',
    });
  }
  if (!(Number.isInteger(options.calibrationBins) && options.calibrationBins >= 1)) {
    throw new ValidationError(`calibrationBins ${options.calibrationBins} must be a positive integer`, {
      path: 'calibrationBins',
    });
  }
}
