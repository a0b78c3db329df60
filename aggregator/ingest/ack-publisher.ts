import type { Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import { SCHEMA_VERSION, type AckMessage } from '../../shared/wire/telemetry.js';
import { hostTopic } from '../../shared/wire/topics.js';
import type { BrokerConnection } from '../broker/broker-connection.js';

/**
 * Publishes a host's acknowledgement on `cloudsense/v1/hosts/{hostId}/ack`,
 * QoS 1 and retained, so an agent learns its confirmed position on every
 * (re)subscribe. A failed publish (the broker is stopping) is not retried:
 * the next store write for the host, or its next duplicate, publishes again.
 */
export function createAckPublisher(
  broker: Pick<BrokerConnection, 'publish'>,
  log: Logger,
): (hostId: string, seq: number) => void {
  return (hostId, seq) => {
    const ack: AckMessage = { schemaVersion: SCHEMA_VERSION, hostId, seq };
    broker
      .publish(hostTopic(hostId, 'ack'), JSON.stringify(ack), { qos: 1, retain: true })
      .catch((err: unknown) =>
        log.debug({ hostId, seq, err: errorMessage(err) }, 'acknowledgement not published'),
      );
  };
}
