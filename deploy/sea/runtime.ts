/**
 * What runs inside the single executable to reach its embedded files: the
 * unpacked directories (see embedded-files.ts), onnxruntime's binding loaded
 * from one, and the models directory the agent uses by default.
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
  manifestId,
  unpackEmbeddedFiles,
  type EmbeddedManifest,
} from './embedded-files.js';

let manifest: EmbeddedManifest | undefined;
/** The embedded files come in two parts, each unpacked into a directory of its own when first needed. */
type Part = 'models' | 'onnxruntime';
const unpackedDirs = new Map<Part, string>();

function embeddedManifest(): EmbeddedManifest {
  if (!isSea()) throw new EmbeddedFilesError('embedded files exist only in the single executable');
  manifest ??= JSON.parse(getAsset(MANIFEST_ASSET, 'utf8')) as EmbeddedManifest;
  return manifest;
}

/**
 * The directory holding one part of the embedded files, unpacked on the
 * first call: the models, which every start needs, or onnxruntime, which
 * only the onnxruntime scoring engine loads. An agent on the default
 * engine neither writes onnxruntime's 46 MB nor checks its hash at start.
 */
function embeddedPartDir(part: Part): string {
  let dir = unpackedDirs.get(part);
  if (dir === undefined) {
    const all = embeddedManifest();
    const files = all.files.filter((f) => f.path.startsWith(`${MODELS_SUBDIR}/`) === (part === 'models'));
    const partManifest = { version: all.version, id: manifestId(files), files };
    dir = unpackEmbeddedFiles(partManifest, (key) => getAsset(key), cacheRoot());
    unpackedDirs.set(part, dir);
  }
  return dir;
}

/** The embedded baseline models, or undefined when the executable was built without any. */
export function embeddedModelsDir(): string | undefined {
  const hasModels = embeddedManifest().files.some((f) => f.path.startsWith(`${MODELS_SUBDIR}/`));
  return hasModels ? join(embeddedPartDir('models'), MODELS_SUBDIR) : undefined;
}

/**
 * onnxruntime-node's native binding, loaded from the unpacked directory. The
 * bundle calls this where onnxruntime-node's own code requires
 * `../bin/napi-v6/<platform>/<arch>/onnxruntime_binding.node` (the build
 * rewrites that one line).
 */
export function loadOnnxruntimeBinding(): unknown {
  const path = join(embeddedPartDir('onnxruntime'), ONNXRUNTIME_BINDING_FILE);
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
