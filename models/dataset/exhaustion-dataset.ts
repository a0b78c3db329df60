/**
 * The exhaustion training set: for every (host, resource) series, rows at
 * evaluation times, each with the shared feature vector at that time
 * (`replaySeries`, the agent's own extractor: no feature is computed here)
 * and the self-supervised label from the series' future (models/labels).
 *
 * Only labelled rows become rows; excluded ones are counted by reason.
 * `untilMs` cuts every series before anything is computed, so neither a
 * feature nor a label can look at or past it: the basis of time-based
 * hold-outs (see time-split.ts).
 *
 * Rows are grouped by series, in input order, and in time order within a
 * series.
 */
import type { ExtractorStats } from '../../shared/features/extractor.js';
import { type SeriesHistory, replaySeries } from '../../shared/features/replay.js';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import type { ExhaustionDefinition } from '../../shared/resources/exhaustion.js';
import { type ResourceKind, formatResourceId, parseResourceId } from '../../shared/resources/resource-id.js';
import type { TrainingSet } from '../gbdt/train.js';
import { type AcceptedSeries, acceptedSeries } from '../labels/accepted-series.js';
import {
  type LabelCounts,
  ROW_STATUS,
  addLabelCounts,
  emptyLabelCounts,
  labelExhaustion,
} from '../labels/exhaustion-labels.js';
import { RemediationIndex, type RemediationWindow } from '../labels/remediation.js';
import { DEFAULT_EVALUATION_STEP_MS, evaluationTimesByStep } from './evaluation-times.js';
import { checkHistoryShape, historyBefore } from './series-history.js';

/** One (host, resource) series and how to label it. */
export interface DatasetSeries {
  hostId: string;
  /** Resource id in either form (`filesystem:/var` or `filesystem:%2Fvar`). */
  resourceId: string;
  /** The stored samples, columnar, as the telemetry store returns them (see historyFromPoints). */
  history: SeriesHistory;
  /** The resource's definition, e.g. `resolveExhaustion(config, resourceId)`. */
  exhaustion: ExhaustionDefinition;
  /**
   * Evaluation times for this series, non-decreasing, Unix epoch ms. Default:
   * the first accepted sample in every `evaluationStepMs`.
   */
  evaluationTimesMs?: ArrayLike<number>;
}

export interface DatasetOptions {
  /** Use only samples strictly before this time (Unix epoch ms). Default: all. */
  untilMs?: number;
  /** Rows only at or after this time (Unix epoch ms); features still see earlier samples. Default: all. */
  fromMs?: number;
  /** Evaluation step, ms: at most one row per step and series; 0 for a row at every sample. Default 60 000. */
  evaluationStepMs?: number;
  /** Remediation audit windows of any hosts and resources; those starting at or after `untilMs` are unseen. */
  remediations?: readonly RemediationWindow[] | RemediationIndex;
  /** Longest continuous sample spacing, ms. Default MAX_SAMPLE_GAP_MS (10 min). */
  maxGapMs?: number;
  /** Least share of a row's horizon the data must cover. Default 0.9. */
  minHorizonCoverage?: number;
  /** Look-ahead for time to exhaustion, ms. Default 7 days. */
  maxLookAheadMs?: number;
  /** Called after each series' features: series done, series in all. */
  onProgress?: (done: number, total: number) => void;
}

/** What one series contributed. */
export interface DatasetSeriesSummary {
  hostId: string;
  /** Canonical resource id. */
  resourceId: string;
  kind: ResourceKind;
  exhaustion: ExhaustionDefinition;
  /** Its rows are [firstRow, firstRow + rows). */
  firstRow: number;
  rows: number;
  counts: LabelCounts;
  /** Exhaustion events found in the data used. */
  events: number;
  /** Accepted samples in the data used, and the first and last one's time (NaN when none). */
  samples: number;
  firstSampleMs: number;
  lastSampleMs: number;
  /** What the feature extractor took and dropped. */
  extractor: ExtractorStats;
}

/**
 * A TrainingSet (features, 0/1 labels) plus row-parallel columns. The host
 * and resource of row i are `series[seriesIndex[i]]`.
 */
export interface ExhaustionDataset extends TrainingSet {
  labels: Float64Array;
  /** FEATURE_SCHEMA.hash of the features, for the model to record. */
  featureSchemaHash: string;
  seriesIndex: Uint32Array;
  /** Evaluation time of each row, Unix epoch ms. */
  timestampsMs: Float64Array;
  /** Seconds to the next exhaustion start; NaN when censored (docs/labels.md). */
  timeToExhaustionS: Float64Array;
  /** 1 where the time to exhaustion is right-censored. */
  tteCensored: Uint8Array;
  /** Censored rows: seconds seen ahead without an event (the true value is larger); NaN otherwise. */
  tteLowerBoundS: Float64Array;
  series: DatasetSeriesSummary[];
  /** Over all series: rows (= labelled), positives, exclusions by reason. */
  counts: LabelCounts;
  untilMs: number | undefined;
  fromMs: number | undefined;
}

/**
 * A series labelled, waiting for its features. It keeps no copy of the
 * samples: with many long series, all of them at once would not fit.
 */
interface LabelledSeries {
  resourceId: string;
  kind: ResourceKind;
  samples: number;
  firstSampleMs: number;
  lastSampleMs: number;
  /** Rows kept: their evaluation time and targets. */
  times: Float64Array;
  labels: Float64Array;
  tte: Float64Array;
  censored: Uint8Array;
  lowerBound: Float64Array;
  counts: LabelCounts;
  events: number;
}

/** Builds the training set (see the file comment). */
export function buildExhaustionDataset(
  series: readonly DatasetSeries[],
  options: DatasetOptions = {},
): ExhaustionDataset {
  const remediations =
    options.remediations instanceof RemediationIndex
      ? options.remediations
      : new RemediationIndex(options.remediations ?? []);

  // Labels first (cheap), so the feature matrix is allocated once at its final size.
  const labelled = series.map((s, i) => labelSeries(s, i, options, remediations));
  const F = FEATURE_SCHEMA.names.length;
  const numRows = labelled.reduce((n, l) => n + l.times.length, 0);
  const dataset: ExhaustionDataset = {
    features: new Float32Array(numRows * F),
    labels: new Float64Array(numRows),
    numRows,
    featureNames: [...FEATURE_SCHEMA.names],
    featureSchemaHash: FEATURE_SCHEMA.hash,
    seriesIndex: new Uint32Array(numRows),
    timestampsMs: new Float64Array(numRows),
    timeToExhaustionS: new Float64Array(numRows),
    tteCensored: new Uint8Array(numRows),
    tteLowerBoundS: new Float64Array(numRows),
    series: [],
    counts: emptyLabelCounts(),
    untilMs: options.untilMs,
    fromMs: options.fromMs,
  };

  let row = 0;
  for (const [i, l] of labelled.entries()) {
    const s = series[i]!;
    const history = cutHistory(s.history, options.untilMs);
    const replay = replaySeries(history, l.times, { kind: l.kind, exhaustion: s.exhaustion });
    const n = l.times.length;
    dataset.features.set(replay.features, row * F);
    dataset.labels.set(l.labels, row);
    dataset.seriesIndex.fill(i, row, row + n);
    dataset.timestampsMs.set(l.times, row);
    dataset.timeToExhaustionS.set(l.tte, row);
    dataset.tteCensored.set(l.censored, row);
    dataset.tteLowerBoundS.set(l.lowerBound, row);
    dataset.series.push({
      hostId: s.hostId,
      resourceId: l.resourceId,
      kind: l.kind,
      exhaustion: { ...s.exhaustion },
      firstRow: row,
      rows: n,
      counts: l.counts,
      events: l.events,
      samples: l.samples,
      firstSampleMs: l.firstSampleMs,
      lastSampleMs: l.lastSampleMs,
      extractor: replay.stats,
    });
    addLabelCounts(dataset.counts, l.counts);
    row += n;
    options.onProgress?.(i + 1, series.length);
  }
  return dataset;
}

/** The evaluation times of a series as the builder chooses them (before labelling). */
export function seriesEvaluationTimes(
  s: Pick<DatasetSeries, 'history' | 'evaluationTimesMs'>,
  options: Pick<DatasetOptions, 'untilMs' | 'fromMs' | 'evaluationStepMs'>,
): Float64Array {
  return evaluationTimesOf(s, acceptedSeries(cutHistory(s.history, options.untilMs)), options);
}

function labelSeries(
  s: DatasetSeries,
  index: number,
  options: DatasetOptions,
  remediations: RemediationIndex,
): LabelledSeries {
  const resource = parseResourceId(s.resourceId);
  const resourceId = formatResourceId(resource);
  checkHistoryShape(s.history, `series.${index}.history`);
  const accepted = acceptedSeries(cutHistory(s.history, options.untilMs));
  const times = evaluationTimesOf(s, accepted, options);
  const labels = labelExhaustion(accepted, times, s.exhaustion, {
    ...(options.maxGapMs !== undefined ? { maxGapMs: options.maxGapMs } : {}),
    ...(options.minHorizonCoverage !== undefined ? { minHorizonCoverage: options.minHorizonCoverage } : {}),
    ...(options.maxLookAheadMs !== undefined ? { maxLookAheadMs: options.maxLookAheadMs } : {}),
    remediations: remediations.intervalsFor(s.hostId, resourceId, options.untilMs),
  });

  const kept = new Uint32Array(labels.counts.labelled);
  for (let r = 0, n = 0; r < labels.rows; r++) if (labels.status[r] === ROW_STATUS.labelled) kept[n++] = r;
  const pick = (column: Float64Array) => Float64Array.from(kept, (r) => column[r]!);
  const ts = accepted.timestampsMs;
  return {
    resourceId,
    kind: resource.kind,
    samples: ts.length,
    firstSampleMs: ts.length > 0 ? ts[0]! : NaN,
    lastSampleMs: ts.length > 0 ? ts[ts.length - 1]! : NaN,
    times: pick(times),
    labels: pick(labels.label),
    tte: pick(labels.timeToExhaustionS),
    censored: Uint8Array.from(kept, (r) => labels.tteCensored[r]!),
    lowerBound: pick(labels.tteLowerBoundS),
    counts: labels.counts,
    events: labels.events.count,
  };
}

function cutHistory(history: SeriesHistory, untilMs: number | undefined): SeriesHistory {
  return untilMs === undefined ? history : historyBefore(history, untilMs);
}

/**
 * Explicit times or the step grid over the accepted samples, then those at
 * or after `fromMs`: so a build from `fromMs` has exactly the rows of a
 * full build from that time on.
 */
function evaluationTimesOf(
  s: Pick<DatasetSeries, 'evaluationTimesMs'>,
  accepted: AcceptedSeries,
  options: Pick<DatasetOptions, 'fromMs' | 'evaluationStepMs'>,
): Float64Array {
  const times = s.evaluationTimesMs
    ? Float64Array.from(s.evaluationTimesMs)
    : evaluationTimesByStep(accepted, options.evaluationStepMs ?? DEFAULT_EVALUATION_STEP_MS);
  const fromMs = options.fromMs;
  return fromMs === undefined ? times : times.filter((t) => !(t < fromMs));
}
