/**
 * The last check before a model update is swapped in: score a few synthetic
 * feature rows and require every probability to be a number in 0..1 (and
 * every time-to-exhaustion figure a finite number). The rows come from the
 * agent's own FeatureExtractor fed a made-up day of the resource (a daily
 * wave climbing past the threshold), so they look like what the model will
 * see live, plus an all-missing row (a fresh agent's features are mostly
 * NaN) and an all-zero one.
 */
import { FEATURE_COUNT, FeatureExtractor } from '../../shared/features/index.js';
import { resolveExhaustion, type ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import { isMountpointKind, parseResourceId, type Resource } from '../../shared/resources/resource-id.js';
import { kindOfModelKey } from '../../shared/wire/models.js';
import type { ServingModel } from '../inference/model-set.js';

const MINUTE_MS = 60_000;
/** The made-up history: one sample a minute for 25 hours, so every window up to 24 h has data. */
const HISTORY_MINUTES = 25 * 60;
/** Minutes into the history at which a row is taken: a fresh start, then hours of history, then the peak. */
const ROW_AT_MINUTES = [5, 90, 12 * 60, HISTORY_MINUTES];
/** A fixed start (2025-01-06T00:00:00Z): the rows are the same on every host and every run. */
const HISTORY_START_MS = Date.UTC(2025, 0, 6);

/** The synthetic rows for a model of `key` (a kind or a resource id), row-major. */
export function smokeRows(
  key: string,
  exhaustion: ExhaustionConfig,
): { rows: number; features: Float32Array } {
  const resource = resourceOfKey(key);
  const definition = resolveExhaustion(exhaustion, resource);
  const extractor = new FeatureExtractor({ kind: resource.kind, exhaustion: definition });
  const rows = 2 + ROW_AT_MINUTES.length;
  const features = new Float32Array(rows * FEATURE_COUNT);
  features.fill(NaN, 0, FEATURE_COUNT);
  // Row 1 stays all zero.
  let row = 2;
  for (let minute = 1; minute <= HISTORY_MINUTES; minute++) {
    const t = HISTORY_START_MS + minute * MINUTE_MS;
    // A daily wave around a level that climbs from 20 % to just past the threshold.
    const level = 0.2 + (definition.threshold + 0.02 - 0.2) * (minute / HISTORY_MINUTES);
    const wave = 0.05 * Math.sin((2 * Math.PI * minute) / (24 * 60));
    extractor.push(t, Math.min(1, Math.max(0, level + wave)));
    if (ROW_AT_MINUTES.includes(minute)) extractor.vectorInto(t, features, row++ * FEATURE_COUNT);
  }
  return { rows, features };
}

/** Why the model fails the smoke test, or undefined when it passes. */
export async function smokeTest(
  model: ServingModel,
  key: string,
  exhaustion: ExhaustionConfig,
): Promise<string | undefined> {
  const { rows, features } = smokeRows(key, exhaustion);
  const probabilities = await model.forecast.scoreMany(features, rows);
  const bad = [...probabilities].findIndex((p) => !(p >= 0 && p <= 1));
  if (bad >= 0) return `probability ${probabilities[bad]} on synthetic row ${bad}; expected 0..1`;
  if (model.band) {
    const seconds = await model.band.scoreMany(features, rows);
    const badBand = seconds.findIndex((s) => !Number.isFinite(s));
    if (badBand >= 0) {
      return `time-to-exhaustion ${seconds[badBand]} s on synthetic row ${Math.floor(badBand / 3)}`;
    }
  }
  return undefined;
}

/** The resource whose exhaustion definition the rows use: the key's own, or a stand-in of its kind. */
function resourceOfKey(key: string): Resource {
  const kind = kindOfModelKey(key);
  if (key !== kind) return parseResourceId(key);
  return isMountpointKind(kind) ? { kind, mountpoint: '/' } : { kind };
}
