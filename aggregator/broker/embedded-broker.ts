import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesPublishPacket } from 'aedes';
import type { Logger } from '../../shared/log.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import type { BrokerConnection, MessageHandler } from './broker-connection.js';
import { listen } from '../listen.js';
import type { BrokerAccess } from '../security/broker-access.js';
import { PacketSizeGuard, aedesAccessHooks } from './aedes-access.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port; `port` tells which after start. */
  port: number;
  log: Logger;
  /** Who may log in, publish and subscribe, and how large a packet may be; without it, anyone anything. */
  access?: BrokerAccess | undefined;
  /** Reads the PEM key and certificate at start: the listener speaks MQTT over TLS (mqtts). */
  tls?: (() => { key: Buffer; cert: Buffer }) | undefined;
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
    return `${this.options.tls ? 'mqtts' : 'mqtt'}://${host}:${this.boundPort}`;
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
      ...(this.options.access ? aedesAccessHooks(this.options.access) : {}),
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

    const { access, tls } = this.options;
    const handle = (socket: Socket) => {
      if (!access) return broker.handle(socket);
      const guarded = new PacketSizeGuard(socket, (bytes, limit) =>
        access.packetOversized(socket.remoteAddress, bytes, limit),
      );
      return broker.handle(guarded);
    };
    const server = tls ? createTlsServer(tls(), handle) : createServer(handle);
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
