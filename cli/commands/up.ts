import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { createAgent, type Agent } from '../../agent/agent.js';
import { AgentSectionSchema } from '../../agent/config.js';
import { createAggregator, type Aggregator } from '../../aggregator/aggregator.js';
import { AggregatorSectionSchema } from '../../aggregator/config.js';
import { KEYS_DIR, PUBLIC_KEY_FILE } from '../../aggregator/retraining/rollout.js';
import { refineAccess, type AccessPolicy } from '../../aggregator/security/config.js';
import { CommonConfigShape } from '../../shared/config/common.js';
import type { Logger } from '../../shared/log.js';
import { addConfigOptions } from '../options.js';
import { runService } from '../lifecycle.js';

/** `cloudsense up` reads one file with both sections. */
export const UpConfigSchema = z
  .object({ ...CommonConfigShape, agent: AgentSectionSchema, aggregator: AggregatorSectionSchema })
  .strict()
  .superRefine(refineAccess);
type UpConfig = z.infer<typeof UpConfigSchema>;

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

export function upCommand(): Command {
  return addConfigOptions(
    new Command('up')
      .summary('run everything on this machine: aggregator, broker, store, dashboard and a local agent')
      .description(
        'Start the aggregator with its embedded MQTT broker and store (DuckDB in the data dir, or InfluxDB with ' +
          '--store), the dashboard and API, and an agent for this host. Ctrl-C stops everything cleanly.',
      ),
    { common: true, agent: true, aggregator: true },
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
          access: fleet.aggregator.access,
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
      const broker = new URL(aggregator.mqttUrl);
      const port = Number(broker.port);
      fleet.agent = createAgent(
        { ...config, mqtt: { host, port }, agent: await localAgentAccess(config, aggregator, host, broker) },
        log.child({ part: 'agent' }),
      );
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

/** The name of the API token `cloudsense up` issues its local agent for remediation leases. */
const LOCAL_AGENT_TOKEN_NAME = 'cloudsense up: local agent';

/**
 * The local agent's access: when the aggregator asks for credentials, a
 * broker login issued for its host id (no enrolment) and a bearer token for
 * remediation leases; leases asked of the address the API really listens
 * on; with TLS, the broker's own certificate as the CA it trusts unless
 * `agent.tls.ca` names one. Unless `agent.models.publicKey` is set, the
 * aggregator's `<data dir>/keys/model-signing.pub`, so the local agent takes
 * the models the aggregator promotes.
 */
async function localAgentAccess(
  config: UpConfig,
  aggregator: Aggregator,
  host: string,
  broker: URL,
): Promise<UpConfig['agent']> {
  let agent = config.agent;
  if (aggregator.access.authRequired && agent.username === undefined) {
    agent = { ...agent, ...(await aggregator.credentials.issueAgentCredentials(agent.hostId)) };
  }
  if (aggregator.access.authRequired && agent.remediation.lease.token === undefined) {
    // Remediation leases are an operate call; one token for the local agent, replaced on each start.
    const { token } = await aggregator.credentials.replaceApiToken('operate', LOCAL_AGENT_TOKEN_NAME);
    agent = { ...agent, remediation: { ...agent.remediation, lease: { ...agent.remediation.lease, token } } };
  }
  if (agent.remediation.lease.url === undefined) {
    // The address the API really listens on: right for `http.port: 0` and for https.
    agent = {
      ...agent,
      remediation: { ...agent.remediation, lease: { ...agent.remediation.lease, url: aggregator.httpUrl } },
    };
  }
  const publicKey = join(aggregator.dataDir, KEYS_DIR, PUBLIC_KEY_FILE);
  if (agent.models.publicKey === undefined && existsSync(publicKey)) {
    // The aggregator's own model-signing key: the local agent takes the models it promotes.
    agent = { ...agent, models: { ...agent.models, publicKey } };
  }
  if (broker.protocol === 'mqtts:') {
    agent = {
      ...agent,
      brokerUrl: `mqtts://${host.includes(':') ? `[${host}]` : host}:${broker.port}`,
      tls: { ca: agent.tls.ca ?? config.aggregator.security.tls.cert },
    };
  }
  return agent;
}

function printBanner(b: {
  http: string;
  mqtt: string;
  dataDir: string;
  store: string;
  hostId: string;
  interval: number;
  access: AccessPolicy;
}): void {
  const lines = [
    '',
    'CloudSense is up.',
    `  Dashboard     ${b.http}/`,
    `  REST API      ${b.http}/api/v1/hosts`,
    `  Live stream   ${b.http.replace(/^http/, 'ws')}/api/v1/stream`,
    `  Metrics       ${b.http}/metrics`,
    `  MQTT broker   ${b.mqtt} (embedded)`,
    `  Data dir      ${b.dataDir}`,
    `  Store         ${b.store}`,
    `  Local agent   host "${b.hostId}", every ${b.interval} s`,
    b.access.authRequired
      ? '  Access        authentication required: agents enrol (cloudsense enroll token create), REST calls carry a token (cloudsense tokens create)'
      : b.access.openBeyondLoopback
        ? '  Access        WARNING: open beyond loopback, anyone who reaches it can publish and read everything (aggregator.security.allowOpenBeyondLoopback)'
        : '  Access        open, loopback only: no authentication is asked for',
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
