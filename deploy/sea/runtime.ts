/**
 * What runs inside the single executable to reach its embedded files: the
 * unpacked directory (see embedded-files.ts), onnxruntime's binding loaded
 * from it, and the models directory the agent uses by default.
 */
import { getAsset, isSea } from 'node:sea';
import { join } from 'node:path';
import { errorMessage } from '../../shared/errors.js';
import {
  EmbeddedFilesError,
  MANIFEST_ASSET,
  MODELS_SUBDIR,
  ONNXRUNTIME_BINDING_FILE,
  cacheRoot,
  unpackEmbeddedFiles,
  type EmbeddedManifest,
} from './embedded-files.js';

let manifest: EmbeddedManifest | undefined;
let unpackedDir: string | undefined;

function embeddedManifest(): EmbeddedManifest {
  if (!isSea()) throw new EmbeddedFilesError('embedded files exist only in the single executable');
  manifest ??= JSON.parse(getAsset(MANIFEST_ASSET, 'utf8')) as EmbeddedManifest;
  return manifest;
}

/** The directory holding the embedded files; unpacks them on the first call. */
export function embeddedFilesDir(): string {
  unpackedDir ??= unpackEmbeddedFiles(embeddedManifest(), (key) => getAsset(key), cacheRoot());
  return unpackedDir;
}

/** The embedded baseline models, or undefined when the executable was built without any. */
export function embeddedModelsDir(): string | undefined {
  const hasModels = embeddedManifest().files.some((f) => f.path.startsWith(`${MODELS_SUBDIR}/`));
  return hasModels ? join(embeddedFilesDir(), MODELS_SUBDIR) : undefined;
}

/**
 * onnxruntime-node's native binding, loaded from the unpacked directory. The
 * bundle calls this where onnxruntime-node's own code requires
 * `../bin/napi-v6/<platform>/<arch>/onnxruntime_binding.node` (the build
 * rewrites that one line).
 */
export function loadOnnxruntimeBinding(): unknown {
  const path = join(embeddedFilesDir(), ONNXRUNTIME_BINDING_FILE);
  const module = { exports: {} };
  try {
    process.dlopen(module, path);
  } catch (err) {
    throw new EmbeddedFilesError(
      `cannot load onnxruntime from ${path}: ${errorMessage(err)}. If that file system is mounted ` +
        'noexec, set XDG_CACHE_HOME to a directory on one that is not',
      { cause: err },
    );
  }
  return module.exports;
}
