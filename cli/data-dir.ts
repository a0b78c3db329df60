/**
 * What the offline commands (`train`, `predict`, `evaluate`) share: the
 * configuration (the aggregator's, for the data dir, the store settings and
 * the exhaustion definitions), the data dir's store opened for them alone,
 * the run registry and the model catalog, and one way to fail.
 */
import { join, resolve } from 'node:path';
import { dataDirStore } from '../aggregator/aggregator.js';
import { type AggregatorConfig, AggregatorConfigSchema } from '../aggregator/config.js';
import { ModelCatalog, RUNS_DIR, type ResolvedModel } from '../aggregator/registry/model-catalog.js';
import type { TelemetryStore } from '../aggregator/storage/telemetry-store.js';
import { FileRunRegistry } from '../models/tracking/index.js';
import { loadConfig } from '../shared/config/load.js';
import type { Command } from 'commander';
import {
  BusyError,
  CloudSenseError,
  NotFoundError,
  ValidationError,
  errorMessage,
} from '../shared/errors.js';
import { ForecastModel } from '../shared/inference/forecast-model.js';
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
  const store = dataDirStore(dir, config.aggregator.store);
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

/**
 * A data-dir command's shell: `--config` and `--data-dir` after its own
 * options, and one way to fail (a line on stderr, exit 2 for bad input).
 */
export function withDataDirAction<O extends Record<string, unknown>>(
  command: Command,
  run: (options: O) => Promise<void>,
): Command {
  command.option('-c, --config <file>', 'YAML configuration file (env CLOUDSENSE_CONFIG)');
  for (const [flags, description] of DATA_DIR_FLAGS) command.option(flags, description);
  return command.action(async (options: O) => {
    try {
      await run(options);
    } catch (err) {
      failCommand(command.name(), errorMessage(err), err);
    }
  });
}

/** The model that serves `resource` on this data dir, loaded, and how to name it in output. */
export async function loadCurrentModel(
  data: DataDir,
  resource: string,
): Promise<{ model: ForecastModel; resolved: ResolvedModel; name: string }> {
  const resolved = await data.catalog.resolve(resource);
  if (!resolved) throw new NotFoundError(`no model for ${resource}: train one with cloudsense train`);
  const model = await ForecastModel.load(resolved.path);
  const name =
    resolved.source === 'trained'
      ? `run ${resolved.runId} (current for ${resolved.key})`
      : `bundled baseline (${resolved.key})`;
  return { model, resolved, name };
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
