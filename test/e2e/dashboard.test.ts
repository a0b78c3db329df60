/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core)
 * against a real aggregator with authentication required: it asks for a
 * token, refuses a wrong one, and with a read token shows a real agent's
 * host with its riskiest forecast and the alerts raised now; an alert that
 * resolves leaves the page live, through the WebSocket stream, without a
 * reload, and a REST answer older than the stream does not bring it back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hostTopic } from '../../shared/wire/topics.js';
import { CliProcess, startAgentProcess, startAggregatorProcess, runCli } from '../helpers/cli-process.js';
import { telemetryJson } from '../helpers/wire-messages.js';
import { freePort } from '../helpers/net.js';
import { CHROMIUM, CHROMIUM_PATH, requireTool } from '../helpers/require-tool.js';

const root = mkdtempSync(join(tmpdir(), 'cloudsense-dashboard-'));
const dataDir = join(root, 'aggregator');
let base = '';
let mqttUrl = '';
let mqttPort = 0;
let readToken = '';
let browser: Browser | undefined;
let alerting: MqttClient | undefined;

after(async () => {
  await browser?.close();
  await alerting?.endAsync();
  CliProcess.killAll();
  rmSync(root, { recursive: true, force: true });
});

/** MQTT credentials for `hostId`, enrolled the way an agent enrols. */
async function enrol(hostId: string): Promise<{ username: string; password: string }> {
  const token = await runCli(['enroll', 'token', 'create', '--host', hostId, '--data-dir', dataDir]);
  const res = await fetch(`${base}/api/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, hostId }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { username: string; password: string };
}

function predictions(hostId: string, seq: number, alert: boolean) {
  return JSON.stringify({
    schemaVersion: 1,
    hostId,
    seq,
    timestamp: Date.now(),
    predictions: [
      {
        resource: 'memory',
        probability: alert ? 0.93 : 0.12,
        alert,
        threshold: 0.5,
        horizonS: 1800,
        ...(alert && { ttBand: { p10S: 300, p50S: 900, p90S: 1500 } }),
        model: { source: 'bundled', runId: 'dashboard-test' },
      },
    ],
  });
}

/** The trimmed text of every row of a table's body. */
async function rows(page: Page, table: string): Promise<string[]> {
  return page.locator(`#${table} tbody tr`).allInnerTexts();
}

before(async () => {
  readToken = await runCli(['tokens', 'create', '--role', 'read', '--data-dir', dataDir]);
  const ports = { http: await freePort(), mqtt: await freePort() };
  await startAggregatorProcess({
    dataDir,
    ports,
    env: { CLOUDSENSE_AGGREGATOR__SECURITY__AUTH: 'required' },
  });
  base = `http://127.0.0.1:${ports.http}`;
  mqttPort = ports.mqtt;
  mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
});

describe('the dashboard in a browser', () => {
  it(
    'asks for a token, then shows hosts, their risk and the alerts, live',
    { timeout: 180_000 },
    async (t) => {
      if (!(await requireTool(t, CHROMIUM))) return;

      // A real agent, enrolled, scoring this host with the bundled models.
      const real = await enrol('dash-real');
      startAgentProcess({
        hostId: 'dash-real',
        mqttPort,
        dataDir: join(root, 'agent'),
        interval: 1,
        env: { CLOUDSENSE_AGENT__USERNAME: real.username, CLOUDSENSE_AGENT__PASSWORD: real.password },
      });
      // A host whose memory alert is raised, published as an agent would.
      const hot = await enrol('dash-hot');
      alerting = await connectAsync(mqttUrl, {
        clientId: 'cloudsense-agent-dash-hot',
        username: hot.username,
        password: hot.password,
        reconnectPeriod: 0,
      });
      await alerting.publishAsync(hostTopic('dash-hot', 'telemetry'), telemetryJson('dash-hot', 1), {
        qos: 1,
      });
      await alerting.publishAsync(hostTopic('dash-hot', 'predictions'), predictions('dash-hot', 2, true), {
        qos: 1,
      });

      browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: ['--headless', '--no-sandbox', '--disable-background-networking'],
      });
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(base);

      // Authentication is on: the page asks for a token and shows no data.
      await page.locator('#auth').waitFor({ state: 'visible', timeout: 30_000 });
      assert.match(await page.locator('#auth-why').innerText(), /asks for an API token/);
      assert.deepEqual(await rows(page, 'hosts'), []);

      // A wrong token is refused and the form asks again.
      await page.locator('#auth-token').fill('csa.000000000000.wrong');
      await page.locator('#auth button').click();
      await page.locator('#auth-why', { hasText: 'refused this token' }).waitFor({ timeout: 30_000 });

      // The read token: hosts, the real agent's riskiest forecast, the raised alert.
      await page.locator('#auth-token').fill(readToken);
      await page.locator('#auth button').click();
      await page.locator('#conn', { hasText: 'live' }).waitFor({ timeout: 30_000 });
      assert.equal(await page.locator('#auth').isHidden(), true);
      const realRow = page.locator('#hosts tr[data-host="dash-real"]');
      await realRow.locator('td.risk .bar').waitFor({ timeout: 60_000 });
      assert.match(await realRow.innerText(), /online/);
      assert.match(
        await realRow.locator('td.risk').innerText(),
        /\d+\.\d%\s+(cpu|memory|swap|filesystem|inodes|fds)/,
      );

      const alertRow = page.locator('#alerts tr[data-host="dash-hot"][data-resource="memory"]');
      await alertRow.waitFor({ timeout: 30_000 });
      const alertText = await alertRow.innerText();
      assert.match(alertText, /93\.0%/);
      assert.match(alertText, /5 min – 25 min/);
      assert.match(await page.locator('#summary').innerText(), /2 hosts, 1 alert\b/);

      // The alert resolves: the stream takes it off the page, no reload. A REST answer taken while it
      // was still raised reaches the page only afterwards (held here); it must not put the alert back.
      let release = (): void => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let answered = (): void => {};
      const staleAnswered = new Promise<void>((resolve) => (answered = resolve));
      await page.route('**/api/v1/predictions/latest', async (route) => {
        const response = await route.fetch();
        answered();
        await held;
        await route.fulfill({ response });
      });
      const staleRefresh = page.evaluate('refresh()');
      await staleAnswered;
      await alerting.publishAsync(hostTopic('dash-hot', 'predictions'), predictions('dash-hot', 3, false), {
        qos: 1,
      });
      await alertRow.waitFor({ state: 'detached', timeout: 30_000 });
      release();
      await staleRefresh;
      await page.unroute('**/api/v1/predictions/latest');
      assert.equal(await alertRow.count(), 0, 'the stale answer does not bring the alert back');
      assert.equal(await page.locator('#no-alerts').isVisible(), true);
      assert.match(
        await page.locator('#hosts tr[data-host="dash-hot"] td.risk').innerText(),
        /12\.0%\s+memory/,
      );

      // The token stays with the tab: a reload goes straight to the data.
      await page.reload();
      await page.locator('#hosts tr[data-host="dash-real"]').waitFor({ timeout: 30_000 });
      assert.equal(await page.locator('#auth').isHidden(), true);
      assert.deepEqual(pageErrors, [], 'no script errors on the page');
    },
  );
});
