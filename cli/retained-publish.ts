/**
 * One retained publish to a broker and goodbye: how `cloudsense model
 * publish` hands a signed model to the broker (mqtt.js stays behind this).
 */
import { connectAsync } from 'mqtt';
import { withTimeout } from '../shared/async.js';
import { CloudSenseError, errorMessage } from '../shared/errors.js';

/** How long connecting, and then the broker's acknowledgement, may take, ms. */
const BROKER_TIMEOUT_MS = 15_000;

export async function publishRetained(
  brokerUrl: string,
  topic: string,
  payload: Buffer,
  credentials: { username?: string | undefined; password?: string | undefined; ca?: Buffer | undefined } = {},
): Promise<void> {
  let client;
  try {
    client = await connectAsync(brokerUrl, {
      clientId: `cloudsense-publish-${process.pid}-${Date.now().toString(36)}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: BROKER_TIMEOUT_MS,
      ...(credentials.username !== undefined ? { username: credentials.username } : {}),
      ...(credentials.password !== undefined ? { password: credentials.password } : {}),
      ...(credentials.ca !== undefined ? { ca: credentials.ca } : {}),
    });
  } catch (err) {
    throw new CloudSenseError('BROKER_UNREACHABLE', `cannot connect to ${brokerUrl}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  // A broker that does not allow this login to publish here closes the connection instead of acknowledging.
  let closed = false;
  const refused = new Promise<never>((_, reject) =>
    client.once('close', () => {
      closed = true;
      reject(
        new CloudSenseError(
          'PUBLISH_REFUSED',
          `${brokerUrl} closed the connection instead of acknowledging: this login may not publish on ${topic} (an admin token may, see docs/security.md)`,
          { permanent: true },
        ),
      );
    }),
  );
  refused.catch(() => undefined);
  try {
    await withTimeout(
      Promise.race([client.publishAsync(topic, payload, { qos: 1, retain: true }), refused]),
      BROKER_TIMEOUT_MS,
      'the broker’s acknowledgement',
    );
  } finally {
    if (closed) client.end(true);
    else await withTimeout(client.endAsync(), BROKER_TIMEOUT_MS).catch(() => client.end(true));
  }
}
