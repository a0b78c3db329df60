/**
 * A worker thread running a module next to the caller's: the compiled `.js`
 * file in a build, or, when running from the TypeScript sources (tests and
 * benchmarks under tsx), the `.ts` entry. With Node 20, tsx registers its
 * loader on the main thread only, so such a worker registers it itself
 * before importing the entry, and is not given the process's tsx flags, so
 * it does not load it twice where Node passes them on.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker whose entry is `name` (without extension) in the folder
 * of `callerUrl` (the caller's `import.meta.url`).
 */
export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const entry = new URL(`./${name}.ts`, callerUrl);
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch {
    return new Worker(entry, options); // a runtime that loads .ts by itself
  }
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { ...options, eval: true, execArgv: withoutTsx(process.execArgv) });
}

/** Node flags without those that load tsx (`--import tsx` and the like). */
function withoutTsx(args: readonly string[]): string[] {
  const loaders = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (loaders.has(arg) && args[i + 1]?.includes('tsx')) i++;
    else if (!(arg.startsWith('-') && arg.includes('=') && arg.includes('tsx'))) kept.push(arg);
  }
  return kept;
}
