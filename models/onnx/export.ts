/**
 * Exports a trained GbdtModel to ONNX bytes, scored by onnxruntime
 * (shared/inference/onnx-scorer.ts) exactly as models/gbdt/model.ts scores it.
 *
 * The graph (names in shared/inference/onnx-contract.ts):
 *
 *   features float32 [N, F]
 *     └─ TreeEnsembleRegressor (ai.onnx.ml v3, SUM, base_values=[baseScore])
 *          └─ raw_score float32 [N, 1]                      (graph output)
 *               ├─ Sigmoid  → probability float32 [N, 1]     binary
 *               └─ Identity → value       float32 [N, 1]     regression, quantile
 *
 * The prediction output comes first among the graph outputs, `raw_score`
 * second. Versions: IR 8, opsets "" 17 and "ai.onnx.ml" 3, the newest that
 * Debian's python3-onnx 1.12 checker accepts (ai.onnx.ml 5 needs onnx ≥ 1.16).
 *
 * Precision: thresholds and leaf values are float32 in the model already and
 * are copied exactly; baseScore is rounded to float32 (base_values is a float
 * list), and onnxruntime accumulates the tree sum in float32, so raw scores
 * agree with `rawScore` to float32 rounding, not bit for bit.
 *
 * metadata_props keys: see METADATA_KEYS.
 */
import type { onnx } from 'onnx-proto';
import onnxProto from 'onnx-proto';
import { ValidationError } from '../../shared/errors.js';
import {
  BATCH_DIM,
  FEATURES_INPUT,
  METADATA_KEYS,
  PREDICTION_OUTPUT,
  RAW_SCORE_OUTPUT,
} from '../../shared/inference/onnx-contract.js';
import { VERSION } from '../../shared/version.js';
import { OBJECTIVES, type GbdtModel } from '../gbdt/model.js';
import { flattenTrees } from './tree-ensemble.js';

// onnx-proto is CommonJS: its `onnx` namespace is a property of the default export.
const { ModelProto, AttributeProto, TensorProto } = onnxProto.onnx;

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const ONNX_ML_OPSET = 3;
export const ONNX_ML_DOMAIN = 'ai.onnx.ml';
export const PRODUCER_NAME = 'cloudsense';
/** The graph-internal double copy of the input. */
const FEATURES_AS_DOUBLE = 'features_f64';

/** Facts about a model that its trees do not carry. */
export interface OnnxModelMeta {
  /** Hash of the feature schema the training rows were built with. */
  featureSchemaHash: string;
  /** The training run that produced the model. */
  trainingRunId: string;
  /** Free-form version label (e.g. `2026-05-01.3`); left out of the metadata when absent. */
  modelVersion?: string;
  /** ModelProto producer_version. Default: the CloudSense package version. */
  producerVersion?: string;
  /** ModelProto doc_string. Default: a one-line summary of objective, trees and features. */
  description?: string;
  /** For exhaustion forecasts: what the probability means and where to alert. */
  forecast?: ForecastMeta;
  /** More metadata_props entries; may not reuse a METADATA_KEYS key. */
  extraMetadata?: Readonly<Record<string, string>>;
}

export function exportGbdtToOnnx(model: GbdtModel, meta: OnnxModelMeta): Uint8Array {
  checkModel(model, meta);
  const featureCount = model.featureNames.length;
  const ensemble = flattenTrees(model.trees, featureCount);
  const prediction = PREDICTION_OUTPUT[model.objective];

  // onnxruntime runs a float-input ensemble in float32, summing hundreds of
  // leaves into large raw scores with ~1e-7 relative error per step; with
  // double input it keeps thresholds and sums in double. Casting float32 to
  // double is exact, so the comparisons stay `fround(x) <= threshold`.
  const castNode: onnx.INodeProto = {
    name: 'features_to_double',
    opType: 'Cast',
    input: [FEATURES_INPUT],
    output: [FEATURES_AS_DOUBLE],
    attribute: [int('to', TensorProto.DataType.DOUBLE)],
  };
  const treeNode: onnx.INodeProto = {
    name: 'tree_ensemble',
    opType: 'TreeEnsembleRegressor',
    domain: ONNX_ML_DOMAIN,
    input: [FEATURES_AS_DOUBLE],
    output: [RAW_SCORE_OUTPUT],
    attribute: [
      int('n_targets', 1),
      string('aggregate_function', 'SUM'),
      string('post_transform', 'NONE'),
      doubles('base_values_as_tensor', [model.baseScore]),
      ints('nodes_treeids', ensemble.nodesTreeIds),
      ints('nodes_nodeids', ensemble.nodesNodeIds),
      ints('nodes_featureids', ensemble.nodesFeatureIds),
      strings('nodes_modes', ensemble.nodesModes),
      doubles('nodes_values_as_tensor', ensemble.nodesValues),
      ints('nodes_truenodeids', ensemble.nodesTrueNodeIds),
      ints('nodes_falsenodeids', ensemble.nodesFalseNodeIds),
      ints('nodes_missing_value_tracks_true', ensemble.nodesMissingValueTracksTrue),
      ints('target_treeids', ensemble.targetTreeIds),
      ints('target_nodeids', ensemble.targetNodeIds),
      ints('target_ids', ensemble.targetIds),
      doubles('target_weights_as_tensor', ensemble.targetWeights),
    ],
  };
  const outputNode: onnx.INodeProto = {
    name: model.objective === 'binary' ? 'sigmoid' : 'prediction',
    opType: model.objective === 'binary' ? 'Sigmoid' : 'Identity',
    input: [RAW_SCORE_OUTPUT],
    output: [prediction],
  };

  const proto: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [
      { domain: '', version: ONNX_OPSET },
      { domain: ONNX_ML_DOMAIN, version: ONNX_ML_OPSET },
    ],
    producerName: PRODUCER_NAME,
    producerVersion: meta.producerVersion ?? VERSION,
    docString:
      meta.description ??
      `CloudSense GBDT, objective ${model.objective}, ${model.trees.length} trees, ${featureCount} features`,
    graph: {
      name: 'cloudsense_gbdt',
      node: [castNode, treeNode, outputNode],
      input: [floatMatrix(FEATURES_INPUT, featureCount)],
      output: [floatMatrix(prediction, 1), floatMatrix(RAW_SCORE_OUTPUT, 1)],
    },
    metadataProps: Object.entries(metadataProps(model, meta)).map(([key, value]) => ({ key, value })),
  };
  return ModelProto.encode(proto).finish();
}

/** An exhaustion forecast's own metadata (see METADATA_KEYS). */
export interface ForecastMeta {
  /** Resource kind or id, e.g. `cpu` or `filesystem:%2Fvar`. */
  resource: string;
  exhaustion: { threshold: number; horizonMs: number; sustainMs: number };
  /** Probability at or above which to alert, 0..1. */
  operatingThreshold: number;
}

function metadataProps(model: GbdtModel, meta: OnnxModelMeta): Record<string, string> {
  const props: Record<string, string> = { ...meta.extraMetadata };
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) props[key] = value;
  };
  set(METADATA_KEYS.featureNames, JSON.stringify(model.featureNames));
  set(METADATA_KEYS.featureSchemaHash, meta.featureSchemaHash);
  set(METADATA_KEYS.objective, model.objective);
  set(METADATA_KEYS.alpha, model.objective === 'quantile' ? String(model.alpha) : undefined);
  set(METADATA_KEYS.trainingRunId, meta.trainingRunId);
  set(METADATA_KEYS.modelVersion, meta.modelVersion);
  set(METADATA_KEYS.numTrees, String(model.trees.length));
  set(METADATA_KEYS.baseScore, String(model.baseScore));
  if (meta.forecast) {
    const { resource, exhaustion, operatingThreshold } = meta.forecast;
    set(METADATA_KEYS.resource, resource);
    set(
      METADATA_KEYS.exhaustion,
      JSON.stringify({
        threshold: exhaustion.threshold,
        horizonMs: exhaustion.horizonMs,
        sustainMs: exhaustion.sustainMs,
      }),
    );
    set(METADATA_KEYS.operatingThreshold, String(operatingThreshold));
  }
  return props;
}

/** Everything the exporter relies on that the GbdtModel type cannot say. */
function checkModel(model: GbdtModel, meta: OnnxModelMeta): void {
  const fail = (path: string, message: string): never => {
    throw new ValidationError(`cannot export model: ${path}: ${message}`, { path });
  };
  if (!OBJECTIVES.includes(model.objective))
    fail('objective', `unknown objective ${String(model.objective)}`);
  if (model.objective === 'quantile' && !(model.alpha !== undefined && model.alpha > 0 && model.alpha < 1)) {
    fail('alpha', `quantile models need alpha in (0, 1), got ${model.alpha}`);
  }
  if (model.featureNames.length === 0) fail('featureNames', 'no features');
  if (new Set(model.featureNames).size !== model.featureNames.length) {
    fail('featureNames', 'duplicate feature names');
  }
  if (!Number.isFinite(model.baseScore)) fail('baseScore', `${model.baseScore} is not finite`);
  // onnxruntime rejects a TreeEnsembleRegressor without nodes.
  if (model.trees.length === 0) fail('trees', 'no trees');
  if (!meta.featureSchemaHash) fail('meta.featureSchemaHash', 'empty');
  if (!meta.trainingRunId) fail('meta.trainingRunId', 'empty');
  const reserved = new Set<string>(Object.values(METADATA_KEYS));
  for (const key of Object.keys(meta.extraMetadata ?? {})) {
    if (reserved.has(key)) fail(`meta.extraMetadata.${key}`, 'reserved metadata key');
  }
}

function floatMatrix(name: string, columns: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: BATCH_DIM }, { dimValue: columns }] },
      },
    },
  };
}

function ints(name: string, values: number[]): onnx.IAttributeProto {
  return { name, type: AttributeProto.AttributeType.INTS, ints: values };
}

/** A double tensor attribute (the `*_as_tensor` forms of ai.onnx.ml opset 3). */
function doubles(name: string, values: number[]): onnx.IAttributeProto {
  return {
    name,
    type: AttributeProto.AttributeType.TENSOR,
    t: { name, dataType: TensorProto.DataType.DOUBLE, dims: [values.length], doubleData: values },
  };
}

function int(name: string, value: number): onnx.IAttributeProto {
  return { name, type: AttributeProto.AttributeType.INT, i: value };
}

const utf8 = new TextEncoder();
function string(name: string, value: string): onnx.IAttributeProto {
  return { name, type: AttributeProto.AttributeType.STRING, s: utf8.encode(value) };
}

function strings(name: string, values: readonly string[]): onnx.IAttributeProto {
  return { name, type: AttributeProto.AttributeType.STRINGS, strings: values.map((v) => utf8.encode(v)) };
}
