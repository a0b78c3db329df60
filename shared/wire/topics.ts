/**
 * The versioned MQTT topic tree. Every topic CloudSense publishes or consumes
 * is built and parsed here, so the layout lives in one place
 * (documented in docs/mqtt.md).
 */
export const TOPIC_ROOT = 'cloudsense/v1';

/**
 * A host id is one MQTT topic level: no `/`, `+`, `#`, no control characters,
 * and short enough for client ids. Letters, digits, `.`, `_`, `-`.
 */
export const HOST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * `telemetry`, `predictions`, `events` and `status` are published by the
 * agent; `ack` by the aggregator, telling the agent which of its sequence
 * numbers are durably stored (docs/mqtt.md).
 */
export type HostTopicKind = 'telemetry' | 'predictions' | 'events' | 'status' | 'ack';

export function hostTopic(hostId: string, kind: HostTopicKind): string {
  return `${TOPIC_ROOT}/hosts/${hostId}/${kind}`;
}

/** Subscription filter matching one kind of topic for every host. */
export function allHostsFilter(kind: HostTopicKind): string {
  return `${TOPIC_ROOT}/hosts/+/${kind}`;
}

/** Splits a host topic into its host id and kind; null when the topic is not one of ours. */
export function parseHostTopic(topic: string): { hostId: string; kind: string } | null {
  const prefix = `${TOPIC_ROOT}/hosts/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length !== 2) return null;
  const [hostId, kind] = rest as [string, string];
  if (!HOST_ID_PATTERN.test(hostId)) return null;
  return { hostId, kind };
}
