import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { dataDirStore } from '../../aggregator/aggregator.js';
import { BadRowReport } from '../../aggregator/import/bad-rows.js';
import { DEFAULT_BATCH_ROWS, type ImportConfig, ImportConfigSchema } from '../../aggregator/import/config.js';
import {
  type CsvSeriesOptions,
  type FileSummary,
  type ImportSeries,
  SeriesRows,
  finishSeries,
  medianIntervalSeconds,
  readCsvSeriesFile,
} from '../../aggregator/import/csv-series.js';
import { type ImportTarget, resolveTarget } from '../../aggregator/import/import-target.js';
import {
  type ImportPlan,
  OVERLAP_MODES,
  type OverlapMode,
  describeSeries,
  planImport,
  writeSeries,
} from '../../aggregator/import/store-import.js';
import { parseTimeZone, type TimeZone } from '../../aggregator/import/timestamps.js';
import { loadConfig } from '../../shared/config/load.js';
import { BusyError, CloudSenseError, ValidationError, errorMessage } from '../../shared/errors.js';
import { HOST_ID_PATTERN } from '../../shared/wire/topics.js';
import { configSources, exitOnConfigError, type FlagSpec } from '../options.js';
import { ProgressLine } from '../progress.js';
import { badRowLines, summaryLines } from './import-report.js';

/** The flags that set configuration (flags override `CLOUDSENSE_*`, which override the file). */
const FLAGS: FlagSpec[] = [
  ['--data-dir <dir>', 'data directory (env CLOUDSENSE_DATA_DIR, default ./data)', 'dataDir'],
];

/** Exit status of a run stopped by Ctrl-C before it was done, as shells report SIGINT. */
const EXIT_INTERRUPTED = 130;

/** Commander's parsed options (a type, not an interface, so that it is a Record for configSources). */
type CsvOptions = {
  host: string;
  metric: string;
  attribute?: string[];
  timeColumn?: string;
  valueColumn?: string;
  scale?: string;
  unit?: string;
  timezone?: string;
  skipBadRows?: boolean;
  overlap: OverlapMode;
  config?: string;
  dataDir?: string;
};

/** What the flags ask for, validated. */
interface ImportRequest {
  files: string[];
  hostId: string;
  target: ImportTarget;
  parse: CsvSeriesOptions;
  skipBadRows: boolean;
  overlap: OverlapMode;
}

export function importCommand(): Command {
  return new Command('import')
    .summary('backfill history from CSV exports of other monitoring systems')
    .description(
      "Backfill a data dir's telemetry store with history exported from other monitoring systems " +
        '(Prometheus, Netdata, Grafana, …), so that models train on it from day one. See docs/import.md.',
    )
    .addCommand(csvCommand());
}

function csvCommand(): Command {
  const command = new Command('csv')
    .summary('import one series from CSV files with a time and a value column')
    .description(
      [
        'Import one series (one host, one metric) from CSV files: a header line, then a time and a value per row. ' +
          'Several files are parts of the same series (e.g. one export per month); rows may come in any order.',
        'Times: ISO 8601 with a zone (2026-03-01T10:00:00Z), or Unix time in seconds or milliseconds (told apart ' +
          'by size; fractions allowed). Quoted fields (RFC 4180), comma, tab or semicolon separated.',
        'The whole input is checked before anything is written: a bad row stops the import with its file and ' +
          'line, and the store is left as it was, unless --skip-bad-rows. Samples the store already has at the ' +
          'same time are never written twice, so running an import again (or after Ctrl-C) writes only what is ' +
          'missing. No aggregator may be running on the data dir.',
        'Examples:\n' +
          '  cloudsense import csv cpu.csv --host web-01 --metric cpu --scale 0.01\n' +
          '  cloudsense import csv var-*.csv --host db-01 \\\n' +
          '      --metric filesystem:/var --value-column used --scale 0.01\n' +
          '  cloudsense import csv load.csv --host web-01 \\\n' +
          '      --metric system.cpu.load_average.1m',
      ].join('\n\n'),
    )
    .argument('<file...>', 'CSV files, all parts of one series')
    .requiredOption('--host <id>', 'the host the series belongs to (letters, digits, ".", "_", "-")')
    .requiredOption(
      '--metric <name>',
      'OpenTelemetry metric name (system.cpu.utilization), or a resource id as shorthand for its utilisation: ' +
        'cpu, memory, swap, fds, filesystem:<mountpoint>, inodes:<mountpoint>',
    )
    .option(
      '--attribute <key=value>',
      'an attribute of the series, repeatable (e.g. system.filesystem.mountpoint=/var)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      '--time-column <name>',
      'time column, by name or 1-based number (default: "timestamp" or "time", else the first)',
    )
    .option(
      '--value-column <name>',
      'value column, by name or 1-based number (default: "value", else the other of two)',
    )
    .option(
      '--scale <x>',
      'multiply every value, e.g. 0.01 for percent to the 0..1 ratio of *.utilization (default 1)',
    )
    .option('--unit <unit>', 'UCUM unit of a metric CloudSense does not know (By, 1, {thread}, …)')
    .option(
      '--timezone <zone>',
      'zone of times written without one: UTC, +02:00 or Europe/Berlin (default: such times are bad rows)',
    )
    .option(
      '--skip-bad-rows',
      'skip bad rows (reported by reason in the summary) instead of importing nothing',
    )
    .addOption(
      new Option(
        '--overlap <mode>',
        'rows at new times inside the range the store already holds for the series: refuse the import, skip them, or merge them in',
      )
        .choices(OVERLAP_MODES)
        .default('refuse'),
    )
    .option('-c, --config <file>', 'YAML configuration file (env CLOUDSENSE_CONFIG)');
  for (const [flags, description] of FLAGS) command.option(flags, description);
  return command.action((files: string[], options: CsvOptions) => importCsv(files, options));
}

/** Prints a failure and exits: 2 when retrying cannot help (bad input, overlap), 1 otherwise. */
function fail(message: string, err?: unknown): never {
  process.stderr.write(`cloudsense import csv: ${message}\n`);
  process.exit(err instanceof CloudSenseError && err.permanent ? 2 : 1);
}

async function importCsv(files: string[], options: CsvOptions): Promise<void> {
  let config: ImportConfig;
  try {
    config = loadConfig(ImportConfigSchema, configSources(options, FLAGS));
  } catch (err) {
    exitOnConfigError(err);
  }
  let request: ImportRequest;
  try {
    request = parseRequest(files, options);
  } catch (err) {
    fail(errorMessage(err), err);
  }
  const progress = new ProgressLine(process.stderr);
  const started = Date.now();
  const { target } = request;
  progress.log(
    `reading ${files.length === 1 ? files[0] : `${files.length} files`} for ${request.hostId} ${describeSeries(target)}`,
  );
  if (target.note) progress.log(`note: ${target.note}`);

  const bad = new BadRowReport();
  let series: ImportSeries;
  let summaries: FileSummary[];
  try {
    ({ series, summaries } = await readSeries(request, bad, progress, started));
  } catch (err) {
    progress.done();
    fail(errorMessage(err), err);
  }
  progress.done();
  const gaps = summaries.reduce((a, s) => a + s.gaps, 0);
  if (bad.total > 0 && !request.skipBadRows) failOnBadRows(bad, series.timestampsMs.length, files);
  if (series.timestampsMs.length === 0) {
    fail(
      `nothing to import: no row of ${files.join(', ')} has both a valid time and a value ` +
        `(${bad.total} bad rows, ${gaps} empty values)`,
      new ValidationError('nothing to import'),
    );
  }
  const intervalSeconds = medianIntervalSeconds(series.timestampsMs);

  const dataDir = resolve(config.dataDir);
  const store = dataDirStore(dataDir, config.aggregator.store);
  try {
    await store.start();
  } catch (err) {
    if (err instanceof BusyError) {
      fail(
        `cannot import: ${err.message}.\nIf that is a running aggregator, stop the aggregator, import, and start it again; ` +
          'nothing was imported.',
        err,
      );
    }
    fail(errorMessage(err), err);
  }

  let plan: ImportPlan;
  try {
    plan = await planImport(store, { hostId: request.hostId, target, series, mode: request.overlap });
  } catch (err) {
    await store.stop().catch(() => undefined);
    fail(`${errorMessage(err)}\nNothing was imported.`, err);
  }

  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(1);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const total = plan.timestampsMs.length;
  if (total > 0) {
    progress.log(
      `writing ${total.toLocaleString('en')} samples (every ${intervalSeconds} s) into ${store.description}`,
    );
  }
  const writeStarted = Date.now();
  const gate = progressGate();
  let result: { written: number; completed: boolean } = { written: 0, completed: false };
  let failure: unknown;
  try {
    result = await writeSeries({
      store,
      hostId: request.hostId,
      target,
      timestampsMs: plan.timestampsMs,
      values: plan.values,
      intervalSeconds,
      batchRows: DEFAULT_BATCH_ROWS,
      signal: controller.signal,
      onProgress: (p) => {
        if (!gate(p.written === p.total)) return;
        progress.update(
          `${p.written.toLocaleString('en')} of ${p.total.toLocaleString('en')} samples written, up to ` +
            isoMinute(p.reachedMs),
          p.written / p.total,
          writeStarted,
        );
      },
    });
  } catch (err) {
    failure = err;
  }
  progress.done();
  await store.stop().catch((err: unknown) => (failure ??= err));
  const seconds = (Date.now() - writeStarted) / 1000;

  const resume = 'run the same command again to import the rest (samples already stored are skipped)';
  if (failure !== undefined) {
    fail(
      `writing failed after ${result.written.toLocaleString('en')} of ${total.toLocaleString('en')} samples: ${errorMessage(failure)}\n${resume}`,
      failure,
    );
  }
  const summary = summaryLines({
    hostId: request.hostId,
    target,
    overlap: request.overlap,
    plan,
    repeated: series.repeated,
    files: summaries,
    bad,
    intervalSeconds,
    written: result.written,
    seconds,
    store: store.description,
  });
  process.stdout.write(`${summary.join('\n')}\n`);
  if (!result.completed) {
    process.stderr.write(
      `cloudsense import csv: interrupted after ${result.written.toLocaleString('en')} of ${total.toLocaleString('en')} samples; ${resume}\n`,
    );
    process.exit(EXIT_INTERRUPTED);
  }
}

function parseRequest(files: string[], options: CsvOptions): ImportRequest {
  if (!HOST_ID_PATTERN.test(options.host)) {
    throw new ValidationError(
      `--host "${options.host}": a host id is 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      { path: 'host' },
    );
  }
  let scale = 1;
  if (options.scale !== undefined) {
    scale = Number(options.scale);
    if (!Number.isFinite(scale) || scale === 0 || options.scale.trim() === '') {
      throw new ValidationError(`--scale "${options.scale}": expected a number other than 0, e.g. 0.01`, {
        path: 'scale',
      });
    }
  }
  let timeZone: TimeZone | undefined;
  if (options.timezone !== undefined) {
    try {
      timeZone = parseTimeZone(options.timezone);
    } catch (err) {
      throw new ValidationError(`--timezone: ${errorMessage(err)}`, { path: 'timezone', cause: err });
    }
  }
  const target = resolveTarget({
    metric: options.metric,
    attributes: options.attribute ?? [],
    unit: options.unit,
  });
  return {
    files,
    hostId: options.host,
    target,
    parse: {
      timeColumn: options.timeColumn,
      valueColumn: options.valueColumn,
      scale,
      ratio: target.ratio,
      timeZone,
    },
    skipBadRows: options.skipBadRows === true,
    overlap: options.overlap,
  };
}

/** Reads and checks every file before anything is written. */
async function readSeries(
  request: ImportRequest,
  bad: BadRowReport,
  progress: ProgressLine,
  started: number,
): Promise<{ series: ImportSeries; summaries: FileSummary[] }> {
  const sizes = await Promise.all(
    request.files.map((f) =>
      stat(f).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  const totalBytes = Math.max(
    1,
    sizes.reduce((a, b) => a + b, 0),
  );
  const rows = new SeriesRows();
  const summaries: FileSummary[] = [];
  let before = 0;
  const gate = progressGate();
  for (const [index, file] of request.files.entries()) {
    summaries.push(
      await readCsvSeriesFile(file, index, request.parse, rows, bad, (bytes) => {
        if (!gate()) return;
        const line = `reading ${file} · ${rows.length.toLocaleString('en')} samples`;
        progress.update(line, (before + bytes) / totalBytes, started);
      }),
    );
    before += sizes[index]!;
  }
  return { series: finishSeries(rows, request.files, bad), summaries };
}

function failOnBadRows(bad: BadRowReport, usable: number, files: readonly string[]): never {
  fail(badRowLines(bad, usable, files).join('\n'), new ValidationError('bad rows'));
}

/** True at most every quarter second on a terminal and every 5 s otherwise, and always for the `last` update. */
function progressGate(): (last?: boolean) => boolean {
  const everyMs = process.stderr.isTTY ? 250 : 5000;
  let previous = 0;
  return (last = false) => {
    const now = Date.now();
    if (!last && now - previous < everyMs) return false;
    previous = now;
    return true;
  };
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
