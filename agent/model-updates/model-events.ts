/**
 * The model updater's decisions as event messages (shared/wire/events.ts).
 * Each builder takes the sequence number last, because the disk queue
 * assigns it.
 */
import {
  MAX_EVENT_DETAIL_LENGTH,
  type EventMessage,
  type ModelRejectReason,
} from '../../shared/wire/events.js';
import type { ModelRef } from '../../shared/wire/predictions.js';
import { SCHEMA_VERSION } from '../../shared/wire/telemetry.js';

export type EventBuilder = (seq: number) => EventMessage;

function common(hostId: string, resource: string, detail: string) {
  return {
    schemaVersion: SCHEMA_VERSION,
    hostId,
    timestamp: Date.now(),
    resource,
    detail:
      detail.length > MAX_EVENT_DETAIL_LENGTH ? `${detail.slice(0, MAX_EVENT_DETAIL_LENGTH - 1)}…` : detail,
  } as const;
}

export function adoptedEvent(
  hostId: string,
  resource: string,
  adopted: { sha256: string; model: ModelRef; previous: ModelRef | undefined },
): EventBuilder {
  const { model, previous, sha256 } = adopted;
  const detail = `adopted ${describe(model)}${previous ? `, replacing ${describe(previous)}` : ''}`;
  const fields = {
    ...common(hostId, resource, detail),
    type: 'model.adopted',
    sha256,
    model,
    ...(previous ? { previous } : {}),
  } as const;
  return (seq) => ({ ...fields, seq });
}

export function rejectedEvent(
  hostId: string,
  resource: string,
  rejection: { reason: ModelRejectReason; detail: string; claimed?: { version: string; sha256: string } },
): EventBuilder {
  const { reason, claimed } = rejection;
  const fields = {
    ...common(hostId, resource, `model update refused (${reason}): ${rejection.detail}`),
    type: 'model.rejected',
    reason,
    ...(claimed ? { version: claimed.version, sha256: claimed.sha256 } : {}),
  } as const;
  return (seq) => ({ ...fields, seq });
}

export function rolledBackEvent(
  hostId: string,
  resource: string,
  rollback: { sha256: string; model: ModelRef; restored: ModelRef | undefined; detail: string },
): EventBuilder {
  const { sha256, model, restored } = rollback;
  const back = restored ? `back to ${describe(restored)}` : 'no model for it now';
  const fields = {
    ...common(hostId, resource, `rolled back ${describe(model)}: ${rollback.detail}; ${back}`),
    type: 'model.rolled_back',
    reason: 'invalid_output',
    sha256,
    model,
    ...(restored ? { restored } : {}),
  } as const;
  return (seq) => ({ ...fields, seq });
}

function describe(ref: ModelRef): string {
  return `${ref.source} model ${ref.version ?? ref.runId}`;
}
