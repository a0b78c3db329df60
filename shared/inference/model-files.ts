/**
 * How a directory of exhaustion models is laid out, for the bundled baseline
 * models (models/baseline/) and any directory an agent is pointed at: one
 * `<kind>.onnx` forecast per resource kind, and optionally its
 * time-to-exhaustion band `<kind>.tte_p10.onnx`, `.tte_p50.onnx`,
 * `.tte_p90.onnx` (all three or none).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResourceKind } from '../resources/resource-id.js';
import { PACKAGE_ROOT } from '../version.js';

/** The bundled baseline models in the package; undefined in a bundle shipped without them. */
export const BUNDLED_MODELS_DIR: string | undefined =
  PACKAGE_ROOT === undefined ? undefined : join(PACKAGE_ROOT, 'models', 'baseline');

let findEmbeddedModelsDir: (() => string | undefined) | undefined;

/**
 * Where the agent's default models are: the package's models/baseline/, or,
 * in a build that carries its models inside (the single executable), the
 * directory it has installed with `useEmbeddedModelsDir`.
 */
export function bundledModelsDir(): string | undefined {
  return findEmbeddedModelsDir ? findEmbeddedModelsDir() : BUNDLED_MODELS_DIR;
}

/**
 * Set once at start by a build that embeds its models. `find` runs when the
 * models are first looked for, so it may unpack them then (and `--help`
 * does not).
 */
export function useEmbeddedModelsDir(find: () => string | undefined): void {
  findEmbeddedModelsDir = find;
}

export interface ModelFiles {
  /** The exhaustion forecast (binary GBDT). */
  model: string;
  /** The P10/P50/P90 time-to-exhaustion models, when all three are there. */
  band?: { p10: string; p50: string; p90: string };
}

/** The files of `kind` in `dir`; undefined when there is no `<kind>.onnx`. */
export function modelFilesIn(dir: string, kind: ResourceKind): ModelFiles | undefined {
  const model = join(dir, `${kind}.onnx`);
  if (!existsSync(model)) return undefined;
  const band = {
    p10: join(dir, `${kind}.tte_p10.onnx`),
    p50: join(dir, `${kind}.tte_p50.onnx`),
    p90: join(dir, `${kind}.tte_p90.onnx`),
  };
  return Object.values(band).every((p) => existsSync(p)) ? { model, band } : { model };
}
