/**
 * Time-based train / validation split. Rows next to each other in time share
 * almost all of their features and most of their horizon, so a random split
 * would put near-copies on both sides and flatter the model. Instead:
 *
 * - train: built with `untilMs` = the split time, so its features and labels
 *   use only data before it (rows whose horizon reaches the split are
 *   unknown, which purges the boundary without any extra rule);
 * - validation: rows at or after the split time (`fromMs`), whose features
 *   may read history from before it, as a live agent's would.
 *
 * The model is then judged on a period it has never seen, like the
 * promotion hold-out the design asks for.
 */
import { ValidationError } from '../../shared/errors.js';
import { RemediationIndex } from '../labels/remediation.js';
import {
  type DatasetOptions,
  type DatasetSeries,
  type ExhaustionDataset,
  buildExhaustionDataset,
  seriesEvaluationTimes,
} from './exhaustion-dataset.js';

/** Give exactly one of `splitAtMs` and `validFraction`. */
export interface TimeSplitOptions extends DatasetOptions {
  /** Split time, Unix epoch ms: training before it, validation from it on. */
  splitAtMs?: number;
  /** Or: the share (0..1) of evaluation times, over all series, at or after the split. */
  validFraction?: number;
}

export interface TimeSplit {
  train: ExhaustionDataset;
  valid: ExhaustionDataset;
  splitAtMs: number;
}

/** Builds a training set before the split time and a validation set from it on. */
export function buildTimeSplit(series: readonly DatasetSeries[], options: TimeSplitOptions): TimeSplit {
  const { splitAtMs: at, validFraction, ...rest } = options;
  if ((at === undefined) === (validFraction === undefined)) {
    throw new ValidationError('give exactly one of splitAtMs and validFraction', { path: 'splitAtMs' });
  }
  const splitAtMs = at ?? splitTimeByFraction(series, validFraction ?? NaN, rest);
  if (!Number.isFinite(splitAtMs)) {
    throw new ValidationError('split time must be a finite time', { path: 'splitAtMs' });
  }
  const remediations =
    rest.remediations instanceof RemediationIndex
      ? rest.remediations
      : new RemediationIndex(rest.remediations ?? []);
  const base: DatasetOptions = { ...rest, remediations };
  const train = buildExhaustionDataset(series, {
    ...base,
    untilMs: Math.min(splitAtMs, rest.untilMs ?? Infinity),
  });
  const valid = buildExhaustionDataset(series, {
    ...base,
    fromMs: Math.max(splitAtMs, rest.fromMs ?? -Infinity),
  });
  return { train, valid, splitAtMs };
}

/**
 * The time at or after which `validFraction` of all evaluation times lie
 * (over every series, as the builder would choose them). Rows that end up
 * excluded still count, so the split is by time, not by label.
 */
export function splitTimeByFraction(
  series: readonly DatasetSeries[],
  validFraction: number,
  options: Pick<DatasetOptions, 'untilMs' | 'fromMs' | 'evaluationStepMs'> = {},
): number {
  if (!(validFraction > 0 && validFraction < 1)) {
    throw new ValidationError(`validFraction must be between 0 and 1, got ${validFraction}`, {
      path: 'validFraction',
    });
  }
  const perSeries = series.map((s) => seriesEvaluationTimes(s, options));
  const total = perSeries.reduce((n, t) => n + t.length, 0);
  if (total < 2) throw new ValidationError(`too few evaluation times (${total}) to split by time`);
  const all = new Float64Array(total);
  let at = 0;
  for (const times of perSeries) {
    all.set(times, at);
    at += times.length;
  }
  all.sort();
  const validRows = Math.max(1, Math.round(total * validFraction));
  return all[total - validRows]!;
}
