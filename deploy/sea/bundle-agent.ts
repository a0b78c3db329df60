/**
 * The agent as one CommonJS script, the form a Node.js 20 single executable
 * runs (see build-agent.ts): esbuild bundles deploy/sea/agent-entry.ts and
 * everything it imports, and two plugins adapt what cannot work inside an
 * executable, whose `require` loads Node's built-in modules only.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Optional packages the bundled code tries inside try/catch and works
 * without (colours for `debug`, native speed-ups for `ws`, macOS
 * temperature sensors for systeminformation). None is installed; left as a
 * `require`, each would make node warn that a single executable's `require`
 * loads built-in modules only, so they are bundled as a module that throws
 * "not found" at once.
 */
const ABSENT_OPTIONAL_MODULES: readonly string[] = [
  'supports-color',
  'bufferutil',
  'utf-8-validate',
  'osx-temperature-sensor',
  'macos-temperature-sensor',
];

/**
 * Bundles deploy/sea/agent-entry.ts into `outfile`, one CommonJS script.
 * Resolves with what the script would still `require` from outside itself
 * besides Node's built-in modules (empty when it can run as an executable);
 * rejects on esbuild errors and warnings.
 */
export async function bundleAgent(outfile: string, version: string): Promise<string[]> {
  const result = await build({
    entryPoints: [join(here, 'agent-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The version, which the sources read from package.json beside them (shared/version.ts).
    define: { CLOUDSENSE_BUNDLED_VERSION: JSON.stringify(version) },
    plugins: [
      onnxruntimeBindingPlugin(join(here, 'runtime.ts')),
      absentModulesPlugin(ABSENT_OPTIONAL_MODULES),
    ],
    metafile: true,
    // shared/version.ts checks for the missing module URL itself.
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'silent',
    legalComments: 'none',
    // Without comments and whitespace the script is 2.3 MB instead of 3.7, and the running agent holds
    // 8-12 MiB less (V8 keeps the source of every function it may still compile). Identifiers are kept,
    // so stack traces still name the functions.
    minifyWhitespace: true,
    minifySyntax: true,
  });
  // Anything else esbuild warns about (a dynamic require it cannot follow) would fail in the executable.
  if (result.warnings.length > 0) {
    throw new Error(
      `esbuild warnings:\n${result.warnings.map((w) => `  ${w.location?.file ?? ''}: ${w.text}`).join('\n')}`,
    );
  }
  // The executable's `require` loads built-in modules only: everything else must be in the script.
  const builtins = new Set(builtinModules);
  return Object.entries(result.metafile.inputs).flatMap(([file, input]) =>
    input.imports
      .filter((i) => i.external && !i.path.startsWith('node:') && !builtins.has(i.path))
      .map((i) => `${file} → ${i.path}`),
  );
}

/** Resolves each of `names` to a module that throws MODULE_NOT_FOUND, as a missing package would. */
function absentModulesPlugin(names: readonly string[]): Plugin {
  const absent = new Set(names);
  return {
    name: 'absent-optional-modules',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (resolved) =>
        absent.has(resolved.path) ? { path: resolved.path, namespace: 'absent' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'absent' }, (loaded) => ({
        contents:
          `const err = new Error(${JSON.stringify(`Cannot find module '${loaded.path}'`)});\n` +
          `err.code = 'MODULE_NOT_FOUND';\nthrow err;\n`,
        loader: 'js',
      }));
    },
  };
}

/**
 * onnxruntime-node loads its binding with
 * `require(\`../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node\`)`,
 * a path that does not exist in the executable: this rewrites that one call
 * to `loadOnnxruntimeBinding()` of deploy/sea/runtime.ts, which loads the
 * unpacked copy. Fails the build if onnxruntime-node changes that line.
 */
function onnxruntimeBindingPlugin(runtime: string): Plugin {
  const bindingRequire =
    /require\(`\.\.\/bin\/napi-v6\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node`\)/g;
  return {
    name: 'onnxruntime-binding',
    setup(b) {
      b.onLoad({ filter: /[\\/]onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, (loaded) => {
        const source = readFileSync(loaded.path, 'utf8');
        const found = source.match(bindingRequire)?.length ?? 0;
        if (found !== 1) {
          throw new Error(
            `${loaded.path}: expected one require of ../bin/napi-v6/…/onnxruntime_binding.node, found ${found}; ` +
              'onnxruntime-node changed how it loads its binding, update deploy/sea/bundle-agent.ts',
          );
        }
        return {
          contents: source.replace(
            bindingRequire,
            `require(${JSON.stringify(runtime)}).loadOnnxruntimeBinding()`,
          ),
          loader: 'js',
        };
      });
    },
  };
}
