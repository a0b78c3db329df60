import { createServer, type Server } from 'node:net';
import { Aedes, type AedesPublishPacket } from 'aedes';
import type { Logger } from '../../shared/log.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import type { BrokerConnection, MessageHandler } from './broker-connection.js';
import { listen } from '../listen.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port; `port` tells which after start. */
  port: number;
  log: Logger;
}

/** Disconnect a client whose socket has not drained for this long, so one slow reader cannot stall delivery. */
const DRAIN_TIMEOUT_MS = 30_000;
/** Client ids up to this length; ours are `cloudsense-agent-<host id>`. */
const MAX_CLIENT_ID_LENGTH = 160;

/** The embedded MQTT broker (aedes on a TCP listener), used by `cloudsense up` and a one-machine aggregator. */
export class EmbeddedBroker implements BrokerConnection {
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly subscriptions: Array<[string, MessageHandler]> = [];
  private boundPort: number;

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.boundPort = options.port;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `mqtt://${host}:${this.boundPort}`;
  }

  subscribe(filter: string, handler: MessageHandler): void {
    this.subscriptions.push([filter, handler]);
  }

  async start(): Promise<void> {
    if (this.broker) return;
    const { log } = this.options;
    const broker = await Aedes.createBroker({
      drainTimeout: DRAIN_TIMEOUT_MS,
      maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
    });
    this.broker = broker;
    for (const [filter, handler] of this.subscriptions) {
      await new Promise<void>((resolve) => {
        broker.subscribe(
          filter,
          (packet: AedesPublishPacket, done: () => void) => {
            try {
              handler(
                packet.topic,
                Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
              );
            } catch (err) {
              log.error({ topic: packet.topic, err: errorMessage(err) }, 'message handler failed');
            }
            done();
          },
          resolve,
        );
      });
    }
    broker.on('clientError', (client, err) =>
      log.debug({ client: client.id, err: err.message }, 'client error'),
    );
    broker.on('connectionError', (client, err) =>
      log.debug({ client: client.id, err: err.message }, 'connection error'),
    );

    const server = createServer(broker.handle);
    this.server = server;
    this.boundPort = await listen(
      server,
      { host: this.options.host, port: this.options.port, url: this.url },
      'mqtt.port (CLOUDSENSE_MQTT_PORT or --mqtt-port)',
    );
    log.info({ url: this.url }, 'embedded MQTT broker listening');
  }

  publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }): Promise<void> {
    const broker = this.broker;
    if (!broker) return Promise.reject(new CloudSenseError('BROKER_STOPPED', 'the broker is not running'));
    return new Promise((resolve, reject) => {
      broker.publish(
        {
          cmd: 'publish',
          topic,
          payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
          qos: options.qos,
          retain: options.retain,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    // Stop accepting first; the listener closes once aedes has disconnected every client.
    const serverClosed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    await serverClosed;
  }
}
