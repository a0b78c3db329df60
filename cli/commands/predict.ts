import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { Command } from 'commander';
import { PREDICTION_CSV_HEADER, predictSeries } from '../../aggregator/training/predict-forecast.js';
import { readSeriesFor } from '../../aggregator/training/store-series.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { type ForecastModel, TimeToExhaustionBand } from '../../shared/inference/forecast-model.js';
import {
  loadCurrentModel,
  openDataDir,
  parseResourceOption,
  parseTimeOption,
  withDataDirAction,
} from '../data-dir.js';
import { ProgressLine } from '../progress.js';

interface PredictOptions extends Record<string, unknown> {
  resource: string;
  from?: string;
  to?: string;
  out: string;
}

export function predictCommand(): Command {
  const command = new Command('predict')
    .summary("score a data dir's stored history with the current model")
    .description(
      [
        'Write one CSV row per host and stored sample time of the resource: ' +
          `\`${PREDICTION_CSV_HEADER}\` (ISO 8601 UTC times; alert = 1 where the probability reaches the ` +
          "model's operating threshold; on alerted rows, the time-to-exhaustion band in seconds, P10/P50/P90, when " +
          "the model has one). Each row's features see only the samples up to its own time.",
        'The model is the current one for the resource (cloudsense train), else the one for its kind, else the ' +
          'bundled baseline model.',
        'Example:\n  cloudsense predict --data-dir ./data --resource memory --from 2026-03-01 --out memory.csv',
      ].join('\n\n'),
    )
    .requiredOption(
      '--resource <id>',
      'a kind (cpu, memory, filesystem, …) or one resource (filesystem:/var)',
    )
    .option('--from <time>', 'first sample time to score, ISO 8601 (default: the first stored)')
    .option('--to <time>', 'score samples before this time, ISO 8601 (default: all)')
    .requiredOption('--out <file.csv>', 'where to write the predictions');
  return withDataDirAction(command, predict);
}

async function predict(options: PredictOptions): Promise<void> {
  const resource = parseResourceOption(options.resource);
  const fromMs = parseTimeOption('--from', options.from);
  const toMs = parseTimeOption('--to', options.to);
  if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) {
    throw new ValidationError('--from must be before --to');
  }
  const data = await openDataDir('predict', options);
  const progress = new ProgressLine(process.stderr);
  const out = resolve(options.out);
  // Written beside the target and renamed at the end: a failed run leaves no half file behind.
  const partial = `${out}.partial`;
  let model: ForecastModel | undefined;
  let band: TimeToExhaustionBand | undefined;
  try {
    const current = await loadCurrentModel(data, resource);
    model = current.model;
    if (current.resolved.band) band = await TimeToExhaustionBand.load(current.resolved.band);
    progress.log(`model: ${current.name}, operating threshold ${model.operatingThreshold.toFixed(3)}`);
    const series = await readSeriesFor(data.store, resource, {
      untilMs: toMs,
      exhaustion: data.config.exhaustion,
    });
    if (series.length === 0) throw new NotFoundError(`no stored series of ${resource} in ${data.dir}`);
    const file = createWriteStream(partial);
    const write = async (text: string) => {
      if (!file.write(text)) await once(file, 'drain');
    };
    const started = Date.now();
    try {
      await write(`${PREDICTION_CSV_HEADER}\n`);
      const summary = await predictSeries(model, series, {
        fromMs,
        toMs,
        band,
        write,
        onProgress: (done, total) => progress.update(`scored ${done}/${total} series`, done / total, started),
      });
      file.end();
      await once(file, 'close');
      await rename(partial, out);
      progress.done();
      process.stdout.write(
        `wrote ${summary.rows} predictions for ${summary.series} series to ${out} (${summary.alerts} at or above the operating threshold)\n`,
      );
    } catch (err) {
      file.destroy();
      await rm(partial, { force: true });
      throw err;
    }
  } finally {
    progress.done();
    await model?.release();
    await band?.release();
    await data.close();
  }
}
