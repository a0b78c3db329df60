/**
 * Who may do what on the MQTT broker (docs/security.md, docs/mqtt.md):
 *
 * - an agent logs in as `host:{hostId}` with the password its enrolment
 *   gave it, under client id `cloudsense-agent-{hostId}`; it publishes only
 *   its own telemetry, predictions, events and status, and subscribes only
 *   to the model topics and its own `ack`, `commands` and `models/…`
 *   (per-host model) topics;
 * - a client that logs in as `token` with an API bearer token as password
 *   reads every CloudSense topic; with an admin token it also publishes,
 *   which is how `cloudsense model publish` distributes models and
 *   `cloudsense simulate` feeds a fleet of virtual hosts;
 * - the aggregator itself publishes inside the broker process and is not
 *   checked here;
 * - with authentication off (loopback only), a client without credentials
 *   may do anything; credentials, when given, are still checked.
 */
import type { Logger } from '../../shared/log.js';
import { RateLimitedLog } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import { MAX_MODEL_MESSAGE_BYTES } from '../../shared/wire/models.js';
import { TOPIC_ROOT, hostTopic, parseHostModelTopic, parseModelTopic } from '../../shared/wire/topics.js';
import { hostIdOfUsername, type CredentialStore } from './credential-store.js';

/** The MQTT user name of a client that logs in with an API bearer token as its password. */
export const TOKEN_USERNAME = 'token';
/** Agents' client ids: `cloudsense-agent-{hostId}`. */
export const AGENT_CLIENT_ID_PREFIX = 'cloudsense-agent-';
/** Room for the topic, properties and headers around a payload in one MQTT packet, bytes. */
const PACKET_OVERHEAD_BYTES = 64 * 1024;

export type BrokerIdentity =
  | { kind: 'agent'; hostId: string }
  /** Admin token: publishes models (and anything under the topic root). */
  | { kind: 'publisher' }
  /** Read or operate token: subscribes to every CloudSense topic, publishes nothing. */
  | { kind: 'reader' }
  /** No credentials, authentication off. */
  | { kind: 'anonymous' };

/** Why a login was refused, as MQTT CONNACK return codes name it. */
export type LoginRefusal = 'bad-credentials' | 'not-authorized' | 'identifier-rejected';

export interface BrokerAccessStats {
  loginsRefused: number;
  publishesDenied: number;
  subscriptionsDenied: number;
  /** Connections cut for a packet over the client's size limit. */
  packetsOversized: number;
}

const AGENT_PUBLISH_KINDS = ['telemetry', 'predictions', 'events', 'status'] as const;

export class BrokerAccess {
  private readonly counts: BrokerAccessStats = {
    loginsRefused: 0,
    publishesDenied: 0,
    subscriptionsDenied: 0,
    packetsOversized: 0,
  };
  /** One per kind of refusal, so a flood of one kind cannot hide the others. */
  private readonly loginLog: RateLimitedLog;
  private readonly deniedLog: RateLimitedLog;
  private readonly oversizedLog: RateLimitedLog;

  constructor(
    private readonly options: {
      credentials: CredentialStore;
      /** False: clients without credentials are let in as `anonymous`. */
      authRequired: boolean;
      /** Largest payload an agent sends (aggregator.ingest.maxPayloadBytes), bytes. */
      maxAgentPayloadBytes: number;
      log: Logger;
    },
  ) {
    this.loginLog = new RateLimitedLog(options.log);
    this.deniedLog = new RateLimitedLog(options.log);
    this.oversizedLog = new RateLimitedLog(options.log);
  }

  /** Checks a CONNECT: the identity the client acts as, or why it is refused. */
  async login(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<BrokerIdentity | LoginRefusal> {
    const result = await this.identify(clientId, username, password).catch((err: unknown) => {
      this.options.log.error({ err: errorMessage(err) }, 'cannot check MQTT credentials');
      return 'not-authorized' as const;
    });
    if (typeof result === 'string') {
      this.counts.loginsRefused++;
      this.loginLog.warn({ clientId, username, reason: result }, 'MQTT login refused');
    }
    return result;
  }

  mayPublish(identity: BrokerIdentity, clientId: string, topic: string): boolean {
    const allowed = publishAllowed(identity, topic);
    if (!allowed) this.denied('publish', identity, clientId, topic);
    return allowed;
  }

  maySubscribe(identity: BrokerIdentity, clientId: string, filter: string): boolean {
    const allowed = subscribeAllowed(identity, filter);
    if (!allowed) this.denied('subscribe', identity, clientId, filter);
    return allowed;
  }

  /**
   * The largest MQTT packet a client may send, bytes: models are up to
   * 16 MiB, everything an agent sends is far smaller.
   */
  maxPacketBytes(identity: BrokerIdentity): number {
    if (identity.kind === 'agent') return this.options.maxAgentPayloadBytes + PACKET_OVERHEAD_BYTES;
    if (identity.kind === 'reader') return PACKET_OVERHEAD_BYTES;
    return MAX_MODEL_MESSAGE_BYTES + PACKET_OVERHEAD_BYTES;
  }

  /** Counts and logs a connection cut for an oversized packet. */
  packetOversized(remoteAddress: string | undefined, bytes: number, limit: number): void {
    this.counts.packetsOversized++;
    this.oversizedLog.warn(
      { remoteAddress, bytes, limit },
      'MQTT packet over the size limit; connection closed',
    );
  }

  stats(): BrokerAccessStats {
    return { ...this.counts };
  }

  private async identify(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<BrokerIdentity | LoginRefusal> {
    const isAgentClientId = clientId.startsWith(AGENT_CLIENT_ID_PREFIX);
    if (username === undefined && password === undefined) {
      return this.options.authRequired ? 'not-authorized' : { kind: 'anonymous' };
    }
    if (username === undefined || password === undefined) return 'bad-credentials';
    const secret = password.toString('utf8');
    if (username === TOKEN_USERNAME) {
      const token = await this.options.credentials.verifyApiToken(secret);
      if (!token) return 'bad-credentials';
      // An admin may act for any host (`cloudsense simulate` publishes as many); a reader under an
      // agent's client id would only take over that agent's session.
      if (token.role === 'admin') return { kind: 'publisher' };
      return isAgentClientId ? 'identifier-rejected' : { kind: 'reader' };
    }
    const hostId = hostIdOfUsername(username);
    if (hostId === undefined || !(await this.options.credentials.verifyAgent(hostId, secret))) {
      return 'bad-credentials';
    }
    // One session per host: an agent cannot take over another host's client id.
    if (clientId !== `${AGENT_CLIENT_ID_PREFIX}${hostId}`) return 'identifier-rejected';
    return { kind: 'agent', hostId };
  }

  private denied(what: 'publish' | 'subscribe', identity: BrokerIdentity, clientId: string, topic: string) {
    if (what === 'publish') this.counts.publishesDenied++;
    else this.counts.subscriptionsDenied++;
    this.deniedLog.warn(
      { clientId, identity: identity.kind === 'agent' ? `host:${identity.hostId}` : identity.kind, topic },
      what === 'publish' ? 'MQTT publish denied' : 'MQTT subscription denied',
    );
  }
}

function publishAllowed(identity: BrokerIdentity, topic: string): boolean {
  // Reserved for the broker's own status, as aedes's default rule has it.
  if (topic.startsWith('$SYS/')) return false;
  switch (identity.kind) {
    case 'anonymous':
      return true;
    case 'publisher':
      return topic.startsWith(`${TOPIC_ROOT}/`);
    case 'reader':
      return false;
    case 'agent':
      return AGENT_PUBLISH_KINDS.some((kind) => topic === hostTopic(identity.hostId, kind));
  }
}

function subscribeAllowed(identity: BrokerIdentity, filter: string): boolean {
  switch (identity.kind) {
    case 'anonymous':
      return true;
    case 'publisher':
    case 'reader':
      return filter === '#' || filter.startsWith(`${TOPIC_ROOT}/`) || filter === TOPIC_ROOT;
    case 'agent': {
      const models = `${TOPIC_ROOT}/models/`;
      if (filter === `${models}+` || filter === `${models}#`) return true;
      const key = parseModelTopic(filter);
      if (key !== null && !key.includes('+') && !key.includes('#')) return true;
      const own = `${TOPIC_ROOT}/hosts/${identity.hostId}/`;
      // Its own per-host model topics (a canary's models), as a filter or one key.
      if (filter === `${own}models/+` || filter === `${own}models/#`) return true;
      const hostModel = parseHostModelTopic(filter);
      if (hostModel?.hostId === identity.hostId && !/[+#]/.test(hostModel.key)) return true;
      return filter === `${own}ack` || filter === `${own}commands` || filter.startsWith(`${own}commands/`);
    }
  }
}
