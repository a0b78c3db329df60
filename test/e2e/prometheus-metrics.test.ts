/**
 * The aggregator's Prometheus endpoint end to end, with real processes: a
 * `cloudsense aggregator` and a `cloudsense agent` scoring this host with
 * tiny test models whose outcome is known (memory always at risk, with a
 * time-to-exhaustion band; CPU and filesystems never). A scrape of
 * /metrics must pass `promtool check metrics` without a warning and carry
 * the agent's risk, alert and model per resource; every metric the Grafana
 * dashboards and the alert rules read must be in it; and a real
 * `prometheus` scraping the aggregator with the shipped rules must load
 * them, put the risk alert for memory into pending (or firing), and accept
 * every dashboard query.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_EXHAUSTION } from '../../shared/resources/exhaustion.js';
import { CliProcess, startAgentProcess } from '../helpers/cli-process.js';
import {
  HIGH_PROBABILITY,
  LOW_PROBABILITY,
  TEST_OPERATING_THRESHOLD,
  writeTestModel,
} from '../helpers/forecast-models.js';
import { freePort, waitFor } from '../helpers/net.js';
import {
  PrometheusServer,
  exposedSampleNames,
  promqlMetricNames,
  promtool,
  sampleValue,
} from '../helpers/prometheus.js';
import { PROMETHEUS, PROMTOOL, requireTool } from '../helpers/require-tool.js';

const RULES = fileURLToPath(new URL('../../deploy/prometheus/cloudsense-rules.yml', import.meta.url));
const DASHBOARDS = fileURLToPath(new URL('../../deploy/grafana/dashboards/', import.meta.url));
const HOST = 'prom-e2e';
const MEMORY_MODEL_VERSION = 'mem-v3';
/** The test models' time-to-exhaustion band (test/helpers/forecast-models.ts): P50 of 30 minutes. */
const BAND_P50_S = 30 * 60;
/** Series Prometheus makes itself, not the aggregator. */
const PROMETHEUS_SERIES = new Set(['up']);

const root = mkdtempSync(join(tmpdir(), 'cloudsense-prometheus-e2e-'));
const ports = { http: 0, mqtt: 0 };
let aggregator: CliProcess;
let agent: CliProcess;
/** A scrape taken once memory's alert is raised. */
let scrape = '';

async function fetchMetrics(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${ports.http}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

before(async () => {
  const models = join(root, 'models');
  writeTestModel(models, 'cpu', { splitAt: 2 });
  writeTestModel(models, 'memory', { splitAt: -1, band: true, modelVersion: MEMORY_MODEL_VERSION });
  writeTestModel(models, 'filesystem', { splitAt: 2, band: true });
  ports.http = await freePort();
  ports.mqtt = await freePort();
  aggregator = CliProcess.start(
    [
      'aggregator',
      '--http-port',
      String(ports.http),
      '--mqtt-port',
      String(ports.mqtt),
      '--log-format',
      'json',
    ],
    {
      CLOUDSENSE_DATA_DIR: join(root, 'aggregator'),
      // Forecasts stay current for 30 intervals (60 s): a busy test machine that delays a cycle
      // must not withdraw the risk series while Prometheus waits out an alert's pending time.
      CLOUDSENSE_AGGREGATOR__OFFLINE_AFTER_INTERVALS: '30',
    },
  );
  await aggregator.waitForLine(/aggregator ready/, 60_000);
  agent = startAgentProcess({
    hostId: HOST,
    mqttPort: ports.mqtt,
    dataDir: join(root, 'agent'),
    interval: 2,
    env: { CLOUDSENSE_AGENT__MODELS__DIR: models },
  });
  scrape = await waitFor(
    'memory’s alert, its event stored, and a filesystem forecast on /metrics',
    async () => {
      const text = await fetchMetrics();
      const alerting = sampleValue(text, 'cloudsense_alert_active', { host: HOST, resource: 'memory' }) === 1;
      const filesystem = /^cloudsense_exhaustion_probability\{host="prom-e2e",resource="filesystem:/m.test(
        text,
      );
      // The alert.raised event goes out with the cycle's predictions; wait for it to be stored too.
      const eventStored = (sampleValue(text, 'cloudsense_ingest_stored_total', { kind: 'events' }) ?? 0) >= 1;
      return alerting && filesystem && eventStored ? text : undefined;
    },
    90_000,
    500,
  );
});

after(async () => {
  await agent?.stop('SIGTERM');
  await aggregator?.stop('SIGTERM');
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

describe('the aggregator’s /metrics with a real agent', () => {
  it('passes promtool check metrics without a warning', async (t) => {
    if (!(await requireTool(t, PROMTOOL))) return;
    const result = promtool(['check', 'metrics'], scrape);
    assert.equal(result.status, 0, result.output);
    assert.equal(result.output.trim(), '', 'no lint warnings');
  });

  it('carries the agent’s risk, alert, time to exhaustion and model per resource', () => {
    const risk = (name: string, resource: string) => sampleValue(scrape, name, { host: HOST, resource });
    const close = (actual: number | undefined, expected: number, what: string) =>
      assert.ok(
        actual !== undefined && Math.abs(actual - expected) < 1e-5,
        `${what}: ${actual} ≉ ${expected}`,
      );

    close(risk('cloudsense_exhaustion_probability', 'memory'), HIGH_PROBABILITY, 'memory probability');
    close(risk('cloudsense_exhaustion_probability', 'cpu'), LOW_PROBABILITY, 'cpu probability');
    assert.equal(risk('cloudsense_exhaustion_threshold', 'memory'), TEST_OPERATING_THRESHOLD);
    assert.equal(
      risk('cloudsense_exhaustion_horizon_seconds', 'memory'),
      DEFAULT_EXHAUSTION.memory.horizonMs / 1000,
    );
    assert.equal(
      risk('cloudsense_exhaustion_horizon_seconds', 'cpu'),
      DEFAULT_EXHAUSTION.cpu.horizonMs / 1000,
    );
    assert.equal(risk('cloudsense_alert_active', 'memory'), 1);
    assert.equal(risk('cloudsense_alert_active', 'cpu'), 0);
    close(risk('cloudsense_time_to_exhaustion_p50_seconds', 'memory'), BAND_P50_S, 'memory P50');
    assert.equal(risk('cloudsense_time_to_exhaustion_p50_seconds', 'cpu'), undefined, 'cpu has no band');

    const filesystems = [
      ...scrape.matchAll(
        /^cloudsense_exhaustion_probability\{host="prom-e2e",resource="(filesystem:[^"]+)"\} (\S+)$/gm,
      ),
    ];
    assert.ok(filesystems.length >= 1);
    for (const [, resource, value] of filesystems) {
      close(Number(value), LOW_PROBABILITY, resource!);
      // The agent estimates the time to exhaustion only for a resource at risk.
      assert.equal(risk('cloudsense_time_to_exhaustion_p50_seconds', resource!), undefined, resource);
    }

    const models = [...scrape.matchAll(/^cloudsense_host_model_info\{(.*)\} 1$/gm)].map((m) => m[1]).sort();
    assert.deepEqual(models, [
      'host="prom-e2e",kind="cpu",version="test-run-cpu",source="bundled"',
      'host="prom-e2e",kind="filesystem",version="test-run-filesystem",source="bundled"',
      `host="prom-e2e",kind="memory",version="${MEMORY_MODEL_VERSION}",source="bundled"`,
    ]);

    const lastSeen = sampleValue(scrape, 'cloudsense_host_last_seen_timestamp_seconds', { host: HOST })!;
    assert.ok(Math.abs(Date.now() / 1000 - lastSeen) < 120, `last seen ${lastSeen}`);
    assert.equal(sampleValue(scrape, 'cloudsense_host_collection_interval_seconds', { host: HOST }), 2);
    assert.ok(sampleValue(scrape, 'cloudsense_host_stored_seq', { host: HOST })! >= 1);
    for (const kind of ['telemetry', 'predictions', 'events']) {
      assert.ok(
        sampleValue(scrape, 'cloudsense_ingest_messages_total', { kind, outcome: 'admitted' })! >= 1,
        kind,
      );
      assert.ok(sampleValue(scrape, 'cloudsense_ingest_stored_total', { kind })! >= 1, kind);
    }
    assert.ok(sampleValue(scrape, 'cloudsense_store_write_latency_seconds_count')! >= 1);
    assert.equal(
      sampleValue(scrape, 'cloudsense_ingest_messages_total', { kind: 'telemetry', outcome: 'invalid' }),
      0,
    );
  });
});

/** Every `expr` of a Grafana dashboard, panels in rows included, and its variables' queries. */
function dashboardQueries(dashboard: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) for (const item of node) walk(item);
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
    else if (typeof node === 'string' && (key === 'expr' || key === 'query' || key === 'definition'))
      out.push(node);
  };
  walk(dashboard);
  // A data source variable's `query` is a plugin type, not PromQL.
  return out.filter((q) => q !== 'prometheus');
}

describe('dashboards and rules against a real scrape', () => {
  it('reads metric names out of PromQL and Grafana queries', () => {
    assert.deepEqual(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (le) (rate(a_bucket{job=~"$job",x="y(z)"}[$__rate_interval]))) ' +
          '/ on (host) group_left (kind) b_total offset 5m > bool 1e3 and c:recorded',
      ).sort(),
      ['a_bucket', 'b_total', 'c:recorded'],
    );
    assert.deepEqual(promqlMetricNames('label_values(cloudsense_host_model_info{job=~"$job"}, host)'), [
      'cloudsense_host_model_info',
    ]);
  });

  it('every metric a Grafana dashboard reads is one the aggregator exposes', () => {
    const exposed = exposedSampleNames(scrape);
    const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 1);
    for (const file of files) {
      const queries = dashboardQueries(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')));
      assert.ok(queries.length >= 10, `${file}: ${queries.length} queries`);
      const read = new Set(queries.flatMap(promqlMetricNames));
      for (const name of ['cloudsense_exhaustion_probability', 'cloudsense_host_model_info']) {
        assert.ok(read.has(name), `${file} shows ${name}`);
      }
      const unknown = [...read].filter((n) => !exposed.has(n) && !PROMETHEUS_SERIES.has(n));
      assert.deepEqual(unknown, [], `${file} reads metrics /metrics does not expose`);
    }
  });

  it('every metric the alert rules read, in expressions and annotation queries, is one the aggregator exposes', () => {
    const exposed = exposedSampleNames(scrape);
    const rules = parse(readFileSync(RULES, 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string; annotations?: Record<string, string> }> }>;
    };
    const read = new Set<string>();
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      for (const name of promqlMetricNames(rule.expr)) read.add(name);
      for (const text of Object.values(rule.annotations ?? {})) {
        for (const m of text.matchAll(/printf "([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)) read.add(m[1]!);
      }
    }
    assert.ok(read.has('cloudsense_time_to_exhaustion_p50_seconds'));
    const unknown = [...read].filter((n) => !exposed.has(n) && !PROMETHEUS_SERIES.has(n));
    assert.deepEqual(unknown, [], 'the rules read metrics /metrics does not expose');
  });
});

interface ApiRule {
  name: string;
  health: string;
  lastError?: string;
}
interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

describe('a real Prometheus with the shipped rules', () => {
  it(
    'loads the rules, puts memory’s risk alert into pending, and runs every dashboard query',
    { timeout: 180_000 },
    async (t) => {
      if (!(await requireTool(t, PROMETHEUS))) return;
      const dir = mkdtempSync(join(root, 'prometheus-'));
      const config = join(dir, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${JSON.stringify(RULES)}`,
          'scrape_configs:',
          '  - job_name: cloudsense-aggregator',
          '    static_configs:',
          `      - targets: ['127.0.0.1:${ports.http}']`,
          '',
        ].join('\n'),
      );
      const prometheus = await PrometheusServer.start(config, join(dir, 'data'), await freePort());
      try {
        const names = parse(readFileSync(RULES, 'utf8')) as {
          groups: Array<{ rules: Array<{ alert: string }> }>;
        };
        const expected = names.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort();
        // Every rule loaded and evaluated without an error (template and query errors included).
        const rules = await waitFor(
          'every rule evaluated',
          async () => {
            const data = await prometheus.api<{ groups: Array<{ rules: ApiRule[] }> }>('/api/v1/rules');
            const all = data.groups.flatMap((g) => g.rules);
            return all.length === expected.length && all.every((r) => r.health !== 'unknown')
              ? all
              : undefined;
          },
          60_000,
        );
        assert.deepEqual(rules.map((r) => r.name).sort(), expected);
        for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? ''}`);

        const alerts = await waitFor(
          'the memory risk alerts, and the aggregator scraped',
          async () => {
            const data = await prometheus.api<{ alerts: ApiAlert[] }>('/api/v1/alerts');
            const risk = data.alerts.find(
              (a) => a.labels.alertname === 'CloudSenseExhaustionRiskHigh' && a.labels.resource === 'memory',
            );
            const imminent = data.alerts.some((a) => a.labels.alertname === 'CloudSenseExhaustionImminent');
            // Before the first scrape `up` is absent: that alert is pending until the next evaluation.
            const scraped = !data.alerts.some((a) => a.labels.alertname === 'CloudSenseAggregatorAbsent');
            return risk && imminent && scraped ? data.alerts : undefined;
          },
          90_000,
          500,
        );
        const risk = alerts.find((a) => a.labels.alertname === 'CloudSenseExhaustionRiskHigh')!;
        assert.ok(risk.state === 'pending' || risk.state === 'firing', risk.state);
        assert.equal(risk.labels.host, HOST);
        assert.equal(risk.labels.severity, 'warning');
        assert.equal(risk.annotations.time_to_exhaustion, '30m 0s');
        assert.equal(risk.annotations.summary, `memory on ${HOST} is forecast to be exhausted`);
        const imminent = alerts.find((a) => a.labels.alertname === 'CloudSenseExhaustionImminent')!;
        assert.equal(imminent.labels.resource, 'memory');
        // Only memory is at risk: CPU and the filesystems are not, and the aggregator is up.
        const alerting = new Set(alerts.map((a) => `${a.labels.alertname} ${a.labels.resource ?? ''}`));
        assert.deepEqual([...alerting].sort(), [
          'CloudSenseExhaustionImminent memory',
          'CloudSenseExhaustionRiskHigh memory',
        ]);

        // Every dashboard query is PromQL this Prometheus accepts, with Grafana's variables filled in.
        for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
          const queries = dashboardQueries(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')));
          for (const query of queries.filter((q) => !q.startsWith('label_values('))) {
            const promql = query
              .replaceAll('$__rate_interval', '1m')
              .replaceAll('$job', '.*')
              .replaceAll('$host', '.*');
            await prometheus
              .api(`/api/v1/query?query=${encodeURIComponent(promql)}`)
              .catch((err: unknown) => {
                throw new Error(`${file}: ${query}: ${(err as Error).message}`, { cause: err });
              });
          }
        }
        const table = await prometheus.api<{ result: Array<{ metric: Record<string, string> }> }>(
          `/api/v1/query?query=${encodeURIComponent('cloudsense_exhaustion_probability{job=~".*",host=~".*"}')}`,
        );
        assert.ok(table.result.some((r) => r.metric.host === HOST && r.metric.resource === 'memory'));
      } finally {
        await prometheus.stop();
      }
    },
  );
});
