import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { readNumericCsv, toTrainingSet } from '../../models/data/numeric-csv.js';
import { fitModel } from '../../models/fit/fit-model.js';
import { OBJECTIVES, type Objective } from '../../models/gbdt/model.js';
import { fromLightGbmParams, type GbdtParamsInput } from '../../models/gbdt/params.js';
import { FileRunRegistry } from '../../models/tracking/index.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { ProgressLine } from '../progress.js';
import { modelPublishCommand } from './model-publish.js';

interface FitOptions {
  data: string;
  target: string;
  valid?: string;
  objective: Objective;
  alpha?: number;
  params?: string;
  search?: number;
  searchSeconds?: number;
  seed?: number;
  out: string;
  runsDir?: string;
}

export function modelCommand(): Command {
  const model = new Command('model')
    .summary('the GBDT trainer on any numeric CSV; signing and publishing models to agents')
    .description('Train and export GBDT models, and publish signed forecast models to the agents.');
  model
    .command('fit')
    .summary('train a GBDT on a numeric CSV and export it to ONNX')
    .description(
      'Train a gradient-boosted tree model on a numeric CSV with a header line and export it as ONNX, with a JSON\n' +
        'run record next to it (params, validation metrics, curves, feature importance). Without --valid, the last\n' +
        '20% of rows are the validation set (rows are taken to be in time order).',
    )
    .requiredOption('--data <file>', 'training CSV: a header line, then numbers (empty, NA or NaN = missing)')
    .requiredOption('--target <column>', 'the column to predict')
    .option('--valid <file>', 'validation CSV with the same columns')
    .option('--objective <name>', `${OBJECTIVES.join(' | ')}`, parseObjective, 'binary')
    .option('--alpha <q>', 'quantile level for --objective quantile, e.g. 0.9', parseNumber)
    .option(
      '--params <json>',
      'LightGBM-named parameters, e.g. \'{"num_iterations":200,"learning_rate":0.05}\'',
    )
    .option('--search <trials>', 'tune parameters with a TPE search of this many trials first', parseCount)
    .option('--search-seconds <s>', 'stop starting search trials after this many seconds', parseNumber)
    .option('--seed <n>', 'seed for the search sampler', parseCount)
    .requiredOption('--out <model.onnx>', 'where to write the ONNX model')
    .option('--runs-dir <dir>', 'run registry directory (default: runs/ beside --out)')
    .action(async (options: FitOptions) => {
      try {
        await fit(options);
      } catch (err) {
        process.stderr.write(`cloudsense model fit: ${errorMessage(err)}\n`);
        process.exit(err instanceof CloudSenseError && err.permanent ? 2 : 1);
      }
    });
  model.addCommand(modelPublishCommand());
  return model;
}

async function fit(options: FitOptions): Promise<void> {
  const params = parseParams(options);
  const progress = new ProgressLine(process.stderr);
  progress.log(`reading ${options.data}`);
  const train = toTrainingSet(await readNumericCsv(options.data), options.target);
  const valid = options.valid
    ? toTrainingSet(await readNumericCsv(options.valid), options.target, train.featureNames)
    : undefined;
  const out = resolve(options.out);
  const registry = new FileRunRegistry(resolve(options.runsDir ?? join(dirname(out), 'runs')));
  const trials = options.search ?? 0;
  const started = Date.now();
  let done = 0;
  progress.log(
    `training on ${train.numRows} rows × ${train.featureNames.length} features` +
      (trials > 0 ? `, searching ${trials} trials first` : ''),
  );
  const result = await fitModel({
    name: options.data,
    train,
    valid,
    params,
    search: trials > 0 ? { trials, seconds: options.searchSeconds, seed: options.seed } : undefined,
    registry,
    progress: (line) => {
      if (line.startsWith('trial ')) {
        done++;
        progress.update(line, done / trials, started);
      } else progress.log(line);
    },
  });
  await writeFile(out, result.onnx);
  const recordPath = out.replace(/\.onnx$/i, '') + '.run.json';
  await writeFile(recordPath, `${JSON.stringify(result.run, null, 2)}\n`);
  progress.done();
  const lines = [
    `model      ${out} (${result.model.trees.length} trees, ${result.params.objective})`,
    `run record ${recordPath} (run ${result.run.runId} in ${registry.rootDir})`,
    'validation metrics:',
    ...Object.entries(result.metrics).map(([k, v]) => `  ${k.padEnd(18)} ${v.toFixed(5)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function parseParams(options: FitOptions): GbdtParamsInput {
  let raw: Record<string, unknown> = {};
  if (options.params) {
    try {
      const parsed: unknown = JSON.parse(options.params);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      raw = parsed as Record<string, unknown>;
    } catch (err) {
      throw new CloudSenseError('INVALID_INPUT', `--params must be a JSON object: ${errorMessage(err)}`, {
        permanent: true,
      });
    }
  }
  const { params, unknown } = fromLightGbmParams(raw);
  if (unknown.length > 0) {
    throw new CloudSenseError(
      'INVALID_INPUT',
      `--params: unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`,
      {
        permanent: true,
      },
    );
  }
  return {
    ...params,
    objective: options.objective,
    ...(options.alpha !== undefined ? { alpha: options.alpha } : {}),
  };
}

function parseObjective(value: string): Objective {
  if (!(OBJECTIVES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${OBJECTIVES.join(', ')}`);
  }
  return value as Objective;
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}
