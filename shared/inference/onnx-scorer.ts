/**
 * The `onnxruntime` scoring engine (see scorer.ts): scores feature rows with
 * a CloudSense ONNX model through onnxruntime-node. Nothing else in the code
 * talks to onnxruntime, so the runtime is tuned in one place.
 *
 * Session settings, and what measuring them on a 200-tree depth-6 model
 * showed (2-core machine, see test/bench/score.bench.ts):
 * - idle pool threads do not spin. This is the one that matters: with two
 *   intra-op threads and a 200-row batch every 20 ms, onnxruntime's default
 *   spinning cost ~1 core of CPU (2.25 s CPU in 2.1 s wall), without it
 *   0.2 s; throughput and latency stayed within noise;
 * - one intra-op thread unless asked otherwise: a second thread roughly
 *   doubles batch throughput (~135k → ~260k rows/s) but the agent scores a
 *   few rows per interval on a host whose CPU it is watching;
 * - sequential execution, graph optimisation 'all', no CPU memory arena and
 *   no memory-pattern planning: the tensors are tiny, and arena, pattern and
 *   optimisation level made no measurable difference to speed or RSS, so
 *   keep nothing cached. The process's first session costs ~28 MiB of RSS
 *   (19 of them pages of libonnxruntime touched when it registers its
 *   kernels), each further model 1-3 MiB for the bundled models
 *   (`npm run bench:agent:memory`, docs/benchmarks.md).
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { CloudSenseError, ValidationError, errorMessage } from '../errors.js';
import { PREDICTION_OUTPUT } from './onnx-contract.js';
import { readOnnxMetadata, type OnnxModelMetadata } from './onnx-metadata.js';
import { checkScoreArguments, type Scorer, type ScorerOptions } from './scorer.js';

export const DEFAULT_INTRA_OP_THREADS = 1;
export const DEFAULT_INTER_OP_THREADS = 1;

export type OnnxScorerOptions = Pick<ScorerOptions, 'intraOpNumThreads' | 'interOpNumThreads'>;

export class OnnxScorer implements Scorer {
  readonly engine = 'onnxruntime' as const;
  /** Name of the float32 [N, F] input. */
  readonly inputName: string;
  /** Name of the output `score` returns: `probability` for binary models, `value` otherwise. */
  readonly outputName: string;
  /** F: values per row. */
  readonly featureCount: number;
  private released = false;

  private constructor(
    private readonly session: InferenceSession,
    readonly metadata: OnnxModelMetadata,
  ) {
    this.inputName = session.inputNames[0]!;
    this.outputName = PREDICTION_OUTPUT[metadata.objective];
    this.featureCount = metadata.featureNames.length;
  }

  /** Loads a model from its bytes; rejects models without CloudSense metadata. Use `loadScorer`. */
  static async load(bytes: Uint8Array, options: OnnxScorerOptions = {}): Promise<OnnxScorer> {
    const metadata = readOnnxMetadata(bytes);
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(bytes, sessionOptions(options));
    } catch (err) {
      throw new ValidationError(`onnxruntime cannot load the model: ${errorMessage(err)}`, { cause: err });
    }
    try {
      checkInterface(session, metadata);
    } catch (err) {
      await session.release();
      throw err;
    }
    return new OnnxScorer(session, metadata);
  }

  async score(rows: Float32Array, nRows: number): Promise<Float32Array> {
    checkScoreArguments(this.released, rows, nRows, this.featureCount);
    if (nRows === 0) return new Float32Array(0);

    const input = new Tensor('float32', rows, [nRows, this.featureCount]);
    let output: InferenceSession.ReturnType;
    try {
      output = await this.session.run({ [this.inputName]: input }, [this.outputName]);
    } catch (err) {
      throw new CloudSenseError('SCORING_FAILED', `onnxruntime failed to score: ${errorMessage(err)}`, {
        cause: err,
        permanent: true,
      });
    }
    const data = output[this.outputName]?.data;
    if (!(data instanceof Float32Array) || data.length !== nRows) {
      throw new CloudSenseError('SCORING_FAILED', `output ${this.outputName} is not float32 [${nRows}, 1]`, {
        permanent: true,
      });
    }
    return data;
  }

  /** Frees the native session. Safe to call twice; `score` fails afterwards. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

function sessionOptions(options: OnnxScorerOptions): InferenceSession.SessionOptions {
  const intra = threads('intraOpNumThreads', options.intraOpNumThreads ?? DEFAULT_INTRA_OP_THREADS);
  const inter = threads('interOpNumThreads', options.interOpNumThreads ?? DEFAULT_INTER_OP_THREADS);
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: intra,
    interOpNumThreads: inter,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableCpuMemArena: false,
    enableMemPattern: false,
    // Warnings only: onnxruntime logs to stderr, outside the project's logger.
    logSeverityLevel: 2,
    // Session config entry `session.intra_op.allow_spinning`; see the header for why.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

function threads(name: keyof OnnxScorerOptions, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 256) {
    throw new ValidationError(`${name} must be an integer 0..256, got ${value}`, { path: name });
  }
  return value;
}

/** The session's graph must take float32 [N, F] and produce the prediction the metadata promises. */
function checkInterface(session: InferenceSession, metadata: OnnxModelMetadata): void {
  const fail = (message: string): never => {
    throw new ValidationError(`ONNX model does not match its metadata: ${message}`);
  };
  if (session.inputNames.length !== 1) fail(`expected one input, found ${session.inputNames.join(', ')}`);
  const input = session.inputMetadata[0];
  const features = metadata.featureNames.length;
  if (!input?.isTensor || input.type !== 'float32') fail(`input ${input?.name} is not a float32 tensor`);
  const shape = input?.isTensor ? input.shape : [];
  if (shape.length !== 2 || shape[1] !== features) {
    fail(`input shape [${shape.join(', ')}] does not fit ${features} feature names`);
  }
  const output = PREDICTION_OUTPUT[metadata.objective];
  if (!session.outputNames.includes(output)) {
    fail(`objective ${metadata.objective} needs output ${output}, found ${session.outputNames.join(', ')}`);
  }
}
