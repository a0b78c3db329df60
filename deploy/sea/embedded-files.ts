/**
 * The files the single executable carries inside it (onnxruntime's native
 * library and its Node binding, the baseline models), and how they get onto
 * the disk: native code can only be loaded from a file, so on first use they
 * are unpacked into a cache directory of their own and reused by every later
 * start. The executable unpacks its models and onnxruntime as two such
 * directories, each when first needed (runtime.ts).
 *
 * A directory's name holds the package version and a hash of its files
 * (`agent-0.1.0-3f2a…`), so two builds never share one, and it is only ever
 * created whole: the files are written and synced into a staging directory
 * beside it, which is then renamed into place. Starts that race each other
 * each unpack, the first rename wins, and the others use the winner's copy.
 * Every start checks each file's size and SHA-256 (≈30 ms for onnxruntime's
 * 46 MB) before anything is loaded from it, and replaces a copy that does not
 * match.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';

/** The SEA asset holding the `EmbeddedManifest` as JSON. */
export const MANIFEST_ASSET = 'manifest.json';

/**
 * onnxruntime's Node binding, at the top of the unpacked directory with the
 * libraries it needs: it finds them through its RUNPATH `$ORIGIN/`.
 */
export const ONNXRUNTIME_BINDING_FILE = 'onnxruntime_binding.node';

/** Where the models sit inside the unpacked directory. */
export const MODELS_SUBDIR = 'models';

export interface EmbeddedFile {
  /** Path inside the unpacked directory, `/`-separated. */
  path: string;
  /** SEA asset key of the file's brotli-compressed bytes. */
  asset: string;
  /** Unpacked size, bytes. */
  size: number;
  /** SHA-256 of the unpacked bytes, hex. */
  sha256: string;
}

/** What the build wrote into the executable (deploy/sea/build-agent.ts). */
export interface EmbeddedManifest {
  /** Package version the executable was built from. */
  version: string;
  /** Hex digest over every file's path and SHA-256: names the unpacked directory. */
  id: string;
  files: EmbeddedFile[];
}

/** The unpacked directory's name: version and content hash, so a build never reuses another's files. */
export function unpackedDirName(manifest: EmbeddedManifest): string {
  return `agent-${manifest.version}-${manifest.id.slice(0, 16)}`;
}

/** The manifest's `id`: a digest over the files' paths and hashes, in path order. */
export function manifestId(files: readonly Pick<EmbeddedFile, 'path' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1)))
    hash.update(`${f.path}\0${f.sha256}\n`);
  return hash.digest('hex');
}

/** Unpacking failed; the message says where and what to do. */
export class EmbeddedFilesError extends CloudSenseError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('EMBEDDED_FILES', message, { cause: options.cause, permanent: true });
  }
}

/**
 * The directory the executable unpacks into: systemd's `CACHE_DIRECTORY`
 * (a unit's `CacheDirectory=`), else `$XDG_CACHE_HOME/cloudsense`, else
 * `~/.cache/cloudsense`. Not a `CLOUDSENSE_*` variable: those are all
 * configuration settings, and this is needed before any is read.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string {
  // systemd passes one absolute path per CacheDirectory= entry, separated by ':'.
  const systemd = env.CACHE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'cloudsense');
  return join(home(), '.cache', 'cloudsense');
}

/** What to do when the cache directory does not work. */
const CACHE_HINT =
  'set XDG_CACHE_HOME to a writable directory (the executable uses $XDG_CACHE_HOME/cloudsense)';

/** Reads one asset's bytes (in the executable: `node:sea`'s `getRawAsset`). */
export type AssetReader = (key: string) => ArrayBuffer | Uint8Array;

/**
 * The unpacked directory under `root`, unpacking it first when it is
 * missing or does not match the manifest. Synchronous: onnxruntime loads its
 * binding with a synchronous `require`.
 */
export function unpackEmbeddedFiles(
  manifest: EmbeddedManifest,
  readAsset: AssetReader,
  root: string,
): string {
  const dir = join(root, unpackedDirName(manifest));
  if (isIntact(dir, manifest)) return dir;
  let staging: string;
  try {
    // Private to this user: native code is loaded from here.
    mkdirSync(root, { recursive: true, mode: 0o700 });
    staging = mkdtempSync(join(root, `.${basename(dir)}.staging-`));
  } catch (err) {
    throw new EmbeddedFilesError(
      `cannot create ${root} to unpack onnxruntime and the models into (${errorMessage(err)}); ${CACHE_HINT}`,
      { cause: err },
    );
  }
  try {
    for (const file of manifest.files) writeUnpacked(staging, file, readAsset);
    fsyncDir(staging);
    for (let attempt = 1; ; attempt++) {
      try {
        renameSync(staging, dir);
        fsyncDir(root);
        return dir;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt === 3) throw err;
      }
      // Another start got there first; use its copy unless it is damaged.
      if (isIntact(dir, manifest)) return dir;
      setAside(dir);
    }
  } catch (err) {
    if (err instanceof EmbeddedFilesError) throw err;
    throw new EmbeddedFilesError(
      `cannot unpack onnxruntime and the models into ${root} (${errorMessage(err)}); ${CACHE_HINT}`,
      { cause: err },
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Whether every file is in `dir` with its size and hash, and `dir` is this
 * user's and writable by no one else (as unpacking leaves it): nobody else
 * can swap a file between this check and the load.
 */
export function isIntact(dir: string, manifest: EmbeddedManifest): boolean {
  try {
    const stat = statSync(dir);
    if (stat.uid !== process.getuid?.() || (stat.mode & 0o022) !== 0) return false;
  } catch {
    return false;
  }
  return manifest.files.every((file) => {
    const path = join(dir, file.path);
    try {
      if (statSync(path).size !== file.size) return false;
      return fileSha256(path) === file.sha256;
    } catch {
      return false;
    }
  });
}

function writeUnpacked(staging: string, file: EmbeddedFile, readAsset: AssetReader): void {
  const packed = readAsset(file.asset);
  const bytes = brotliDecompressSync(packed instanceof Uint8Array ? packed : new Uint8Array(packed));
  if (bytes.length !== file.size || sha256(bytes) !== file.sha256) {
    throw new EmbeddedFilesError(
      `the executable is damaged: its copy of ${file.path} does not match the hash it was built with; ` +
        'download or build it again',
    );
  }
  const path = join(staging, file.path);
  mkdirSync(dirname(path), { recursive: true });
  // Read-only: nothing should change these once the hash is checked.
  const fd = openSync(path, 'wx', 0o444);
  try {
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Moves a damaged copy out of the way (another start may have done it already) and deletes it. */
function setAside(dir: string): void {
  const aside = `${dir}.damaged-${process.pid}-${Date.now()}`;
  try {
    renameSync(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return;
  }
  rmSync(aside, { recursive: true, force: true });
}

/** Makes a rename or the files created in `dir` durable. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Bytes read at a time when hashing an unpacked file. */
const HASH_CHUNK_BYTES = 64 * 1024;

/**
 * A file's SHA-256, read in small chunks: reading the unpacked files whole
 * at every start (onnxruntime alone is tens of MB) left ~30 MB of freed
 * buffers in the allocator's keeping for the life of the agent.
 */
function fileSha256(path: string): string {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
