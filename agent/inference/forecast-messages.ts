/**
 * A cycle's forecasts and alert transitions as wire messages
 * (shared/wire/predictions.ts, shared/wire/events.ts). Each builder takes
 * the sequence number last, because the disk queue assigns it.
 */
import type { AlertTransition } from '../alerts/alert-hysteresis.js';
import type { EventMessage } from '../../shared/wire/events.js';
import {
  MAX_PREDICTIONS_PER_MESSAGE,
  type ModelRef,
  type Prediction,
  type PredictionsMessage,
} from '../../shared/wire/predictions.js';
import { SCHEMA_VERSION } from '../../shared/wire/telemetry.js';
import type { ResourceForecast } from './resource-forecaster.js';

/** Probabilities on the wire keep 6 decimals: finer than any threshold, and a third of the bytes of a float32's digits. */
const PROBABILITY_SCALE = 1e6;

/** The wire form of one forecast; `alert` says whether an alert is raised for the resource. */
export function predictionOf(forecast: ResourceForecast, alert: boolean): Prediction {
  const prediction: Prediction = {
    resource: forecast.resource,
    probability: Math.min(
      1,
      Math.max(0, Math.round(forecast.probability * PROBABILITY_SCALE) / PROBABILITY_SCALE),
    ),
    alert,
    threshold: forecast.threshold,
    horizonS: forecast.horizonMs / 1000,
    model: forecast.model,
  };
  if (forecast.ttBand) {
    const { p10S, p50S, p90S } = forecast.ttBand;
    prediction.ttBand = { p10S: Math.round(p10S), p50S: Math.round(p50S), p90S: Math.round(p90S) };
  }
  return prediction;
}

/** The cycle's predictions as messages of at most MAX_PREDICTIONS_PER_MESSAGE each (none when empty). */
export function predictionsMessages(
  hostId: string,
  timestamp: number,
  predictions: readonly Prediction[],
): Array<(seq: number) => PredictionsMessage> {
  const builders: Array<(seq: number) => PredictionsMessage> = [];
  for (let at = 0; at < predictions.length; at += MAX_PREDICTIONS_PER_MESSAGE) {
    const chunk = predictions.slice(at, at + MAX_PREDICTIONS_PER_MESSAGE);
    builders.push((seq) => ({ schemaVersion: SCHEMA_VERSION, hostId, seq, timestamp, predictions: chunk }));
  }
  return builders;
}

/** An alert transition as an event message; `model` is the model of the forecast that made it, when known. */
export function alertEvent(
  hostId: string,
  transition: AlertTransition,
  model: ModelRef | undefined,
): (seq: number) => EventMessage {
  const common = {
    schemaVersion: SCHEMA_VERSION,
    hostId,
    timestamp: transition.atMs,
    resource: transition.resource,
    probability: Math.min(1, Math.max(0, transition.probability)),
    threshold: transition.threshold,
    detail: transition.detail,
    ...(model ? { model } : {}),
  } as const;
  if (transition.type === 'alert.raised') {
    return (seq) => ({ ...common, seq, type: 'alert.raised', reason: 'risk_above_threshold' });
  }
  const { reason, raisedAt } = transition;
  return (seq) => ({ ...common, seq, type: 'alert.resolved', reason, raisedAt });
}
