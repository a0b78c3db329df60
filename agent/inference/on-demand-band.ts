/**
 * A time-to-exhaustion band whose three onnxruntime sessions exist only
 * while forecasts need them. The band is scored only for a resource whose
 * probability reaches its model's threshold, which on a healthy host is
 * almost never, while its sessions hold as much memory as the classifier
 * (about 3 MiB each for the bundled models, 24 sessions in all for six
 * kinds): so the files are checked when the model is loaded (metadata only,
 * no session), the sessions are created on the first scoring and released
 * again after `idleMs` without one.
 *
 * A band that onnxruntime cannot load is reported once and scores as
 * missing (NaN), so the forecasts it was asked for still go out, without a
 * band; it is not retried (the files do not change under a loaded model).
 */
import { readFile } from 'node:fs/promises';
import { CloudSenseError, ValidationError, errorMessage } from '../../shared/errors.js';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { TimeToExhaustionBand } from '../../shared/inference/forecast-model.js';
import { readOnnxMetadata } from '../../shared/inference/onnx-metadata.js';
import type { ScoringEngine } from '../../shared/inference/scorer.js';
import type { Logger } from '../../shared/log.js';

/** Release the sessions after this long without a scoring, ms: 15 minutes, many cycles of an alert apart. */
export const BAND_IDLE_RELEASE_MS = 15 * 60_000;

/** The three quantile models, each as a file path or its bytes. */
export interface BandSources {
  p10: string | Uint8Array;
  p50: string | Uint8Array;
  p90: string | Uint8Array;
}

/** What the forecaster and the smoke test need of a band: ServingModel.band. */
export interface BandScorer {
  /** Seconds: row r's band is out[3r], out[3r + 1], out[3r + 2]; NaN when the band cannot be scored. */
  scoreMany(features: Float32Array, rows: number): Promise<Float64Array>;
  /** Frees the native sessions. Safe to call twice; `scoreMany` fails afterwards. */
  release(): Promise<void>;
}

export class OnDemandBand implements BandScorer {
  private band: Promise<TimeToExhaustionBand | undefined> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** scoreMany calls in progress: the sessions are not released under them. */
  private scoring = 0;
  private failed = false;
  private released = false;

  private constructor(
    private readonly sources: BandSources,
    private readonly log: Logger | undefined,
    private readonly idleMs: number,
    private readonly engine: ScoringEngine | undefined,
  ) {}

  /**
   * Checks that the three files are this build's quantile models (read from
   * their metadata, no session created) and returns the band, unloaded.
   */
  static async check(
    sources: BandSources,
    options: { log?: Logger | undefined; idleMs?: number; engine?: ScoringEngine | undefined } = {},
  ): Promise<OnDemandBand> {
    for (const q of ['p10', 'p50', 'p90'] as const) {
      const source = sources[q];
      const metadata = readOnnxMetadata(typeof source === 'string' ? await readFile(source) : source);
      if (metadata.objective !== 'quantile' || metadata.featureSchemaHash !== FEATURE_SCHEMA.hash) {
        const what = typeof source === 'string' ? source : `the ${q} model`;
        throw new ValidationError(`${what} is not a time-to-exhaustion quantile model for this version`);
      }
    }
    return new OnDemandBand(sources, options.log, options.idleMs ?? BAND_IDLE_RELEASE_MS, options.engine);
  }

  /** True while the sessions are loaded (or loading). */
  get loaded(): boolean {
    return this.band !== undefined;
  }

  async scoreMany(features: Float32Array, rows: number): Promise<Float64Array> {
    if (this.released) {
      throw new CloudSenseError('SCORER_RELEASED', 'scoreMany() called after release()', { permanent: true });
    }
    clearTimeout(this.idleTimer);
    this.scoring++;
    try {
      this.band ??= this.load();
      const band = await this.band;
      return band ? await band.scoreMany(features, rows) : new Float64Array(rows * 3).fill(NaN);
    } finally {
      this.scoring--;
      if (this.scoring === 0 && this.released) void this.unload();
      else if (this.scoring === 0 && !this.failed) {
        this.idleTimer = setTimeout(() => void this.unload(), this.idleMs);
        // An idle band never keeps the agent alive.
        this.idleTimer.unref();
      }
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.unload();
  }

  private async load(): Promise<TimeToExhaustionBand | undefined> {
    try {
      return await TimeToExhaustionBand.load(this.sources, { engine: this.engine });
    } catch (err) {
      this.failed = true;
      this.log?.error(
        { err: errorMessage(err) },
        'cannot load the time-to-exhaustion band; forecasts of this model go out without one',
      );
      return undefined;
    }
  }

  private async unload(): Promise<void> {
    clearTimeout(this.idleTimer);
    const band = this.band;
    if (!band || this.scoring > 0 || this.failed) return;
    this.band = undefined;
    await (await band)?.release();
  }
}
