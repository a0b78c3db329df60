import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDbTelemetryStore } from '../../aggregator/storage/duckdb/duckdb-store.js';
import { readResourceSeries } from '../../aggregator/training/store-series.js';
import { CliProcess } from '../helpers/cli-process.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { freePort } from '../helpers/net.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-import-e2e-'));
after(() => {
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
function dataDir(): string {
  return join(root, `data-${++dirs}`);
}

function file(name: string, lines: string[]): string {
  const path = join(root, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Runs `cloudsense import csv` to the end: its exit status and all it printed. */
async function runImport(args: string[]): Promise<{ code: number | null; output: string }> {
  const proc = CliProcess.start(['import', 'csv', ...args]);
  // 'close' comes after the exit and the end of stdout and stderr, so the output is complete.
  const closed = new Promise<void>((resolve) => proc.child.on('close', () => resolve()));
  const { code } = await proc.exited;
  await closed;
  return { code, output: proc.output };
}

async function storedRows(
  dir: string,
): Promise<Array<[string, number, number, string, string, string, number]>> {
  return (await queryClosedStore(
    dir,
    `SELECT host_id, seq::DOUBLE, epoch_ms(ts)::DOUBLE, metric, attributes, unit, value FROM samples ORDER BY ts`,
  )) as Array<[string, number, number, string, string, string, number]>;
}

const T0 = Date.UTC(2026, 0, 1);
/** A day of /var usage in percent every 5 minutes, as a Prometheus range query exported to CSV: Unix seconds. */
const VAR_PERCENT = Array.from({ length: 288 }, (_, i) => 40 + i / 10);
function prometheusExport(name: string, rows = VAR_PERCENT): string {
  return file(name, ['timestamp,value', ...rows.map((v, i) => `${T0 / 1000 + i * 300},${v.toFixed(1)}`)]);
}

describe('cloudsense import csv', () => {
  it('explains itself with --help', async () => {
    const help = await runImport(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.output, /Usage: cloudsense import csv \[options\] <file\.\.\.>/);
    for (const flag of [
      '--host',
      '--metric',
      '--attribute',
      '--time-column',
      '--value-column',
      '--scale',
      '--unit',
      '--timezone',
      '--skip-bad-rows',
      '--overlap',
      '--data-dir',
      '--config',
    ]) {
      assert.match(help.output, new RegExp(flag));
    }
  });

  it('imports a Prometheus-style export as a filesystem resource that training reads, and only once', async () => {
    const dir = dataDir();
    const csv = prometheusExport('var.csv');
    const args = [
      csv,
      '--host',
      'web-01',
      '--metric',
      'filesystem:/var',
      '--scale',
      '0.01',
      '--data-dir',
      dir,
    ];
    const first = await runImport(args);
    assert.equal(first.code, 0, first.output);
    assert.match(
      first.output,
      /imported {3}288 samples of web-01 system\.filesystem\.utilization \{system\.filesystem\.mountpoint=\/var\}, 2026-01-01T00:00:00\.000Z to 2026-01-01T23:55:00\.000Z, every 300 s/,
    );
    assert.match(first.output, /training {3}reads it as resource filesystem:%2Fvar/);
    assert.match(first.output, /\[100%\]/, 'reports progress');

    const rows = await storedRows(dir);
    assert.equal(rows.length, 288);
    rows.forEach(([host, seq, ts, metric, attributes, unit, value], i) => {
      assert.equal(host, 'web-01');
      assert.equal(seq, 0, 'imported samples carry seq 0');
      assert.equal(ts, T0 + i * 300_000);
      assert.equal(metric, 'system.filesystem.utilization');
      assert.equal(attributes, '{"system.filesystem.mountpoint":"/var"}');
      assert.equal(unit, '1');
      assert.equal(value, Number(VAR_PERCENT[i]!.toFixed(1)) / 100);
    });

    // The training code finds the series.
    const store = new DuckDbTelemetryStore({
      path: join(dir, 'telemetry.duckdb'),
      memoryLimit: '128MB',
      threads: 1,
    });
    await store.start();
    try {
      const series = await readResourceSeries(store, 'filesystem');
      assert.deepEqual(
        series.map((s) => [s.hostId, s.resourceId, s.history.timestampsMs.length]),
        [['web-01', 'filesystem:%2Fvar', 288]],
      );
    } finally {
      await store.stop();
    }

    // The same import again writes nothing.
    const again = await runImport(args);
    assert.equal(again.code, 0, again.output);
    assert.match(
      again.output,
      /imported {3}nothing new for web-01 system\.filesystem\.utilization .*: every row is already stored/,
    );
    assert.match(again.output, /left out {3}288 rows already stored/);
    assert.equal((await storedRows(dir)).length, 288);

    // An export of the same day on another grid would interleave: refused, the store untouched.
    const shifted = file('var-shifted.csv', [
      'timestamp,value',
      ...VAR_PERCENT.map((v, i) => `${T0 / 1000 + 60 + i * 300},${v}`),
    ]);
    const overlap = await runImport([shifted, ...args.slice(1)]);
    assert.equal(overlap.code, 2, overlap.output);
    assert.match(
      overlap.output,
      /web-01 already has system\.filesystem\.utilization .* from 2026-01-01T00:05:00\.000Z to 2026-01-01T23:55:00\.000Z \(287 samples in the time range of the import\), and 286 rows of the import fall in between/,
    );
    assert.match(overlap.output, /--overlap skip/);
    assert.equal((await storedRows(dir)).length, 288);
  });

  it('refuses a file with a bad row, naming file and line, and leaves the store as it was', async () => {
    const dir = dataDir();
    const rows = VAR_PERCENT.map((v, i) => `${T0 / 1000 + i * 300},${v}`);
    rows[9] = `${T0 / 1000 + 9 * 300},n/a%`; // line 11
    rows[99] = `${T0 / 1000 + 99 * 300},150`; // line 101
    const csv = file('bad.csv', ['timestamp,value', ...rows]);
    const args = [
      csv,
      '--host',
      'web-01',
      '--metric',
      'filesystem:/var',
      '--scale',
      '0.01',
      '--data-dir',
      dir,
    ];
    const failed = await runImport(args);
    assert.equal(failed.code, 2, failed.output);
    assert.match(failed.output, /2 bad rows; nothing was imported/);
    assert.match(failed.output, new RegExp(`${csv}:11: bad value: value "n/a%" is not a finite number`));
    assert.match(
      failed.output,
      new RegExp(`${csv}:101: value out of range: value 150 × 0.01 = 1.5 is outside 0..1`),
    );
    assert.match(failed.output, /pass --skip-bad-rows to import the other 286 rows/);
    assert.equal(existsSync(join(dir, 'telemetry.duckdb')), false, 'the store is not even created');

    const skipped = await runImport([...args, '--skip-bad-rows']);
    assert.equal(skipped.code, 0, skipped.output);
    assert.match(skipped.output, /imported {3}286 samples/);
    assert.match(
      skipped.output,
      /skipped {4}2 bad rows: bad value 1 \(line 11\), value out of range 1 \(line 101\)/,
    );
    const stored = await storedRows(dir);
    assert.equal(stored.length, 286);
    assert.ok(!stored.some(([, , ts]) => ts === T0 + 9 * 300_000 || ts === T0 + 99 * 300_000));
  });

  it('reads a Netdata-style export: quoted header, newest first, zoneless times in --timezone, a chosen column', async () => {
    const dir = dataDir();
    const lines = ['"time","used","buffers","free"'];
    for (let i = 59; i >= 0; i--) {
      const local = new Date(T0 + i * 60_000 + 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
      lines.push(`"${local}",${(50 + i / 2).toFixed(1)},3.0,${(47 - i / 2).toFixed(1)}`);
    }
    const csv = file('netdata-ram.csv', lines);
    const result = await runImport([
      csv,
      '--host',
      'db-01',
      '--metric',
      'memory',
      '--value-column',
      'used',
      '--scale',
      '0.01',
      '--timezone',
      'Europe/Berlin',
      '--data-dir',
      dir,
    ]);
    assert.equal(result.code, 0, result.output);
    assert.match(
      result.output,
      /imported {3}60 samples of db-01 system\.memory\.utilization \{system\.memory\.state=used\}, 2026-01-01T00:00:00\.000Z to 2026-01-01T00:59:00\.000Z, every 60 s/,
    );
    const rows = await storedRows(dir);
    assert.deepEqual(rows.map(([, , ts, , attributes, , value]) => [ts, attributes, value]).slice(0, 2), [
      [T0, '{"system.memory.state":"used"}', 0.5],
      [T0 + 60_000, '{"system.memory.state":"used"}', 0.505],
    ]);
  });

  it('says to stop the aggregator when it holds the store', async () => {
    const dir = dataDir();
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const aggregator = CliProcess.start(
      [
        'aggregator',
        '--http-port',
        String(httpPort),
        '--mqtt-port',
        String(mqttPort),
        '--log-format',
        'json',
      ],
      { CLOUDSENSE_DATA_DIR: dir },
    );
    await aggregator.waitForLine(/aggregator ready/);
    const busy = await runImport([
      prometheusExport('busy.csv'),
      '--host',
      'web-01',
      '--metric',
      'cpu',
      '--scale',
      '0.01',
      '--data-dir',
      dir,
    ]);
    assert.equal(busy.code, 1, busy.output);
    assert.match(busy.output, /held by another process/);
    assert.match(busy.output, /stop the aggregator, import, and start it again; nothing was imported/);
    assert.equal((await aggregator.stop('SIGTERM')).code, 0);
    assert.equal((await storedRows(dir)).length, 0);
  });

  it('stops on bad flags with status 2 before reading anything', async () => {
    const csv = prometheusExport('flags.csv');
    const cases: Array<[string[], RegExp]> = [
      [['--host', 'web 01', '--metric', 'cpu'], /--host "web 01": a host id is/],
      [['--host', 'web-01', '--metric', 'disk'], /--metric "disk"|not a metric CloudSense collects/],
      [['--host', 'web-01', '--metric', 'cpu', '--scale', 'lots'], /--scale "lots": expected a number/],
      [['--host', 'web-01', '--metric', 'cpu', '--timezone', 'Mars/Base'], /--timezone: unknown time zone/],
    ];
    for (const [flags, pattern] of cases) {
      const result = await runImport([csv, ...flags, '--data-dir', dataDir()]);
      assert.equal(result.code, 2, result.output);
      assert.match(result.output, pattern);
    }
  });
});
