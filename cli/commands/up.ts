import { Command } from 'commander';
import { z } from 'zod';
import { createAgent, type Agent } from '../../agent/agent.js';
import { AgentSectionSchema } from '../../agent/config.js';
import { createAggregator } from '../../aggregator/aggregator.js';
import { AggregatorSectionSchema } from '../../aggregator/config.js';
import { CommonConfigShape } from '../../shared/config/common.js';
import type { Logger } from '../../shared/log.js';
import { addConfigOptions } from '../options.js';
import { runService } from '../lifecycle.js';

/** `cloudsense up` reads one file with both sections. */
export const UpConfigSchema = z
  .object({ ...CommonConfigShape, agent: AgentSectionSchema, aggregator: AggregatorSectionSchema })
  .strict();
type UpConfig = z.infer<typeof UpConfigSchema>;

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
  ).action((options: Record<string, unknown>) =>
    runService({
      schema: UpConfigSchema,
      options,
      name: 'cloudsense',
      build: buildLocalFleet,
      ready: (fleet, config) =>
        printBanner({
          http: fleet.aggregator.httpUrl,
          mqtt: fleet.aggregator.mqttUrl,
          dataDir: fleet.aggregator.dataDir,
          store: fleet.aggregator.storeDescription,
          hostId: fleet.agent?.hostId ?? '',
          interval: config.agent.intervalSeconds,
          loopbackOnly: isLoopback(config.http.host) && isLoopback(config.mqtt.host),
        }),
    }),
  );
}

/** The aggregator and, once its broker listens, an agent for this host connected to it. */
function buildLocalFleet(config: UpConfig, log: Logger) {
  const aggregator = createAggregator(config, log.child({ part: 'aggregator' }));
  const fleet = {
    aggregator,
    agent: undefined as Agent | undefined,
    async start() {
      await aggregator.start();
      // The local agent talks to the embedded broker on the port it actually bound.
      const host = WILDCARD_HOSTS.has(config.mqtt.host) ? '127.0.0.1' : config.mqtt.host;
      const port = Number(new URL(aggregator.mqttUrl).port);
      fleet.agent = createAgent({ ...config, mqtt: { host, port } }, log.child({ part: 'agent' }));
      await fleet.agent.start();
    },
    async stop() {
      // The agent goes first so its last telemetry is acknowledged before the store closes.
      await fleet.agent?.stop();
      await aggregator.stop();
    },
  };
  return fleet;
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
