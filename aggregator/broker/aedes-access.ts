/**
 * The broker's access policy (aggregator/security/broker-access.ts) as
 * aedes hooks, and the packet-size bound aedes itself lacks: its parser
 * buffers whatever length a packet header declares, up to 256 MiB.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { BrokerAccess, BrokerIdentity, LoginRefusal } from '../security/broker-access.js';

/** Packets a client may send before its login is checked, bytes: a CONNECT with its will fits. */
export const PRE_LOGIN_MAX_PACKET_BYTES = 64 * 1024;

const RETURN_CODES: Record<LoginRefusal, number> = {
  'identifier-rejected': 2,
  'bad-credentials': 4,
  'not-authorized': 5,
};

/** aedes `authenticate`, `authorizePublish` and `authorizeSubscribe` that apply `access`. */
export function aedesAccessHooks(
  access: BrokerAccess,
): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const identities = new WeakMap<Client, BrokerIdentity>();
  return {
    authenticate(client, username, password, done) {
      void access.login(client.id, username, password).then((result) => {
        if (typeof result === 'string') {
          const err = new Error(`login refused: ${result}`) as AuthenticateError;
          (err as { returnCode: number }).returnCode = RETURN_CODES[result];
          done(err, false);
          return;
        }
        identities.set(client, result);
        if (client.conn instanceof PacketSizeGuard)
          client.conn.maxPacketBytes = access.maxPacketBytes(result);
        done(null, true);
      });
    },
    authorizePublish(client, packet, done) {
      // A client is null only for a will left over from before a restart; nobody vouches for it.
      const identity = client ? identities.get(client) : undefined;
      if (!client || !identity || !access.mayPublish(identity, client.id, packet.topic)) {
        // aedes closes the connection: MQTT 3.1.1 has no negative acknowledgement for a publish.
        done(new Error(`publish to ${packet.topic} not authorized`));
        return;
      }
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      // A negated subscription (null) gets return code 0x80 in the SUBACK; the connection stays.
      done(
        null,
        identity && access.maySubscribe(identity, client.id, subscription.topic) ? subscription : null,
      );
    },
  };
}

/**
 * A client connection that reads MQTT fixed headers as bytes arrive and
 * cuts the connection when a packet declares more than `maxPacketBytes`
 * (set per client once its login is known), before the broker buffers it.
 */
export class PacketSizeGuard extends Duplex {
  maxPacketBytes = PRE_LOGIN_MAX_PACKET_BYTES;
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private lengthBytes = 0;
  private bodyLeft = 0;

  constructor(
    private readonly socket: Socket,
    private readonly onOversized: (declaredBytes: number, limit: number) => void,
  ) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      if (!this.scan(chunk)) return;
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.socket.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }

  /** Follows packet boundaries through `chunk`; false (and the connection cut) on an oversized packet. */
  private scan(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'type') {
        i++;
        this.state = 'length';
        this.length = 0;
        this.lengthBytes = 0;
      } else if (this.state === 'length') {
        const byte = chunk[i++]!;
        // Remaining length: 7 bits per byte, least significant first, at most 4 bytes.
        this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
        this.lengthBytes++;
        if (byte & 0x80 && this.lengthBytes < 4) continue;
        if (this.length > this.maxPacketBytes) {
          this.onOversized(this.length, this.maxPacketBytes);
          this.destroy(new Error(`packet of ${this.length} bytes over the limit of ${this.maxPacketBytes}`));
          return false;
        }
        this.bodyLeft = this.length;
        this.state = this.bodyLeft > 0 ? 'body' : 'type';
      } else {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        i += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) this.state = 'type';
      }
    }
    return true;
  }
}
