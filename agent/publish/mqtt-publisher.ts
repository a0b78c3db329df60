import { connect, type MqttClient } from 'mqtt';
import type { Logger } from '../../shared/log.js';
import { withTimeout } from '../../shared/async.js';
import { errorMessage } from '../../shared/errors.js';
import { hostTopic } from '../../shared/wire/topics.js';
import { SCHEMA_VERSION, type StatusMessage, type TelemetryMessage } from '../../shared/wire/telemetry.js';

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
  log: Logger;
}

/**
 * The agent's MQTT connection. Announces the host with a retained `online`
 * status and leaves an `offline` last will, so the fleet sees a crashed agent.
 * Telemetry goes out at QoS 1; mqtt.js keeps unacknowledged messages and
 * resends them after a reconnect.
 */
export class MqttPublisher {
  private client: MqttClient | undefined;
  private connectedOnce = false;

  constructor(private readonly options: PublisherOptions) {}

  start(): void {
    if (this.client) return;
    const { hostId, brokerUrl, log } = this.options;
    const offline = this.status('offline');
    const client = connect(brokerUrl, {
      clientId: `cloudsense-agent-${hostId}`,
      username: this.options.username,
      password: this.options.password,
      clean: true,
      reconnectPeriod: RECONNECT_PERIOD_MS,
      connectTimeout: 10_000,
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
      client.publish(hostTopic(hostId, 'status'), JSON.stringify(this.status('online')), {
        qos: 1,
        retain: true,
      });
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

  private status(state: StatusMessage['state']): StatusMessage {
    return {
      schemaVersion: SCHEMA_VERSION,
      hostId: this.options.hostId,
      state,
      since: Date.now(),
      agentVersion: this.options.agentVersion,
      intervalSeconds: this.options.intervalSeconds,
    };
  }
}
