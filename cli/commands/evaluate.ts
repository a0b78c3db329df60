import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { storedRemediationWindows } from '../../aggregator/remediation/remediation-windows.js';
import { hostsOf, readSeriesFor } from '../../aggregator/training/store-series.js';
import { buildExhaustionDataset } from '../../models/dataset/index.js';
import { evaluateModelAndRules } from '../../models/evaluation/evaluate-model.js';
import { renderEvaluationHtml } from '../../models/evaluation/evaluation-html.js';
import { formatEvaluationTable } from '../../models/evaluation/evaluation-table.js';
import { trainingStepMs } from '../../models/fit/forecast-params.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import type { ForecastModel } from '../../shared/inference/forecast-model.js';
import { describeExhaustion } from '../../shared/resources/exhaustion.js';
import {
  loadCurrentModel,
  openDataDir,
  parseResourceOption,
  parseTimeOption,
  withDataDirAction,
} from '../data-dir.js';
import { ProgressLine } from '../progress.js';

interface EvaluateOptions extends Record<string, unknown> {
  resource: string;
  from: string;
  to?: string;
  json?: boolean;
  report?: string;
}

export function evaluateCommand(): Command {
  const command = new Command('evaluate')
    .summary("judge the current model against today's rules on a data dir's history")
    .description(
      [
        'Label the stored history of the resource from --from to --to with what actually happened (exhaustion ' +
          'events within the horizon), then score the same rows with the current model and with the rules people ' +
          'use today: a static threshold, Prometheus node-mixin predict_linear, and free ÷ fill rate. Prints, side ' +
          "by side: ROC-AUC, PR-AUC, precision, recall and F1 at each one's alert decision, the best precision at " +
          'recall ≥ 0.83, the Brier score, events caught, the median lead time, false-alarm episodes, and the ' +
          'share of alert episodes an exhaustion followed at the threshold that warns of 83 % of events.',
        'Rows need their whole horizon inside the data (before --to) to be labelled; features may use history ' +
          'from before --from. Evaluate on a period the model was not trained on (cloudsense train --until).',
        'Example:\n  cloudsense evaluate --data-dir ./data --resource filesystem --from 2026-03-01 --report fs.html',
      ].join('\n\n'),
    )
    .requiredOption(
      '--resource <id>',
      'a kind (cpu, memory, filesystem, …) or one resource (filesystem:/var)',
    )
    .requiredOption('--from <time>', 'first evaluation time, ISO 8601')
    .option('--to <time>', 'use history before this time, ISO 8601 (default: all)')
    .option('--json', 'print the whole evaluation as JSON instead of the table')
    .option(
      '--report <file.html>',
      'also write an HTML report with PR and ROC curves, lead times and calibration',
    );
  return withDataDirAction(command, evaluate);
}

async function evaluate(options: EvaluateOptions): Promise<void> {
  const resource = parseResourceOption(options.resource);
  const fromMs = parseTimeOption('--from', options.from)!;
  const toMs = parseTimeOption('--to', options.to);
  if (toMs !== undefined && !(fromMs < toMs)) throw new ValidationError('--from must be before --to');
  const data = await openDataDir('evaluate', options);
  const progress = new ProgressLine(process.stderr);
  let model: ForecastModel | undefined;
  try {
    const current = await loadCurrentModel(data, resource);
    model = current.model;
    const { resolved, name: modelName } = current;
    progress.log(`model: ${modelName}`);
    const series = await readSeriesFor(data.store, resource, {
      untilMs: toMs,
      exhaustion: data.config.exhaustion,
    });
    if (series.length === 0) throw new NotFoundError(`no stored series of ${resource} in ${data.dir}`);
    const exhaustion = series[0]!.exhaustion;
    const started = Date.now();
    const dataset = buildExhaustionDataset(series, {
      fromMs,
      remediations: await storedRemediationWindows(data.store, hostsOf(series), {
        from: 0,
        to: toMs ?? Date.now() + 1,
      }),
      ...(toMs !== undefined && { untilMs: toMs }),
      evaluationStepMs: trainingStepMs(exhaustion),
      onProgress: (done, total) => progress.update(`labelled ${done}/${total} series`, done / total, started),
    });
    progress.done();
    if (dataset.numRows === 0) {
      throw new ValidationError(
        `no labelled rows of ${resource} from ${options.from}: the history after it is shorter than the horizon, or the resource is always exhausted`,
      );
    }
    const evaluation = await evaluateModelAndRules(model, dataset);
    // Rows are grouped by series, so the last row is not the latest: the series say how far the data goes.
    const lastMs = Math.max(fromMs, ...dataset.series.map((s) => s.lastSampleMs).filter(Number.isFinite));
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ resource, model: { ...resolved, operatingThreshold: model.operatingThreshold }, exhaustion, from: new Date(fromMs).toISOString(), ...(toMs !== undefined && { to: new Date(toMs).toISOString() }), evaluation }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `${resource}, exhausted ${describeExhaustion(exhaustion)}: ${evaluation.rows} rows from ${series.length} series, ` +
          `${evaluation.positives} positive, ${evaluation.events} events\n` +
          `model: ${modelName}, alerting at probability ≥ ${model.operatingThreshold.toFixed(3)}\n\n` +
          `${formatEvaluationTable(evaluation)}\n`,
      );
    }
    if (options.report) {
      const html = renderEvaluationHtml(evaluation, {
        title: `CloudSense evaluation: ${resource}`,
        resource,
        dataRange: { from: new Date(fromMs).toISOString(), to: new Date(toMs ?? lastMs).toISOString() },
        generatedAt: new Date().toISOString(),
        notes: [
          `Exhausted means ${describeExhaustion(exhaustion)}. Model: ${modelName}, alerting at probability ≥ ${model.operatingThreshold.toFixed(3)}.`,
        ],
      });
      await writeFile(resolve(options.report), html);
      process.stderr.write(`report written to ${resolve(options.report)}\n`);
    }
  } finally {
    progress.done();
    await model?.release();
    await data.close();
  }
}
