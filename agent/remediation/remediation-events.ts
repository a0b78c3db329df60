/**
 * The remediation engine's decisions as event messages
 * (shared/wire/events.ts, type `remediation`), each with a sentence for
 * people. Each builder takes the sequence number last, because the disk
 * queue assigns it.
 */
import { parseResourceId } from '../../shared/resources/resource-id.js';
import {
  MAX_EVENT_DETAIL_LENGTH,
  REMEDIATION,
  type EventMessage,
  type RemediationEvent,
} from '../../shared/wire/events.js';
import type { RemediationMode } from '../../shared/wire/remediation.js';
import { SCHEMA_VERSION } from '../../shared/wire/telemetry.js';
import type { Playbook } from './config.js';

export type EventBuilder = (seq: number) => EventMessage;

/** What an event says beyond the playbook and its trigger. */
export type DecisionFields = Omit<
  RemediationEvent,
  'schemaVersion' | 'hostId' | 'seq' | 'type' | 'playbook' | 'mode' | 'trigger' | 'user'
>;

export function remediationEvent(
  hostId: string,
  playbook: Playbook,
  mode: RemediationMode,
  fields: DecisionFields,
): EventBuilder {
  const event = {
    schemaVersion: SCHEMA_VERSION,
    hostId,
    type: REMEDIATION,
    playbook: playbook.name,
    mode,
    trigger: { probabilityAbove: playbook.when.probabilityAbove, forCycles: playbook.when.forCycles },
    ...(playbook.user ? { user: playbook.user.name } : {}),
    ...fields,
    detail: clip(fields.detail, MAX_EVENT_DETAIL_LENGTH),
  } as const;
  return (seq) => ({ ...event, seq });
}

/** `filesystem:%2Fvar` → `filesystem /var`, `memory` → `memory`: how people name it. */
export function resourceInWords(resource: string): string {
  try {
    const parsed = parseResourceId(resource);
    return 'mountpoint' in parsed ? `${parsed.kind} ${parsed.mountpoint}` : parsed.kind;
  } catch {
    return resource;
  }
}

/** The argv as one would type it: arguments with spaces or quotes in JSON quotes. */
export function commandInWords(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** `memory: exhaustion probability 0.953 above 0.800 for 3 cycles` */
export function triggerInWords(playbook: Playbook, resource: string, probability: number): string {
  const { probabilityAbove, forCycles } = playbook.when;
  return (
    `${resourceInWords(resource)}: exhaustion probability ${probability.toFixed(3)} above ` +
    `${probabilityAbove.toFixed(3)} for ${forCycles} cycle${forCycles === 1 ? '' : 's'}`
  );
}

/** `/usr/local/sbin/clean-tmp --days 7 as user cleaner` */
export function runInWords(playbook: Playbook): string {
  return `${commandInWords(playbook.run)}${playbook.user ? ` as user ${playbook.user.name}` : ''}`;
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
