/**
 * The time-to-exhaustion band: three quantile models (P10, P50, P90) of the
 * time until the next exhaustion starts, for rows where one is coming within
 * the look-ahead (7 days; censored rows are left out, see docs/labels.md).
 * So the band answers "if it happens, when": it goes with an alert, next to
 * the probability, and is not a forecast on its own. Agents show it only
 * with an alert, so given the classifier it is fitted on the rows the
 * classifier alerts on (`alertedRows`). Fitted on every row with a known
 * time, it learnt mostly calm rows whose exhaustion was days away, and ran
 * long next to alerts (CPU's true time was below its P10 on 89 % of the
 * held-out rows it alerted on).
 *
 * The target is ln(seconds): times range from a minute to a week, and a
 * quantile of the log is the log of the quantile, so nothing is lost; the
 * loss just weighs "an hour off" alike at one hour and at three days.
 */
import type { ExhaustionDataset } from '../dataset/index.js';
import { pinballLoss } from '../evaluation/metrics.js';
import type { GbdtModel } from '../gbdt/model.js';
import type { GbdtParamsInput } from '../gbdt/params.js';
import { type TrainingSet, trainGbdt } from '../gbdt/train.js';
import { ForecastModel } from '../../shared/inference/forecast-model.js';
import { predictAll } from './fit-model.js';

export const TTE_QUANTILES = [
  { name: 'p10', alpha: 0.1 },
  { name: 'p50', alpha: 0.5 },
  { name: 'p90', alpha: 0.9 },
] as const;
export type TteQuantileName = (typeof TTE_QUANTILES)[number]['name'];

/** Fewest rows with a known time to exhaustion worth fitting a band on. */
export const MIN_TTE_ROWS = 200;

/** Trainer settings of the band models (the same care against near-copy rows as the classifier). */
export const TTE_BAND_PARAMS: GbdtParamsInput = {
  objective: 'quantile',
  numIterations: 500,
  earlyStoppingRounds: 30,
  learningRate: 0.05,
  numLeaves: 31,
  minDataInLeaf: 100,
  featureFraction: 0.8,
  numThreads: 0,
};

/** What the band reads of a dataset. */
export type BandRowsSource = Pick<
  ExhaustionDataset,
  'featureNames' | 'features' | 'numRows' | 'timeToExhaustionS' | 'tteCensored'
>;

/** The rows of `dataset` with a known time to exhaustion (those `only` marks 1, when given), labelled ln(seconds). */
export function tteRows(dataset: BandRowsSource, only?: Uint8Array): TrainingSet {
  const F = dataset.featureNames.length;
  const keep: number[] = [];
  for (let i = 0; i < dataset.numRows; i++) {
    const s = dataset.timeToExhaustionS[i]!;
    if (dataset.tteCensored[i] === 0 && s > 0 && (!only || only[i] === 1)) keep.push(i);
  }
  const features = new Float32Array(keep.length * F);
  const labels = new Float64Array(keep.length);
  keep.forEach((row, j) => {
    features.set(dataset.features.subarray(row * F, (row + 1) * F), j * F);
    labels[j] = Math.log(dataset.timeToExhaustionS[row]!);
  });
  return { features, labels, numRows: keep.length, featureNames: dataset.featureNames };
}

export interface TteBandModel {
  name: TteQuantileName;
  alpha: number;
  model: GbdtModel;
  /** Validation: pinball loss on ln(seconds), and the share of rows at or below the quantile (ideally alpha). */
  metrics: { pinball: number; coverage: number };
}

export interface TteBandFit {
  /** The three models; undefined when either side has too few rows with a known time. */
  band: TteBandModel[] | undefined;
  /** Rows it was fitted on (or would have been) on each side. */
  rows: { train: number; valid: number };
  /**
   * Which rows: those the classifier alerts on, or, without a classifier or
   * with too few of those, every row with a known time.
   */
  on: 'alerted' | 'known';
}

/**
 * Which rows of `dataset` the classifier alerts on (probability at or above
 * its operating threshold), scored from its ONNX file as agents score it.
 */
export async function alertedRows(
  classifierOnnx: Uint8Array,
  dataset: Pick<ExhaustionDataset, 'features' | 'numRows'>,
): Promise<Uint8Array> {
  const classifier = await ForecastModel.load(classifierOnnx);
  try {
    const probability = await classifier.scoreMany(dataset.features, dataset.numRows);
    return Uint8Array.from(probability, (p) => (p >= classifier.operatingThreshold ? 1 : 0));
  } finally {
    await classifier.release();
  }
}

/**
 * Fits the three band models (see TteBandFit) on the rows with a known time
 * that `alerted` marks on each side (see alertedRows); without `alerted`, or
 * when too few rows remain, on every row with a known time (a small history
 * still gets a band, if a longer-sighted one).
 */
export function fitTteBand(
  train: BandRowsSource,
  valid: BandRowsSource,
  alerted?: { train: Uint8Array; valid: Uint8Array },
  params: GbdtParamsInput = {},
): TteBandFit {
  const enough = (t: TrainingSet, v: TrainingSet) =>
    t.numRows >= MIN_TTE_ROWS && v.numRows >= MIN_TTE_ROWS / 4;
  let on: TteBandFit['on'] = 'alerted';
  let trainRows = alerted && tteRows(train, alerted.train);
  let validRows = alerted && tteRows(valid, alerted.valid);
  if (!trainRows || !validRows || !enough(trainRows, validRows)) {
    on = 'known';
    trainRows = tteRows(train);
    validRows = tteRows(valid);
  }
  const rows = { train: trainRows.numRows, valid: validRows.numRows };
  if (!enough(trainRows, validRows)) return { band: undefined, rows, on };
  const band = TTE_QUANTILES.map(({ name, alpha }) => {
    const result = trainGbdt(
      trainRows,
      { ...TTE_BAND_PARAMS, ...params, objective: 'quantile', alpha },
      {
        valid: validRows,
      },
    );
    const predicted = predictAll(result.model, validRows);
    let below = 0;
    for (let i = 0; i < validRows.numRows; i++) if (validRows.labels[i]! <= predicted[i]!) below++;
    return {
      name,
      alpha,
      model: result.model,
      metrics: {
        pinball: pinballLoss(validRows.labels, predicted, alpha),
        coverage: below / validRows.numRows,
      },
    };
  });
  return { band, rows, on };
}

/** How a band covers the true times of a set of rows. */
export interface BandCoverage {
  /** Rows judged. */
  rows: number;
  /** Share of true times at or below P10, P50 and P90 (ideal 0.10 / 0.50 / 0.90); null without rows. */
  coverage: { p10: number; p50: number; p90: number } | null;
}

/**
 * Coverage of a scored band (`bandS`: three seconds per row, P10 ≤ P50 ≤ P90, as
 * TimeToExhaustionBand.scoreMany gives it and agents show it) over the rows of `dataset`
 * with a known time to exhaustion that `keep` selects.
 */
export function bandCoverage(
  bandS: Float64Array,
  dataset: Pick<ExhaustionDataset, 'numRows' | 'timeToExhaustionS' | 'tteCensored' | 'labels'>,
  keep: (row: number) => boolean = () => true,
): BandCoverage {
  if (bandS.length !== dataset.numRows * 3) {
    throw new RangeError(`band has ${bandS.length} values for ${dataset.numRows} rows (3 per row)`);
  }
  let rows = 0;
  const below = [0, 0, 0];
  for (let i = 0; i < dataset.numRows; i++) {
    const s = dataset.timeToExhaustionS[i]!;
    if (dataset.tteCensored[i] !== 0 || !(s > 0) || !keep(i)) continue;
    rows++;
    for (let q = 0; q < 3; q++) if (s <= bandS[i * 3 + q]!) below[q]!++;
  }
  return {
    rows,
    coverage: rows === 0 ? null : { p10: below[0]! / rows, p50: below[1]! / rows, p90: below[2]! / rows },
  };
}
