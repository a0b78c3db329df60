import { Command } from 'commander';
import { storedRemediationWindows } from '../../aggregator/remediation/remediation-windows.js';
import { hostsOf, readSeriesFor } from '../../aggregator/training/store-series.js';
import { trainForecast } from '../../aggregator/training/train-forecast.js';
import { parseDuration, DURATION_HINT } from '../../shared/config/duration.js';
import { ValidationError } from '../../shared/errors.js';
import { MAX_HORIZON_MS, describeExhaustion } from '../../shared/resources/exhaustion.js';
import { openDataDir, parseResourceOption, parseTimeOption, withDataDirAction } from '../data-dir.js';
import { ProgressLine, formatDuration } from '../progress.js';

interface TrainOptions extends Record<string, unknown> {
  resource: string;
  threshold?: string;
  horizon?: string;
  until?: string;
  search?: string;
  searchSeconds?: string;
  seed?: string;
}

export function trainCommand(): Command {
  const command = new Command('train')
    .summary("train the exhaustion forecast of a resource on a data dir's history")
    .description(
      [
        "Build the training set of one resource from the data dir's stored history, through the same feature code " +
          'the agent runs, with labels from what happened next; train a GBDT (after a hyperparameter search with ' +
          '--search), record the run under <data dir>/runs/, and make the model current for the resource.',
        'Only data before --until is read. The last 20% of the evaluation times are held out for early stopping ' +
          'and to choose the operating threshold.',
        'Examples:\n' +
          '  cloudsense train --data-dir ./data --resource cpu\n' +
          '  cloudsense train --resource filesystem:/var --threshold 0.9 --horizon 12h --until 2026-03-01 --search 30',
      ].join('\n\n'),
    )
    .requiredOption(
      '--resource <id>',
      'a kind (cpu, memory, swap, filesystem, inodes, fds) or one resource (filesystem:/var)',
    )
    .option('--threshold <ratio>', 'exhaustion threshold for this run, 0..1 (default: configuration)')
    .option('--horizon <duration>', 'forecast horizon for this run, e.g. 30m, 6h (default: configuration)')
    .option('--until <time>', 'use only data before this time, ISO 8601 (default: all)')
    .option('--search <trials>', 'tune hyperparameters with a TPE search of this many trials first')
    .option('--search-seconds <s>', 'stop starting search trials after this many seconds')
    .option('--seed <n>', 'seed for the search sampler');
  return withDataDirAction(command, train);
}

async function train(options: TrainOptions): Promise<void> {
  const resource = parseResourceOption(options.resource);
  const untilMs = parseTimeOption('--until', options.until);
  const threshold = optionalNumber('--threshold', options.threshold);
  if (threshold !== undefined && !(threshold > 0 && threshold <= 1)) {
    throw new ValidationError('--threshold: a utilisation ratio, > 0 and ≤ 1 (e.g. 0.9)');
  }
  const horizonMs = options.horizon === undefined ? undefined : parseDuration(options.horizon);
  if (
    options.horizon !== undefined &&
    !(horizonMs !== undefined && horizonMs > 0 && horizonMs <= MAX_HORIZON_MS)
  ) {
    throw new ValidationError(`--horizon: ${DURATION_HINT}, at most 7d`);
  }
  const trials = optionalNumber('--search', options.search);
  const data = await openDataDir('train', options);
  const progress = new ProgressLine(process.stderr);
  const started = Date.now();
  try {
    progress.log(`reading ${resource} series from ${data.store.description}`);
    const series = await readSeriesFor(data.store, resource, {
      untilMs,
      exhaustion: data.config.exhaustion,
      override: { threshold, horizonMs },
    });
    const remediations = await storedRemediationWindows(data.store, hostsOf(series), {
      from: 0,
      to: untilMs ?? Date.now() + 1,
    });
    if (remediations.length > 0) {
      progress.log(`${remediations.length} remediation runs: rows whose horizon overlaps one are left out`);
    }
    const result = await trainForecast({
      resource,
      series,
      untilMs,
      remediations,
      registry: data.registry,
      catalog: data.catalog,
      ...(trials !== undefined && trials > 0
        ? {
            search: {
              trials,
              seconds: optionalNumber('--search-seconds', options.searchSeconds),
              seed: optionalNumber('--seed', options.seed),
            },
          }
        : {}),
      progress: (line) => progress.log(line),
    });
    const m = result.metrics;
    process.stdout.write(
      [
        `run ${result.run.runId}: ${result.resource}, exhausted ${describeExhaustion(result.exhaustion)}`,
        `  trees ${result.model.trees.length}, rows ${result.rows.train} train / ${result.rows.valid} validation`,
        `  validation: ROC-AUC ${fmt(m.auc)}, PR-AUC ${fmt(m.pr_auc)}, ` +
          `precision ${fmt(m.operating_precision)} and recall ${fmt(m.operating_recall)} at threshold ${fmt(m.operating_threshold)}`,
        `  model ${result.modelPath} is now current for ${result.resource} (${formatDuration(Date.now() - started)})`,
      ].join('\n') + '\n',
    );
  } finally {
    progress.done();
    await data.close();
  }
}

function optionalNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new ValidationError(`${flag}: not a number: ${text}`);
  return value;
}

function fmt(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(3);
}
