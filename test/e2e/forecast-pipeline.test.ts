/**
 * The offline loop on imported history, with real processes: import CSV
 * exports → train --until → predict → evaluate, and the refusals an operator
 * meets on the way.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SeededRandom } from '../../models/random.js';
import { CliProcess } from '../helpers/cli-process.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cloudsense-forecast-e2e-'));
  dirs.push(dir);
  return dir;
}

after(() => {
  CliProcess.killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const DAY_MS = 86_400_000;
const START_MS = Date.parse('2026-01-05T00:00:00Z');
const DAYS = 12;
const STEP_MS = 5 * 60_000;
const UNTIL = '2026-01-14T00:00:00Z';
const HOSTS = ['app-1', 'app-2', 'app-3', 'app-4'];

/**
 * A leaking service's memory in percent, as a monitoring export has it: it
 * climbs from a base at a rate of its own until it runs into the ceiling
 * (the event) or is restarted earlier by a deploy, then starts again.
 */
function leakCsv(seed: number): string {
  const rng = new SeededRandom(seed);
  const lines = ['timestamp,value'];
  let level = 35;
  let rate = rng.uniform(2, 8); // percent per hour
  let deployAt = rng.bernoulli(0.3) ? rng.uniform(70, 92) : Infinity;
  let pinnedFor = 0;
  for (let t = START_MS; t < START_MS + DAYS * DAY_MS; t += STEP_MS) {
    if (pinnedFor > 0) {
      pinnedFor--;
      if (pinnedFor === 0) level = 35;
    } else {
      level += (rate * STEP_MS) / 3_600_000;
      if (level >= deployAt) {
        level = 35;
        rate = rng.uniform(2, 8);
        deployAt = rng.bernoulli(0.3) ? rng.uniform(70, 92) : Infinity;
      } else if (level >= 97) {
        level = 97;
        pinnedFor = 3;
        rate = rng.uniform(2, 8);
        deployAt = rng.bernoulli(0.3) ? rng.uniform(70, 92) : Infinity;
      }
    }
    const value = Math.min(100, level + 0.4 * rng.normal());
    lines.push(`${new Date(t).toISOString()},${value.toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function run(args: string[]): Promise<CliProcess> {
  const proc = CliProcess.start(args);
  await proc.closed;
  return proc;
}

describe('import → train → predict → evaluate on imported CSV series', () => {
  const dataDir = tempDir();
  const files = HOSTS.map((host, i) => {
    const file = join(dataDir, `${host}.csv`);
    writeFileSync(file, leakCsv(100 + i));
    return file;
  });

  before(async () => {
    for (const [i, host] of HOSTS.entries()) {
      const imported = await run([
        'import',
        'csv',
        files[i]!,
        '--host',
        host,
        '--metric',
        'memory',
        '--scale',
        '0.01',
        '--data-dir',
        dataDir,
      ]);
      assert.equal((await imported.exited).code, 0, imported.output);
    }
  });

  it('trains on the history before --until and makes the model current', async () => {
    const train = await run(['train', '--data-dir', dataDir, '--resource', 'memory', '--until', UNTIL]);
    assert.equal((await train.exited).code, 0, train.output);
    assert.match(train.output, /run \S+: memory, exhausted ≥ 95% within 30m/);
    assert.match(train.output, /is now current for memory/);
    assert.match(
      train.output,
      /time-to-exhaustion band on \d+ [^:]+: coverage p10 \S+, p50 \S+, p90/,
      train.output,
    );
    const catalog = JSON.parse(readFileSync(join(dataDir, 'models', 'current.json'), 'utf8')) as {
      models: Record<string, { runId: string; path: string }>;
    };
    const entry = catalog.models.memory!;
    assert.ok(existsSync(join(dataDir, entry.path)), 'the model file is in the run registry');
    const record = JSON.parse(readFileSync(join(dataDir, 'runs', entry.runId, 'run.json'), 'utf8')) as {
      dataRange: { to: string };
      status: string;
    };
    assert.equal(record.status, 'finished');
    // Nothing at or after --until was read.
    assert.equal(record.dataRange.to, new Date(UNTIL).toISOString());
  });

  it('predicts one row per host and stored sample in [from, to)', async () => {
    const out = join(dataDir, 'predictions.csv');
    const from = '2026-01-15T00:00:00Z';
    const to = '2026-01-16T00:00:00Z';
    const predict = await run([
      'predict',
      '--data-dir',
      dataDir,
      '--resource',
      'memory',
      '--from',
      from,
      '--to',
      to,
      '--out',
      out,
    ]);
    assert.equal((await predict.exited).code, 0, predict.output);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'host,timestamp,resource,probability,alert,tte_p10_s,tte_p50_s,tte_p90_s');
    const rows = lines.slice(1).map((l) => l.split(','));
    assert.equal(rows.length, HOSTS.length * (DAY_MS / STEP_MS));
    for (const [host, timestamp, resource, probability, alert, p10, p50, p90] of rows) {
      assert.ok(HOSTS.includes(host!));
      const t = Date.parse(timestamp!);
      assert.ok(t >= Date.parse(from) && t < Date.parse(to), timestamp);
      assert.equal(resource, 'memory');
      const p = Number(probability);
      assert.ok(p >= 0 && p <= 1, probability);
      assert.ok(alert === '0' || alert === '1');
      if (alert === '1') {
        // The band, in seconds, ordered, and within the look-ahead of a week.
        const band = [p10, p50, p90].map(Number);
        assert.ok(
          band[0]! > 0 && band[0]! <= band[1]! && band[1]! <= band[2]! && band[2]! < 8 * 86_400,
          `${p10} ${p50} ${p90}`,
        );
      } else assert.deepEqual([p10, p50, p90], ['', '', '']);
    }
    assert.ok(
      rows.some((r) => r[4] === '1'),
      'a day of leaking services raises some alert',
    );
  });

  it('evaluates the model against the rules on the period after --until', async () => {
    const evaluate = await run([
      'evaluate',
      '--data-dir',
      dataDir,
      '--resource',
      'memory',
      '--from',
      UNTIL,
      '--json',
    ]);
    assert.equal((await evaluate.exited).code, 0, evaluate.output);
    const body = JSON.parse(evaluate.stdout) as {
      model: { source: string };
      evaluation: {
        events: number;
        positives: number;
        contenders: Array<{ name: string; kind: string; rocAuc: number; prAuc: number }>;
      };
    };
    assert.equal(body.model.source, 'trained');
    assert.ok(body.evaluation.events >= 5, `events after --until: ${body.evaluation.events}`);
    const names = body.evaluation.contenders.map((c) => c.name);
    assert.deepEqual(names, ['model', 'static_threshold', 'predict_linear', 'fill_rate']);
    const model = body.evaluation.contenders[0]!;
    assert.ok(model.rocAuc > 0.9, `model ROC-AUC ${model.rocAuc}`);

    const report = join(dataDir, 'report.html');
    const table = await run([
      'evaluate',
      '--data-dir',
      dataDir,
      '--resource',
      'memory',
      '--from',
      UNTIL,
      '--report',
      report,
    ]);
    assert.equal((await table.exited).code, 0, table.output);
    assert.match(table.stdout, /contender\s+kind\s+ROC-AUC\s+PR-AUC/);
    for (const name of names) assert.match(table.stdout, new RegExp(`^${name}\\s`, 'm'));
    const html = readFileSync(report, 'utf8');
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /<script\b[^>]*\bsrc=/i, 'the report loads nothing');
  });

  it('refuses what it cannot do, saying why', async () => {
    const noData = await run(['train', '--data-dir', tempDir(), '--resource', 'memory']);
    assert.equal((await noData.exited).code, 2);
    assert.match(noData.output, /no stored series of memory/);

    const badResource = await run(['train', '--data-dir', dataDir, '--resource', 'gpu']);
    assert.equal((await badResource.exited).code, 2);
    assert.match(badResource.output, /--resource/);

    const noEvents = await run([
      'train',
      '--data-dir',
      dataDir,
      '--resource',
      'memory',
      '--threshold',
      '0.999',
    ]);
    assert.equal((await noEvents.exited).code, 2);
    assert.match(noEvents.output, /no exhaustion of memory in the training data/);

    const badTime = await run([
      'evaluate',
      '--data-dir',
      dataDir,
      '--resource',
      'memory',
      '--from',
      'yesterday',
    ]);
    assert.equal((await badTime.exited).code, 2);
    assert.match(badTime.output, /--from: not an ISO 8601 time/);
  });
});
