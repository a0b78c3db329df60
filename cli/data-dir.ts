/**
 * What the offline commands (`train`, `predict`, `evaluate`) share: the
 * configuration (the aggregator's, for the data dir, the store settings and
 * the exhaustion definitions), the data dir's store opened for them alone,
 * the run registry and the model catalog, and one way to fail.
 */
import { join, resolve } from 'node:path';
import { DUCKDB_FILE } from '../aggregator/aggregator.js';
import { type AggregatorConfig, AggregatorConfigSchema } from '../aggregator/config.js';
import { ModelCatalog, RUNS_DIR } from '../aggregator/registry/model-catalog.js';
import { DuckDbTelemetryStore } from '../aggregator/storage/duckdb/duckdb-store.js';
import type { TelemetryStore } from '../aggregator/storage/telemetry-store.js';
import { FileRunRegistry } from '../models/tracking/index.js';
import { loadConfig } from '../shared/config/load.js';
import { BusyError, CloudSenseError, ValidationError, errorMessage } from '../shared/errors.js';
import { canonicalResourceId, isResourceKind } from '../shared/resources/resource-id.js';
import { configSources, exitOnConfigError, type FlagSpec } from './options.js';

/** Flags every data-dir command takes. */
export const DATA_DIR_FLAGS: FlagSpec[] = [
  ['--data-dir <dir>', 'data directory (env CLOUDSENSE_DATA_DIR, default ./data)', 'dataDir'],
];

export interface DataDir {
  config: AggregatorConfig;
  dir: string;
  store: TelemetryStore;
  registry: FileRunRegistry;
  catalog: ModelCatalog;
  close(): Promise<void>;
}

/** Loads the configuration (exits 2 when it is invalid) and opens the data dir's store. */
export async function openDataDir(command: string, options: Record<string, unknown>): Promise<DataDir> {
  let config: AggregatorConfig;
  try {
    config = loadConfig(AggregatorConfigSchema, configSources(options, DATA_DIR_FLAGS));
  } catch (err) {
    exitOnConfigError(err);
  }
  const dir = resolve(config.dataDir);
  const store = new DuckDbTelemetryStore({
    path: join(dir, DUCKDB_FILE),
    memoryLimit: config.aggregator.store.memoryLimit,
    threads: config.aggregator.store.threads,
  });
  try {
    await store.start();
  } catch (err) {
    if (err instanceof BusyError) {
      failCommand(
        command,
        `${err.message}.\nIf that is a running aggregator, stop it first: this command reads the data dir on its own.`,
        err,
      );
    }
    failCommand(command, errorMessage(err), err);
  }
  return {
    config,
    dir,
    store,
    registry: new FileRunRegistry(join(dir, RUNS_DIR)),
    catalog: new ModelCatalog(dir),
    close: () => store.stop(),
  };
}

/** Prints a failure in one line and exits: 2 when retrying cannot help (bad input), 1 otherwise. */
export function failCommand(command: string, message: string, err?: unknown): never {
  process.stderr.write(`cloudsense ${command}: ${message}\n`);
  process.exit(err instanceof CloudSenseError && err.permanent ? 2 : 1);
}

/** `--resource`: a kind (`filesystem`) or a resource id (`filesystem:/var`), checked. */
export function parseResourceOption(text: string): string {
  if (isResourceKind(text)) return text;
  try {
    return canonicalResourceId(text);
  } catch (err) {
    throw new ValidationError(
      `--resource: ${errorMessage(err)} (a kind such as cpu, memory, swap, filesystem, inodes, fds, or an id such as filesystem:/var)`,
      { cause: err },
    );
  }
}

/** An ISO 8601 time flag (with a zone, or UTC when it has none), as Unix epoch ms. */
export function parseTimeOption(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(text) || !/T|\d\d:\d\d/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  if (!Number.isFinite(ms)) {
    throw new ValidationError(
      `${flag}: not an ISO 8601 time: ${text} (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)`,
    );
  }
  return ms;
}
