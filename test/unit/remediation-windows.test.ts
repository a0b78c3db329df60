/**
 * Stored remediation events as the training labels' remediation windows:
 * only runs count, from the command's start to its end, on the resource
 * that triggered them; and the labels keep overlapping rows out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { remediationWindows } from '../../aggregator/remediation/remediation-windows.js';
import { RemediationIndex } from '../../models/labels/remediation.js';
import { EventMessageSchema, type EventMessage } from '../../shared/wire/events.js';

const T = 1_790_000_000_000;

function event(decision: string, fields: Record<string, unknown> = {}): EventMessage {
  return EventMessageSchema.parse({
    schemaVersion: 1,
    hostId: 'web-01',
    seq: 7,
    timestamp: T,
    type: 'remediation',
    decision,
    playbook: 'clean-var',
    mode: 'enforce',
    resource: 'filesystem:%2Fvar',
    trigger: { probabilityAbove: 0.8, forCycles: 3 },
    detail: 'test',
    ...fields,
  });
}

describe('remediation windows for the training labels', () => {
  it('each executed run is a window from its start to its end; other decisions are none', () => {
    const windows = remediationWindows([
      event('recommended'),
      event('dry_run'),
      event('lease_denied', { reason: 'fleet_cap' }),
      event('failed', { reason: 'spawn_error' }),
      event('executed', { exitCode: 0, durationMs: 1500, timedOut: false }),
      event('outcome', { outcome: 'risk_fell', executedAt: T }),
    ]);
    assert.deepEqual(windows, [
      { hostId: 'web-01', resourceId: 'filesystem:%2Fvar', startMs: T - 1500, endMs: T },
    ]);
    const intervals = new RemediationIndex(windows).intervalsFor('web-01', 'filesystem:/var');
    assert.equal(intervals.count, 1);
    assert.equal(new RemediationIndex(windows).intervalsFor('web-01', 'filesystem:/').count, 0);
  });
});
