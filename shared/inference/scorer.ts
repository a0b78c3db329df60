/**
 * What the agent and the aggregator score models through: a `Scorer` over a
 * CloudSense ONNX model, run by one of two engines.
 *
 * - `onnxruntime` (onnx-scorer.ts): the ONNX Runtime, through
 *   onnxruntime-node. Runs any ONNX graph; its native library costs a
 *   process ~34 MiB of RSS with the first model.
 * - `trees` (tree-scorer.ts): the same model file's tree ensemble, read
 *   from the graph and walked in TypeScript. Only the graphs
 *   models/onnx/export.ts writes; scores agree with onnxruntime to float32
 *   rounding (test/integration/tree-scorer.test.ts checks every bundled
 *   model), and it loads no native code, which is what keeps an agent's
 *   RSS small.
 *
 * onnx-scorer.ts is imported only when the onnxruntime engine is asked for,
 * so a process that scores with `trees` never maps onnxruntime's library.
 */
import { readFile } from 'node:fs/promises';
import { CloudSenseError, NotFoundError, ValidationError, errorMessage } from '../errors.js';
import type { OnnxModelMetadata } from './onnx-metadata.js';

export const SCORING_ENGINES = ['onnxruntime', 'trees'] as const;
export type ScoringEngine = (typeof SCORING_ENGINES)[number];
export const DEFAULT_SCORING_ENGINE: ScoringEngine = 'onnxruntime';

export interface ScorerOptions {
  /** Which engine runs the model. Default onnxruntime. */
  engine?: ScoringEngine;
  /** onnxruntime only: threads one `score` call may use (its intra-op pool); 0 means one per core. Default 1. */
  intraOpNumThreads?: number;
  /** onnxruntime only: threads for independent graph nodes; the graph is a chain, so 1 is enough. Default 1. */
  interOpNumThreads?: number;
}

export interface Scorer {
  readonly metadata: OnnxModelMetadata;
  /** Name of the output `score` returns: `probability` for binary models, `value` otherwise. */
  readonly outputName: string;
  /** F: values per row. */
  readonly featureCount: number;
  readonly engine: ScoringEngine;
  /**
   * Scores `nRows` rows laid out row-major in `rows` (row r, feature f at
   * `rows[r * featureCount + f]`; NaN marks a missing value). Resolves with
   * one float32 prediction per row.
   */
  score(rows: Float32Array, nRows: number): Promise<Float32Array>;
  /** Frees what the model holds. Safe to call twice; `score` fails afterwards. */
  release(): Promise<void>;
}

/** Loads a model from its bytes or a file path with the chosen engine; rejects models without CloudSense metadata. */
export async function loadScorer(model: Uint8Array | string, options: ScorerOptions = {}): Promise<Scorer> {
  const bytes = typeof model === 'string' ? await readModelFile(model) : model;
  const engine = options.engine ?? DEFAULT_SCORING_ENGINE;
  if (engine === 'trees') {
    const { TreeScorer } = await import('./tree-scorer.js');
    return TreeScorer.load(bytes);
  }
  if (engine !== 'onnxruntime') throw new ValidationError(`unknown scoring engine ${String(engine)}`);
  const { OnnxScorer } = await import('./onnx-scorer.js');
  return OnnxScorer.load(bytes, options);
}

/** The checks every engine makes on `score`'s arguments. */
export function checkScoreArguments(
  released: boolean,
  rows: Float32Array,
  nRows: number,
  featureCount: number,
): void {
  if (released) {
    throw new CloudSenseError('SCORER_RELEASED', 'score() called after release()', { permanent: true });
  }
  if (!Number.isSafeInteger(nRows) || nRows < 0) {
    throw new ValidationError(`nRows must be a non-negative integer, got ${nRows}`, { path: 'nRows' });
  }
  if (!(rows instanceof Float32Array)) {
    throw new ValidationError('rows must be a Float32Array', { path: 'rows' });
  }
  const expected = nRows * featureCount;
  if (rows.length !== expected) {
    throw new ValidationError(
      `rows has ${rows.length} values, expected nRows × features = ${nRows} × ${featureCount} = ${expected}`,
      { path: 'rows' },
    );
  }
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no model file at ${path}`);
    throw new CloudSenseError('MODEL_UNREADABLE', `cannot read model file ${path}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}
