/**
 * Remediation windows: when a playbook acted on a host's resource (cleaned a
 * disk, restarted a leaking service, shed load). An exhaustion that a
 * remediation prevented must not teach the model that the risk was low, so
 * a row whose horizon overlaps one is kept out of the labels.
 */
import { canonicalResourceId } from '../../shared/resources/resource-id.js';

export interface RemediationWindow {
  hostId: string;
  /**
   * The resource acted on, a resource id in either form. Undefined: every
   * resource of the host (a reboot, a service restart whose effect is not
   * tied to one resource).
   */
  resourceId?: string | undefined;
  /** When the action began, Unix epoch ms. */
  startMs: number;
  /** When it finished, Unix epoch ms, ≥ startMs (equal for an instant action). */
  endMs: number;
}

/**
 * The remediation windows of one series, merged into disjoint intervals
 * sorted by start: `startMs[i] ≤ endMs[i] < startMs[i + 1]`.
 */
export interface RemediationIntervals {
  readonly count: number;
  readonly startMs: Float64Array;
  readonly endMs: Float64Array;
}

export const NO_REMEDIATIONS: RemediationIntervals = Object.freeze({
  count: 0,
  startMs: new Float64Array(0),
  endMs: new Float64Array(0),
});

/**
 * Remediation windows grouped by (host, resource) once, so a dataset over
 * many series looks each one up in O(1). Windows with a non-finite bound or
 * an end before the start are rejected (RangeError): a broken audit record
 * must not silently label rows.
 */
export class RemediationIndex {
  private readonly byKey = new Map<string, RemediationWindow[]>();

  constructor(windows: readonly RemediationWindow[]) {
    for (const [i, w] of windows.entries()) {
      if (!Number.isFinite(w.startMs) || !Number.isFinite(w.endMs) || w.endMs < w.startMs) {
        throw new RangeError(`remediation window ${i}: start and end must be finite with end ≥ start`);
      }
      const key = keyOf(w.hostId, w.resourceId === undefined ? undefined : canonicalResourceId(w.resourceId));
      const list = this.byKey.get(key);
      if (list) list.push(w);
      else this.byKey.set(key, [w]);
    }
  }

  /**
   * The merged windows for one series: its own and its host's host-wide
   * ones. With `untilMs`, only windows that started before it (what was
   * known at that time), cut at it.
   */
  intervalsFor(hostId: string, resourceId: string, untilMs = Infinity): RemediationIntervals {
    const own = this.byKey.get(keyOf(hostId, canonicalResourceId(resourceId))) ?? [];
    const hostWide = this.byKey.get(keyOf(hostId, undefined)) ?? [];
    return mergeRemediations([...own, ...hostWide], untilMs);
  }
}

/** Merges windows into disjoint sorted intervals, in O(m log m); see RemediationIndex for `untilMs`. */
export function mergeRemediations(
  windows: readonly Pick<RemediationWindow, 'startMs' | 'endMs'>[],
  untilMs = Infinity,
): RemediationIntervals {
  const known = windows
    .filter((w) => w.startMs < untilMs)
    .map((w) => ({ startMs: w.startMs, endMs: Math.min(w.endMs, untilMs) }))
    .sort((a, b) => a.startMs - b.startMs);
  if (known.length === 0) return NO_REMEDIATIONS;
  const startMs = new Float64Array(known.length);
  const endMs = new Float64Array(known.length);
  let n = 0;
  for (const w of known) {
    if (n > 0 && w.startMs <= endMs[n - 1]!) {
      endMs[n - 1] = Math.max(endMs[n - 1]!, w.endMs);
    } else {
      startMs[n] = w.startMs;
      endMs[n] = w.endMs;
      n++;
    }
  }
  return { count: n, startMs: startMs.slice(0, n), endMs: endMs.slice(0, n) };
}

function keyOf(hostId: string, canonicalResource: string | undefined): string {
  // NUL cannot occur in a resource id (nor, by the wire schema, in a host id).
  return `${hostId}\0${canonicalResource ?? ''}`;
}
