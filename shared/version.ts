import { readFileSync } from 'node:fs';

import { fileURLToPath } from 'node:url';

/**
 * The package's root directory (where package.json is): one level up from
 * shared/ in the sources, two from dist/shared/ in the build. Undefined in a
 * bundle that ships without it (the single-file agent).
 */
export const PACKAGE_ROOT: string | undefined = findPackage()?.root;

/** The package version, read once from package.json. */
export const VERSION: string = findPackage()?.version ?? '0.0.0';

function findPackage(): { root: string; version: string } | undefined {
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
