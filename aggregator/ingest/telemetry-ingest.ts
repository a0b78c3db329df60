import type { z } from 'zod';
import { RateLimitedLog, type Logger } from '../../shared/log.js';
import { EventMessageSchema, type EventMessage } from '../../shared/wire/events.js';
import { PredictionsMessageSchema, type PredictionsMessage } from '../../shared/wire/predictions.js';
import type { SequencedMessage } from '../../shared/wire/sequenced.js';
import {
  StatusMessageSchema,
  TelemetryMessageSchema,
  type StatusMessage,
  type TelemetryMessage,
} from '../../shared/wire/telemetry.js';
import { parseHostTopic } from '../../shared/wire/topics.js';

/** Rejects invalid UTF-8 instead of replacing it, so garbage is counted as malformed. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Why a message was dropped; each reason is counted separately. */
export const DROP_REASONS = ['oversized', 'malformed', 'invalid', 'host_mismatch', 'bad_topic'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** The host topics ingest reads, one entry point each. */
export const INGEST_KINDS = ['telemetry', 'predictions', 'events', 'status'] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

/**
 * What became of a received message; every message has exactly one outcome.
 * `admitted`: valid and new, passed on; `duplicate`: valid, already stored or
 * on its way; otherwise the reason it was dropped.
 */
export const INGEST_OUTCOMES = ['admitted', 'duplicate', ...DROP_REASONS] as const;
export type IngestOutcome = (typeof INGEST_OUTCOMES)[number];

export interface IngestStats {
  received: number;
  /** Passed validation (duplicates included). */
  accepted: number;
  /**
   * Valid sequenced messages (telemetry, predictions, events) already stored
   * or on their way to the store: redeliveries and replays, not passed on.
   */
  duplicate: number;
  dropped: Record<DropReason, number>;
  /** The same messages by topic kind and outcome: each kind's outcomes sum to what it received. */
  outcomes: Record<IngestKind, Record<IngestOutcome, number>>;
}

export interface IngestOptions {
  /** Largest accepted payload, bytes. */
  maxPayloadBytes: number;
  /** Receives each valid telemetry message that is not a duplicate. */
  onTelemetry: (message: TelemetryMessage) => void;
  /** Receives each valid predictions message that is not a duplicate. Default: they are validated and counted only. */
  onPredictions?: (message: PredictionsMessage) => void;
  /** Receives each valid event message that is not a duplicate. Default: validated and counted only. */
  onEvent?: (message: EventMessage) => void;
  /**
   * False for a duplicate (by host and sequence number, one numbering for
   * telemetry, predictions and events), which is counted and not passed on.
   * Default: none are.
   */
  admit?: (message: SequencedMessage) => boolean;
  /** Receives each valid status message. */
  onStatus: (message: StatusMessage) => void;
  log: Logger;
}

/**
 * The trust boundary for everything agents publish: size limit, JSON parse,
 * schema, and the host id in the payload must match the topic's. Bad messages
 * are counted by reason and logged at a limited rate; they never throw.
 */
export class TelemetryIngest {
  private readonly counts: IngestStats = {
    received: 0,
    accepted: 0,
    duplicate: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
    outcomes: Object.fromEntries(
      INGEST_KINDS.map((k) => [k, Object.fromEntries(INGEST_OUTCOMES.map((o) => [o, 0]))]),
    ) as IngestStats['outcomes'],
  };
  private readonly dropLog: RateLimitedLog;

  constructor(private readonly options: IngestOptions) {
    this.dropLog = new RateLimitedLog(options.log);
  }

  /** Entry point for `cloudsense/v1/hosts/+/telemetry`. */
  handleTelemetry = (topic: string, payload: Buffer): void => {
    const message = this.parse('telemetry', topic, payload, TelemetryMessageSchema);
    if (message && this.admitted('telemetry', message)) this.options.onTelemetry(message);
  };

  /** Entry point for `cloudsense/v1/hosts/+/predictions`. */
  handlePredictions = (topic: string, payload: Buffer): void => {
    const message = this.parse('predictions', topic, payload, PredictionsMessageSchema);
    if (message && this.admitted('predictions', message)) this.options.onPredictions?.(message);
  };

  /** Entry point for `cloudsense/v1/hosts/+/events`. */
  handleEvent = (topic: string, payload: Buffer): void => {
    const message = this.parse('events', topic, payload, EventMessageSchema);
    if (message && this.admitted('events', message)) this.options.onEvent?.(message);
  };

  /** Entry point for `cloudsense/v1/hosts/+/status`. An empty retained payload clears a status: ignored. */
  handleStatus = (topic: string, payload: Buffer): void => {
    if (payload.length === 0) return;
    const message = this.parse('status', topic, payload, StatusMessageSchema);
    if (!message) return;
    this.counts.outcomes.status.admitted++;
    this.options.onStatus(message);
  };

  /** False (and counted) for a duplicate. */
  private admitted(kind: IngestKind, message: SequencedMessage): boolean {
    if (!this.options.admit || this.options.admit(message)) {
      this.counts.outcomes[kind].admitted++;
      return true;
    }
    this.counts.duplicate++;
    this.counts.outcomes[kind].duplicate++;
    return false;
  }

  stats(): IngestStats {
    const outcomes = Object.fromEntries(
      INGEST_KINDS.map((k) => [k, { ...this.counts.outcomes[k] }]),
    ) as IngestStats['outcomes'];
    return { ...this.counts, dropped: { ...this.counts.dropped }, outcomes };
  }

  private parse<T extends { hostId: string }>(
    kind: IngestKind,
    topic: string,
    payload: Buffer,
    schema: z.ZodType<T>,
  ): T | undefined {
    this.counts.received++;
    const parsedTopic = parseHostTopic(topic);
    if (!parsedTopic) return this.drop(kind, 'bad_topic', topic, 'topic is not a CloudSense host topic');
    if (payload.length > this.options.maxPayloadBytes) {
      return this.drop(
        kind,
        'oversized',
        topic,
        `payload of ${payload.length} bytes exceeds ${this.options.maxPayloadBytes}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(STRICT_UTF8.decode(payload));
    } catch (err) {
      return this.drop(kind, 'malformed', topic, `not UTF-8 JSON: ${(err as Error).message}`);
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      const first = result.error.issues[0];
      const where = first?.path.length ? first.path.join('.') : '(root)';
      return this.drop(kind, 'invalid', topic, `schema: ${where}: ${first?.message ?? 'invalid'}`);
    }
    if (result.data.hostId !== parsedTopic.hostId) {
      return this.drop(
        kind,
        'host_mismatch',
        topic,
        `payload host "${result.data.hostId}" differs from the topic's`,
      );
    }
    this.counts.accepted++;
    return result.data;
  }

  private drop(kind: IngestKind, reason: DropReason, topic: string, detail: string): undefined {
    this.counts.dropped[reason]++;
    this.counts.outcomes[kind][reason]++;
    this.dropLog.warn({ reason, topic: topic.slice(0, 200), detail }, 'dropped an invalid MQTT message');
    return undefined;
  }
}
