/**
 * An exhaustion forecast model ready to score: a Scorer whose model was
 * trained on this build's feature schema, with its operating threshold. The
 * agent, `cloudsense predict` and `cloudsense evaluate` load models through
 * here, so a model built for other features is refused in one place.
 */
import { ValidationError } from '../errors.js';
import { FEATURE_SCHEMA } from '../features/schema.js';
import { DEFAULT_OPERATING_THRESHOLD_FALLBACK } from './onnx-contract.js';
import { loadScorer, type Scorer, type ScorerOptions } from './scorer.js';

/** Rows per scoring call when scoring many: large enough to amortise the call, small enough for memory. */
export const SCORE_CHUNK_ROWS = 16_384;

export class ForecastModel {
  private constructor(
    readonly scorer: Scorer,
    /** Alert when probability >= this. */
    readonly operatingThreshold: number,
  ) {}

  get metadata() {
    return this.scorer.metadata;
  }

  /** Loads a model (bytes or path) and checks it is a forecast for this build's features. */
  static async load(model: Uint8Array | string, options: ScorerOptions = {}): Promise<ForecastModel> {
    const scorer = await loadScorer(model, options);
    const m = scorer.metadata;
    const problem =
      m.objective !== 'binary'
        ? `its objective is ${m.objective}, not binary`
        : m.featureSchemaHash !== FEATURE_SCHEMA.hash
          ? `it was trained on feature schema ${m.featureSchemaHash.slice(0, 12)}…, this build computes ${FEATURE_SCHEMA.hash.slice(0, 12)}…`
          : m.featureNames.length !== FEATURE_SCHEMA.names.length ||
              m.featureNames.some((n, i) => n !== FEATURE_SCHEMA.names[i])
            ? 'its feature names differ from this build'
            : undefined;
    if (problem) {
      await scorer.release();
      throw new ValidationError(`not an exhaustion forecast for this version: ${problem}`);
    }
    return new ForecastModel(scorer, m.operatingThreshold ?? DEFAULT_OPERATING_THRESHOLD_FALLBACK);
  }

  /** Probabilities for `rows` row-major feature vectors, scored in chunks. */
  async scoreMany(features: Float32Array, rows: number): Promise<Float32Array> {
    const width = this.scorer.featureCount;
    const out = new Float32Array(rows);
    for (let at = 0; at < rows; at += SCORE_CHUNK_ROWS) {
      const n = Math.min(SCORE_CHUNK_ROWS, rows - at);
      out.set(await this.scorer.score(features.subarray(at * width, (at + n) * width), n), at);
    }
    return out;
  }

  release(): Promise<void> {
    return this.scorer.release();
  }
}

/**
 * The time-to-exhaustion band (P10, P50, P90 quantile models of ln seconds
 * until the next exhaustion, for when one is coming; models/fit/tte-band.ts
 * trains them). Scores to seconds, sorted so P10 ≤ P50 ≤ P90 where the
 * separately fitted quantiles cross.
 */
export class TimeToExhaustionBand {
  private constructor(private readonly scorers: readonly [Scorer, Scorer, Scorer]) {}

  /** Loads the three models, each from its file path or its bytes. */
  static async load(
    models: {
      p10: string | Uint8Array;
      p50: string | Uint8Array;
      p90: string | Uint8Array;
    },
    options: ScorerOptions = {},
  ): Promise<TimeToExhaustionBand> {
    const loaded: Scorer[] = [];
    try {
      for (const [q, model] of [
        ['p10', models.p10],
        ['p50', models.p50],
        ['p90', models.p90],
      ] as const) {
        const scorer = await loadScorer(model, options);
        loaded.push(scorer);
        if (
          scorer.metadata.objective !== 'quantile' ||
          scorer.metadata.featureSchemaHash !== FEATURE_SCHEMA.hash
        ) {
          const what = typeof model === 'string' ? model : `the ${q} model`;
          throw new ValidationError(`${what} is not a time-to-exhaustion quantile model for this version`);
        }
      }
    } catch (err) {
      await Promise.all(loaded.map((s) => s.release()));
      throw err;
    }
    return new TimeToExhaustionBand(loaded as [Scorer, Scorer, Scorer]);
  }

  /** Seconds: row r's band is out[3r], out[3r + 1], out[3r + 2]. */
  async scoreMany(features: Float32Array, rows: number): Promise<Float64Array> {
    const width = this.scorers[0].featureCount;
    const out = new Float64Array(rows * 3);
    const ln = [0, 0, 0];
    for (let at = 0; at < rows; at += SCORE_CHUNK_ROWS) {
      const n = Math.min(SCORE_CHUNK_ROWS, rows - at);
      const chunk = features.subarray(at * width, (at + n) * width);
      const [a, b, c] = await Promise.all(this.scorers.map((s) => s.score(chunk, n)));
      for (let r = 0; r < n; r++) {
        ln[0] = a![r]!;
        ln[1] = b![r]!;
        ln[2] = c![r]!;
        ln.sort((x, y) => x - y);
        for (let q = 0; q < 3; q++) out[(at + r) * 3 + q] = Math.exp(ln[q]!);
      }
    }
    return out;
  }

  release(): Promise<void> {
    return Promise.all(this.scorers.map((s) => s.release())).then(() => undefined);
  }
}
