import { existsSync, statSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { DUCKDB_FILE } from '../../aggregator/aggregator.js';
import { type AggregatorConfig, AggregatorConfigSchema, DUCKDB_STORE_URL } from '../../aggregator/config.js';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';
import { EXPORT_KINDS, type ExportKind } from '../../aggregator/storage/duckdb/parquet-export.js';
import { loadConfig } from '../../shared/config/load.js';
import { CloudSenseError, NotFoundError, ValidationError, errorMessage } from '../../shared/errors.js';
import { HOST_ID_PATTERN } from '../../shared/wire/topics.js';
import { DATA_DIR_FLAGS, failCommand, openDataDir, parseTimeOption, withDataDirAction } from '../data-dir.js';
import { configSources, exitOnConfigError } from '../options.js';

interface ParquetOptions extends Record<string, unknown> {
  out: string;
  what: ExportKind;
  from?: string;
  to?: string;
  host?: string;
  metric?: string;
}

/** Usage errors (a missing or unknown flag, a value not among the choices) exit 2, as bad input does. */
const EXIT_USAGE = 2;

export function exportCommand(): Command {
  return new Command('export')
    .summary("export a data dir's stored rows to files for other tools")
    .description('Write stored telemetry, aggregates, predictions or events to files other tools read.')
    .addCommand(parquetCommand());
}

function parquetCommand(): Command {
  const command = new Command('parquet')
    .summary('write stored rows of a time range to a Parquet file')
    .description(
      "Write the rows of one kind from the data dir's DuckDB store to a Parquet file, ordered by host and " +
        'time. The store is opened by this command alone: stop an aggregator that runs on the data dir first. ' +
        'See docs/storage.md.',
    )
    .addHelpText(
      'after',
      [
        '',
        'Columns (times are UTC TIMESTAMPs without a zone; attributes and messages are JSON text):',
        '  samples      host, time, metric, unit, attributes, value, seq (0: imported)',
        '  aggregates   host, time (bucket start), interval_s, metric, unit, attributes,',
        '               min, max, mean, last, count, last_time (samples past the raw retention)',
        '  predictions  host, time, seq, resource, probability, alert, threshold, horizon_s,',
        '               tte_p10_s, tte_p50_s, tte_p90_s, model_source, model_run_id, model_version',
        '  events       host, time, seq, type, resource, message',
        '',
        'Example:',
        '  cloudsense export parquet --data-dir ./data --from 2026-03-01 --to 2026-03-08 \\',
        '    --host web-01 --metric system.memory.utilization --out web-01-memory.parquet',
      ].join('\n'),
    )
    .requiredOption('--out <file.parquet>', 'the Parquet file to write (replaced when it exists)')
    .addOption(new Option('--what <kind>', 'which rows to export').choices(EXPORT_KINDS).default('samples'))
    .option('--from <time>', 'first row time, ISO 8601 (default: the first stored)')
    .option('--to <time>', 'rows before this time, ISO 8601 (default: all)')
    .option('--host <id>', 'one host only (default: every host)')
    .option('--metric <name>', 'one metric only, e.g. system.cpu.utilization (samples and aggregates)')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));
  return withDataDirAction(command, async (options: ParquetOptions) => {
    try {
      await exportParquet(options);
    } catch (err) {
      failCommand('export parquet', errorMessage(err), err);
    }
  });
}

async function exportParquet(options: ParquetOptions): Promise<void> {
  const from = parseTimeOption('--from', options.from);
  const to = parseTimeOption('--to', options.to);
  if (from !== undefined && to !== undefined && !(from < to)) {
    throw new ValidationError('--from must be before --to');
  }
  if (options.host !== undefined && !HOST_ID_PATTERN.test(options.host)) {
    throw new ValidationError(`--host: not a host id: ${options.host} (letters, digits, ".", "_", "-")`);
  }
  if (options.metric !== undefined && options.what !== 'samples' && options.what !== 'aggregates') {
    throw new ValidationError(`--metric applies to --what samples or aggregates, not ${options.what}`);
  }
  const out = resolve(options.out);
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) {
    throw new ValidationError(`--out: the directory ${dirname(out)} does not exist`);
  }
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new ValidationError(`--out: ${out} is a directory; name the file to write`);
  }
  requireStoreFile(options);

  const data = await openDataDir('export parquet', options);
  // Written beside the target and renamed at the end: a failed run leaves no half file behind.
  const partial = `${out}.partial`;
  try {
    const store = data.store;
    if (!(store instanceof DuckDbTelemetryStore)) {
      throw new CloudSenseError(
        'UNSUPPORTED_STORE',
        `export parquet reads DuckDB stores; this is ${store.description}`,
        {
          permanent: true,
        },
      );
    }
    const result = await store.exportParquet({
      what: options.what,
      file: partial,
      from,
      to,
      hostId: options.host,
      metric: options.metric,
    });
    if (result.rows === 0 && options.host !== undefined) await requireHost(store, options.host);
    await rename(partial, out);
    const size = (await stat(out)).size;
    const range =
      result.firstMs === undefined
        ? 'none in the range'
        : `${new Date(result.firstMs).toISOString()} to ${new Date(result.lastMs!).toISOString()}`;
    process.stdout.write(
      `exported ${result.rows.toLocaleString('en-US')} ${options.what} rows of ${result.hosts} ` +
        `host${result.hosts === 1 ? '' : 's'} (${range}) to ${out}, ${formatBytes(size)}\n`,
    );
  } finally {
    await rm(partial, { force: true });
    await data.close();
  }
}

/**
 * Refuses a data dir without a store before opening it: DuckDB would
 * otherwise create an empty one there (a mistyped --data-dir).
 */
function requireStoreFile(options: ParquetOptions): void {
  let config: AggregatorConfig;
  try {
    config = loadConfig(AggregatorConfigSchema, configSources(options, DATA_DIR_FLAGS));
  } catch (err) {
    exitOnConfigError(err);
  }
  if (config.aggregator.store.url !== DUCKDB_STORE_URL) {
    throw new ValidationError(
      'export parquet reads the embedded DuckDB store; this configuration stores in InfluxDB ' +
        '(aggregator.store.url): export from InfluxDB with its own tools',
    );
  }
  const dataDir = config.dataDir;
  const file = join(resolve(dataDir), DUCKDB_FILE);
  if (!existsSync(file)) {
    throw new NotFoundError(`no store in ${resolve(dataDir)} (no ${DUCKDB_FILE}); is --data-dir right?`);
  }
}

/** A host filter that matched nothing: fine for a range without data, an error for an unknown host. */
async function requireHost(store: DuckDbTelemetryStore, hostId: string): Promise<void> {
  const known = new Set([
    ...(await store.latestPerHost()).map((h) => h.hostId),
    ...(await store.highestSeqPerHost()).keys(),
  ]);
  if (known.has(hostId)) return;
  const list = [...known].sort();
  throw new NotFoundError(
    `no host ${hostId} in the store; ${list.length === 0 ? 'it is empty' : `hosts: ${list.slice(0, 20).join(', ')}${list.length > 20 ? ', …' : ''}`}`,
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
