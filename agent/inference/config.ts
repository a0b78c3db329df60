import { resolve } from 'node:path';
import { z } from 'zod';
import { BUNDLED_MODELS_DIR } from '../../shared/inference/model-files.js';

export const ModelsSectionSchema = z
  .object({
    /**
     * Directory of exhaustion models: `<kind>.onnx` per resource kind, and
     * optionally `<kind>.tte_p10.onnx`, `.tte_p50.onnx`, `.tte_p90.onnx` for
     * the time-to-exhaustion band. A kind without a file gets no predictions.
     * Default: the bundled baseline models (`models/baseline/` in the package).
     */
    dir: z.string().min(1).optional(),
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
  return { dir: BUNDLED_MODELS_DIR, configured: false };
}
