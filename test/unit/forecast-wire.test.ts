import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertEvent, predictionOf, predictionsMessages } from '../../agent/inference/forecast-messages.js';
import type { ResourceForecast } from '../../agent/inference/resource-forecaster.js';
import { EventMessageSchema } from '../../shared/wire/events.js';
import { MAX_PREDICTIONS_PER_MESSAGE, PredictionsMessageSchema } from '../../shared/wire/predictions.js';
import { byTopicKind, topicKindOf } from '../../shared/wire/sequenced.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { hostTopic } from '../../shared/wire/topics.js';

const T0 = 1_790_000_000_000;
const valid = {
  schemaVersion: 1,
  hostId: 'web-01',
  seq: 43,
  timestamp: T0,
  predictions: [
    {
      resource: 'filesystem:%2Fvar',
      probability: 0.41,
      alert: true,
      threshold: 0.31,
      horizonS: 21600,
      ttBand: { p10S: 5400, p50S: 10800, p90S: 19800 },
      model: { source: 'bundled', runId: '01M8E84HTTP94TPAV5VZ6DCJ9X' },
    },
    {
      resource: 'cpu',
      probability: 0.002,
      alert: false,
      threshold: 0.22,
      horizonS: 3600,
      model: { source: 'fleet', runId: 'r7', version: '2026-03-01.2' },
    },
  ],
};
const raised = {
  schemaVersion: 1,
  hostId: 'web-01',
  seq: 44,
  timestamp: T0,
  type: 'alert.raised',
  reason: 'risk_above_threshold',
  resource: 'filesystem:%2Fvar',
  probability: 0.41,
  threshold: 0.31,
  detail: 'probability 0.410 ≥ threshold 0.310 for 2 cycles',
};

function problems(result: {
  success: boolean;
  error?: { issues: Array<{ path: PropertyKey[] }> };
}): string[] {
  return result.success ? [] : result.error!.issues.map((i) => i.path.map(String).join('.'));
}

describe('predictions and events on the wire', () => {
  it('names the topics under the host', () => {
    assert.equal(hostTopic('web-01', 'predictions'), 'cloudsense/v1/hosts/web-01/predictions');
    assert.equal(hostTopic('web-01', 'events'), 'cloudsense/v1/hosts/web-01/events');
  });

  it('accepts the documented predictions message and refuses what breaks it, by path', () => {
    assert.deepEqual(PredictionsMessageSchema.parse(valid), valid);
    const p0 = valid.predictions[0]!;
    const bad = (edit: object) =>
      PredictionsMessageSchema.safeParse({ ...valid, predictions: [{ ...p0, ...edit }] });
    assert.deepEqual(
      problems(bad({ resource: 'filesystem:/var' })),
      ['predictions.0.resource'],
      'raw ids are not canonical',
    );
    assert.deepEqual(problems(bad({ resource: 'gpu' })), ['predictions.0.resource']);
    assert.deepEqual(problems(bad({ probability: 1.2 })), ['predictions.0.probability']);
    assert.deepEqual(problems(bad({ horizonS: 0 })), ['predictions.0.horizonS']);
    assert.deepEqual(problems(bad({ ttBand: { p10S: 9, p50S: 5, p90S: 20 } })), ['predictions.0.ttBand']);
    assert.deepEqual(problems(bad({ model: { source: 'elsewhere', runId: 'x' } })), [
      'predictions.0.model.source',
    ]);
    assert.deepEqual(problems(PredictionsMessageSchema.safeParse({ ...valid, predictions: [] })), [
      'predictions',
    ]);
    const many = Array.from({ length: MAX_PREDICTIONS_PER_MESSAGE + 1 }, () => p0);
    assert.deepEqual(problems(PredictionsMessageSchema.safeParse({ ...valid, predictions: many })), [
      'predictions',
    ]);
    assert.deepEqual(problems(PredictionsMessageSchema.safeParse({ ...valid, schemaVersion: 2 })), [
      'schemaVersion',
    ]);
  });

  it('tells events apart by type, each with its own reasons', () => {
    assert.deepEqual(EventMessageSchema.parse(raised), raised);
    const resolved = {
      ...raised,
      seq: 51,
      type: 'alert.resolved',
      reason: 'no_forecast',
      raisedAt: T0 - 60_000,
    };
    assert.deepEqual(EventMessageSchema.parse(resolved), resolved);
    assert.deepEqual(problems(EventMessageSchema.safeParse({ ...resolved, raisedAt: undefined })), [
      'raisedAt',
    ]);
    assert.deepEqual(problems(EventMessageSchema.safeParse({ ...raised, reason: 'no_forecast' })), [
      'reason',
    ]);
    assert.deepEqual(problems(EventMessageSchema.safeParse({ ...raised, type: 'alert.snoozed' })), ['type']);
    assert.deepEqual(problems(EventMessageSchema.safeParse({ ...raised, detail: 'x'.repeat(513) })), [
      'detail',
    ]);
  });

  it('tells the kind of a numbered message by its fields', () => {
    const telemetry: TelemetryMessage = {
      schemaVersion: 1,
      hostId: 'h',
      seq: 1,
      timestamp: T0,
      intervalSeconds: 10,
      metrics: [],
    };
    const predictions = PredictionsMessageSchema.parse(valid);
    const event = EventMessageSchema.parse(raised);
    assert.deepEqual([telemetry, predictions, event].map(topicKindOf), [
      'telemetry',
      'predictions',
      'events',
    ]);
    const parts = byTopicKind([event, telemetry, predictions, telemetry]);
    assert.deepEqual([parts.telemetry.length, parts.predictions.length, parts.events.length], [2, 1, 1]);
  });

  it('builds schema-valid messages from the agent’s forecasts and transitions, split at the message limit', () => {
    const forecast = (i: number): ResourceForecast => ({
      resource: `filesystem:%2Fm${i}`,
      kind: 'filesystem',
      probability: Math.fround(0.123456789),
      threshold: 0.31,
      horizonMs: 6 * 3_600_000,
      model: { source: 'bundled', runId: 'r1' },
      ...(i === 0 ? { ttBand: { p10S: 600.4, p50S: 1799.6, p90S: 5400 } } : {}),
    });
    const predictions = Array.from({ length: MAX_PREDICTIONS_PER_MESSAGE + 3 }, (_, i) =>
      predictionOf(forecast(i), i === 0),
    );
    assert.equal(predictions[0]!.probability, 0.123457, 'six decimals');
    assert.deepEqual(predictions[0]!.ttBand, { p10S: 600, p50S: 1800, p90S: 5400 });
    assert.equal(predictions[0]!.horizonS, 21600);
    const builders = predictionsMessages('web-01', T0, predictions);
    const messages = builders.map((build, i) => PredictionsMessageSchema.parse(build(100 + i)));
    assert.deepEqual(
      messages.map((m) => [m.seq, m.predictions.length]),
      [
        [100, MAX_PREDICTIONS_PER_MESSAGE],
        [101, 3],
      ],
    );
    assert.deepEqual(predictionsMessages('web-01', T0, []), []);

    const event = alertEvent(
      'web-01',
      {
        type: 'alert.resolved',
        resource: 'cpu',
        atMs: T0,
        probability: 0.01,
        threshold: 0.3,
        reason: 'risk_below_resolve_level',
        raisedAt: T0 - 1,
        detail: 'calm',
      },
      { source: 'bundled', runId: 'r1' },
    )(7);
    assert.deepEqual(EventMessageSchema.parse(event), event);
    assert.equal(event.seq, 7);
  });
});
