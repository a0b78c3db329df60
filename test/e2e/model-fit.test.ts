import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RunRecordSchema } from '../../models/tracking/index.js';
import { SeededRandom } from '../../models/random.js';
import { loadScorer } from '../../shared/inference/scorer.js';
import { CliProcess } from '../helpers/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-fit-'));

/** A CSV whose label depends non-linearly on two of three columns; some cells empty. */
function writeCsv(name: string, rows: number, seed: number): string {
  const rng = new SeededRandom(seed);
  const lines = ['load,trend,noise,label'];
  for (let i = 0; i < rows; i++) {
    const load = rng.uniform(0, 1);
    const trend = rng.normal();
    const label = load + 0.3 * Math.tanh(trend) + 0.1 * rng.normal() > 0.75 ? 1 : 0;
    lines.push(
      `${rng.next() < 0.03 ? '' : load.toFixed(4)},${trend.toFixed(4)},${rng.normal().toFixed(4)},${label}`,
    );
  }
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function run(args: string[]) {
  const proc = CliProcess.start(['model', 'fit', ...args]);
  const exit = await proc.exited;
  return { code: exit.code, output: proc.output };
}

describe('cloudsense model fit', () => {
  it('trains, writes an ONNX model that onnxruntime scores, and a run record beside it', async () => {
    const data = writeCsv('train.csv', 4000, 1);
    const valid = writeCsv('valid.csv', 1000, 2);
    const out = join(dir, 'risk.onnx');
    const { code, output } = await run([
      '--data',
      data,
      '--valid',
      valid,
      '--target',
      'label',
      '--out',
      out,
      '--params',
      '{"num_iterations":60,"learning_rate":0.1,"num_leaves":15,"seed":3}',
    ]);
    assert.equal(code, 0, output);
    const auc = Number(/auc\s+([\d.]+)/.exec(output)?.[1]);
    assert.ok(auc > 0.9, `validation AUC ${auc}`);

    const record = RunRecordSchema.parse(JSON.parse(readFileSync(join(dir, 'risk.run.json'), 'utf8')));
    assert.equal(record.status, 'finished');
    assert.equal(record.params.numIterations, 60);
    assert.equal(record.params.numLeaves, 15);
    assert.ok(record.metrics.auc! > 0.9);
    assert.deepEqual(record.featureNames, ['load', 'trend', 'noise']);
    assert.ok(record.featureSchemaHash);
    assert.deepEqual(record.artifacts.map((a) => a.name).sort(), ['importance.json', 'model.onnx']);
    assert.ok(record.metricHistory['valid_binary_logloss']!.length === 60, 'validation curve per round');

    const scorer = await loadScorer(out);
    try {
      assert.deepEqual(scorer.metadata.featureNames, ['load', 'trend', 'noise']);
      assert.equal(scorer.metadata.trainingRunId, record.runId);
      const [high, low] = await scorer.score(Float32Array.of(0.99, 1, 0, 0.1, -1, 0), 2);
      assert.ok(high! > 0.8 && low! < 0.2, `scores ${high} ${low}`);
    } finally {
      await scorer.release();
    }
  });

  it('searches hyperparameters with TPE and records the study', async () => {
    const data = writeCsv('search.csv', 3000, 4);
    const out = join(dir, 'searched.onnx');
    const { code, output } = await run([
      '--data',
      data,
      '--target',
      'label',
      '--out',
      out,
      '--search',
      '6',
      '--seed',
      '1',
    ]);
    assert.equal(code, 0, output);
    assert.match(output, /trial 6\/6/);
    const record = RunRecordSchema.parse(JSON.parse(readFileSync(join(dir, 'searched.run.json'), 'utf8')));
    assert.ok(record.artifacts.some((a) => a.name === 'study.jsonl'));
  });

  it('refuses unknown LightGBM parameters and bad CSV with clear messages', async () => {
    const data = writeCsv('ok.csv', 200, 5);
    const out = join(dir, 'x.onnx');
    const unknown = await run([
      '--data',
      data,
      '--target',
      'label',
      '--out',
      out,
      '--params',
      '{"num_trees_typo":5}',
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.output, /unknown parameter num_trees_typo/);

    const ragged = join(dir, 'ragged.csv');
    writeFileSync(ragged, 'a,b,label\n1,2,0\n3,1\n');
    const bad = await run(['--data', ragged, '--target', 'label', '--out', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.output, /ragged\.csv:3: 2 fields, but the header has 3 columns/);

    const noTarget = await run(['--data', data, '--target', 'missing', '--out', out]);
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.output, /no target column "missing"/);
  });
});
