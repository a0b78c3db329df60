import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';
import { RetentionSectionSchema } from '../../aggregator/storage/duckdb/retention.js';
import type { EventMessage } from '../../shared/wire/events.js';
import type { PredictionsMessage } from '../../shared/wire/predictions.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { CliProcess } from '../helpers/cli-process.js';
import { freePort } from '../helpers/net.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-export-e2e-'));
after(() => {
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);
const CPU = 'system.cpu.utilization';
const MEMORY = 'system.memory.usage';

/** Two days of one-minute telemetry of `hostId`: CPU, and memory used and free (attributes). */
function telemetry(hostId: string, offset: number): TelemetryMessage[] {
  return Array.from({ length: 2 * 24 * 60 }, (_, i) => ({
    schemaVersion: 1 as const,
    hostId,
    seq: i + 1,
    timestamp: T0 + i * MINUTE,
    intervalSeconds: 60,
    metrics: [
      { name: CPU, unit: '1', value: ((i * 7 + offset) % 100) / 100 },
      { name: MEMORY, unit: 'By', value: 1e9 + i * 1000, attributes: { 'system.memory.state': 'used' } },
      { name: MEMORY, unit: 'By', value: 3e9 - i * 1000, attributes: { 'system.memory.state': 'free' } },
    ],
  }));
}

function predictions(hostId: string, seq: number, timestamp: number): PredictionsMessage {
  return {
    schemaVersion: 1,
    hostId,
    seq,
    timestamp,
    predictions: [
      {
        resource: 'cpu',
        probability: 0.25,
        alert: false,
        threshold: 0.4,
        horizonS: 3600,
        model: { source: 'bundled', runId: 'baseline-cpu' },
      },
      {
        resource: 'memory',
        probability: 0.75,
        alert: true,
        threshold: 0.4,
        horizonS: 21_600,
        ttBand: { p10S: 600, p50S: 1800, p90S: 3600 },
        model: { source: 'fleet', runId: 'run-7', version: '2026-03-01.1' },
      },
    ],
  };
}

const RAISED: EventMessage = {
  schemaVersion: 1,
  hostId: 'web-01',
  seq: 5001,
  timestamp: T0 + DAY,
  type: 'alert.raised',
  reason: 'risk_above_threshold',
  resource: 'memory',
  probability: 0.75,
  threshold: 0.4,
  detail: 'probability 0.75 ≥ 0.40 for 2 cycles',
};

const web = telemetry('web-01', 0);
const db = telemetry('db-01', 13);

/** The data dir every export reads: two hosts' telemetry, predictions, one event, and a day of aggregates. */
let dataDir: string;
before(async () => {
  dataDir = join(root, 'data');
  const store = new DuckDbTelemetryStore({
    path: join(dataDir, 'telemetry.duckdb'),
    memoryLimit: '256MB',
    threads: 1,
  });
  await store.start();
  try {
    await store.write([...web, ...db]);
    await store.write([predictions('web-01', 5000, T0 + DAY), RAISED]);
    // Aggregates of db-01's first day: raw samples kept for one day, "now" at the end of the second.
    const policy = RetentionSectionSchema.parse({ raw: '1d', predictions: '3650d', events: '3650d' });
    const pass = await store.runRetention({ policy, now: () => T0 + 2 * DAY });
    assert.equal(pass.samplesDownsampled, 2 * 3 * 24 * 60, 'the first day of both hosts');
  } finally {
    await store.stop();
  }
});

/** Runs `cloudsense export parquet` to the end. */
async function runExport(args: string[]): Promise<{ code: number | null; output: string; stdout: string }> {
  const proc = CliProcess.start(['export', 'parquet', ...args]);
  const { code } = await proc.exited;
  await proc.closed;
  return { code, output: proc.output, stdout: proc.stdout };
}

/** Reads a Parquet file with DuckDB in memory: its columns and types, and its rows. */
async function readParquet(file: string, order: string): Promise<{ schema: string[][]; rows: unknown[][] }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const source = `read_parquet('${file.replaceAll("'", "''")}')`;
    const schema = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`))
      .getRowsJS()
      .map((r) => [r[0] as string, r[1] as string]);
    const rows = (await connection.runAndReadAll(`SELECT * FROM ${source} ORDER BY ${order}`)).getRowsJS();
    return { schema, rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('cloudsense export parquet', () => {
  it('explains itself and its column layout with --help', async () => {
    const help = await runExport(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.output, /Usage: cloudsense export parquet \[options\]/);
    for (const flag of [
      '--out',
      '--what',
      '--from',
      '--to',
      '--host',
      '--metric',
      '--data-dir',
      '--config',
    ]) {
      assert.match(help.output, new RegExp(flag));
    }
    assert.match(help.output, /samples {6}host, time, metric, unit, attributes, value, seq/);
  });

  it('exports a range of one host and metric, and the file holds exactly those samples', async () => {
    const out = join(root, 'web-memory.parquet');
    const from = T0 + 30 * 60 * MINUTE;
    const to = from + 6 * 60 * MINUTE;
    const result = await runExport([
      '--data-dir',
      dataDir,
      '--host',
      'web-01',
      '--metric',
      MEMORY,
      '--from',
      iso(from),
      '--to',
      iso(to),
      '--out',
      out,
    ]);
    assert.equal(result.code, 0, result.output);
    assert.match(
      result.stdout,
      new RegExp(`exported 720 samples rows of 1 host \\(${iso(from)} to ${iso(to - MINUTE)}\\) to ${out}, `),
    );
    assert.ok(!existsSync(`${out}.partial`));

    const { schema, rows } = await readParquet(out, 'time, attributes');
    assert.deepEqual(schema, [
      ['host', 'VARCHAR'],
      ['time', 'TIMESTAMP'],
      ['metric', 'VARCHAR'],
      ['unit', 'VARCHAR'],
      ['attributes', 'VARCHAR'],
      ['value', 'DOUBLE'],
      ['seq', 'BIGINT'],
    ]);
    const expected = web
      .filter((m) => m.timestamp >= from && m.timestamp < to)
      .flatMap((m) =>
        m.metrics
          .filter((p) => p.name === MEMORY)
          .map((p) => [m.hostId, m.timestamp, p.name, p.unit, JSON.stringify(p.attributes), p.value, m.seq])
          .sort((a, b) => String(a[4]).localeCompare(String(b[4]))),
      );
    assert.equal(rows.length, expected.length);
    assert.deepEqual(
      rows.map(([host, time, metric, unit, attributes, value, seq]) => [
        host,
        (time as Date).getTime(),
        metric,
        unit,
        attributes,
        value,
        Number(seq),
      ]),
      expected,
    );
  });

  it('exports every host without filters, aggregates, predictions and events, each in its layout', async () => {
    const all = await runExport(['--data-dir', dataDir, '--out', join(root, 'all.parquet')]);
    assert.equal(all.code, 0, all.output);
    // The first day of both hosts was downsampled; the second is raw.
    assert.match(all.stdout, /exported 8,640 samples rows of 2 hosts \(2026-03-02T00:00:00\.000Z to /);

    const aggregatesFile = join(root, 'aggregates.parquet');
    const aggregates = await runExport([
      '--data-dir',
      dataDir,
      '--what',
      'aggregates',
      '--host',
      'db-01',
      '--metric',
      CPU,
      '--out',
      aggregatesFile,
    ]);
    assert.equal(aggregates.code, 0, aggregates.output);
    const { schema, rows } = await readParquet(aggregatesFile, 'time');
    assert.deepEqual(
      schema.map(([name]) => name),
      [
        'host',
        'time',
        'interval_s',
        'metric',
        'unit',
        'attributes',
        'min',
        'max',
        'mean',
        'last',
        'count',
        'last_time',
      ],
    );
    assert.equal(rows.length, 24 * 12, "a day of 5-minute buckets of db-01's CPU");
    const [host, time, interval, metric, unit, attributes, min, max, mean, last, count, lastTime] = rows[0]!;
    const firstFive = db.slice(0, 5).map((m) => m.metrics[0]!.value);
    assert.deepEqual(
      [host, (time as Date).getTime(), interval, metric, unit, attributes],
      ['db-01', T0, 300, CPU, '1', '{}'],
    );
    assert.equal(min, Math.min(...firstFive));
    assert.equal(max, Math.max(...firstFive));
    assert.ok(Math.abs((mean as number) - firstFive.reduce((a, b) => a + b) / 5) < 1e-12);
    assert.equal(last, firstFive[4]);
    assert.equal(Number(count), 5);
    assert.equal((lastTime as Date).getTime(), T0 + 4 * MINUTE);

    const predictionsFile = join(root, 'predictions.parquet');
    const exported = await runExport([
      '--data-dir',
      dataDir,
      '--what',
      'predictions',
      '--out',
      predictionsFile,
    ]);
    assert.equal(exported.code, 0, exported.output);
    const p = await readParquet(predictionsFile, 'resource');
    assert.deepEqual(
      p.schema.map(([name]) => name),
      [
        'host',
        'time',
        'seq',
        'resource',
        'probability',
        'alert',
        'threshold',
        'horizon_s',
        'tte_p10_s',
        'tte_p50_s',
        'tte_p90_s',
        'model_source',
        'model_run_id',
        'model_version',
      ],
    );
    assert.deepEqual(
      p.rows.map((r) => [r[0], Number(r[2]), ...r.slice(3)]),
      [
        ['web-01', 5000, 'cpu', 0.25, false, 0.4, 3600, null, null, null, 'bundled', 'baseline-cpu', null],
        [
          'web-01',
          5000,
          'memory',
          0.75,
          true,
          0.4,
          21_600,
          600,
          1800,
          3600,
          'fleet',
          'run-7',
          '2026-03-01.1',
        ],
      ],
    );

    const eventsFile = join(root, 'events.parquet');
    const events = await runExport(['--data-dir', dataDir, '--what', 'events', '--out', eventsFile]);
    assert.equal(events.code, 0, events.output);
    const e = await readParquet(eventsFile, 'time');
    assert.deepEqual(
      e.schema.map(([name]) => name),
      ['host', 'time', 'seq', 'type', 'resource', 'message'],
    );
    assert.equal(e.rows.length, 1);
    assert.deepEqual(JSON.parse(e.rows[0]![5] as string), RAISED);
  });

  it('refuses bad arguments with a clear message and exit status 2', async () => {
    const out = join(root, 'bad.parquet');
    const cases: Array<[string[], RegExp]> = [
      [['--data-dir', dataDir], /required option '--out <file\.parquet>' not specified/],
      [
        ['--data-dir', dataDir, '--out', out, '--what', 'metrics'],
        /argument 'metrics' is invalid\. Allowed choices are samples, aggregates, predictions, events/,
      ],
      [
        ['--data-dir', dataDir, '--out', out, '--from', 'yesterday'],
        /--from: not an ISO 8601 time: yesterday/,
      ],
      [
        ['--data-dir', dataDir, '--out', out, '--from', '2026-03-02', '--to', '2026-03-01'],
        /--from must be before --to/,
      ],
      [
        ['--data-dir', dataDir, '--out', out, '--what', 'events', '--metric', CPU],
        /--metric applies to --what samples or aggregates/,
      ],
      [['--data-dir', dataDir, '--out', out, '--host', 'no such host'], /--host: not a host id/],
      [
        ['--data-dir', dataDir, '--out', out, '--host', 'mail-01'],
        /no host mail-01 in the store; hosts: db-01, web-01/,
      ],
      [
        ['--data-dir', dataDir, '--out', join(root, 'missing', 'x.parquet')],
        /--out: the directory .*missing does not exist/,
      ],
      [
        ['--data-dir', join(root, 'nowhere'), '--out', out],
        /no store in .*nowhere \(no telemetry\.duckdb\); is --data-dir right\?/,
      ],
      [['--data-dir', dataDir, '--out', out, '--colour'], /unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const result = await runExport(args);
      assert.equal(result.code, 2, `${args.join(' ')}:\n${result.output}`);
      assert.match(result.output, message);
      assert.equal(result.stdout, '', 'nothing on standard output');
    }
    assert.ok(!existsSync(out), 'no file is left behind');
    assert.ok(!existsSync(join(root, 'nowhere')), 'a mistyped data dir is not created');
  });

  it('says the data dir is busy while an aggregator holds it, whose retention runs at start', async () => {
    const dir = join(root, 'busy');
    // Raw samples from 40 days ago: past the default raw retention (30 d) of the aggregator.
    const old = Math.floor((Date.now() - 40 * DAY) / DAY) * DAY;
    const seed = new DuckDbTelemetryStore({
      path: join(dir, 'telemetry.duckdb'),
      memoryLimit: '128MB',
      threads: 1,
    });
    await seed.start();
    await seed.write(
      web.slice(0, 60).map((m, i) => ({ ...m, hostId: 'old-01', timestamp: old + i * MINUTE })),
    );
    await seed.stop();

    const httpPort = await freePort();
    const aggregator = CliProcess.start(
      [
        'aggregator',
        '--http-port',
        String(httpPort),
        '--mqtt-port',
        String(await freePort()),
        '--log-format',
        'json',
      ],
      { CLOUDSENSE_DATA_DIR: dir },
    );
    await aggregator.waitForLine(/aggregator ready/);
    const out = join(root, 'busy.parquet');
    const busy = await runExport(['--data-dir', dir, '--out', out]);
    assert.equal(busy.code, 1, busy.output);
    assert.match(busy.output, /held by another process \(pid \d+\)/);
    assert.match(busy.output, /If that is a running aggregator, stop it first/);
    assert.ok(!existsSync(out));

    const pass = await aggregator.waitForLine(/"msg":"retention pass"/, 60_000);
    assert.equal((JSON.parse(pass) as { samplesDownsampled: number }).samplesDownsampled, 60 * 3);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    assert.match(metrics, /^cloudsense_store_retention_runs_total 1$/m);
    assert.match(metrics, /^cloudsense_store_retention_rows_total\{table="samples"\} 180$/m);
    assert.match(metrics, /^cloudsense_store_retention_aggregates_written_total 36$/m);
    assert.equal((await aggregator.stop('SIGTERM')).code, 0);

    // Stopped, the data dir exports again: the old hour as 12 buckets per series.
    const samples = await runExport(['--data-dir', dir, '--out', out]);
    assert.equal(samples.code, 0, samples.output);
    assert.match(samples.stdout, /exported 0 samples rows of 0 hosts \(none in the range\)/);
    const aggregates = await runExport(['--data-dir', dir, '--what', 'aggregates', '--out', out]);
    assert.equal(aggregates.code, 0, aggregates.output);
    assert.match(aggregates.stdout, /exported 36 aggregates rows of 1 host/);
  });
});
