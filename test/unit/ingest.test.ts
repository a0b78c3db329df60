import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { TelemetryIngest } from '../../aggregator/ingest/telemetry-ingest.js';
import type { StatusMessage, TelemetryMessage } from '../../shared/wire/telemetry.js';

function setup() {
  const telemetry: TelemetryMessage[] = [];
  const statuses: StatusMessage[] = [];
  const ingest = new TelemetryIngest({
    maxPayloadBytes: 4096,
    onTelemetry: (m) => telemetry.push(m),
    onStatus: (m) => statuses.push(m),
    log: pino({ level: 'silent' }),
  });
  return { ingest, telemetry, statuses };
}

const valid = {
  schemaVersion: 1,
  hostId: 'web-01',
  seq: 7,
  timestamp: 1_790_000_000_000,
  intervalSeconds: 10,
  metrics: [
    { name: 'system.memory.usage', unit: 'By', value: 1024, attributes: { 'system.memory.state': 'used' } },
  ],
};
const topic = 'cloudsense/v1/hosts/web-01/telemetry';
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('telemetry ingest', () => {
  it('passes a valid message on, typed', () => {
    const { ingest, telemetry } = setup();
    ingest.handleTelemetry(topic, buf(valid));
    assert.deepEqual(telemetry, [valid]);
    assert.equal(ingest.stats().accepted, 1);
  });

  it('counts each kind of bad input by reason and passes none of it on', () => {
    const { ingest, telemetry } = setup();
    ingest.handleTelemetry(topic, buf('{"unterminated'));
    ingest.handleTelemetry(topic, Buffer.from([0xc3, 0x28]));
    ingest.handleTelemetry(topic, buf({ ...valid, seq: 1.5 }));
    ingest.handleTelemetry(topic, buf({ ...valid, hostId: 'db-01' }));
    ingest.handleTelemetry(topic, Buffer.alloc(5000, 0x20));
    ingest.handleTelemetry('cloudsense/v1/hosts/a+b/telemetry', buf(valid));
    ingest.handleTelemetry('elsewhere/x', buf(valid));
    assert.equal(telemetry.length, 0);
    const stats = ingest.stats();
    assert.equal(stats.received, 7);
    assert.deepEqual(stats.dropped, {
      malformed: 2,
      invalid: 1,
      host_mismatch: 1,
      oversized: 1,
      bad_topic: 2,
    });
  });

  it('takes status messages and ignores an empty retained payload', () => {
    const { ingest, statuses } = setup();
    const status = { schemaVersion: 1, hostId: 'web-01', state: 'offline', since: 1_790_000_000_000 };
    ingest.handleStatus('cloudsense/v1/hosts/web-01/status', buf(status));
    ingest.handleStatus('cloudsense/v1/hosts/web-01/status', Buffer.alloc(0));
    assert.deepEqual(statuses, [status]);
  });
});

describe('predictions and events ingest', () => {
  const predictions = {
    schemaVersion: 1,
    hostId: 'web-01',
    seq: 8,
    timestamp: 1_790_000_000_000,
    predictions: [
      {
        resource: 'memory',
        probability: 0.01,
        alert: false,
        threshold: 0.3,
        horizonS: 1800,
        model: { source: 'bundled', runId: 'r1' },
      },
    ],
  };
  const event = {
    schemaVersion: 1,
    hostId: 'web-01',
    seq: 9,
    timestamp: 1_790_000_000_000,
    type: 'alert.raised',
    reason: 'risk_above_threshold',
    resource: 'memory',
    probability: 0.4,
    threshold: 0.3,
    detail: 'probability 0.400 ≥ threshold 0.300 for 2 cycles',
  };

  it('validates them like telemetry, and de-duplicates all three kinds in one numbering', () => {
    const passed: Array<{ seq: number }> = [];
    const seen = new Set<number>();
    const ingest = new TelemetryIngest({
      maxPayloadBytes: 4096,
      onTelemetry: (m) => passed.push(m),
      onPredictions: (m) => passed.push(m),
      onEvent: (m) => passed.push(m),
      onStatus: () => undefined,
      admit: (m) => !seen.has(m.seq) && seen.add(m.seq) !== undefined,
      log: pino({ level: 'silent' }),
    });
    const p = 'cloudsense/v1/hosts/web-01/predictions';
    const e = 'cloudsense/v1/hosts/web-01/events';
    ingest.handleTelemetry(topic, buf(valid));
    ingest.handlePredictions(p, buf(predictions));
    ingest.handleEvent(e, buf(event));
    ingest.handlePredictions(p, buf(predictions));
    ingest.handleEvent(e, buf({ ...event, seq: 7 }));
    assert.deepEqual(
      passed.map((m) => m.seq),
      [7, 8, 9],
    );
    assert.equal(ingest.stats().duplicate, 2);

    ingest.handlePredictions(p, buf({ ...predictions, seq: 10, hostId: 'db-01' }));
    ingest.handlePredictions(p, buf({ ...predictions, seq: 11, predictions: [{ resource: 'memory' }] }));
    ingest.handleEvent(e, buf({ ...event, seq: 12, type: 'alert.unknown' }));
    ingest.handleEvent(e, buf('not json'));
    ingest.handleEvent(e, Buffer.alloc(5000, 0x20));
    assert.deepEqual(ingest.stats().dropped, {
      malformed: 1,
      invalid: 2,
      host_mismatch: 1,
      oversized: 1,
      bad_topic: 0,
    });
    assert.equal(passed.length, 3);
  });
});
