import type { SeededRandom } from '../random.js';
import { TruncatedNormal } from './normal.js';
import type {
  CategoricalParam,
  FloatParam,
  IntParam,
  ParamValue,
  ParamValues,
  SearchSpace,
} from './space.js';
import { fromInternal, internalBounds, toInternal } from './space.js';

/**
 * Optuna's `_ParzenEstimator`: a mixture with one kernel per observed trial
 * plus one prior kernel. Each kernel is a product over the parameters of a
 * truncated normal (numeric, in internal coordinates) or a smoothed
 * one-hot distribution (categorical). With one parameter this is the
 * univariate TPE density; with several and `multivariate` it is the joint
 * density of multivariate TPE (kernels share one index across parameters).
 */
export interface ParzenEstimatorOptions {
  /** Weight of the prior kernel relative to one observation of weight 1. Optuna: 1. */
  priorWeight: number;
  /** Lower-bound bandwidths by range / min(100, 1 + kernels) (Optuna's "magic clip"). Optuna: true. */
  considerMagicClip: boolean;
  /** Let the outermost observations' bandwidths reach the domain ends. Optuna: false. */
  considerEndpoints: boolean;
  /** Scott-style shared bandwidth (BOHB) instead of neighbour distances. Optuna: false. */
  multivariate: boolean;
}

type Dimension =
  | { kind: 'numeric'; name: string; def: FloatParam | IntParam; kernels: TruncatedNormal[] }
  // Per kernel, the cumulative and log probabilities of each choice.
  | {
      kind: 'categorical';
      name: string;
      def: CategoricalParam;
      cumulative: Float64Array[];
      logProbs: Float64Array[];
    };

const EPS = 1e-12;

export class ParzenEstimator {
  private readonly logWeights: Float64Array;
  private readonly cumulativeWeights: Float64Array;
  private readonly dimensions: Dimension[];

  /**
   * @param observations parameter values of the trials this density models, oldest first
   * @param observationWeights one non-negative weight per observation (Optuna's `weights(n)`)
   */
  constructor(
    space: SearchSpace,
    observations: readonly ParamValues[],
    observationWeights: ArrayLike<number>,
    options: ParzenEstimatorOptions,
  ) {
    if (options.priorWeight <= 0) throw new RangeError(`priorWeight must be > 0, got ${options.priorWeight}`);
    const n = observations.length;
    const weights = n === 0 ? [1] : [...Array.from(observationWeights).slice(0, n), options.priorWeight];
    if (weights.length !== (n === 0 ? 1 : n + 1) || weights.some((w) => !(w >= 0) || !Number.isFinite(w))) {
      throw new RangeError('observation weights must be one finite, non-negative number per observation');
    }
    const total = weights.reduce((a, b) => a + b, 0);
    this.logWeights = Float64Array.from(weights, (w) => Math.log(w / total));
    this.cumulativeWeights = cumulative(weights.map((w) => w / total));
    const dimensionCount = Object.keys(space).length;
    this.dimensions = Object.entries(space).map(([name, def]) => {
      const column = observations.map((o) => o[name]!);
      return def.kind === 'categorical'
        ? categoricalDimension(name, def, column, options.priorWeight)
        : numericDimension(name, def, column as number[], dimensionCount, options);
    });
  }

  /** `count` draws: pick a kernel by weight, then draw every parameter from that kernel. */
  sample(random: SeededRandom, count: number): ParamValues[] {
    const draws: ParamValues[] = [];
    for (let i = 0; i < count; i++) {
      const k = pick(this.cumulativeWeights, random.next());
      const draw: ParamValues = {};
      for (const dim of this.dimensions) {
        draw[dim.name] =
          dim.kind === 'numeric'
            ? fromInternal(dim.def, dim.kernels[k]!.sample(random.next()))
            : dim.def.choices[pick(dim.cumulative[k]!, random.next())]!;
      }
      draws.push(draw);
    }
    return draws;
  }

  /** Log density (log probability mass for grid and categorical parameters) of one point. */
  logPdf(point: ParamValues): number {
    const terms = new Float64Array(this.logWeights);
    for (const dim of this.dimensions) {
      const value = point[dim.name]!;
      if (dim.kind === 'categorical') {
        const choice = dim.def.choices.indexOf(value);
        for (let k = 0; k < terms.length; k++) terms[k]! += dim.logProbs[k]![choice]!;
      } else {
        for (let k = 0; k < terms.length; k++)
          terms[k]! += numericLogPdf(dim.def, dim.kernels[k]!, value as number);
      }
    }
    return logSumExp(terms);
  }
}

function numericLogPdf(def: FloatParam | IntParam, kernel: TruncatedNormal, value: number): number {
  if (def.step === null) return kernel.logPdf(toInternal(def, value));
  // A grid value stands for its whole bin [v − step/2, v + step/2].
  return kernel.logMassBetween(toInternal(def, value - def.step / 2), toInternal(def, value + def.step / 2));
}

function numericDimension(
  name: string,
  def: FloatParam | IntParam,
  values: readonly number[],
  dimensionCount: number,
  options: ParzenEstimatorOptions,
): Dimension {
  const { low, high } = internalBounds(def);
  const range = high - low;
  const mus = values.map((v) => toInternal(def, v));
  const raw = options.multivariate
    ? mus.map(() => 0.2 * Math.max(mus.length, 1) ** (-1 / (dimensionCount + 4)) * range)
    : neighbourBandwidths(mus, low, high, options.considerEndpoints);
  // Kernels = observations + the prior.
  const minSigma = options.considerMagicClip ? range / Math.min(100, 1 + mus.length + 1) : EPS;
  const kernels = mus.map((mu, i) => new TruncatedNormal(mu, clamp(raw[i]!, minSigma, range), low, high));
  // The prior: centred, as wide as the domain.
  kernels.push(new TruncatedNormal(0.5 * (low + high), range, low, high));
  return { kind: 'numeric', name, def, kernels };
}

/**
 * Each observation's bandwidth is the larger gap to its neighbours among the
 * sorted observations, the prior's centre and the domain ends (hyperopt's
 * heuristic). Without `considerEndpoints` the outermost points use their
 * inner gap, so a point near a bound does not get a tiny bandwidth.
 */
function neighbourBandwidths(
  mus: readonly number[],
  low: number,
  high: number,
  considerEndpoints: boolean,
): number[] {
  const withPrior = [...mus, 0.5 * (low + high)];
  const order = withPrior.map((_, i) => i).sort((a, b) => withPrior[a]! - withPrior[b]!);
  const sorted = [low, ...order.map((i) => withPrior[i]!), high];
  const sigmas = new Array<number>(withPrior.length);
  for (let j = 1; j < sorted.length - 1; j++) {
    sigmas[j - 1] = Math.max(sorted[j]! - sorted[j - 1]!, sorted[j + 1]! - sorted[j]!);
  }
  if (!considerEndpoints && sorted.length >= 4) {
    sigmas[0] = sorted[2]! - sorted[1]!;
    sigmas[sigmas.length - 1] = sorted[sorted.length - 2]! - sorted[sorted.length - 3]!;
  }
  const bySource = new Array<number>(withPrior.length);
  order.forEach((source, rank) => (bySource[source] = sigmas[rank]!));
  return bySource.slice(0, mus.length);
}

/**
 * Each observation's kernel puts weight 1 on its choice plus the prior's
 * weight spread evenly (priorWeight / kernels per choice), renormalised; the
 * prior kernel is uniform. Unseen choices thus keep a little probability.
 */
function categoricalDimension(
  name: string,
  def: CategoricalParam,
  values: readonly ParamValue[],
  priorWeight: number,
): Dimension {
  const choices = def.choices.length;
  const kernelCount = values.length + 1;
  const rows: number[][] = [];
  for (const value of values) {
    const row = new Array<number>(choices).fill(priorWeight / kernelCount);
    row[def.choices.indexOf(value)]! += 1;
    rows.push(row);
  }
  rows.push(new Array<number>(choices).fill(1));
  const probs = rows.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((w) => w / sum);
  });
  return {
    kind: 'categorical',
    name,
    def,
    cumulative: probs.map(cumulative),
    logProbs: probs.map((p) => Float64Array.from(p, Math.log)),
  };
}

function cumulative(probs: readonly number[]): Float64Array {
  const out = new Float64Array(probs.length);
  let sum = 0;
  probs.forEach((p, i) => (out[i] = sum += p));
  out[out.length - 1] = 1; // rounding must not leave a gap above the last bucket
  return out;
}

/** The first bucket whose cumulative probability exceeds u. */
function pick(cumulativeProbs: Float64Array, u: number): number {
  for (let i = 0; i < cumulativeProbs.length; i++) if (u < cumulativeProbs[i]!) return i;
  return cumulativeProbs.length - 1;
}

function logSumExp(terms: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const t of terms) if (t > max) max = t;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const t of terms) sum += Math.exp(t - max);
  return max + Math.log(sum);
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}
