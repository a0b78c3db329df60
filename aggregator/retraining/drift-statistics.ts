/**
 * Feature distribution shift by the population stability index (PSI): each
 * feature's training values are cut into quantile bins (plus one bin for
 * missing values); the same bins are filled with recent live values, and
 *
 *   PSI = Σ (live_i − ref_i) · ln(live_i / ref_i)
 *
 * over the bins' shares. Common reading: below 0.1 no shift, 0.1–0.25 a
 * moderate one, above 0.25 a significant one. Quantile bins give every bin
 * about the same reference share, so a bin's weight does not depend on the
 * feature's scale; features with a few repeated values (a capped estimate, a
 * 0/1 flag) get fewer bins because equal edges collapse.
 */
import { z } from 'zod';

/** Bins per feature before equal edges collapse. */
export const DEFAULT_DRIFT_BINS = 10;
/**
 * Floor of a bin's share in the PSI sum: an empty bin would make ln(0). A
 * ten-thousandth keeps one stray row in an empty bin from dominating.
 */
const MIN_SHARE = 1e-4;

export const FeatureReferenceSchema = z.object({
  name: z.string(),
  /** Upper bounds of the bins but the last (value ≤ edge[i] falls in bin i), ascending, distinct. */
  edges: z.array(z.number()),
  /** Share of reference rows per bin, edges.length + 1 bins and a last one for missing values. */
  shares: z.array(z.number().min(0).max(1)),
});
export type FeatureReference = z.infer<typeof FeatureReferenceSchema>;

/** The training set's feature distribution, saved with the retraining run. */
export const DriftReferenceSchema = z.object({
  schemaVersion: z.literal(1),
  featureSchemaHash: z.string(),
  rows: z.number().int().min(0),
  features: z.array(FeatureReferenceSchema),
});
export type DriftReference = z.infer<typeof DriftReferenceSchema>;

export interface FeatureShift {
  name: string;
  psi: number;
}

/**
 * The reference of row-major `features` (`rows × names.length`): quantile
 * bins per feature, only for the names in `include` (default all).
 */
export function buildDriftReference(
  features: Float32Array,
  rows: number,
  names: readonly string[],
  options: { featureSchemaHash: string; bins?: number; include?: (name: string) => boolean },
): DriftReference {
  const bins = options.bins ?? DEFAULT_DRIFT_BINS;
  const width = names.length;
  const out: FeatureReference[] = [];
  const column = new Float64Array(rows);
  for (let f = 0; f < width; f++) {
    const name = names[f]!;
    if (options.include && !options.include(name)) continue;
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const v = features[r * width + f]!;
      if (!Number.isNaN(v)) column[n++] = v;
    }
    const finite = column.subarray(0, n).sort();
    const edges: number[] = [];
    for (let b = 1; b < bins && n > 0; b++) {
      const edge = finite[Math.min(n - 1, Math.floor((b * n) / bins))]!;
      // An edge at the maximum would leave the last bin empty by construction.
      if (edge < finite[n - 1]! && (edges.length === 0 || edge > edges[edges.length - 1]!)) edges.push(edge);
    }
    out.push({ name, edges, shares: binShares(features, rows, width, f, edges) });
  }
  return { schemaVersion: 1, featureSchemaHash: options.featureSchemaHash, rows, features: out };
}

/** PSI of each reference feature over live row-major `features` with the given column names. */
export function featureShifts(
  reference: DriftReference,
  features: Float32Array,
  rows: number,
  names: readonly string[],
): FeatureShift[] {
  const width = names.length;
  const column = new Map(names.map((n, i) => [n, i]));
  const out: FeatureShift[] = [];
  for (const ref of reference.features) {
    const f = column.get(ref.name);
    if (f === undefined) continue;
    out.push({ name: ref.name, psi: psi(ref.shares, binShares(features, rows, width, f, ref.edges)) });
  }
  return out;
}

/** Population stability index of two share vectors over the same bins. */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new RangeError('PSI needs the same bins on both sides');
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(MIN_SHARE, expected[i]!);
    const a = Math.max(MIN_SHARE, actual[i]!);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** Shares of column `f` per bin (edges.length + 1 value bins, then missing); all zero without rows. */
function binShares(features: Float32Array, rows: number, width: number, f: number, edges: readonly number[]) {
  const counts = new Float64Array(edges.length + 2);
  for (let r = 0; r < rows; r++) {
    const v = features[r * width + f]!;
    counts[Number.isNaN(v) ? edges.length + 1 : upperBound(edges, v)]!++;
  }
  return Array.from(counts, (c) => (rows === 0 ? 0 : c / rows));
}

/** The first bin whose edge is ≥ v (edges.length when none is): binary search. */
function upperBound(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! >= v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
