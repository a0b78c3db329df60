import { readFileSync } from 'node:fs';

import { fileURLToPath } from 'node:url';

/**
 * The version a bundler wrote into the code (esbuild `define`, see
 * deploy/sea/build-agent.ts): the single-file agent has no package.json
 * beside it to read. Undeclared, and so `undefined`, everywhere else.
 */
declare const CLOUDSENSE_BUNDLED_VERSION: string | undefined;

/**
 * The package's root directory (where package.json is): one level up from
 * shared/ in the sources, two from dist/shared/ in the build. Undefined in a
 * bundle that ships without it (the single-file agent).
 */
export const PACKAGE_ROOT: string | undefined = findPackage()?.root;

/** The package version: the bundled one, else read once from package.json. */
export const VERSION: string =
  typeof CLOUDSENSE_BUNDLED_VERSION === 'string'
    ? CLOUDSENSE_BUNDLED_VERSION
    : (findPackage()?.version ?? '0.0.0');

function findPackage(): { root: string; version: string } | undefined {
  // A CommonJS bundle has no module URL (esbuild leaves `import.meta` empty).
  if (typeof import.meta.url !== 'string') return undefined;
  for (const rel of ['../', '../../']) {
    try {
      const root = new URL(rel, import.meta.url);
      const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'cloudsense' && pkg.version) {
        return { root: fileURLToPath(root).replace(/\/$/, ''), version: pkg.version };
      }
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}
