/**
 * When playbooks ran, as the training labels need it: an exhaustion that a
 * remediation prevented must not teach the model that the risk was low
 * (models/labels/remediation.ts keeps rows whose horizon overlaps a run out
 * of the labels). Read from the stored `remediation` events: each
 * `executed` one is a window from the command's start to its end, on the
 * resource whose forecast triggered it.
 */
import type { RemediationWindow } from '../../models/labels/remediation.js';
import { REMEDIATION, type EventMessage } from '../../shared/wire/events.js';
import type { TelemetryStore, TimeRange } from '../storage/telemetry-store.js';

/** Events read per host for its windows; runs are rare (a few a day at most per host). */
const EVENTS_READ_PER_HOST = 100_000;

/** The windows of the `executed` remediation events among `events`. */
export function remediationWindows(events: readonly EventMessage[]): RemediationWindow[] {
  const windows: RemediationWindow[] = [];
  for (const event of events) {
    if (event.type !== REMEDIATION || event.decision !== 'executed') continue;
    // `timestamp` is when the command ended; it started `durationMs` earlier.
    const endMs = event.timestamp;
    windows.push({
      hostId: event.hostId,
      resourceId: event.resource,
      startMs: endMs - Math.max(0, event.durationMs ?? 0),
      endMs,
    });
  }
  return windows;
}

/** The remediation windows of `hostIds` stored in `range`. */
export async function storedRemediationWindows(
  store: Pick<TelemetryStore, 'queryEvents'>,
  hostIds: readonly string[],
  range: TimeRange,
): Promise<RemediationWindow[]> {
  const windows: RemediationWindow[] = [];
  for (const hostId of hostIds) {
    const events = await store.queryEvents({ hostId, ...range, limit: EVENTS_READ_PER_HOST });
    windows.push(...remediationWindows(events));
  }
  return windows;
}
