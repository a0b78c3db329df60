/**
 * Reads the CloudSense metadata out of ONNX model bytes. onnxruntime-node does
 * not expose `metadata_props`, so the ModelProto's top-level fields are read
 * here (model-proto-header.ts: the graph is skipped, not decoded) and the
 * string map is parsed against a schema: a model without feature names,
 * schema hash or objective cannot be scored safely.
 */
import { z } from 'zod';
import { ValidationError, errorMessage } from '../errors.js';
import { readModelProtoHeader, type ModelProtoHeader } from './model-proto-header.js';
import { METADATA_KEYS, MODEL_OBJECTIVES, type ModelObjective } from './onnx-contract.js';

/** A model's metadata, typed; `props` keeps every entry, including ones not named here. */
export interface OnnxModelMetadata {
  /** Input column names, in column order. */
  featureNames: string[];
  featureSchemaHash: string;
  objective: ModelObjective;
  /** Quantile level 0..1, `quantile` models only. */
  alpha?: number;
  trainingRunId: string;
  modelVersion?: string;
  numTrees: number;
  /** Base score (float64), when the exporter recorded it. */
  baseScore?: number;
  /** Exhaustion forecasts: probability at or above which to alert. */
  operatingThreshold?: number;
  /** Exhaustion forecasts: the resource kind or id it was trained for. */
  resource?: string;
  /** Exhaustion forecasts: the definition its labels used. */
  exhaustion?: { threshold: number; horizonMs: number; sustainMs: number };
  /** ModelProto producer_name / producer_version, '' when unset. */
  producerName: string;
  producerVersion: string;
  props: Readonly<Record<string, string>>;
}

const K = METADATA_KEYS;
const decimal = z
  .string()
  .trim()
  .min(1)
  .transform(Number)
  .pipe(z.number().refine(Number.isFinite, 'not a finite number'));

const MetadataSchema = z.object({
  [K.featureNames]: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not JSON: ${errorMessage(err)}` });
        return z.NEVER;
      }
    })
    .pipe(z.array(z.string().min(1)).min(1, 'no feature names')),
  [K.featureSchemaHash]: z.string().min(1),
  [K.objective]: z.enum(MODEL_OBJECTIVES),
  [K.alpha]: decimal.pipe(z.number().gt(0).lt(1)).optional(),
  [K.trainingRunId]: z.string().min(1),
  [K.modelVersion]: z.string().optional(),
  [K.numTrees]: decimal.pipe(z.number().int().min(0)),
  [K.baseScore]: decimal.optional(),
  [K.operatingThreshold]: decimal.pipe(z.number().min(0).max(1)).optional(),
  [K.resource]: z.string().min(1).optional(),
  [K.exhaustion]: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not JSON: ${errorMessage(err)}` });
        return z.NEVER;
      }
    })
    .pipe(
      z.object({
        threshold: z.number().gt(0).max(1),
        horizonMs: z.number().positive(),
        sustainMs: z.number().min(0),
      }),
    )
    .optional(),
});

/** Decodes `bytes` as an ONNX ModelProto and parses its CloudSense metadata. */
export function readOnnxMetadata(bytes: Uint8Array): OnnxModelMetadata {
  let model: ModelProtoHeader;
  try {
    model = readModelProtoHeader(bytes);
  } catch (err) {
    throw new ValidationError(`not an ONNX model (${bytes.byteLength} bytes): ${errorMessage(err)}`, {
      cause: err,
    });
  }
  if (!model.hasGraph) {
    throw new ValidationError(`not an ONNX model (${bytes.byteLength} bytes): no graph`);
  }
  const props: Record<string, string> = {};
  for (const { key, value } of model.metadataProps) if (key) props[key] = value;

  const parsed = MetadataSchema.safeParse(props);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      return `${i.path.map(String).join('.')}: ${props[key] === undefined ? 'missing' : i.message}`;
    });
    throw new ValidationError(`ONNX model lacks CloudSense metadata_props: ${problems.join('; ')}`, {
      path: `metadata_props.${String(parsed.error.issues[0]?.path[0] ?? '')}`,
      cause: parsed.error,
    });
  }
  const m = parsed.data;
  return {
    featureNames: m[K.featureNames],
    featureSchemaHash: m[K.featureSchemaHash],
    objective: m[K.objective],
    ...(m[K.alpha] !== undefined && { alpha: m[K.alpha] }),
    trainingRunId: m[K.trainingRunId],
    ...(m[K.modelVersion] !== undefined && { modelVersion: m[K.modelVersion] }),
    numTrees: m[K.numTrees],
    ...(m[K.baseScore] !== undefined && { baseScore: m[K.baseScore] }),
    ...(m[K.operatingThreshold] !== undefined && { operatingThreshold: m[K.operatingThreshold] }),
    ...(m[K.resource] !== undefined && { resource: m[K.resource] }),
    ...(m[K.exhaustion] !== undefined && { exhaustion: m[K.exhaustion] }),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    props,
  };
}
