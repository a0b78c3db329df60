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

/**
 * Retained, one per model: `cloudsense/v1/models/{key}`, where the key is a
 * resource kind (`cpu`, `filesystem`) or a canonical resource id
 * (`filesystem:%2Fvar`) for a model of one resource; either is one topic
 * level. The model every host serves unless its own per-host model topic
 * (`hostModelTopic`) holds one. Published by the aggregator only; agents
 * subscribe to `MODELS_FILTER`.
 */
export function modelTopic(key: string): string {
  return `${TOPIC_ROOT}/models/${key}`;
}

/** Subscription filter matching every model topic. */
export const MODELS_FILTER = `${TOPIC_ROOT}/models/+`;

/** The key of a model topic (not yet validated as a kind or resource id); null for any other topic. */
export function parseModelTopic(topic: string): string | null {
  const prefix = `${TOPIC_ROOT}/models/`;
  if (!topic.startsWith(prefix)) return null;
  const key = topic.slice(prefix.length);
  return key.length > 0 && !key.includes('/') ? key : null;
}

/**
 * Retained, one per host and model: `cloudsense/v1/hosts/{hostId}/models/{key}`.
 * The aggregator puts a canary's model there for the canary hosts; while a
 * valid model is there it takes precedence over `modelTopic(key)` on that
 * host, and an empty retained payload clears it (the host follows the fleet
 * topic again). Published by the aggregator only; each agent subscribes to
 * its own `hostModelsFilter`.
 */
export function hostModelTopic(hostId: string, key: string): string {
  return `${TOPIC_ROOT}/hosts/${hostId}/models/${key}`;
}

/** Subscription filter matching every per-host model topic of one host. */
export function hostModelsFilter(hostId: string): string {
  return `${TOPIC_ROOT}/hosts/${hostId}/models/+`;
}

/** Host id and key of a per-host model topic (the key not yet validated); null for any other topic. */
export function parseHostModelTopic(topic: string): { hostId: string; key: string } | null {
  const prefix = `${TOPIC_ROOT}/hosts/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length !== 3 || rest[1] !== 'models') return null;
  const [hostId, , key] = rest as [string, string, string];
  if (!HOST_ID_PATTERN.test(hostId) || key.length === 0) return null;
  return { hostId, key };
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
