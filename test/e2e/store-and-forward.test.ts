import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CliProcess,
  startAggregatorProcess,
  startAgentProcess,
  type AggregatorPorts,
} from '../helpers/cli-process.js';
import { queryClosedStore } from '../helpers/duckdb.js';
import { freePort, getJson, waitFor } from '../helpers/net.js';

/** How long the aggregator stays down in the outage test, ms (the figure). */
const OUTAGE_MS = 60_000;

const dirs: string[] = [];
function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cloudsense-saf-${name}-`));
  dirs.push(dir);
  return dir;
}
after(() => {
  CliProcess.killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The fields of the first JSON log line whose message is `msg`. */
async function logLine(proc: CliProcess, msg: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const line = await proc.waitForLine(new RegExp(`"msg":"${msg}"`), timeoutMs);
  return JSON.parse(line) as Record<string, unknown>;
}

/** The aggregator's live view of a host's newest sequence number (null before the first). */
async function liveSeq(ports: AggregatorPorts, hostId: string): Promise<number | null> {
  const res = await fetch(`http://127.0.0.1:${ports.http}/api/v1/hosts/${hostId}`);
  if (res.status === 404) return null;
  return (await getJson<{ lastSeq: number | null }>(`http://127.0.0.1:${ports.http}/api/v1/hosts/${hostId}`))
    .lastSeq;
}

async function waitForSeq(
  ports: AggregatorPorts,
  hostId: string,
  atLeast: number,
  timeoutMs = 30_000,
): Promise<number> {
  return waitFor(
    `${hostId} to reach seq ${atLeast}`,
    async () => {
      const seq = await liveSeq(ports, hostId);
      return seq !== null && seq >= atLeast ? seq : undefined;
    },
    timeoutMs,
  );
}

/** Stops the agent with SIGTERM; its last log line says how far it got and what was confirmed. */
async function stopAgent(
  agent: CliProcess,
): Promise<{ lastSeq: number; confirmedSeq: number; pending: number }> {
  assert.equal((await agent.stop('SIGTERM')).code, 0, agent.output);
  const stopped = await logLine(agent, 'agent stopped', 1000);
  const queue = stopped.queue as { pending: number };
  return {
    lastSeq: stopped.lastSeq as number,
    confirmedSeq: stopped.confirmedSeq as number,
    pending: queue.pending,
  };
}

/**
 * Reads the store after the aggregator exited and checks that it holds
 * every message 1..lastSeq of the host exactly once: each number present
 * (in the telemetry, predictions or events table: they share the
 * numbering), and no row twice — (seq, metric, attributes) for telemetry,
 * (seq, resource) for predictions, (seq) for events — nor a number in two
 * tables.
 */
async function assertStoredExactlyOnce(dataDir: string, hostId: string, lastSeq: number): Promise<void> {
  const rows = (await queryClosedStore(
    dataDir,
    `SELECT seq::DOUBLE, count(*)::DOUBLE, count(DISTINCT row_key)::DOUBLE, count(DISTINCT kind)::DOUBLE FROM (
       SELECT seq, 'telemetry' AS kind, metric || attributes AS row_key FROM samples WHERE host_id = $host
       UNION ALL SELECT seq, 'predictions', resource FROM predictions WHERE host_id = $host
       UNION ALL SELECT seq, 'events', 'event' FROM events WHERE host_id = $host)
     GROUP BY seq ORDER BY seq`,
    { host: hostId },
  )) as Array<[number, number, number, number]>;
  const seqs = rows.map(([seq]) => seq);
  const missing = Array.from({ length: lastSeq }, (_, i) => i + 1).filter((s) => !seqs.includes(s));
  assert.deepEqual(missing, [], 'every sequence number is stored');
  assert.deepEqual(
    seqs.filter((s) => s < 1 || s > lastSeq),
    [],
    'nothing beyond what the agent numbered',
  );
  const doubled = rows
    .filter(([, points, distinct, kinds]) => points !== distinct || kinds !== 1)
    .map(([seq]) => seq);
  assert.deepEqual(doubled, [], 'no message is stored twice');
}

describe('store and forward', { concurrency: true }, () => {
  it(
    'loses nothing while the aggregator is SIGKILLed and down for 60 s, and stores each message once',
    { timeout: 180_000 },
    async () => {
      const hostId = 'saf-outage';
      const storeDir = tempDir('aggregator');
      const agentDir = tempDir('agent');
      const ports = { http: await freePort(), mqtt: await freePort() };
      let aggregator = await startAggregatorProcess({ dataDir: storeDir, ports: ports });
      const agent = startAgentProcess({ hostId: hostId, mqttPort: ports.mqtt, dataDir: agentDir });
      const beforeKill = await waitForSeq(ports, hostId, 3);

      assert.equal((await aggregator.stop('SIGKILL')).signal, 'SIGKILL');
      await agent.waitForLine(/broker unreachable/, 10_000);
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      assert.equal(agent.child.exitCode, null, 'the agent rides out the outage');

      aggregator = await startAggregatorProcess({ dataDir: storeDir, ports: ports });
      // About one message a second was queued during the outage; wait until the replay has caught up.
      await waitForSeq(ports, hostId, beforeKill + OUTAGE_MS / 1000, 40_000);
      const metrics = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
      assert.match(metrics, /^cloudsense_ingest_duplicate_total \d+$/m);
      assert.match(metrics, /^cloudsense_ingest_missing_total 0$/m);

      const { lastSeq, confirmedSeq, pending } = await stopAgent(agent);
      assert.ok(lastSeq >= beforeKill + OUTAGE_MS / 1000, `agent numbered ${lastSeq} messages`);
      assert.equal(confirmedSeq, lastSeq, 'the aggregator confirmed everything before the agent stopped');
      assert.equal(pending, 0);
      assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);
      await assertStoredExactlyOnce(storeDir, hostId, lastSeq);
    },
  );

  it(
    'reopens the queue of a SIGKILLed agent cleanly and continues its numbers, with each message stored once',
    { timeout: 120_000 },
    async () => {
      const hostId = 'saf-crash';
      const storeDir = tempDir('aggregator');
      const agentDir = tempDir('agent');
      const ports = { http: await freePort(), mqtt: await freePort() };
      const aggregator = await startAggregatorProcess({ dataDir: storeDir, ports: ports });
      const first = startAgentProcess({ hostId: hostId, mqttPort: ports.mqtt, dataDir: agentDir });
      await waitForSeq(ports, hostId, 5);
      assert.equal((await first.stop('SIGKILL')).signal, 'SIGKILL');
      // Whatever was in flight lands within a moment; the store's view is then final.
      await new Promise((r) => setTimeout(r, 1500));
      const storedBefore = (await liveSeq(ports, hostId))!;

      const second = startAgentProcess({ hostId: hostId, mqttPort: ports.mqtt, dataDir: agentDir });
      const opened = await logLine(second, 'telemetry queue opened');
      assert.equal(opened.corrupt, 0, 'the queue reopens without damage');
      const nextSeq = opened.nextSeq as number;
      assert.ok(nextSeq > storedBefore, `numbering continues at ${nextSeq}, above ${storedBefore}: no reuse`);
      await waitForSeq(ports, hostId, nextSeq + 3);

      const { lastSeq, confirmedSeq } = await stopAgent(second);
      assert.equal(confirmedSeq, lastSeq);
      assert.equal((await aggregator.stop('SIGTERM')).code, 0, aggregator.output);
      await assertStoredExactlyOnce(storeDir, hostId, lastSeq);
    },
  );
});
