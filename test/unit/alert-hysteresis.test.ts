import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  AlertHysteresis,
  type AlertPolicy,
  type AlertTransition,
} from '../../agent/alerts/alert-hysteresis.js';
import { AlertStateFile } from '../../agent/alerts/alert-state-file.js';
import {
  DEFAULT_RAISE_AFTER_CYCLES,
  DEFAULT_RESOLVE_AFTER_CYCLES,
  DEFAULT_RESOLVE_RATIO,
} from '../../agent/alerts/config.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-alerts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const POLICY: AlertPolicy = {
  raiseAfter: DEFAULT_RAISE_AFTER_CYCLES,
  resolveAfter: DEFAULT_RESOLVE_AFTER_CYCLES,
  resolveRatio: DEFAULT_RESOLVE_RATIO,
  noForecastAfterMs: 600_000,
};
const THRESHOLD = 0.3;
const T0 = 1_790_000_000_000;
const STEP = 10_000;

/** Feeds one resource's probabilities, one per 10 s cycle; returns the transitions as `[cycle, type]`. */
function run(probabilities: number[], policy = POLICY, alerts = new AlertHysteresis(policy, [], T0)) {
  const out: Array<[number, AlertTransition['type']]> = [];
  probabilities.forEach((probability, i) => {
    for (const t of alerts.update([{ resource: 'cpu', probability, threshold: THRESHOLD }], T0 + i * STEP)) {
      out.push([i, t.type]);
    }
  });
  return { transitions: out, alerts };
}

describe('alert hysteresis', () => {
  it('uses the documented defaults: raise after 2 cycles, resolve below 80 % of the threshold after 3', () => {
    assert.deepEqual(
      [DEFAULT_RAISE_AFTER_CYCLES, DEFAULT_RESOLVE_AFTER_CYCLES, DEFAULT_RESOLVE_RATIO],
      [2, 3, 0.8],
    );
  });

  it('raises after raiseAfter cycles at or above the threshold, and resolves after resolveAfter below the resolve level', () => {
    const { transitions, alerts } = run([0.1, 0.3, 0.1, 0.35, 0.4, 0.5, 0.2, 0.2, 0.3, 0.2, 0.2, 0.2, 0.1]);
    // 0.3 at cycle 1 alone is one cycle; 0.35, 0.4 (cycles 3, 4) raise. Below 0.24 from cycle 6, broken by
    // 0.3 at cycle 8; three in a row at 9, 10, 11 resolve.
    assert.deepEqual(transitions, [
      [4, 'alert.raised'],
      [11, 'alert.resolved'],
    ]);
    assert.equal(alerts.isRaised('cpu'), false);
  });

  it('does not flap on a probability hovering at the threshold', () => {
    // Noise of ±0.02 around the threshold for 10 minutes: alternating sides never gives two cycles in a row above.
    const alternating = Array.from({ length: 60 }, (_, i) => THRESHOLD + (i % 2 === 0 ? 0.02 : -0.02));
    assert.deepEqual(run(alternating).transitions, []);

    // Once raised, a probability hovering just under the threshold (above the resolve level) keeps it raised.
    const hovering = [0.32, 0.31, ...Array.from({ length: 60 }, (_, i) => THRESHOLD + Math.sin(i) * 0.05)];
    assert.deepEqual(run(hovering).transitions, [[1, 'alert.raised']]);
  });

  it('says what happened in the transition', () => {
    const alerts = new AlertHysteresis(POLICY, [], T0);
    alerts.update([{ resource: 'memory', probability: 0.5, threshold: THRESHOLD }], T0);
    const [raised] = alerts.update(
      [{ resource: 'memory', probability: 0.6, threshold: THRESHOLD }],
      T0 + STEP,
    );
    assert.deepEqual(raised, {
      type: 'alert.raised',
      resource: 'memory',
      atMs: T0 + STEP,
      probability: 0.6,
      threshold: THRESHOLD,
      detail: 'probability 0.600 ≥ threshold 0.300 for 2 cycles',
    });
    let resolved: AlertTransition | undefined;
    for (let i = 2; i < 5; i++) {
      [resolved] = alerts.update(
        [{ resource: 'memory', probability: 0.05, threshold: THRESHOLD }],
        T0 + i * STEP,
      );
    }
    assert.deepEqual(resolved, {
      type: 'alert.resolved',
      resource: 'memory',
      atMs: T0 + 4 * STEP,
      probability: 0.05,
      threshold: THRESHOLD,
      reason: 'risk_below_resolve_level',
      raisedAt: T0 + STEP,
      detail: 'probability 0.050 < 0.240 (threshold 0.300 × 0.8) for 3 cycles',
    });
  });

  it('keeps resources apart and ignores probabilities that are not numbers', () => {
    const alerts = new AlertHysteresis({ ...POLICY, raiseAfter: 1 }, [], T0);
    const transitions = alerts.update(
      [
        { resource: 'cpu', probability: 0.9, threshold: THRESHOLD },
        { resource: 'memory', probability: 0.1, threshold: THRESHOLD },
        { resource: 'swap', probability: NaN, threshold: THRESHOLD },
      ],
      T0,
    );
    assert.deepEqual(
      transitions.map((t) => [t.resource, t.type]),
      [['cpu', 'alert.raised']],
    );
    assert.deepEqual(
      alerts.active().map((a) => a.resource),
      ['cpu'],
    );
  });

  it('resolves a raised alert whose resource gets no forecast any more', () => {
    const alerts = new AlertHysteresis(POLICY, [], T0);
    alerts.update([{ resource: 'filesystem:%2Fmnt', probability: 0.9, threshold: THRESHOLD }], T0);
    alerts.update([{ resource: 'filesystem:%2Fmnt', probability: 0.9, threshold: THRESHOLD }], T0 + STEP);
    assert.deepEqual(alerts.update([], T0 + 5 * 60_000), []);
    const [gone] = alerts.update([], T0 + STEP + 10 * 60_000);
    assert.equal(gone?.type, 'alert.resolved');
    assert.equal(gone.type === 'alert.resolved' && gone.reason, 'no_forecast');
    assert.deepEqual(alerts.active(), []);
  });

  it('continues alerts saved by a previous run: no second raise, and a resolve when the risk is gone', async () => {
    const file = new AlertStateFile(join(dir, 'alerts', 'web-01.json'), pino({ level: 'silent' }));
    assert.deepEqual(await file.load(), [], 'no file yet: no alerts');

    const first = run([0.5, 0.5, 0.5]).alerts;
    await file.save(first.active());
    const restored = await file.load();
    assert.deepEqual(restored, [
      { resource: 'cpu', raisedAt: T0 + STEP, probability: 0.5, threshold: THRESHOLD },
    ]);

    const second = new AlertHysteresis(POLICY, restored, T0 + 60_000);
    assert.equal(second.isRaised('cpu'), true);
    const still = run([0.5, 0.5, 0.5], POLICY, second);
    assert.deepEqual(still.transitions, [], 'the ongoing alert is not raised again');
    const calm = run([0.1, 0.1, 0.1], POLICY, second);
    assert.deepEqual(calm.transitions, [[2, 'alert.resolved']]);

    writeFileSync(file.path, '{"version":1,"alerts":[{"resource":"cpu"}]}');
    assert.deepEqual(await file.load(), [], 'a damaged file is read as no alerts');
    await file.save([]);
    assert.deepEqual(JSON.parse(readFileSync(file.path, 'utf8')), { version: 1, alerts: [] });
  });
});
