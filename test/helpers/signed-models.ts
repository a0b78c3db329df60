/**
 * Model update messages for tests: tiny forecasts (one split on `last`, as
 * in forecast-models.ts) signed with a test key, and ones that misbehave in
 * a chosen way (NaN leaves, bytes that are not ONNX), so each of the agent's
 * checks can be made to fail on purpose.
 */
import type { GbdtModel, Tree } from '../../models/gbdt/model.js';
import { exportGbdtToOnnx } from '../../models/onnx/export.js';
import { FEATURE_SCHEMA, featureIndex } from '../../shared/features/schema.js';
import { DEFAULT_EXHAUSTION } from '../../shared/resources/exhaustion.js';
import type { ResourceKind } from '../../shared/resources/resource-id.js';
import type { SigningKey } from '../../shared/signing/ed25519.js';
import {
  encodeModelMessage,
  signModel,
  type ModelArtifacts,
  type ModelDescription,
} from '../../shared/signing/signed-model.js';
import type { ModelMessage } from '../../shared/wire/models.js';

export interface ForecastBytesOptions {
  runId?: string;
  /** Utilisation above which the model says `high`. Default 0.8. */
  splitAt?: number;
  /** Leaf margins below and above the split; NaN makes a model that outputs NaN there. Default ∓3. */
  low?: number;
  high?: number;
  /** Feature the split is on. Default `last`. */
  feature?: string;
  /** The feature schema hash written into the ONNX metadata. Default this build's. */
  featureSchemaHash?: string;
}

/**
 * The exporter refuses non-finite leaves, so a NaN leaf is written as this
 * marker (exact in float32 and double) and patched in the ONNX bytes after.
 */
const NAN_MARKER = 2.71875;

export function forecastBytes(kind: ResourceKind, options: ForecastBytesOptions = {}): Uint8Array {
  const leaf = (value: number | undefined, fallback: number) =>
    value === undefined ? fallback : Number.isNaN(value) ? NAN_MARKER : value;
  const tree: Tree = {
    feature: Int32Array.from([featureIndex(options.feature ?? 'last'), -1, -1]),
    threshold: Float32Array.from([options.splitAt ?? 0.8, 0, 0]),
    defaultLeft: Uint8Array.from([1, 0, 0]),
    left: Int32Array.from([1, -1, -1]),
    right: Int32Array.from([2, -1, -1]),
    value: Float32Array.from([0, leaf(options.low, -3), leaf(options.high, 3)]),
    gain: Float64Array.from([1, 0, 0]),
    count: Int32Array.from([2, 1, 1]),
  };
  const model: GbdtModel = {
    objective: 'binary',
    featureNames: [...FEATURE_SCHEMA.names],
    baseScore: 0,
    trees: [tree],
  };
  const bytes = Buffer.from(
    exportGbdtToOnnx(model, {
      featureSchemaHash: options.featureSchemaHash ?? FEATURE_SCHEMA.hash,
      trainingRunId: options.runId ?? `fleet-run-${kind}`,
      forecast: { resource: kind, exhaustion: DEFAULT_EXHAUSTION[kind], operatingThreshold: 0.5 },
    }),
  );
  // Leaf values are stored as little-endian doubles (target_weights_as_tensor).
  const marker = Buffer.alloc(8);
  marker.writeDoubleLE(NAN_MARKER);
  const nan = Buffer.alloc(8);
  nan.writeDoubleLE(NaN);
  for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + 8)) nan.copy(bytes, at);
  return bytes;
}

/** A signed model message for `kind`; `description` and `artifacts` override the defaults. */
export function signedModel(
  key: SigningKey,
  kind: ResourceKind,
  options: {
    description?: Partial<ModelDescription>;
    artifacts?: ModelArtifacts;
    forecast?: ForecastBytesOptions;
  } = {},
): ModelMessage {
  return signModel(
    {
      kind,
      version: `v-${kind}-1`,
      createdAt: 1_795_000_000_000,
      featureSchemaHash: FEATURE_SCHEMA.hash,
      ...options.description,
    },
    options.artifacts ?? { onnx: forecastBytes(kind, options.forecast) },
    key,
  );
}

export function payloadOf(message: ModelMessage | Record<string, unknown>): Buffer {
  return encodeModelMessage(message as ModelMessage);
}
