import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { PRE_LOGIN_MAX_PACKET_BYTES, PacketSizeGuard } from '../../aggregator/broker/aedes-access.js';

/** An MQTT fixed header: type byte and remaining length (7 bits a byte, least significant first). */
function header(type: number, length: number): Buffer {
  const bytes = [type];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/** A real TCP connection: the server side wrapped in a guard, the client side to write through. */
async function guardedPair(): Promise<{ guard: PacketSizeGuard; client: Socket; oversized: number[] }> {
  const oversized: number[] = [];
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = createConnection(address.port, '127.0.0.1');
  // The guard's side may reset the connection.
  client.on('error', () => undefined);
  const [socket] = await accepted;
  server.close();
  const guard = new PacketSizeGuard(socket, (bytes) => oversized.push(bytes));
  guard.on('error', () => undefined);
  return { guard, client, oversized };
}

describe('MQTT packet size guard', () => {
  it('passes packets through unchanged, whatever the chunking, and cuts one over the limit', async () => {
    const { guard, client, oversized } = await guardedPair();
    const received: Buffer[] = [];
    guard.on('data', (chunk: Buffer) => received.push(chunk));
    const small = Buffer.concat([header(0x30, 200), Buffer.alloc(200, 1)]);
    const ping = header(0xc0, 0);
    const larger = Buffer.concat([header(0x30, 20_000), Buffer.alloc(20_000, 2)]);
    const stream = Buffer.concat([small, ping, larger]);
    // One byte at a time splits every header, including the two-byte remaining lengths.
    for (let i = 0; i < 400; i++) client.write(stream.subarray(i, i + 1));
    client.write(stream.subarray(400));
    while (Buffer.concat(received).length < stream.length) await once(guard, 'data');
    assert.deepEqual(Buffer.concat(received), stream);
    assert.deepEqual(oversized, []);

    guard.maxPacketBytes = 1000;
    const closed = once(client, 'close');
    client.write(Buffer.concat([header(0x30, 1001), Buffer.alloc(10)]));
    await closed;
    assert.deepEqual(oversized, [1001]);
    assert.equal(guard.destroyed, true);
  });

  it('holds a client to 64 KiB until its login is known', async () => {
    const { client, oversized } = await guardedPair();
    const closed = once(client, 'close');
    client.write(header(0x10, PRE_LOGIN_MAX_PACKET_BYTES + 1));
    await closed;
    assert.deepEqual(oversized, [PRE_LOGIN_MAX_PACKET_BYTES + 1]);
  });
});
