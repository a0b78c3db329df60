/**
 * `cloudsense agent --once --print`: one collection, its features and
 * forecasts, as one JSON document, without broker or queue. Handy to check
 * an installation (collector, models) before starting the daemon.
 *
 * With a single sample most window features (spreads, slopes, coverage,
 * seasonality) are unknown (NaN, which the models route down a learned
 * branch), so these forecasts rest on the current level and its headroom to
 * the threshold; the daemon's forecasts gain the trends over its first
 * minutes and hours.
 */
import type { Logger } from '../shared/log.js';
import type { Prediction } from '../shared/wire/predictions.js';
import { SCHEMA_VERSION, type MetricPoint, type TelemetryMessage } from '../shared/wire/telemetry.js';
import { HostMetricsCollector } from './collectors/host-metrics.js';
import { fleetModelsDirOf, type AgentConfig } from './config.js';
import { modelsDirOf } from './inference/config.js';
import { predictionOf } from './inference/forecast-messages.js';
import { loadModelDir } from './inference/model-dir.js';
import { ModelSet } from './inference/model-set.js';
import { ResourceForecaster } from './inference/resource-forecaster.js';
import { FleetModelStore } from './model-updates/fleet-model-store.js';
import { readModelPublicKey } from './model-updates/public-key.js';
import { restoreFleetModels } from './model-updates/restore-fleet-models.js';

/**
 * Time between the collector's baseline and its reading, ms: CPU
 * utilisation is the busy share of the CPU time between two readings of
 * `/proc/stat`, so one reading alone has none.
 */
export const ONCE_CPU_SAMPLE_MS = 1000;

/** What `--once --print` prints. */
export interface HostForecastSnapshot {
  schemaVersion: typeof SCHEMA_VERSION;
  hostId: string;
  /** Collection time, Unix epoch ms. */
  timestamp: number;
  metrics: MetricPoint[];
  /**
   * One per resource with a model. `alert` here is `probability ≥ threshold`
   * for this one reading: the daemon's hysteresis needs several cycles.
   */
  predictions: Prediction[];
}

/** Collects once, forecasts every resource with a model, and releases everything. */
export async function forecastOnce(
  config: AgentConfig,
  log: Logger,
  options: { cpuSampleMs?: number } = {},
): Promise<HostForecastSnapshot> {
  const { hostId } = config.agent;
  const models = new ModelSet();
  try {
    const { dir, configured } = modelsDirOf(config.agent.models);
    const { engine } = config.agent.models;
    const loaded = await loadModelDir(dir, { configured, source: 'bundled', log, engine });
    for (const [kind, model] of loaded) await models.setModel(kind, model);
    // The fleet models the daemon adopted serve here too, so this shows what the daemon scores with.
    const { updates, publicKey } = config.agent.models;
    if (updates && publicKey !== undefined) {
      await restoreFleetModels({
        store: new FleetModelStore(fleetModelsDirOf(config), log),
        publicKey: readModelPublicKey(publicKey),
        exhaustion: config.exhaustion,
        models,
        log,
        engine,
      });
    }
    const collector = new HostMetricsCollector({ collect: config.agent.collect, log });
    await collector.prime();
    // A timer that keeps the process alive: nothing else is pending while it runs.
    await new Promise((resolve) => setTimeout(resolve, options.cpuSampleMs ?? ONCE_CPU_SAMPLE_MS));
    const metrics = await collector.collect();
    const telemetry: Omit<TelemetryMessage, 'seq'> = {
      schemaVersion: SCHEMA_VERSION,
      hostId,
      timestamp: Date.now(),
      intervalSeconds: config.agent.intervalSeconds,
      metrics,
    };
    const forecaster = new ResourceForecaster({ models, exhaustion: config.exhaustion, log });
    const forecasts = await forecaster.forecast(forecaster.observe(telemetry), telemetry.timestamp);
    return {
      schemaVersion: SCHEMA_VERSION,
      hostId,
      timestamp: telemetry.timestamp,
      metrics,
      predictions: forecasts.map((f) => predictionOf(f, f.probability >= f.threshold)),
    };
  } finally {
    await models.close();
  }
}
