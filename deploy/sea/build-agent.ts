/**
 * Builds the agent as one executable file (`npm run build:agent`):
 * dist/cloudsense-agent-linux-x64, which runs on a Linux x64 machine without
 * Node.js or node_modules. Offline; about ten seconds.
 *
 *   node --import tsx deploy/sea/build-agent.ts [--out FILE] [--models DIR]
 *
 * 1. esbuild bundles deploy/sea/agent-entry.ts (the agent command and what it
 *    imports, nothing of the aggregator or the trainer) into one CommonJS
 *    script, the form a Node 20 single executable application (SEA) runs,
 *    with the package version written in and onnxruntime-node's binding
 *    `require` pointed at deploy/sea/runtime.ts (bundle-agent.ts).
 * 2. onnxruntime's Linux x64 native files and the baseline models
 *    (`--models`, default models/baseline/) are compressed with brotli into
 *    SEA assets, with a manifest of their sizes and SHA-256 hashes.
 * 3. `node --experimental-sea-config` turns script and assets into a blob,
 *    and postject injects it into a copy of the node binary running this
 *    build.
 *
 * See docs/agent-binary.md.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { PACKAGE_ROOT, VERSION } from '../../shared/version.js';
import { bundleAgent } from './bundle-agent.js';
import {
  MANIFEST_ASSET,
  MODELS_SUBDIR,
  ONNXRUNTIME_BINDING_FILE,
  manifestId,
  type EmbeddedFile,
  type EmbeddedManifest,
} from './embedded-files.js';

/** The only platform built for: onnxruntime's native files are per platform, and so is the node binary. */
const PLATFORM = 'linux';
const ARCH = 'x64';
/** Node's SEA resource name and the fuse postject flips so node looks for it. */
const SEA_RESOURCE = 'NODE_SEA_BLOB';
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Brotli quality 5: onnxruntime's 46 MB library → 15 MB in ~2.5 s; 9 saves 0.5 MB more for 12 s. */
const BROTLI_QUALITY = 5;

const here = dirname(fileURLToPath(import.meta.url));
const root = PACKAGE_ROOT ?? resolve(here, '..', '..');
const require = createRequire(import.meta.url);

const args = parseOptions();

if (args.help) {
  process.stdout.write(
    'Usage: npm run build:agent [-- --out FILE] [--models DIR]\n' +
      `Builds the agent as one executable (default dist/cloudsense-agent-${PLATFORM}-${ARCH}), embedding ` +
      'onnxruntime and the *.onnx models of --models (default models/baseline/).\n',
  );
  process.exit(0);
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        out: { type: 'string', default: join(root, 'dist', `cloudsense-agent-${PLATFORM}-${ARCH}`) },
        models: { type: 'string', default: join(root, 'models', 'baseline') },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`build:agent: ${(err as Error).message}; see --help\n`);
    process.exit(2);
  }
}

/** A build problem with what to do about it: printed without a stack trace. */
class BuildError extends Error {}

function fail(message: string): never {
  throw new BuildError(message);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

try {
  await buildAgent(resolve(args.out), args.models);
} catch (err) {
  process.stderr.write(`build:agent: ${err instanceof BuildError ? err.message : (err as Error).stack}\n`);
  process.exitCode = 1;
}

async function buildAgent(out: string, modelsDir: string): Promise<void> {
  if (process.platform !== PLATFORM || process.arch !== ARCH) {
    fail(
      `the single executable is built for ${PLATFORM}-${ARCH} only, on ${PLATFORM}-${ARCH} ` +
        `(this is ${process.platform}-${process.arch}): it is a copy of the node binary running the ` +
        'build, with onnxruntime for the same platform. Build on a Linux x64 machine.',
    );
  }
  const nodeBinary = readFileSync(process.execPath);
  if (!nodeBinary.includes(SEA_FUSE)) {
    fail(
      `${process.execPath} (node ${process.version}) has no single-executable support; ` +
        'build with an official Node.js 20 binary',
    );
  }
  // Distribution packages (Debian's nodejs) link a shared libnode the target machine would need too.
  if (nodeBinary.includes('libnode.so')) {
    fail(
      `${process.execPath} loads a shared libnode.so; build with the official, self-contained Node.js binary`,
    );
  }

  const started = Date.now();
  const step = (message: string) =>
    process.stderr.write(`build:agent: ${message} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  const work = mkdtempSync(join(tmpdir(), 'cloudsense-sea-'));
  try {
    const script = join(work, 'agent.cjs');
    const outside = await bundleAgent(script, VERSION);
    if (outside.length > 0) {
      fail(
        `the bundle would require modules from outside it, which the executable cannot load:\n  ` +
          `${outside.join('\n  ')}\nBundle them, or list optional ones in deploy/sea/bundle-agent.ts.`,
      );
    }
    step(`bundled the agent into one script: ${mb(statSync(script).size)}`);
    const assets = embedAssets(work, modelsDir);
    const models = assets.files.filter((f) => f.path.startsWith(`${MODELS_SUBDIR}/`)).length;
    step(
      `compressed onnxruntime and ${models} models: ${mb(assets.unpackedBytes)} → ${mb(assets.packedBytes)}`,
    );

    const blob = join(work, 'agent.blob');
    const seaConfig = join(work, 'sea-config.json');
    writeFileSync(
      seaConfig,
      JSON.stringify({
        main: script,
        output: blob,
        disableExperimentalSEAWarning: true,
        // V8's compiled code for the script, so a start skips most of its parsing.
        useCodeCache: true,
        assets: assets.byKey,
      }),
    );
    const made = spawnSync(process.execPath, ['--experimental-sea-config', seaConfig], { encoding: 'utf8' });
    if (made.status !== 0) fail(`node --experimental-sea-config failed:\n${made.stderr}${made.stdout}`);

    mkdirSync(dirname(out), { recursive: true });
    // Injected in the work directory, then copied beside the target and
    // renamed: nobody runs a half-written executable. The copy is not only
    // for the rename: postject writes the whole file in one write, which
    // leaves it in the page cache as large folios, and a process mapping
    // such a file has each whole folio counted in its resident memory (13
    // MiB more for the agent, measured). A copy, like a file read back from
    // disk or put in place by install(1), is cached in ordinary pages.
    const injected = join(work, 'agent.executable');
    const partial = `${out}.partial-${process.pid}`;
    try {
      copyFileSync(process.execPath, injected);
      const { inject } = require('postject') as {
        inject: (
          file: string,
          name: string,
          data: Buffer,
          options: { sentinelFuse: string },
        ) => Promise<void>;
      };
      await quietLief(() => inject(injected, SEA_RESOURCE, readFileSync(blob), { sentinelFuse: SEA_FUSE }));
      copyFileSync(injected, partial);
      chmodSync(partial, 0o755);
      renameSync(partial, out);
    } finally {
      rmSync(partial, { force: true });
    }
    step(`injected it into a copy of node ${process.version}`);
    process.stdout.write(
      `${out}: ${mb(statSync(out).size)} (node ${mb(nodeBinary.length)}, onnxruntime and models ` +
        `${mb(assets.packedBytes)}), agent ${VERSION}, built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Runs `inject` without LIEF's (postject's ELF library) harmless
 * "Can't find string offset for section name '.note…'" warnings about the
 * node binary, which postject prints through `console.warn`.
 */
async function quietLief<T>(inject: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...parts: unknown[]) => {
    if (!/^warning: Can't find string offset for section name/.test(String(parts[0]))) warn(...parts);
  };
  try {
    return await inject();
  } finally {
    console.warn = warn;
  }
}

/**
 * Writes each embedded file, brotli-compressed, and the manifest into
 * `work`; returns the sea-config `assets` map (key → file).
 */
function embedAssets(
  work: string,
  modelsDir: string,
): { byKey: Record<string, string>; files: EmbeddedFile[]; unpackedBytes: number; packedBytes: number } {
  const sources: Array<{ path: string; source: string }> = [];
  // Every file onnxruntime ships for this platform (the binding and the libraries it links), side by side.
  const natives = join(
    dirname(require.resolve('onnxruntime-node/package.json')),
    'bin',
    'napi-v6',
    PLATFORM,
    ARCH,
  );
  const nativeNames = readdirSync(natives).sort();
  if (!nativeNames.includes(ONNXRUNTIME_BINDING_FILE)) {
    fail(`${natives} has no ${ONNXRUNTIME_BINDING_FILE}; reinstall onnxruntime-node (npm ci)`);
  }
  for (const name of nativeNames) sources.push({ path: name, source: join(natives, name) });

  const models = listModels(modelsDir);
  if (models.length === 0) {
    process.stderr.write(
      `build:agent: warning: no *.onnx models in ${modelsDir}; the executable will send telemetry ` +
        'without predictions until it is given models (agent.models.dir)\n',
    );
  }
  for (const name of models)
    sources.push({ path: `${MODELS_SUBDIR}/${name}`, source: join(modelsDir, name) });

  const byKey: Record<string, string> = {};
  const files: EmbeddedFile[] = [];
  let unpackedBytes = 0;
  let packedBytes = 0;
  mkdirSync(join(work, 'assets'));
  for (const [i, { path, source }] of sources.entries()) {
    const bytes = readFileSync(source);
    const packed = brotliCompressSync(bytes, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    });
    const key = `${path}.br`;
    const file = join(work, 'assets', `${i}.br`);
    writeFileSync(file, packed);
    byKey[key] = file;
    files.push({
      path,
      asset: key,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    unpackedBytes += bytes.length;
    packedBytes += packed.length;
  }
  const manifest: EmbeddedManifest = { version: VERSION, id: manifestId(files), files };
  const manifestFile = join(work, MANIFEST_ASSET);
  writeFileSync(manifestFile, JSON.stringify(manifest));
  byKey[MANIFEST_ASSET] = manifestFile;
  return { byKey, files, unpackedBytes, packedBytes };
}

function listModels(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.onnx'))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
