import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostRegistry } from '../../aggregator/live/host-registry.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';

function telemetry(seq: number, timestamp: number): TelemetryMessage {
  return {
    schemaVersion: 1,
    hostId: 'web-01',
    seq,
    timestamp,
    intervalSeconds: 10,
    metrics: [{ name: 'system.cpu.utilization', unit: '1', value: seq / 10 }],
  };
}

describe('host registry', () => {
  it('marks a host offline after three missed intervals, or when it says so', () => {
    let now = 1_000_000;
    const registry = new HostRegistry(3, () => now);
    registry.updateTelemetry(telemetry(1, now));
    assert.equal(registry.get('web-01')!.online, true);
    now += 30_000;
    assert.equal(registry.get('web-01')!.online, true);
    now += 1;
    assert.equal(registry.get('web-01')!.online, false);
    registry.updateTelemetry(telemetry(2, now));
    assert.equal(registry.get('web-01')!.online, true);
    registry.updateStatus({ schemaVersion: 1, hostId: 'web-01', state: 'offline', since: 1 });
    assert.equal(registry.get('web-01')!.online, false);
    assert.equal(registry.get('web-01')!.status, 'offline');
  });

  it('does not let a replayed older message roll the live view back', () => {
    const registry = new HostRegistry(3, () => 2_000_000);
    registry.updateTelemetry(telemetry(5, 1_999_000));
    registry.updateTelemetry(telemetry(4, 1_990_000));
    assert.equal(registry.get('web-01')!.lastSeq, 5);
  });

  it('restores hosts from the store, offline until they report again', () => {
    const registry = new HostRegistry(3, () => 2_000_000);
    registry.restore([{ hostId: 'db-01', lastSeen: 1_000, lastSeq: 9, metrics: [] }]);
    const host = registry.get('db-01')!;
    assert.equal(host.lastSeq, 9);
    assert.equal(host.online, false);
    assert.equal(host.lastSeen, new Date(1_000).toISOString());
  });
});
