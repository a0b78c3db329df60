import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CommonConfigShape } from '../shared/config/common.js';
import { HostIdSchema } from '../shared/wire/telemetry.js';
import { HOST_ID_PATTERN } from '../shared/wire/topics.js';
import { CollectSectionSchema } from './collectors/config.js';
import { AlertsSectionSchema } from './alerts/config.js';
import { AgentHttpSectionSchema } from './http/config.js';
import { ModelsSectionSchema } from './inference/config.js';
import { QueueSectionSchema } from './queue/config.js';
import { RemediationSectionSchema } from './remediation/config.js';

/** Seconds between two collections. */
export const DEFAULT_INTERVAL_SECONDS = 10;
export const MIN_INTERVAL_SECONDS = 1;
export const MAX_INTERVAL_SECONDS = 3600;

const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'];

/** The machine's host name made into a valid host id (one MQTT topic level). */
export function defaultHostId(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return HOST_ID_PATTERN.test(name) ? name : 'host';
}

export const AgentSectionSchema = z
  .object({
    /** This host's id in topics and the API. Default: the host name. */
    hostId: HostIdSchema.default(defaultHostId),
    /** Seconds between collections, 1..3600. Default 10. */
    intervalSeconds: z
      .number()
      .min(MIN_INTERVAL_SECONDS, `at least ${MIN_INTERVAL_SECONDS} s`)
      .max(MAX_INTERVAL_SECONDS, `at most ${MAX_INTERVAL_SECONDS} s`)
      .default(DEFAULT_INTERVAL_SECONDS),
    /** Broker URL, e.g. `mqtt://broker:1883`. Default: `mqtt://{mqtt.host}:{mqtt.port}`. */
    brokerUrl: z
      .string()
      .refine((u) => URL.canParse(u) && BROKER_PROTOCOLS.includes(new URL(u).protocol), {
        message: `broker URL must use one of ${BROKER_PROTOCOLS.map((p) => p.slice(0, -1)).join(', ')}`,
      })
      .optional(),
    /** MQTT credentials, when the broker asks for them. */
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** TLS to the broker (an `mqtts://` broker URL). */
    tls: z
      .object({
        /** PEM file of the CA that signed the broker's certificate; default: the system's CAs. */
        ca: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    /** The on-disk store-and-forward queue every message passes through (docs/configuration.md). */
    queue: QueueSectionSchema,
    /** The exhaustion models the agent scores with (docs/configuration.md). */
    models: ModelsSectionSchema,
    /** When a forecast raises and resolves an alert (docs/configuration.md). */
    alerts: AlertsSectionSchema,
    /** What the host collector reads: which filesystems, and where the host's root is in a container (docs/metrics.md). */
    collect: CollectSectionSchema,
    /** The local `/healthz` and `/metrics` endpoint, off by default (docs/agent-daemon.md). */
    http: AgentHttpSectionSchema,
    /** Playbooks run when a forecast stays high, their modes and the fleet-wide lease (docs/remediation.md). */
    remediation: RemediationSectionSchema,
  })
  .strict()
  .prefault({});
export type AgentSection = z.infer<typeof AgentSectionSchema>;

/** The agent's whole configuration; an `aggregator` section in a shared file is ignored. */
export const AgentConfigSchema = z
  .object({
    ...CommonConfigShape,
    agent: AgentSectionSchema,
    aggregator: z.unknown().optional(),
  })
  .strict();
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

export function brokerUrlOf(config: AgentConfig): string {
  if (config.agent.brokerUrl) return config.agent.brokerUrl;
  const host = config.mqtt.host === '0.0.0.0' || config.mqtt.host === '::' ? '127.0.0.1' : config.mqtt.host;
  return `mqtt://${host.includes(':') ? `[${host}]` : host}:${config.mqtt.port}`;
}

/** Where the agent's disk queue lives: `agent.queue.dir`, or `{dataDir}/queue/{hostId}`. */
export function queueDirOf(config: Pick<AgentConfig, 'dataDir' | 'agent'>): string {
  // One directory per host id: the numbers in a queue belong to one host's stream, and two
  // agents sharing a data dir (tests, several ids on one machine) do not contend for a lock.
  return resolve(config.agent.queue.dir ?? join(config.dataDir, 'queue', config.agent.hostId));
}

/** Where the agent keeps the fleet models it adopted: `{dataDir}/fleet-models/{hostId}`. */
export function fleetModelsDirOf(config: Pick<AgentConfig, 'dataDir' | 'agent'>): string {
  return resolve(join(config.dataDir, 'fleet-models', config.agent.hostId));
}

/** Where the agent keeps its raised alerts across restarts: `{dataDir}/alerts/{hostId}.json`. */
export function alertStateFileOf(config: Pick<AgentConfig, 'dataDir' | 'agent'>): string {
  return resolve(join(config.dataDir, 'alerts', `${config.agent.hostId}.json`));
}

/**
 * Where `cloudsense agent --enroll` stores the broker credentials it was
 * issued (mode 0600): `{dataDir}/agent-credentials/{hostId}.json`. Used
 * when `agent.username` is not configured.
 */
export function agentCredentialsFileOf(config: Pick<AgentConfig, 'dataDir' | 'agent'>): string {
  return resolve(join(config.dataDir, 'agent-credentials', `${config.agent.hostId}.json`));
}
