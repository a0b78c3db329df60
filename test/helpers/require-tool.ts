/**
 * Tests that need a system tool or server (python3-onnx, influxd, mosquitto,
 * xgboost…) call `requireTool` first. Where the tool is missing, the test is
 * skipped with the install hint on a developer machine and FAILS in CI
 * (`CI=true`): CI declares its Debian packages in .ci/run, so a missing tool
 * there is a broken pipeline, not a reason to go green.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export interface SystemTool {
  /** What the test needs, for messages: `python3 with the onnx module`. */
  name: string;
  /** Shown as the skip reason when missing, e.g. `install Debian python3-onnx (apt-get install python3-onnx)`. */
  install: string;
  /** True when the tool can be used here. Run once per process; the answer is cached. */
  probe: () => boolean | Promise<boolean>;
}

const answers = new Map<SystemTool, Promise<boolean>>();

/**
 * Resolves true when `tool` is available. Otherwise skips the test (outside
 * CI) and resolves false, so the caller returns; in CI it throws.
 */
export async function requireTool(t: TestContext, tool: SystemTool): Promise<boolean> {
  let answer = answers.get(tool);
  if (!answer) {
    answer = Promise.resolve().then(tool.probe);
    answers.set(tool, answer);
  }
  if (await answer) return true;
  if (process.env.CI === 'true') assert.fail(`${tool.name} is required in CI but missing: ${tool.install}`);
  t.skip(tool.install);
  return false;
}

/** A probe: the command exits 0 within `timeoutMs`. */
export function commandSucceeds(command: string, args: readonly string[], timeoutMs = 20_000): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: timeoutMs });
  return result.error === undefined && result.status === 0;
}

/** Debian's python3 with the onnx module (package python3-onnx), for `onnx.checker`. */
export const PYTHON3_ONNX: SystemTool = {
  name: '/usr/bin/python3 with the onnx module',
  install: 'install Debian python3-onnx (apt-get install python3-onnx)',
  probe: () => commandSucceeds('/usr/bin/python3', ['-c', 'import onnx']),
};

/** Debian's InfluxDB 1.x server; an InfluxDB 2 `influxd` elsewhere on PATH takes other flags. */
export const INFLUXD_PATH = '/usr/bin/influxd';

/** InfluxDB 1.x's server (Debian package influxdb), started by the tests on loopback (test/helpers/influxd.ts). */
export const INFLUXD: SystemTool = {
  name: `${INFLUXD_PATH} (InfluxDB 1.x)`,
  install: 'install Debian influxdb (apt-get install influxdb)',
  probe: () => commandSucceeds(INFLUXD_PATH, ['version']),
};

/** Debian's promtool (package prometheus): checks rules, configs and scraped metrics. */
export const PROMTOOL_PATH = '/usr/bin/promtool';

export const PROMTOOL: SystemTool = {
  name: PROMTOOL_PATH,
  install: 'install Debian prometheus (apt-get install prometheus)',
  probe: () => commandSucceeds(PROMTOOL_PATH, ['--version']),
};

/** Debian's Prometheus server (package prometheus), started by the tests on loopback. */
export const PROMETHEUS_PATH = '/usr/bin/prometheus';

export const PROMETHEUS: SystemTool = {
  name: PROMETHEUS_PATH,
  install: 'install Debian prometheus (apt-get install prometheus)',
  probe: () => commandSucceeds(PROMETHEUS_PATH, ['--version']),
};

/** `systemd-analyze` and `systemd-sysusers` (Debian package systemd); neither needs systemd running. */
export const SYSTEMD_TOOLS: SystemTool = {
  name: 'systemd-analyze and systemd-sysusers',
  install: 'install Debian systemd (apt-get install systemd)',
  probe: () =>
    commandSucceeds('systemd-analyze', ['--version']) && commandSucceeds('systemd-sysusers', ['--version']),
};

/** Debian's Chromium, driven by playwright-core in the dashboard's browser tests. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM: SystemTool = {
  name: `${CHROMIUM_PATH} (Chromium)`,
  install: 'install Debian chromium (apt-get install chromium)',
  probe: () => commandSucceeds(CHROMIUM_PATH, ['--version']),
};
