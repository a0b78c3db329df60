import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { SequenceLedger } from '../../aggregator/ingest/sequence-ledger.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';

function message(seq: number, hostId = 'web-01'): TelemetryMessage {
  return {
    schemaVersion: 1,
    hostId,
    seq,
    timestamp: 1_790_000_000_000 + seq * 1000,
    intervalSeconds: 1,
    metrics: [{ name: 'system.cpu.utilization', unit: '1', value: 0.5 }],
  };
}

function setup(options: { gapTimeoutMs?: number; maxAhead?: number } = {}) {
  let now = 1_000_000;
  const acks: Array<[string, number]> = [];
  const ledger = new SequenceLedger({
    ...options,
    onConfirmed: (hostId, seq) => acks.push([hostId, seq]),
    log: pino({ level: 'silent' }),
    now: () => now,
  });
  /** Admits each number and reports which were taken. */
  const admit = (...seqs: number[]) => seqs.filter((s) => ledger.admit(message(s)));
  const store = (...seqs: number[]) => ledger.stored(seqs.map((s) => message(s)));
  return { ledger, acks, admit, store, advance: (ms: number) => (now += ms) };
}

describe('sequence ledger (de-duplication and acknowledgement)', () => {
  it('takes each number once, whether stored or still on its way, and acknowledges what is stored', () => {
    const { admit, store, acks } = setup();
    assert.deepEqual(admit(1, 2, 3), [1, 2, 3]);
    assert.deepEqual(admit(2, 3), [], 'redelivered while still waiting for the store');
    store(1, 2, 3);
    assert.deepEqual(acks, [['web-01', 3]]);
    assert.deepEqual(admit(1, 3, 4), [4], 'redelivered after it was stored');
  });

  it('leaves seq 0 (imported samples) alone: always taken, never acknowledged', () => {
    const { admit, store, acks, ledger } = setup();
    assert.deepEqual(admit(0, 0, 0), [0, 0, 0]);
    store(0, 0);
    assert.deepEqual(acks, []);
    assert.deepEqual(ledger.confirmedMarks(), []);
  });

  it('resumes from the marks the store holds after a restart', () => {
    const { ledger, admit, acks } = setup();
    ledger.restore(new Map([['web-01', 40]]));
    assert.deepEqual(ledger.confirmedMarks(), [['web-01', 40]]);
    assert.deepEqual(admit(39, 40, 41), [41]);
    // The replayed duplicates repeat the acknowledgement, at most once a second.
    assert.deepEqual(acks, [['web-01', 40]]);
  });

  it('acknowledges only the contiguous part when numbers are stored out of order', () => {
    const { admit, store, acks } = setup();
    admit(1, 2, 3);
    store(1, 3);
    assert.deepEqual(acks.at(-1), ['web-01', 1]);
    store(2);
    assert.deepEqual(acks.at(-1), ['web-01', 3]);
  });

  it('acknowledges past a hole that stays open for the gap timeout, counting the missing numbers', () => {
    const { ledger, admit, store, acks, advance } = setup({ gapTimeoutMs: 60_000 });
    admit(1, 5, 6);
    store(1, 5, 6);
    assert.deepEqual(acks.at(-1), ['web-01', 1]);
    advance(30_000);
    ledger.sweep();
    assert.deepEqual(acks.at(-1), ['web-01', 1], 'not yet');
    assert.deepEqual(admit(3), [3], 'a late number inside the hole is still taken');
    advance(30_000);
    ledger.sweep();
    assert.deepEqual(acks.at(-1), ['web-01', 6]);
    // 2 and 4 never came; 3 is on its way to the store and not missing.
    assert.equal(ledger.stats().missing, 2);
  });

  it('does not time a hole whose next number is on its way to the store', () => {
    const { ledger, admit, store, acks, advance } = setup({ gapTimeoutMs: 1000 });
    admit(1, 2, 3);
    store(1, 3);
    advance(5000);
    ledger.sweep();
    assert.deepEqual(acks.at(-1), ['web-01', 1]);
    store(2);
    assert.deepEqual(acks.at(-1), ['web-01', 3]);
    assert.equal(ledger.stats().missing, 0);
  });

  it('takes a number again after the writer dropped it', () => {
    const { ledger, admit } = setup();
    admit(1, 2);
    ledger.lost([message(2)]);
    assert.deepEqual(admit(2), [2]);
  });

  it('declares a hole lost at once when too many numbers wait above it', () => {
    const { ledger, admit, store, acks } = setup({ maxAhead: 3 });
    admit(1, 3, 4, 5, 6);
    store(1, 3, 4, 5);
    assert.deepEqual(acks.at(-1), ['web-01', 1]);
    store(6);
    assert.deepEqual(acks.at(-1), ['web-01', 6]);
    assert.equal(ledger.stats().missing, 1);
  });

  it('keeps hosts apart', () => {
    const { ledger, acks } = setup();
    assert.equal(ledger.admit(message(1, 'a')), true);
    assert.equal(ledger.admit(message(1, 'b')), true);
    ledger.stored([message(1, 'a'), message(1, 'b')]);
    assert.deepEqual(acks, [
      ['a', 1],
      ['b', 1],
    ]);
    assert.equal(ledger.stats().hosts, 2);
  });
});
