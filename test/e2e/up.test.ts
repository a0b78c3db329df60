import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { CliProcess } from '../helpers/cli-process.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';

interface Point {
  name: string;
  value: number;
  attributes?: Record<string, string>;
}
interface HostView {
  id: string;
  online: boolean;
  lastSeen: string | null;
  metrics: Point[];
}
interface SeriesResponse {
  series: Array<{ metric: string; attributes: Record<string, string>; points: Array<[number, number]> }>;
}

const dataDir = mkdtempSync(join(tmpdir(), 'cloudsense-up-'));
after(() => {
  CliProcess.killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startUp(): Promise<{ proc: CliProcess; base: string }> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const proc = CliProcess.start(['up', '--interval', '1', '--log-format', 'json'], {
    CLOUDSENSE_DATA_DIR: dataDir,
    CLOUDSENSE_HTTP_PORT: String(httpPort),
    CLOUDSENSE_MQTT_PORT: String(mqttPort),
  });
  await proc.waitForLine(/CloudSense is up/);
  return { proc, base: `http://127.0.0.1:${httpPort}` };
}

function pointsOf(body: SeriesResponse): Array<[number, number]> {
  return body.series.flatMap((s) => s.points);
}

describe('cloudsense up', () => {
  let hostId = '';
  let countBeforeStop = 0;
  let storedAtExit = 0;
  let exitedAt = 0;

  it('lists this machine with real CPU and memory figures within 30 s, in the API and on the stream', async () => {
    const started = Date.now();
    const { proc, base } = await startUp();
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/stream`);
    const streamed: Array<{ type: string; hostId?: string; data?: { seq: number; metrics: Point[] } }> = [];
    ws.on('message', (data) => streamed.push(JSON.parse(String(data))));

    const host = await waitFor(
      'a host with memory and CPU figures',
      async () => {
        const { hosts } = await getJson<{ hosts: HostView[] }>(`${base}/api/v1/hosts`);
        return hosts.find(
          (h) =>
            h.online &&
            h.metrics.some((m) => m.name === 'system.memory.usage' && m.value > 0) &&
            h.metrics.some((m) => m.name === 'system.cpu.logical.count' && m.value > 0),
        );
      },
      30_000,
    );
    assert.ok(Date.now() - started < 30_000, 'host listed within 30 s of starting');
    hostId = host.id;
    const memLimit = host.metrics.find((m) => m.name === 'system.memory.limit');
    assert.ok(memLimit && memLimit.value > 0, 'memory limit is reported');
    const cpu = host.metrics.find((m) => m.name === 'system.cpu.utilization');
    assert.ok(cpu && cpu.value >= 0 && cpu.value <= 1, 'cpu utilisation is a 0..1 ratio');

    // Wait for a few samples, then check history and stream agree.
    await waitFor('5 stored CPU samples', async () => {
      const body = await getJson<SeriesResponse>(
        `${base}/api/v1/hosts/${hostId}/metrics?metric=system.cpu.utilization`,
      );
      return pointsOf(body).length >= 5 ? body : undefined;
    });
    const cpuHistory = pointsOf(
      await getJson<SeriesResponse>(`${base}/api/v1/hosts/${hostId}/metrics?metric=system.cpu.utilization`),
    );
    assert.ok(
      cpuHistory.some(([, v]) => v > 0),
      'some CPU utilisation sample is above zero',
    );
    const memHistory = await getJson<SeriesResponse>(
      `${base}/api/v1/hosts/${hostId}/metrics?metric=system.memory.usage&from=${started - 60_000}`,
    );
    const used = memHistory.series.find((s) => s.attributes['system.memory.state'] === 'used');
    assert.ok(used && used.points.length >= 5 && used.points.every(([, v]) => v > 0));

    const telemetry = await waitFor('telemetry on the WebSocket stream', () => {
      const events = streamed.filter((e) => e.type === 'telemetry' && e.hostId === hostId);
      return events.length >= 2 ? events : undefined;
    });
    // What the stream pushed is what the store holds: same timestamps and values.
    const streamedCpu = telemetry.map(
      (e) => e.data!.metrics.find((m) => m.name === 'system.cpu.utilization')!.value,
    );
    await waitFor('streamed samples in the store', async () => {
      const stored = pointsOf(
        await getJson<SeriesResponse>(`${base}/api/v1/hosts/${hostId}/metrics?metric=system.cpu.utilization`),
      ).map(([, v]) => v);
      return streamedCpu.every((v) => stored.includes(v)) ? true : undefined;
    });
    ws.close();

    // Stop with SIGINT; note what was stored just before.
    countBeforeStop = pointsOf(
      await getJson<SeriesResponse>(`${base}/api/v1/hosts/${hostId}/metrics?metric=system.cpu.utilization`),
    ).length;
    const exit = await proc.stop('SIGINT');
    exitedAt = Date.now();
    assert.equal(exit.code, 0, `clean exit after SIGINT:\n${proc.output}`);

    // Read the closed store directly: every message the agent sent, one to its last, is there
    // (telemetry, and predictions and events when the agent has models: one numbering).
    const rows = (
      await queryClosedStore(
        dataDir,
        `SELECT count(*)::DOUBLE, count(DISTINCT seq)::DOUBLE,
           (SELECT count(DISTINCT seq)::DOUBLE FROM (
              SELECT seq FROM samples WHERE host_id = $host UNION ALL
              SELECT seq FROM predictions WHERE host_id = $host UNION ALL
              SELECT seq FROM events WHERE host_id = $host)),
           (SELECT max(seq)::DOUBLE FROM (
              SELECT seq FROM samples WHERE host_id = $host UNION ALL
              SELECT seq FROM predictions WHERE host_id = $host UNION ALL
              SELECT seq FROM events WHERE host_id = $host))
         FROM samples WHERE host_id = $host AND metric = 'system.cpu.utilization'`,
        { host: hostId },
      )
    )[0] as [number, number, number, number];
    const [count, distinctSeq, allSeqs, maxSeq] = rows;
    storedAtExit = count;
    assert.ok(storedAtExit >= countBeforeStop, 'nothing stored before the stop went missing');
    assert.equal(distinctSeq, count, 'each message stored once');
    assert.equal(maxSeq, allSeqs, 'sequence numbers 1..N all present: no message lost while stopping');
  });

  it('keeps every stored sample across a SIGINT and restart on the same data dir', async () => {
    assert.ok(hostId, 'the first test found the host');
    const { proc, base } = await startUp();
    // Every sample in the file at exit is served after the restart.
    const body = await getJson<SeriesResponse>(
      `${base}/api/v1/hosts/${hostId}/metrics?metric=system.cpu.utilization&from=0&to=${exitedAt}`,
    );
    assert.equal(pointsOf(body).length, storedAtExit);
    // The host is known at once from the store, before new telemetry.
    const { hosts } = await getJson<{ hosts: HostView[] }>(`${base}/api/v1/hosts`);
    assert.ok(hosts.some((h) => h.id === hostId));
    // And new samples keep coming in after the restart.
    await waitFor('new samples after restart', async () => {
      const all = await getJson<SeriesResponse>(
        `${base}/api/v1/hosts/${hostId}/metrics?metric=system.cpu.utilization&from=0`,
      );
      return pointsOf(all).length > storedAtExit + 1 ? true : undefined;
    });
    const exit = await proc.stop('SIGINT');
    assert.equal(exit.code, 0);
  });
});
