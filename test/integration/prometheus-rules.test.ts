/**
 * The shipped Prometheus files, through Debian's promtool: the alert rules
 * and the example scrape configuration check, the rules' unit tests
 * (deploy/prometheus/cloudsense-rules.test.yml) pass — and fail when the
 * rule logic is broken, so they test something. The Grafana provisioning
 * files parse and point at the dashboards and data source shipped.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { promtool } from '../helpers/prometheus.js';
import { PROMTOOL, requireTool } from '../helpers/require-tool.js';

const PROMETHEUS_DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const GRAFANA_DIR = fileURLToPath(new URL('../../deploy/grafana/', import.meta.url));
const RULES = 'cloudsense-rules.yml';
const RULE_TESTS = 'cloudsense-rules.test.yml';

const scratch = mkdtempSync(join(tmpdir(), 'cloudsense-prom-rules-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The rules with one edit, and their unit tests beside them, in a fresh directory. */
function tamperedCopy(name: string, from: string, to: string): string {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  const rules = readFileSync(join(PROMETHEUS_DIR, RULES), 'utf8');
  assert.ok(rules.includes(from), `the rules contain ${from}`);
  writeFileSync(join(dir, RULES), rules.replace(from, to));
  copyFileSync(join(PROMETHEUS_DIR, RULE_TESTS), join(dir, RULE_TESTS));
  return dir;
}

describe('Prometheus rules and configuration', () => {
  it('promtool check rules: the alert rules are valid', async (t) => {
    if (!(await requireTool(t, PROMTOOL))) return;
    const result = promtool(['check', 'rules', RULES], undefined, PROMETHEUS_DIR);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS: \d+ rules found/);
  });

  it('promtool check config: the example scrape configuration is valid and loads the rules', async (t) => {
    if (!(await requireTool(t, PROMTOOL))) return;
    const result = promtool(['check', 'config', 'prometheus.yml'], undefined, PROMETHEUS_DIR);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS: 1 rule files found/);
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; metrics_path: string }>;
    };
    // The job the rules' aggregator-down alerts look for.
    assert.deepEqual(
      config.scrape_configs.map((s) => [s.job_name, s.metrics_path]),
      [['cloudsense-aggregator', '/metrics']],
    );
    assert.match(readFileSync(join(PROMETHEUS_DIR, RULES), 'utf8'), /up\{job="cloudsense-aggregator"\}/);
  });

  it('promtool test rules: the risk, silent-host, drift and health alerts fire as their unit tests say', async (t) => {
    if (!(await requireTool(t, PROMTOOL))) return;
    const result = promtool(['test', 'rules', RULE_TESTS], undefined, PROMETHEUS_DIR);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS/);
  });

  it('the unit tests fail when the risk or silent-host logic is broken', async (t) => {
    if (!(await requireTool(t, PROMTOOL))) return;
    const broken = [
      // The risk alert compares the wrong way round.
      [
        'risk-inverted',
        'expr: cloudsense_exhaustion_probability >= cloudsense_exhaustion_threshold',
        'expr: cloudsense_exhaustion_probability < cloudsense_exhaustion_threshold',
        /alertname: CloudSenseExhaustionRiskHigh/,
      ],
      // A host counts as silent only after an hour.
      ['silent-late', ', 120)', ', 3600)', /alertname: CloudSenseHostSilent/],
    ] as const;
    for (const [name, from, to, failing] of broken) {
      const dir = tamperedCopy(name, from, to);
      const result = promtool(['test', 'rules', RULE_TESTS], undefined, dir);
      assert.notEqual(result.status, 0, `${name}: the unit tests should fail\n${result.output}`);
      assert.match(result.output, failing, name);
    }
  });

  it('the Grafana provisioning files point at the shipped dashboards and a Prometheus data source', () => {
    const datasources = parse(
      readFileSync(join(GRAFANA_DIR, 'provisioning/datasources/cloudsense-prometheus.yml'), 'utf8'),
    ) as { apiVersion: number; datasources: Array<{ type: string; uid: string; url: string }> };
    assert.equal(datasources.apiVersion, 1);
    assert.equal(datasources.datasources[0]!.type, 'prometheus');
    const providers = parse(
      readFileSync(join(GRAFANA_DIR, 'provisioning/dashboards/cloudsense.yml'), 'utf8'),
    ) as { providers: Array<{ type: string; options: { path: string } }> };
    assert.equal(providers.providers[0]!.type, 'file');
    const dashboards = readdirSync(join(GRAFANA_DIR, 'dashboards')).filter((f) => f.endsWith('.json'));
    assert.ok(dashboards.length >= 1);
    for (const file of dashboards) {
      const dashboard = JSON.parse(readFileSync(join(GRAFANA_DIR, 'dashboards', file), 'utf8')) as {
        uid: string;
        templating: { list: Array<{ name: string; type: string }> };
      };
      assert.ok(dashboard.uid, `${file} has a uid, so provisioning updates it in place`);
      // Panels name the data source through a variable, so any provisioned Prometheus works.
      assert.ok(
        dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'),
        file,
      );
    }
  });
});
