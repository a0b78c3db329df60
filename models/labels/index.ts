/**
 * Self-supervised exhaustion labels from stored history: events, labels at
 * evaluation times, time to exhaustion with censoring, remediation marking.
 * Training-side code (the agent never imports models/). Definitions:
 * docs/labels.md.
 */
export type { AcceptedSeries } from './accepted-series.js';
export { acceptedSeries } from './accepted-series.js';
export { CoveredTimeCursor, coveredPrefix } from './covered-time.js';
export type { ContinuityOptions, EventEnd, ExhaustionEvent, ExhaustionEvents } from './exhaustion-events.js';
export {
  EVENT_END,
  checkExhaustionDefinition,
  exhaustionEventList,
  findExhaustionEvents,
  resolveMaxGapMs,
} from './exhaustion-events.js';
export type {
  ExclusionCounts,
  ExhaustionLabels,
  LabelCounts,
  LabelOptions,
  RowStatus,
} from './exhaustion-labels.js';
export {
  DEFAULT_MAX_LOOK_AHEAD_MS,
  DEFAULT_MIN_HORIZON_COVERAGE,
  ROW_STATUS,
  addLabelCounts,
  emptyLabelCounts,
  labelExhaustion,
} from './exhaustion-labels.js';
export type { RemediationIntervals, RemediationWindow } from './remediation.js';
export { NO_REMEDIATIONS, RemediationIndex, mergeRemediations } from './remediation.js';
