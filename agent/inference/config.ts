import { resolve } from 'node:path';
import { z } from 'zod';
import { bundledModelsDir } from '../../shared/inference/model-files.js';
import { SCORING_ENGINES, type ScoringEngine } from '../../shared/inference/scorer.js';

/** Model updates are taken by default (once a public key is configured). */
export const DEFAULT_MODEL_UPDATES = true;
/** The engine the agent scores with: see `engine` below. */
export const DEFAULT_AGENT_SCORING_ENGINE: ScoringEngine = 'trees';

export const ModelsSectionSchema = z
  .object({
    /**
     * Directory of exhaustion models: `<kind>.onnx` per resource kind, and
     * optionally `<kind>.tte_p10.onnx`, `.tte_p50.onnx`, `.tte_p90.onnx` for
     * the time-to-exhaustion band. A kind without a file gets no predictions.
     * Default: the bundled baseline models (`models/baseline/` in the package,
     * embedded in the single executable).
     */
    dir: z.string().min(1).optional(),
    /**
     * The aggregator's Ed25519 public key that model updates must be signed
     * with: a file path (PEM, or the raw key in base64), or the key inline
     * (PEM text, or 44 characters of base64). Without it model updates are
     * refused and the agent keeps the models it has. Default: none.
     */
    publicKey: z.string().min(1).optional(),
    /**
     * Whether to take signed model updates from the aggregator (retained on
     * `cloudsense/v1/models/…`). Default true; they need `publicKey` too.
     */
    updates: z.boolean().default(DEFAULT_MODEL_UPDATES),
    /**
     * What runs the models: `onnxruntime` (ONNX Runtime's native library)
     * or `trees` (the model file's tree ensemble walked in the agent's own
     * code: the same scores to float32 rounding, no native library, about
     * 40 MiB less RSS). Models are ONNX either way: docs/configuration.md.
     */
    engine: z.enum(SCORING_ENGINES).default(DEFAULT_AGENT_SCORING_ENGINE),
  })
  .strict()
  .prefault({});
export type ModelsSection = z.infer<typeof ModelsSectionSchema>;

/**
 * Where the agent loads its models from, and whether that was configured:
 * a configured directory must exist, the bundled one may be missing (a
 * build shipped without models still sends telemetry).
 */
export function modelsDirOf(section: ModelsSection): { dir: string | undefined; configured: boolean } {
  if (section.dir !== undefined) return { dir: resolve(section.dir), configured: true };
  return { dir: bundledModelsDir(), configured: false };
}
