import type { Command } from 'commander';
import type { ConfigSources } from '../shared/config/load.js';
import { ConfigError } from '../shared/errors.js';

/** Options every long-running command shares, and the config path each sets. */
const COMMON_FLAGS: FlagSpec[] = [
  ['--data-dir <dir>', 'data directory (env CLOUDSENSE_DATA_DIR, default ./data)', 'dataDir'],
  ['--http-host <host>', 'HTTP listen address (env CLOUDSENSE_HTTP_HOST, default 127.0.0.1)', 'http.host'],
  [
    '--http-port <port>',
    'HTTP port, 0 for any free one (env CLOUDSENSE_HTTP_PORT, default 8080)',
    'http.port',
  ],
  ['--mqtt-host <host>', 'MQTT broker address (env CLOUDSENSE_MQTT_HOST, default 127.0.0.1)', 'mqtt.host'],
  [
    '--mqtt-port <port>',
    'MQTT broker port, 0 for any free one (env CLOUDSENSE_MQTT_PORT, default 1883)',
    'mqtt.port',
  ],
  ['--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info)', 'log.level'],
  ['--log-format <format>', 'auto|json|pretty; auto is pretty on a terminal (default auto)', 'log.format'],
];

const AGENT_FLAGS: FlagSpec[] = [
  ['--host-id <id>', "this host's id (env CLOUDSENSE_HOST_ID, default the host name)", 'agent.hostId'],
  [
    '--interval <seconds>',
    'seconds between collections, 1..3600 (env CLOUDSENSE_INTERVAL, default 10)',
    'agent.intervalSeconds',
  ],
  [
    '--broker <url>',
    'broker URL (env CLOUDSENSE_BROKER_URL, default mqtt://{mqtt.host}:{mqtt.port})',
    'agent.brokerUrl',
  ],
];

/** Flags only the commands that run an aggregator take. */
const AGGREGATOR_FLAGS: FlagSpec[] = [
  [
    '--store <url>',
    "where telemetry is stored: duckdb (the data dir's file) or influx://[user:password@]host[:port]/database, " +
      'influxs:// for HTTPS (env CLOUDSENSE_STORE, default duckdb)',
    'aggregator.store.url',
  ],
];

export interface FlagSet {
  common: boolean;
  agent: boolean;
  aggregator?: boolean;
}

export function addConfigOptions(command: Command, set: FlagSet): Command {
  command.option('-c, --config <file>', 'YAML configuration file (env CLOUDSENSE_CONFIG)');
  const flags = [
    ...(set.common ? COMMON_FLAGS : []),
    ...(set.aggregator ? AGGREGATOR_FLAGS : []),
    ...(set.agent ? AGENT_FLAGS : []),
  ];
  for (const [flag, description] of flags) command.option(flag, description);
  return command;
}

/** A flag: commander's flag spec, its help text, and the config path it sets. */
export type FlagSpec = [flags: string, description: string, path: string];

/** Commander's parsed options → config sources (file, env, flags by dotted path). */
export function configSources(
  options: Record<string, unknown>,
  table: readonly FlagSpec[] = [...COMMON_FLAGS, ...AGGREGATOR_FLAGS, ...AGENT_FLAGS],
): ConfigSources {
  const flags: Record<string, string> = {};
  const flagNames: Record<string, string> = {};
  for (const [flag, , path] of table) {
    const name = flag.split(' ')[0]!;
    const value = options[name.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())];
    if (typeof value === 'string') {
      flags[path] = value;
      flagNames[path] = name;
    }
  }
  const file = typeof options.config === 'string' ? options.config : undefined;
  return { file, env: process.env, flags, flagNames };
}

/** Prints a configuration error with every problem and exits with status 2, as for bad usage. */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`cloudsense: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
