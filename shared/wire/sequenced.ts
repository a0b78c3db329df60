import type { EventMessage } from './events.js';
import type { PredictionsMessage } from './predictions.js';
import type { TelemetryMessage } from './telemetry.js';

/**
 * The topics whose messages carry the host's sequence number. An agent
 * numbers them in one stream (its disk queue), so the aggregator de-duplicates
 * and acknowledges them together by (host, seq).
 */
export const SEQUENCED_TOPIC_KINDS = ['telemetry', 'predictions', 'events'] as const;
export type SequencedTopicKind = (typeof SEQUENCED_TOPIC_KINDS)[number];

/** A message of the host's numbered stream. */
export type SequencedMessage = TelemetryMessage | PredictionsMessage | EventMessage;

/** The topic a sequenced message belongs on, told by the field only its kind has. */
export function topicKindOf(message: SequencedMessage): SequencedTopicKind {
  if ('metrics' in message) return 'telemetry';
  if ('predictions' in message) return 'predictions';
  return 'events';
}

/** A batch split by kind, each part in batch order. */
export function byTopicKind(batch: readonly SequencedMessage[]): {
  telemetry: TelemetryMessage[];
  predictions: PredictionsMessage[];
  events: EventMessage[];
} {
  const parts = {
    telemetry: [] as TelemetryMessage[],
    predictions: [] as PredictionsMessage[],
    events: [] as EventMessage[],
  };
  for (const message of batch) {
    if ('metrics' in message) parts.telemetry.push(message);
    else if ('predictions' in message) parts.predictions.push(message);
    else parts.events.push(message);
  }
  return parts;
}
