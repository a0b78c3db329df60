/**
 * Judging forecasts: row metrics (metrics.ts) and the side-by-side evaluation
 * of exhaustion forecasts against the baseline rules, as JSON, a text table
 * and a self-contained HTML report.
 */
export type { Calibration, CalibrationBin } from './calibration.js';
export type { CurvePoints, PrecisionAtRecall } from './curves.js';
export { formatDuration, formatEvaluationTable } from './evaluation-table.js';
export type { EvaluationReportMeta } from './evaluation-html.js';
export { renderEvaluationHtml } from './evaluation-html.js';
export type {
  Contender,
  ContenderEvaluation,
  EvaluationRows,
  ForecastEvaluation,
  ForecastEvaluationOptions,
  LeadTimeSummary,
} from './forecast-evaluation.js';
export { DEFAULT_TARGET_RECALL, evaluateForecasts } from './forecast-evaluation.js';
export type { ThresholdCounts } from './metrics.js';
export { confusionAt, logLoss, prAuc, rocAuc, thresholdCounts } from './metrics.js';
