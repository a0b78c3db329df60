/**
 * Forecasts: a host's stored prediction history, the fleet's latest forecast
 * per resource (live, in memory), and `POST /api/v1/predict`, which scores
 * feature vectors on demand with the model currently serving the resource
 * (docs/rest-api.md#predictions).
 */
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { FEATURE_COUNT, FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { DEFAULT_EXHAUSTION } from '../../shared/resources/exhaustion.js';
import {
  MAX_RESOURCE_ID_LENGTH,
  RESOURCE_KINDS,
  isResourceKind,
  parseResourceId,
} from '../../shared/resources/resource-id.js';
import { ResourceIdSchema } from '../../shared/resources/resource-id.js';
import { TimeToExhaustionBandSchema } from '../../shared/wire/predictions.js';
import { HostIdSchema } from '../../shared/wire/telemetry.js';
import type { FleetForecasts } from '../live/fleet-forecasts.js';
import type { HostRegistry } from '../live/host-registry.js';
import { catalogKey } from '../registry/model-catalog.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import {
  ErrorBodySchema,
  HostParamsSchema,
  IsoTimeSchema,
  LiveForecastSchema,
  StoredPredictionSchema,
} from './api-schemas.js';
import { MetricsQuerySchema } from './query.js';
import { countParam, defineRoute, type ApiRoute } from './route-table.js';
import type { LoadedModel, ServingModels } from './serving-models.js';

/** Predictions returned by one history query unless `limit` says otherwise, and at most. */
export const DEFAULT_PREDICTION_LIMIT = 1000;
export const MAX_PREDICTION_LIMIT = 100_000;
/** History queries without `from` start this far back, ms (24 h). */
export const DEFAULT_PREDICTION_LOOKBACK_MS = 86_400_000;
/** Most rows one `POST /api/v1/predict` may score: about 6 MB of JSON, one onnxruntime call per model. */
export const MAX_PREDICT_ROWS = 10_000;

export interface PredictionRoutesOptions {
  hosts: HostRegistry;
  store: TelemetryStore;
  forecasts: FleetForecasts;
  models: ServingModels;
}

/** A resource kind or a resource id in either form. */
export const ResourceOrKindSchema = z
  .string()
  .min(1)
  .max(MAX_RESOURCE_ID_LENGTH)
  .refine(
    (text) => {
      if (isResourceKind(text)) return true;
      try {
        parseResourceId(text);
        return true;
      } catch {
        return false;
      }
    },
    `a resource kind (${RESOURCE_KINDS.join(', ')}) or a resource id such as filesystem:/var`,
  );

const HistoryQuerySchema = z
  .object({
    resource: ResourceIdSchema.optional().describe('a resource id (either form); default every resource'),
    from: MetricsQuerySchema.shape.from.describe('ISO 8601 or epoch ms; default 24 h before `to`'),
    to: MetricsQuerySchema.shape.to.describe('ISO 8601 or epoch ms (exclusive); default now'),
    limit: countParam(1, MAX_PREDICTION_LIMIT)
      .optional()
      .describe(`most predictions, the newest kept; default ${DEFAULT_PREDICTION_LIMIT}`),
  })
  .strict();

const LatestQuerySchema = z
  .object({
    host: HostIdSchema.optional().describe('one host; default every host'),
    resource: ResourceOrKindSchema.transform(catalogKey)
      .optional()
      .describe('one resource id, or a kind for all its resources'),
  })
  .strict();

/** null marks a missing value (NaN to the model), as the agent's features do when a window has no data. */
const FeatureValueSchema = z.number().nullable();

const FeatureVectorSchema = z.union([
  z
    .array(FeatureValueSchema)
    .length(FEATURE_COUNT, `expected ${FEATURE_COUNT} values in FEATURE_SCHEMA order (GET /api/v1/models)`)
    .describe('every feature in the feature schema’s order'),
  z
    .partialRecord(z.enum(FEATURE_SCHEMA.names as [string, ...string[]]), FeatureValueSchema)
    .describe('features by name; a name left out is missing'),
]);

const PredictRowSchema = z
  .object({
    resource: ResourceOrKindSchema.optional().describe('resource id or kind whose model scores the row'),
    kind: z.enum(RESOURCE_KINDS).optional().describe('the same as `resource` with a kind'),
    features: FeatureVectorSchema,
  })
  .strict()
  .refine((row) => (row.resource === undefined) !== (row.kind === undefined), {
    message: 'give exactly one of resource and kind',
    path: ['resource'],
  });

export const PredictBodySchema = z.union([
  PredictRowSchema,
  z
    .object({ rows: z.array(PredictRowSchema).min(1).max(MAX_PREDICT_ROWS) })
    .strict()
    .describe(`a batch of at most ${MAX_PREDICT_ROWS} rows, scored in one onnxruntime call per model`),
]);

const PredictModelSchema = z.object({
  /** The catalog key that matched (resource id or kind). */
  key: z.string(),
  source: z.enum(['trained', 'bundled']),
  runId: z.string(),
  version: z.string().nullable(),
  sha256: z.string(),
  featureSchemaHash: z.string(),
});

const PredictResultSchema = z
  .object({
    resource: z.string(),
    probability: z.number().min(0).max(1),
    threshold: z.number().min(0).max(1),
    /** probability ≥ threshold: the model's own decision, without the agent's hysteresis. */
    alert: z.boolean(),
    horizonS: z.number().positive(),
    ttBand: TimeToExhaustionBandSchema.nullable(),
    model: PredictModelSchema,
  })
  .meta({ title: 'PredictResult' });

export function predictionRoutes(options: PredictionRoutesOptions): ApiRoute[] {
  const { hosts, store, forecasts, models } = options;
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/hosts/{id}/predictions',
      tag: 'predictions',
      summary: 'A host’s stored predictions, oldest first',
      params: HostParamsSchema,
      query: HistoryQuerySchema,
      responses: {
        200: {
          description: 'The predictions in the range (the newest `limit`)',
          schema: z.object({
            hostId: HostIdSchema,
            resource: z.string().nullable(),
            from: IsoTimeSchema,
            to: IsoTimeSchema,
            truncated: z.boolean(),
            predictions: z.array(StoredPredictionSchema),
          }),
        },
      },
      handle: async (c, { params, query }) => {
        if (!hosts.get(params.id)) throw new NotFoundError(`unknown host "${params.id}"`);
        const to = query.to ?? Date.now() + 1;
        const from = query.from ?? to - DEFAULT_PREDICTION_LOOKBACK_MS;
        if (from >= to) throw new ValidationError('from: must be earlier than to', { path: 'from' });
        const limit = query.limit ?? DEFAULT_PREDICTION_LIMIT;
        const rows = await store.queryPredictions({
          hostId: params.id,
          resource: query.resource,
          from,
          to,
          limit,
        });
        return c.json({
          hostId: params.id,
          resource: query.resource ?? null,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          truncated: rows.length >= limit,
          predictions: rows.map(({ hostId: _host, timestamp, ...p }) => ({
            ...p,
            time: new Date(timestamp).toISOString(),
          })),
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/predictions/latest',
      tag: 'predictions',
      summary: 'The latest forecast per host and resource, as agents last published them',
      query: LatestQuerySchema,
      responses: {
        200: {
          description: 'Forecasts by host, then resource',
          schema: z.object({ forecasts: z.array(LiveForecastSchema) }),
        },
      },
      handle: (c, { query }) => {
        const out: z.input<typeof LiveForecastSchema>[] = [];
        // 0: forget nothing here; /metrics decides when a silent host's forecasts are dropped.
        for (const host of forecasts.list(0)) {
          if (query.host !== undefined && host.hostId !== query.host) continue;
          for (const f of [...host.forecasts].sort((a, b) => a.resource.localeCompare(b.resource))) {
            if (query.resource !== undefined && !matchesResource(f.resource, query.resource)) continue;
            const { timestamp, receivedAt, ...prediction } = f;
            out.push({
              ...prediction,
              hostId: host.hostId,
              time: new Date(timestamp).toISOString(),
              receivedAt: new Date(receivedAt).toISOString(),
            });
          }
        }
        return c.json({ forecasts: out });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/predict',
      tag: 'predictions',
      summary: 'Scores one feature vector, or a batch, with the model serving each resource',
      description:
        'Features in FEATURE_SCHEMA order (an array) or by name (an object); null marks a missing value. ' +
        'The model is the catalog’s current one for the resource id, else for its kind, else the bundled baseline.',
      body: PredictBodySchema,
      responses: {
        200: {
          description: 'One result for a single row; `results` in row order for a batch',
          schema: z.union([
            PredictResultSchema,
            z.object({ rows: z.number().int(), results: z.array(PredictResultSchema) }),
          ]),
        },
        404: { description: 'No model serves the resource', schema: ErrorBodySchema },
      },
      handle: async (c, { body }) => {
        if ('rows' in body) {
          const results = await scoreRows(models, body.rows);
          return c.json({ rows: results.length, results });
        }
        const [result] = await scoreRows(models, [body]);
        return c.json(result);
      },
    }),
  ];
}

type PredictRow = z.output<typeof PredictRowSchema>;
type PredictResult = z.input<typeof PredictResultSchema>;

/** A stored or live resource matches a filter given as a kind (all its resources) or an id. */
function matchesResource(resource: string, filter: string): boolean {
  return isResourceKind(filter) ? resource.split(':', 1)[0] === filter : resource === filter;
}

/** Scores rows grouped by the model serving them: one onnxruntime call per model (and per band quantile). */
async function scoreRows(models: ServingModels, rows: readonly PredictRow[]): Promise<PredictResult[]> {
  const groups = new Map<LoadedModel, number[]>();
  const keys = rows.map((row) => catalogKey(row.resource ?? row.kind!));
  const byKey = new Map<string, LoadedModel>();
  for (const key of new Set(keys)) byKey.set(key, await models.forResource(key));
  rows.forEach((_row, i) => {
    const model = byKey.get(keys[i]!)!;
    let list = groups.get(model);
    if (!list) groups.set(model, (list = []));
    list.push(i);
  });
  const results: PredictResult[] = new Array<PredictResult>(rows.length);
  for (const [model, indexes] of groups) {
    const matrix = new Float32Array(indexes.length * FEATURE_COUNT);
    indexes.forEach((rowIndex, r) => writeFeatures(rows[rowIndex]!.features, matrix, r * FEATURE_COUNT));
    const probabilities = await model.forecast.scoreMany(matrix, indexes.length);
    const band = model.band ? await model.band.scoreMany(matrix, indexes.length) : undefined;
    const meta = model.forecast.metadata;
    const kind = model.resolved.key.split(':', 1)[0] as keyof typeof DEFAULT_EXHAUSTION;
    const horizonS = (meta.exhaustion?.horizonMs ?? DEFAULT_EXHAUSTION[kind].horizonMs) / 1000;
    const ref = {
      key: model.resolved.key,
      source: model.resolved.source,
      runId: meta.trainingRunId,
      version: meta.modelVersion ?? null,
      sha256: model.sha256,
      featureSchemaHash: meta.featureSchemaHash,
    };
    indexes.forEach((rowIndex, r) => {
      const probability = Math.min(1, Math.max(0, probabilities[r]!));
      results[rowIndex] = {
        resource: keys[rowIndex]!,
        probability,
        threshold: model.forecast.operatingThreshold,
        alert: probability >= model.forecast.operatingThreshold,
        horizonS,
        ttBand: band ? { p10S: band[r * 3]!, p50S: band[r * 3 + 1]!, p90S: band[r * 3 + 2]! } : null,
        model: ref,
      };
    });
  }
  return results;
}

function writeFeatures(features: PredictRow['features'], out: Float32Array, at: number): void {
  if (Array.isArray(features)) {
    for (let f = 0; f < FEATURE_COUNT; f++) out[at + f] = features[f] ?? Number.NaN;
    return;
  }
  const named = features as Record<string, number | null | undefined>;
  FEATURE_SCHEMA.names.forEach((name, f) => (out[at + f] = named[name] ?? Number.NaN));
}
