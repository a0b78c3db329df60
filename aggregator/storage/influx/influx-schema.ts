/**
 * How CloudSense messages map onto InfluxDB 1.x points (docs/storage.md has
 * the reader's version):
 *
 * - `telemetry`: one point per metric point. Tags `host`, `metric`,
 *   `attributes` (the canonical JSON of the point's attributes) and, for
 *   InfluxQL and Grafana, each attribute as a tag of its own. Fields
 *   `value` (float), `seq` (float: sequence numbers stay below 2^53, so
 *   they are exact) and `unit` (string).
 * - `predictions`: one point per prediction. Tags `host`, `resource`; fields
 *   `seq`, `probability`, `alert`, `threshold`, `horizon_s`, the
 *   time-to-exhaustion band `tte_p10_s`/`tte_p50_s`/`tte_p90_s` when there is
 *   one, and `model` (JSON of the model reference).
 * - `events`: one point per event. Tags `host`, `type`, `resource`; fields
 *   `seq` and `message` (the whole event as JSON, so new event types need no
 *   new fields).
 *
 * Timestamps are nanoseconds: the message's millisecond time × 10^6 plus
 * `seq mod 10^6`. InfluxDB keeps one point per series and timestamp, so
 * this makes two messages of a host that carry the same millisecond
 * (a clock step, an imported sample next to a live one) two points, while
 * writing the same message again (a retried batch) lands on the same
 * points and overwrites them with identical values: writes are idempotent.
 * Reading with millisecond precision truncates the offset away.
 */
import type { IPoint } from 'influx';
import type { EventMessage } from '../../../shared/wire/events.js';
import type { ModelRef, PredictionsMessage } from '../../../shared/wire/predictions.js';
import { byTopicKind, type SequencedMessage } from '../../../shared/wire/sequenced.js';
import { attributesKey, type TelemetryMessage } from '../../../shared/wire/telemetry.js';

export const TELEMETRY = 'telemetry';
export const PREDICTIONS = 'predictions';
export const EVENTS = 'events';

/** Nanoseconds per millisecond, and the room below a millisecond that the sequence number takes. */
const NS_PER_MS = 1_000_000n;

/** Tag and field names of `telemetry` that an attribute of the same name must not take over. */
const RESERVED_KEYS: ReadonlySet<string> = new Set([
  'host',
  'metric',
  'attributes',
  'value',
  'seq',
  'unit',
  'time',
]);

/**
 * Characters an attribute must not hold to become a tag of its own: the
 * line protocol cannot carry line breaks in a tag, drops empty values, and
 * the client's escaping alters some backslash sequences. Such attributes
 * stay in the `attributes` tag only, which always holds them exactly.
 */
const UNTAGGABLE = /[\\\p{Cc}]/u;

/** A message's point time: its millisecond time in nanoseconds, the sequence number below the millisecond. */
export function pointTime(timestampMs: number, seq: number): string {
  return (BigInt(timestampMs) * NS_PER_MS + BigInt(seq % 1_000_000)).toString();
}

/** The first nanosecond of a millisecond, for InfluxQL time bounds. */
export function nsOf(ms: number): string {
  return (BigInt(ms) * NS_PER_MS).toString();
}

/**
 * JSON that survives the client's string escaping unchanged: it rewrites a
 * backslash followed by an apostrophe, so apostrophes are written as the
 * JSON escape `\u0027` (JSON.parse reads them back as they were).
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/'/g, '\\u0027');
}

/** Every point of a batch, in batch order. */
export function toPoints(batch: readonly SequencedMessage[]): IPoint[] {
  const { telemetry, predictions, events } = byTopicKind(batch);
  const points: IPoint[] = [];
  for (const message of telemetry) pushTelemetry(points, message);
  for (const message of predictions) pushPredictions(points, message);
  for (const message of events) points.push(eventPoint(message));
  return points;
}

function pushTelemetry(points: IPoint[], message: TelemetryMessage): void {
  const timestamp = pointTime(message.timestamp, message.seq);
  for (const point of message.metrics) {
    const tags: Record<string, string> = {
      host: message.hostId,
      metric: point.name,
      attributes: attributesKey(point.attributes).replace(/'/g, '\\u0027'),
    };
    for (const [key, value] of Object.entries(point.attributes ?? {})) {
      if (RESERVED_KEYS.has(key) || value === '' || UNTAGGABLE.test(key) || UNTAGGABLE.test(value)) continue;
      tags[key] = value;
    }
    points.push({
      measurement: TELEMETRY,
      tags,
      fields: { value: point.value, seq: message.seq, unit: point.unit },
      timestamp,
    });
  }
}

function pushPredictions(points: IPoint[], message: PredictionsMessage): void {
  const timestamp = pointTime(message.timestamp, message.seq);
  for (const p of message.predictions) {
    const fields: Record<string, number | boolean | string> = {
      seq: message.seq,
      probability: p.probability,
      alert: p.alert,
      threshold: p.threshold,
      horizon_s: p.horizonS,
      model: safeJson(p.model satisfies ModelRef),
    };
    if (p.ttBand) {
      fields.tte_p10_s = p.ttBand.p10S;
      fields.tte_p50_s = p.ttBand.p50S;
      fields.tte_p90_s = p.ttBand.p90S;
    }
    points.push({
      measurement: PREDICTIONS,
      tags: { host: message.hostId, resource: p.resource },
      fields,
      timestamp,
    });
  }
}

function eventPoint(message: EventMessage): IPoint {
  return {
    measurement: EVENTS,
    tags: { host: message.hostId, type: message.type, resource: message.resource },
    fields: { seq: message.seq, message: safeJson(message) },
    timestamp: pointTime(message.timestamp, message.seq),
  };
}
