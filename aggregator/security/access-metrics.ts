import { Counter, type Registry } from 'prom-client';
import type { ApiAccessStats } from '../api/auth.js';
import { sampledCounter } from '../../shared/metrics/sampled.js';
import type { BrokerAccessStats } from './broker-access.js';

/**
 * The refusals of the broker's and the API's access control on `/metrics`,
 * read from their counters at scrape time (docs/security.md#metrics).
 */
export function registerAccessMetrics(
  registry: Registry,
  sources: { broker: () => BrokerAccessStats; api: () => ApiAccessStats },
): void {
  const broker: Array<[string, string, keyof BrokerAccessStats]> = [
    [
      'cloudsense_mqtt_logins_refused_total',
      'MQTT logins refused: bad or missing credentials, or a client id not the agent’s own.',
      'loginsRefused',
    ],
    [
      'cloudsense_mqtt_publishes_denied_total',
      'MQTT publishes outside the client’s ACL; the connection was closed.',
      'publishesDenied',
    ],
    [
      'cloudsense_mqtt_subscriptions_denied_total',
      'MQTT subscriptions outside the client’s ACL, refused in the SUBACK.',
      'subscriptionsDenied',
    ],
    [
      'cloudsense_mqtt_packets_oversized_total',
      'MQTT connections closed for a packet over the client’s size limit.',
      'packetsOversized',
    ],
  ];
  for (const [name, help, key] of broker) sampledCounter(registry, name, help, () => sources.broker()[key]);
  const reasons: Array<[string, keyof ApiAccessStats]> = [
    ['unauthorized', 'unauthorized'],
    ['forbidden', 'forbidden'],
    ['rate_limited', 'rateLimited'],
    ['too_large', 'tooLarge'],
  ];
  new Counter({
    name: 'cloudsense_http_requests_refused_total',
    help: 'HTTP requests refused before their route: unauthorized (401), forbidden (403), rate_limited (429), too_large (413).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = sources.api();
      for (const [label, key] of reasons) this.inc({ reason: label }, stats[key]);
    },
  });
}
