import { connect, type MqttClient } from 'mqtt';
import { RateLimitedLog, type Logger } from '../../shared/log.js';
import { withTimeout } from '../../shared/async.js';
import { errorMessage } from '../../shared/errors.js';
import type { SequencedTopicKind } from '../../shared/wire/sequenced.js';
import type { ModelRef } from '../../shared/wire/predictions.js';
import {
  MODELS_FILTER,
  hostModelsFilter,
  hostTopic,
  parseHostModelTopic,
  parseModelTopic,
} from '../../shared/wire/topics.js';
import {
  AckMessageSchema,
  MAX_ACK_BYTES,
  SCHEMA_VERSION,
  type AckMessage,
  type StatusMessage,
  type TelemetryMessage,
} from '../../shared/wire/telemetry.js';

/** Seconds between reconnect attempts while the broker is unreachable. */
export const RECONNECT_PERIOD_MS = 2000;
/** How long `stop()` waits for outstanding acknowledgements before giving up. */
export const STOP_TIMEOUT_MS = 5000;

export interface PublisherOptions {
  brokerUrl: string;
  hostId: string;
  agentVersion: string;
  intervalSeconds: number;
  username?: string | undefined;
  password?: string | undefined;
  /** PEM CA certificate(s) the broker's certificate must chain to (mqtts); default: the system's. */
  ca?: Buffer | undefined;
  log: Logger;
  /** Called after each (re)connect, once the `online` status is on its way. */
  onConnect?: () => void;
  /** Called when the connection drops or is closed. */
  onConnectionLost?: () => void;
  /**
   * Receives the aggregator's confirmations for this host (`…/ack`, validated);
   * `retained` when the broker replayed a stored one on subscribing. Without
   * it the publisher does not subscribe.
   */
  onAck?: (ack: AckMessage, retained: boolean) => void;
  /**
   * Receives every message on the model topics (`cloudsense/v1/models/+`
   * and this host's own `cloudsense/v1/hosts/{hostId}/models/+`, retained
   * ones at once on each subscribe), unchecked: the model updater verifies
   * them. Without it the publisher does not subscribe.
   */
  onModel?: (topic: string, payload: Buffer) => void;
}

/**
 * The agent's MQTT connection. Announces the host with a retained `online`
 * status and leaves an `offline` last will, so the fleet sees a crashed agent.
 * Telemetry, predictions and events go out at QoS 1. With `onAck`, it
 * subscribes to the host's acknowledgement topic on every connect (the
 * retained confirmation arrives at once) and passes valid confirmations on.
 */
export class MqttPublisher {
  private client: MqttClient | undefined;
  private connectedOnce = false;
  private readonly badAckLog: RateLimitedLog;
  /** The models in the status message; see `setModels`. */
  private models: Record<string, ModelRef> | undefined;
  /** When the current connection's `online` began. */
  private onlineSince = Date.now();

  constructor(private readonly options: PublisherOptions) {
    this.badAckLog = new RateLimitedLog(options.log);
  }

  start(): void {
    if (this.client) return;
    const { hostId, brokerUrl, log } = this.options;
    const offline = this.status('offline');
    const client = connect(brokerUrl, {
      clientId: `cloudsense-agent-${hostId}`,
      username: this.options.username,
      password: this.options.password,
      ...(this.options.ca ? { ca: this.options.ca } : {}),
      clean: true,
      // The acknowledgement subscription is renewed in the connect handler.
      resubscribe: false,
      reconnectPeriod: RECONNECT_PERIOD_MS,
      connectTimeout: 10_000,
      // mqtt-packet's number cache holds one 2-byte Buffer for each of the
      // 65,536 packet ids, about 6 MiB of heap for the process's life; the
      // agent publishes a few dozen packets a cycle and writes them without it.
      writeCache: false,
      will: {
        topic: hostTopic(hostId, 'status'),
        payload: Buffer.from(JSON.stringify(offline)),
        qos: 1,
        retain: true,
      },
    });
    client.on('connect', () => {
      log.info({ broker: brokerUrl, reconnect: this.connectedOnce }, 'connected to broker');
      this.connectedOnce = true;
      this.onlineSince = Date.now();
      this.publishOnline(client);
      if (this.options.onAck) {
        client.subscribe(hostTopic(hostId, 'ack'), { qos: 1 }, (err) => {
          if (err) log.warn({ err: errorMessage(err) }, 'cannot subscribe to acknowledgements');
        });
      }
      if (this.options.onModel) {
        client.subscribe([MODELS_FILTER, hostModelsFilter(hostId)], { qos: 1 }, (err) => {
          if (err) log.warn({ err: errorMessage(err) }, 'cannot subscribe to model updates');
        });
      }
      this.options.onConnect?.();
    });
    client.on('close', () => this.options.onConnectionLost?.());
    client.on('message', (topic, payload, packet) => {
      if (topic === hostTopic(hostId, 'ack')) this.handleAck(payload, packet.retain);
      else if (parseModelTopic(topic) !== null || parseHostModelTopic(topic)?.hostId === hostId) {
        this.options.onModel?.(topic, payload);
      }
    });
    client.on('offline', () => log.warn({ broker: brokerUrl }, 'broker unreachable; will retry'));
    client.on('error', (err) => log.warn({ broker: brokerUrl, err: errorMessage(err) }, 'MQTT error'));
    this.client = client;
  }

  /** Resolves when the broker has acknowledged the message (QoS 1). */
  async publishTelemetry(message: TelemetryMessage): Promise<void> {
    if (!this.client) throw new Error('publisher not started');
    await this.client.publishAsync(hostTopic(message.hostId, 'telemetry'), JSON.stringify(message), {
      qos: 1,
    });
  }

  /** Publishes an already encoded message (from the disk queue) on this host's topic of its kind, QoS 1. */
  async publishPayload(kind: SequencedTopicKind, payload: Buffer): Promise<void> {
    if (!this.client) throw new Error('publisher not started');
    await this.client.publishAsync(hostTopic(this.options.hostId, kind), payload, { qos: 1 });
  }

  /**
   * The models the agent serves with, for its status: republished (retained)
   * at once when connected, and with every `online` after.
   */
  setModels(models: Record<string, ModelRef>): void {
    this.models = models;
    if (this.client?.connected) this.publishOnline(this.client);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Marks the host offline (retained), waits for outstanding acks, and disconnects. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    if (client.connected) {
      const offline = JSON.stringify(this.status('offline'));
      await withTimeout(
        client.publishAsync(hostTopic(this.options.hostId, 'status'), offline, { qos: 1, retain: true }),
        STOP_TIMEOUT_MS,
      ).catch(() => undefined);
    }
    await withTimeout(client.endAsync(false), STOP_TIMEOUT_MS).catch(() => client.end(true));
  }

  /** Network input: size, JSON and schema checked, and it must be about this host. */
  private handleAck(payload: Buffer, retained: boolean): void {
    // An empty retained payload clears the topic; nothing to confirm.
    if (payload.length === 0) return;
    let ack: AckMessage | undefined;
    if (payload.length <= MAX_ACK_BYTES) {
      try {
        const parsed = AckMessageSchema.safeParse(JSON.parse(payload.toString('utf8')));
        if (parsed.success && parsed.data.hostId === this.options.hostId) ack = parsed.data;
      } catch {
        // Not JSON; reported below.
      }
    }
    if (!ack) {
      this.badAckLog.warn({ bytes: payload.length }, 'ignored an invalid acknowledgement');
      return;
    }
    this.options.onAck?.(ack, retained);
  }

  private publishOnline(client: MqttClient): void {
    client.publish(hostTopic(this.options.hostId, 'status'), JSON.stringify(this.status('online')), {
      qos: 1,
      retain: true,
    });
  }

  private status(state: StatusMessage['state']): StatusMessage {
    return {
      schemaVersion: SCHEMA_VERSION,
      hostId: this.options.hostId,
      state,
      since: state === 'online' ? this.onlineSince : Date.now(),
      agentVersion: this.options.agentVersion,
      intervalSeconds: this.options.intervalSeconds,
      ...(state === 'online' && this.models ? { models: this.models } : {}),
    };
  }
}
