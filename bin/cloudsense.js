#!/usr/bin/env node
// The `cloudsense` command. The TypeScript sources are compiled to dist/ by
// `npm run build`, which `npm ci` / `npm install` run through `prepare`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'cloudsense: dist/ is missing; run `npm run build` in the CloudSense directory first\n',
  );
  process.exit(1);
}
await import(entry.href);
