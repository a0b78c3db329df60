/**
 * What the agent's queue records hold: one encoded sequenced message each
 * (telemetry, predictions or an event), its kind in the record's tag so the
 * forwarder knows the topic without parsing the payload.
 */
import { SEQUENCED_TOPIC_KINDS, type SequencedTopicKind } from '../../shared/wire/sequenced.js';

/**
 * The record tag of each kind. Part of the on-disk format: never renumber.
 * Telemetry is 0, which is also what every record of a queue written before
 * tags existed reads as (record-format.ts).
 */
const QUEUE_TAGS: Readonly<Record<SequencedTopicKind, number>> = {
  telemetry: 0,
  predictions: 1,
  events: 2,
};

export function queueTagOf(kind: SequencedTopicKind): number {
  return QUEUE_TAGS[kind];
}

/** The kind a record tag stands for; undefined for a tag this version does not know. */
export function topicKindOfTag(tag: number): SequencedTopicKind | undefined {
  return SEQUENCED_TOPIC_KINDS.find((kind) => QUEUE_TAGS[kind] === tag);
}

/** A queued message under a new sequence number, everything else unchanged. */
export function renumberPayload(payload: Buffer, seq: number): Uint8Array {
  const message = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...message, seq }));
}
