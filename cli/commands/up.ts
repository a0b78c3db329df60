import { Command } from 'commander';
import { z } from 'zod';
import { createAgent } from '../../agent/agent.js';
import { AgentSectionSchema } from '../../agent/config.js';
import { createAggregator } from '../../aggregator/aggregator.js';
import { AggregatorSectionSchema } from '../../aggregator/config.js';
import { CommonConfigShape } from '../../shared/config/common.js';
import { loadConfig } from '../../shared/config/load.js';
import { createLogger } from '../../shared/log.js';
import { addConfigOptions, configSources, exitOnConfigError } from '../options.js';
import { exitOnStartFailure, runUntilSignalled } from '../lifecycle.js';

/** `cloudsense up` reads one file with both sections. */
export const UpConfigSchema = z
  .object({ ...CommonConfigShape, agent: AgentSectionSchema, aggregator: AggregatorSectionSchema })
  .strict();

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

export function upCommand(): Command {
  return addConfigOptions(
    new Command('up')
      .summary('run everything on this machine: aggregator, broker, store, dashboard and a local agent')
      .description(
        'Start the aggregator with its embedded MQTT broker and DuckDB store, the dashboard and API, and an ' +
          'agent for this host. Ctrl-C stops everything cleanly.',
      ),
    { common: true, agent: true },
  ).action(async (options: Record<string, unknown>) => {
    let config;
    try {
      config = loadConfig(UpConfigSchema, configSources(options));
    } catch (err) {
      exitOnConfigError(err);
    }
    const log = createLogger({ ...config.log, name: 'cloudsense' });
    const aggregator = createAggregator(config, log.child({ part: 'aggregator' }));
    try {
      await aggregator.start();
    } catch (err) {
      exitOnStartFailure(err, log);
    }
    // The local agent talks to the embedded broker on the port it actually bound.
    const mqttHost = WILDCARD_HOSTS.has(config.mqtt.host) ? '127.0.0.1' : config.mqtt.host;
    const mqttPort = Number(new URL(aggregator.mqttUrl).port);
    const agent = createAgent(
      { ...config, mqtt: { host: mqttHost, port: mqttPort } },
      log.child({ part: 'agent' }),
    );
    try {
      await agent.start();
    } catch (err) {
      await aggregator.stop();
      exitOnStartFailure(err, log);
    }
    printBanner({
      http: aggregator.httpUrl,
      mqtt: aggregator.mqttUrl,
      dataDir: aggregator.dataDir,
      store: aggregator.storeDescription,
      hostId: agent.hostId,
      interval: config.agent.intervalSeconds,
      loopbackOnly: isLoopback(config.http.host) && isLoopback(config.mqtt.host),
    });
    runUntilSignalled(async () => {
      // The agent goes first so its last telemetry is acknowledged before the store closes.
      await agent.stop();
      await aggregator.stop();
    }, log);
  });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function printBanner(b: {
  http: string;
  mqtt: string;
  dataDir: string;
  store: string;
  hostId: string;
  interval: number;
  loopbackOnly: boolean;
}): void {
  const lines = [
    '',
    'CloudSense is up.',
    `  Dashboard     ${b.http}/`,
    `  REST API      ${b.http}/api/v1/hosts`,
    `  Live stream   ${b.http.replace(/^http/, 'ws')}/api/v1/stream`,
    `  Metrics       ${b.http}/metrics`,
    `  MQTT broker   ${b.mqtt} (embedded)`,
    `  Data dir      ${b.dataDir} (${b.store})`,
    `  Local agent   host "${b.hostId}", every ${b.interval} s`,
    b.loopbackOnly
      ? '  Access        open, loopback only: no authentication is asked for'
      : '  Access        WARNING: listening beyond loopback without authentication',
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
