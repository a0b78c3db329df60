/**
 * The inference step of one agent cycle: the cycle's telemetry into the
 * feature extractors, every resource forecast, the alert hysteresis
 * advanced, and the resulting predictions and alert events handed on as
 * wire messages (to the disk queue, which numbers them after the telemetry).
 */
import type { AlertHysteresis } from '../alerts/alert-hysteresis.js';
import type { AlertStateFile } from '../alerts/alert-state-file.js';
import type { EventMessage } from '../../shared/wire/events.js';
import type { ModelRef, PredictionsMessage } from '../../shared/wire/predictions.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { alertEvent, predictionOf, predictionsMessages } from './forecast-messages.js';
import type { ResourceForecaster } from './resource-forecaster.js';

export interface PredictionCycleOptions {
  hostId: string;
  forecaster: ResourceForecaster;
  alerts: AlertHysteresis;
  /** Where raised alerts are kept across restarts; none to keep them in memory only. */
  alertState?: AlertStateFile | undefined;
}

/** What one cycle produced, each message still waiting for its sequence number. */
export interface PredictionCycleOutput {
  predictions: Array<(seq: number) => PredictionsMessage>;
  events: Array<(seq: number) => EventMessage>;
}

export class PredictionCycle {
  constructor(private readonly options: PredictionCycleOptions) {}

  async run(telemetry: Omit<TelemetryMessage, 'seq'>): Promise<PredictionCycleOutput> {
    const { hostId, forecaster, alerts, alertState } = this.options;
    const sampled = forecaster.observe(telemetry);
    const forecasts = await forecaster.forecast(sampled, telemetry.timestamp);
    const transitions = alerts.update(forecasts, telemetry.timestamp);
    if (transitions.length > 0) await alertState?.save(alerts.active());
    const modelOf = new Map<string, ModelRef>(forecasts.map((f) => [f.resource, f.model]));
    return {
      predictions: predictionsMessages(
        hostId,
        telemetry.timestamp,
        forecasts.map((f) => predictionOf(f, alerts.isRaised(f.resource))),
      ),
      events: transitions.map((t) => alertEvent(hostId, t, modelOf.get(t.resource))),
    };
  }
}
