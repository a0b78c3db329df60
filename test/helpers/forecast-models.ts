/**
 * Tiny exhaustion models for agent tests: a directory laid out like the
 * bundled models (`<kind>.onnx`, optionally `<kind>.tte_p10|p50|p90.onnx`),
 * each forecast one split on the current utilisation (`last`), so a test
 * knows the probability it will get: above `splitAt` → HIGH_PROBABILITY,
 * else LOW_PROBABILITY (a missing value goes low).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GbdtModel, Tree } from '../../models/gbdt/model.js';
import { exportGbdtToOnnx } from '../../models/onnx/export.js';
import { FEATURE_SCHEMA, featureIndex } from '../../shared/features/schema.js';
import { DEFAULT_EXHAUSTION } from '../../shared/resources/exhaustion.js';
import type { ResourceKind } from '../../shared/resources/resource-id.js';

/** Leaf margin: sigmoid(±3). */
const MARGIN = 3;
export const HIGH_PROBABILITY = Math.fround(1 / (1 + Math.exp(-MARGIN)));
export const LOW_PROBABILITY = Math.fround(1 / (1 + Math.exp(MARGIN)));
/** The models' operating threshold. */
export const TEST_OPERATING_THRESHOLD = 0.5;

/** One split on `feature` at `at`: ≤ goes to `low`, > to `high`, NaN to `low`. */
function splitTree(feature: number, at: number, low: number, high: number): Tree {
  return {
    feature: Int32Array.from([feature, -1, -1]),
    threshold: Float32Array.from([at, 0, 0]),
    defaultLeft: Uint8Array.from([1, 0, 0]),
    left: Int32Array.from([1, -1, -1]),
    right: Int32Array.from([2, -1, -1]),
    value: Float32Array.from([0, low, high]),
    gain: Float64Array.from([1, 0, 0]),
    count: Int32Array.from([2, 1, 1]),
  };
}

export interface TestModelOptions {
  /** Utilisation above which the forecast is high. Default 0.8. */
  splitAt?: number;
  /** Also write the time-to-exhaustion band: P10/P50/P90 of 10, 30 and 90 minutes. */
  band?: boolean;
  runId?: string;
  modelVersion?: string;
  /** What the model says it was trained for; default its kind. */
  trainedFor?: string;
}

/** Writes `<kind>.onnx` (and its band) into `dir` and returns the forecast's bytes. */
export function writeTestModel(dir: string, kind: ResourceKind, options: TestModelOptions = {}): Uint8Array {
  mkdirSync(dir, { recursive: true });
  const last = featureIndex('last');
  const featureNames = [...FEATURE_SCHEMA.names];
  const forecast: GbdtModel = {
    objective: 'binary',
    featureNames,
    baseScore: 0,
    trees: [splitTree(last, Math.fround(options.splitAt ?? 0.8), -MARGIN, MARGIN)],
  };
  const bytes = exportGbdtToOnnx(forecast, {
    featureSchemaHash: FEATURE_SCHEMA.hash,
    trainingRunId: options.runId ?? `test-run-${kind}`,
    ...(options.modelVersion ? { modelVersion: options.modelVersion } : {}),
    forecast: {
      resource: options.trainedFor ?? kind,
      exhaustion: DEFAULT_EXHAUSTION[kind],
      operatingThreshold: TEST_OPERATING_THRESHOLD,
    },
  });
  writeFileSync(join(dir, `${kind}.onnx`), bytes);
  if (options.band) {
    for (const [q, alpha, minutes] of [
      ['p10', 0.1, 10],
      ['p50', 0.5, 30],
      ['p90', 0.9, 90],
    ] as const) {
      // A constant: one split whose leaves add nothing (onnxruntime needs at least one node).
      const quantile: GbdtModel = {
        objective: 'quantile',
        alpha,
        featureNames,
        baseScore: Math.log(minutes * 60),
        trees: [splitTree(last, 0.5, 0, 0)],
      };
      writeFileSync(
        join(dir, `${kind}.tte_${q}.onnx`),
        exportGbdtToOnnx(quantile, {
          featureSchemaHash: FEATURE_SCHEMA.hash,
          trainingRunId: `test-run-${kind}-${q}`,
        }),
      );
    }
  }
  return bytes;
}
