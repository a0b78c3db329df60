/**
 * The `trees` scoring engine (see scorer.ts): scores a CloudSense ONNX
 * model by walking its tree ensemble (onnx-trees.ts) in TypeScript, as
 * onnxruntime's TreeEnsembleRegressor would: comparisons and the sum in
 * double when the graph casts its input to double (every model the exporter
 * writes), the ensemble's output rounded to float32, then Sigmoid or
 * Identity in float32.
 *
 * A single row costs less than an onnxruntime call (the call's fixed
 * overhead is gone); large batches are about half as fast as onnxruntime's
 * C++ (`npm run bench:score`). The agent scores a few
 * rows per cycle, the aggregator large batches.
 */
import { ValidationError, errorMessage } from '../errors.js';
import { FEATURES_INPUT, PREDICTION_OUTPUT } from './onnx-contract.js';
import { readOnnxMetadata, type OnnxModelMetadata } from './onnx-metadata.js';
import { BRANCH_MODE_MASK, LEAF, MISSING_TRUE, readTreeEnsemble, type TreeEnsemble } from './onnx-trees.js';
import { checkScoreArguments, type Scorer } from './scorer.js';

export class TreeScorer implements Scorer {
  readonly engine = 'trees' as const;
  readonly outputName: string;
  readonly featureCount: number;
  private released = false;

  private constructor(
    private readonly trees: TreeEnsemble,
    readonly metadata: OnnxModelMetadata,
  ) {
    this.outputName = PREDICTION_OUTPUT[metadata.objective];
    this.featureCount = metadata.featureNames.length;
  }

  static load(bytes: Uint8Array): TreeScorer {
    const metadata = readOnnxMetadata(bytes);
    let trees: TreeEnsemble;
    try {
      trees = readTreeEnsemble(bytes, FEATURES_INPUT, PREDICTION_OUTPUT[metadata.objective]);
    } catch (err) {
      throw new ValidationError(
        `the trees engine cannot run this model (${errorMessage(err)}); score it with the onnxruntime engine`,
        { cause: err },
      );
    }
    let maxFeature = -1;
    for (let k = 0; k < trees.mode.length; k++) {
      if (trees.mode[k] !== LEAF) maxFeature = Math.max(maxFeature, trees.feature[k]!);
    }
    if (maxFeature >= metadata.featureNames.length) {
      throw new ValidationError(
        `ONNX model does not match its metadata: a node reads feature ${maxFeature}, the model has ${metadata.featureNames.length}`,
      );
    }
    return new TreeScorer(trees, metadata);
  }

  async score(rows: Float32Array, nRows: number): Promise<Float32Array> {
    checkScoreArguments(this.released, rows, nRows, this.featureCount);
    const out = new Float32Array(nRows);
    const { roots, mode, feature, value, falseNode } = this.trees;
    const width = this.featureCount;
    const double = this.trees.doubleInput;
    for (let r = 0; r < nRows; r++) {
      const base = r * width;
      let sum = 0;
      for (let t = 0; t < roots.length; t++) {
        let k = roots[t]!;
        let m = mode[k]!;
        while (m !== LEAF) {
          const x = rows[base + feature[k]!]!;
          k = goesTrue(m, x, value[k]!) ? k + 1 : falseNode[k]!;
          m = mode[k]!;
        }
        sum = double ? sum + value[k]! : Math.fround(sum + value[k]!);
      }
      const raw = Math.fround(this.trees.baseValue + sum);
      out[r] = this.trees.sigmoid ? 1 / (1 + Math.exp(-raw)) : raw;
    }
    return out;
  }

  async release(): Promise<void> {
    this.released = true;
  }
}

/** One branch node's decision, ONNX-ML semantics (onnx-trees.ts). */
function goesTrue(mode: number, x: number, threshold: number): boolean {
  if (x !== x && mode & MISSING_TRUE) return true;
  switch (mode & BRANCH_MODE_MASK) {
    case 0:
      return x <= threshold;
    case 1:
      return x < threshold;
    case 2:
      return x >= threshold;
    case 3:
      return x > threshold;
    case 4:
      return x === threshold;
    default:
      return x !== threshold;
  }
}
