import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentHttpSectionSchema, DEFAULT_AGENT_HTTP_PORT, isLoopbackHost } from '../../agent/http/config.js';
import { healthOf, withoutCredentials, type AgentHealthSources } from '../../agent/http/health.js';
import { AgentLocalEndpoint } from '../../agent/http/local-endpoint.js';
import { AgentSelfReport } from '../../agent/http/self-report.js';
import type { DiskQueueStats } from '../../agent/queue/disk-queue.js';
import { configChanges } from '../../cli/lifecycle.js';
import { createLogger } from '../../shared/log.js';
import type { Prediction, PredictionsMessage } from '../../shared/wire/predictions.js';

const log = createLogger({ level: 'silent', format: 'json' });

function prediction(resource: string, probability: number, alert = false): Prediction {
  return {
    resource,
    probability,
    alert,
    threshold: 0.5,
    horizonS: 3600,
    model: { source: 'bundled', runId: 'run-1', version: 'v1' },
  } as Prediction;
}

function predictionsMessage(predictions: Prediction[], timestamp = 1): PredictionsMessage {
  return { schemaVersion: 1, hostId: 'h', seq: 1, timestamp, predictions } as unknown as PredictionsMessage;
}

const queueStats = (over: Partial<DiskQueueStats> = {}): DiskQueueStats => ({
  accepted: 10,
  written: 10,
  dropped: 0,
  confirmed: 8,
  corrupt: 0,
  pending: 2,
  bytes: 1000,
  segments: 1,
  lastSeq: 10,
  confirmedSeq: 8,
  ...over,
});

function sources(report: AgentSelfReport, over: Partial<AgentHealthSources> = {}): AgentHealthSources {
  return {
    hostId: 'web-01',
    version: '9.9.9',
    brokerUrl: 'mqtt://agent:s3cret@broker.example:1883',
    intervalSeconds: 10,
    queueMaxBytes: 10_000,
    startedAt: Date.now(),
    stats: () => ({
      queue: queueStats(),
      forwarder: { published: 12, replays: 1, inFlight: 0 },
      forecaster: { resources: 3, cycles: 4, cpuMs: 20, lastCycleCpuMs: 5 },
      cycles: report.stats(),
      brokerConnected: true,
    }),
    models: () => ({ memory: { source: 'fleet', runId: 'run-7', version: '2026-11-01.1' } }),
    ...over,
  };
}

describe('agent.http config', () => {
  it('is off by default, on loopback port 10466 when enabled', () => {
    assert.deepEqual(AgentHttpSectionSchema.parse(undefined), {
      enabled: false,
      host: '127.0.0.1',
      port: DEFAULT_AGENT_HTTP_PORT,
      allowRemote: false,
    });
    assert.equal(DEFAULT_AGENT_HTTP_PORT, 10466);
  });

  it('refuses a non-loopback host unless allowRemote, and says why', () => {
    const refused = AgentHttpSectionSchema.safeParse({ enabled: true, host: '0.0.0.0' });
    assert.equal(refused.success, false);
    const issue = refused.error!.issues[0]!;
    assert.deepEqual(issue.path, ['host']);
    assert.match(issue.message, /not a loopback address: .*no authentication.*allowRemote: true/);
    assert.equal(
      AgentHttpSectionSchema.safeParse({ enabled: true, host: '0.0.0.0', allowRemote: true }).success,
      true,
    );
    // A disabled endpoint binds nothing, so its host is not checked.
    assert.equal(AgentHttpSectionSchema.safeParse({ enabled: false, host: '10.0.0.5' }).success, true);
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      'example.com',
      '127.example.com',
      '::ffff:10.0.0.1',
    ]) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });
});

describe('AgentSelfReport', () => {
  it('counts cycles by outcome and passes a collection failure on', async () => {
    let now = 1000;
    const report = new AgentSelfReport(() => now);
    const seen: string[] = [];
    report.onCycle((c) => seen.push(`${c.outcome}:${c.durationMs}`));
    await report.cycle(async () => {
      now += 25;
    });
    await assert.rejects(
      report.cycle(async () => {
        now += 5;
        throw new Error('statfs hung');
      }),
      /statfs hung/,
    );
    await report.cycle(async () => report.telemetryLost());
    report.forecastFailed();
    const stats = report.stats();
    assert.deepEqual(stats.cycles, { ok: 1, collection_failed: 1, telemetry_lost: 1 });
    assert.equal(stats.forecastFailures, 1);
    assert.deepEqual(stats.last, { at: 1030, durationMs: 0, outcome: 'telemetry_lost' });
    assert.deepEqual(seen, ['ok:25', 'collection_failed:5', 'telemetry_lost:0']);
  });

  it("keeps the newest cycle's forecasts, across its messages, and none after a cycle without", async () => {
    const report = new AgentSelfReport();
    await report.cycle(async () => {
      report.queued('predictions', predictionsMessage([prediction('cpu', 0.1), prediction('memory', 0.2)]));
      report.queued('predictions', predictionsMessage([prediction('filesystem:/', 0.3)]));
    });
    assert.deepEqual([...report.latestForecasts().keys()], ['cpu', 'memory', 'filesystem:/']);
    await report.cycle(async () => {
      report.queued('predictions', predictionsMessage([prediction('cpu', 0.9, true)], 2));
    });
    assert.deepEqual(
      [...report.latestForecasts().keys()],
      ['cpu'],
      'a resource gone is gone from the report',
    );
    assert.equal(report.latestForecasts().get('cpu')!.probability, 0.9);
    await report.cycle(async () => undefined);
    assert.equal(report.latestForecasts().size, 0);
  });
});

describe('healthOf', () => {
  it('is ok with everything well, and leaves credentials out of the broker URL', async () => {
    const report = new AgentSelfReport();
    await report.cycle(async () => undefined);
    const health = healthOf(sources(report));
    assert.equal(health.status, 'ok');
    assert.deepEqual(health.problems, []);
    assert.equal(health.broker.url, 'mqtt://broker.example:1883');
    assert.equal(health.hostId, 'web-01');
    assert.equal(health.version, '9.9.9');
    assert.equal(health.lastCycle?.outcome, 'ok');
    assert.deepEqual(health.queue, {
      pending: 2,
      bytes: 1000,
      maxBytes: 10_000,
      dropped: 0,
      lastSeq: 10,
      confirmedSeq: 8,
    });
    assert.deepEqual(health.models, { memory: { source: 'fleet', runId: 'run-7', version: '2026-11-01.1' } });
  });

  it('is degraded, with each reason, when the broker is gone, the cycle failed or stalled, the queue near full', async () => {
    const report = new AgentSelfReport();
    await assert.rejects(report.cycle(() => Promise.reject(new Error('x'))));
    const base = sources(report);
    const health = healthOf(
      {
        ...base,
        stats: () => ({ ...base.stats(), queue: queueStats({ bytes: 9_500 }), brokerConnected: false }),
      },
      Date.now() + 31_000,
    );
    assert.equal(health.status, 'degraded');
    assert.deepEqual(health.problems, [
      'broker_disconnected',
      'last_cycle_failed',
      'cycle_stalled',
      'queue_near_full',
    ]);
  });

  it('strips user and password from any URL form', () => {
    assert.equal(withoutCredentials('mqtts://u:p@b:8883'), 'mqtts://b:8883');
    assert.equal(withoutCredentials('ws://b:9001/mqtt'), 'ws://b:9001/mqtt');
    assert.equal(withoutCredentials('not a url'), 'not a url');
  });
});

describe('AgentLocalEndpoint', () => {
  it('answers /healthz and /metrics over HTTP, refuses other paths and methods, and frees the port on stop', async () => {
    const report = new AgentSelfReport();
    const endpoint = new AgentLocalEndpoint({
      host: '127.0.0.1',
      port: 0,
      sources: sources(report),
      report,
      log,
    });
    await endpoint.start();
    const url = endpoint.url!;
    try {
      await report.cycle(async () => {
        report.queued('predictions', predictionsMessage([prediction('memory', 0.25, true)]));
      });

      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.match(health.headers.get('content-type')!, /^application\/json/);
      const body = (await health.json()) as { status: string; hostId: string };
      assert.equal(body.status, 'ok');
      assert.equal(body.hostId, 'web-01');

      const metrics = await fetch(`${url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      assert.match(text, /^cloudsense_agent_cycles_total\{outcome="ok"\} 1$/m);
      assert.match(text, /^cloudsense_agent_cycle_duration_seconds_count 1$/m);
      assert.match(text, /^cloudsense_agent_exhaustion_probability\{resource="memory"\} 0\.25$/m);
      assert.match(text, /^cloudsense_agent_alert_raised\{resource="memory"\} 1$/m);
      assert.match(text, /^cloudsense_agent_queue_pending_messages 2$/m);
      assert.match(text, /^cloudsense_agent_forwarder_published_total 12$/m);
      assert.match(text, /^cloudsense_agent_forwarder_acked_total 8$/m);
      assert.match(text, /^cloudsense_agent_broker_connected 1$/m);
      assert.match(
        text,
        /^cloudsense_agent_model_info\{key="memory",source="fleet",run_id="run-7",version="2026-11-01\.1"\} 1$/m,
      );
      assert.match(text, /^cloudsense_agent_info\{version="9\.9\.9",host="web-01"\} 1$/m);
      assert.match(text, /^process_resident_memory_bytes \d+/m, 'process metrics from the private registry');

      const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
      assert.equal((await fetch(`${url}/`)).status, 404);
      const post = await fetch(`${url}/metrics`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
    } finally {
      await endpoint.stop();
      await endpoint.stop();
    }
    await assert.rejects(fetch(`${url}/healthz`), 'nothing listens after stop');
  });

  it('says what to change when the port is taken', async () => {
    const report = new AgentSelfReport();
    const first = new AgentLocalEndpoint({
      host: '127.0.0.1',
      port: 0,
      sources: sources(report),
      report,
      log,
    });
    await first.start();
    try {
      const port = Number(new URL(first.url!).port);
      const second = new AgentLocalEndpoint({
        host: '127.0.0.1',
        port,
        sources: sources(report),
        report,
        log,
      });
      await assert.rejects(
        second.start(),
        /agent\.http cannot listen on 127\.0\.0\.1:\d+: the port is in use/,
      );
      await second.stop();
    } finally {
      await first.stop();
    }
  });
});

describe('configChanges (what a reload logs)', () => {
  it('lists changed leaves by dotted path, with values except secrets', () => {
    const before = {
      agent: { intervalSeconds: 10, password: 'a', alerts: { raiseAfter: 2 } },
      log: { level: 'info' },
    };
    const after = {
      agent: { intervalSeconds: 5, password: 'b', alerts: { raiseAfter: 2 }, http: { enabled: true } },
      log: { level: 'info' },
    };
    assert.deepEqual(configChanges(before, after), [
      { path: 'agent.http.enabled', from: undefined, to: true },
      { path: 'agent.intervalSeconds', from: 10, to: 5 },
      { path: 'agent.password' },
    ]);
    assert.deepEqual(configChanges(before, structuredClone(before)), []);
  });
});
