/**
 * Exhaustion training sets from stored history: shared features joined with
 * self-supervised labels, with time-based hold-outs. Training-side code (the
 * agent never imports models/). Definitions: docs/labels.md.
 */
export { DEFAULT_EVALUATION_STEP_MS, evaluationTimesByStep } from './evaluation-times.js';
export type {
  DatasetOptions,
  DatasetSeries,
  DatasetSeriesSummary,
  ExhaustionDataset,
} from './exhaustion-dataset.js';
export { buildExhaustionDataset, seriesEvaluationTimes } from './exhaustion-dataset.js';
export { checkHistoryShape, historyBefore, historyFromPoints } from './series-history.js';
export type { TimeSplit, TimeSplitOptions } from './time-split.js';
export { buildTimeSplit, splitTimeByFraction } from './time-split.js';
