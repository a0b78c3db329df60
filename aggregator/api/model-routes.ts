/**
 * Models and training (docs/rest-api.md#models): what serves each resource,
 * the signing key and rollouts, the retraining loop's runs, promotions and
 * drift checks, and the operator's levers — retrain now, check drift now,
 * roll back (docs/retraining.md).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { NotFoundError, errorMessage } from '../../shared/errors.js';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { readOnnxMetadata } from '../../shared/inference/onnx-metadata.js';
import { DEFAULT_OPERATING_THRESHOLD_FALLBACK } from '../../shared/inference/onnx-contract.js';
import type { Logger } from '../../shared/log.js';
import { RESOURCE_KINDS } from '../../shared/resources/resource-id.js';
import { catalogKey } from '../registry/model-catalog.js';
import type { RetrainingLoop } from '../retraining/retraining-loop.js';
import type { ModelRollout } from '../retraining/rollout.js';
import { IsoTimeSchema } from './api-schemas.js';
import { ResourceOrKindSchema } from './prediction-routes.js';
import { countParam, defineRoute, type ApiRoute } from './route-table.js';

export interface ModelRoutesOptions {
  retraining: RetrainingLoop;
  rollout: ModelRollout;
  log: Logger;
}

const ListQuerySchema = z
  .object({ limit: countParam(1, 1000).optional().describe('most records, newest first; default 50') })
  .strict();
const DEFAULT_LIST_LIMIT = 50;

const KeyParamsSchema = z
  .object({ key: ResourceOrKindSchema.describe('a resource kind, or a resource id (URL-encoded)') })
  .strict();

const ServingModelSchema = z
  .object({
    key: z.string(),
    source: z.enum(['trained', 'bundled']),
    runId: z.string(),
    version: z.string().nullable(),
    sha256: z.string().nullable(),
    promotedAt: IsoTimeSchema.nullable(),
    featureSchemaHash: z.string(),
    /** False: trained on other features than this build computes; `POST /api/v1/predict` refuses it. */
    compatible: z.boolean(),
    threshold: z.number().min(0).max(1),
    horizonS: z.number().nullable(),
    band: z.boolean(),
    /** The training run's final metrics (trained models), by name. */
    metrics: z.record(z.string(), z.number().nullable()).nullable(),
  })
  .meta({ title: 'ServingModel' });

const RunSchema = z.looseObject({
  runId: z.string(),
  name: z.string(),
  kind: z.string(),
  status: z.enum(['running', 'finished', 'failed']),
  startedAt: IsoTimeSchema,
  finishedAt: IsoTimeSchema.nullable(),
  params: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.number().nullable()),
});

const PromotionSchema = z.looseObject({
  time: IsoTimeSchema,
  resource: z.string(),
  trigger: z.enum(['schedule', 'drift', 'manual', 'rollback']),
  decision: z.enum(['promoted', 'rejected', 'skipped', 'failed', 'rolled_back']),
  reason: z.string(),
});

const DriftCheckSchema = z.looseObject({
  time: IsoTimeSchema,
  resource: z.string(),
  drifted: z.boolean(),
  reasons: z.array(z.string()),
});

const RolloutSchema = z.looseObject({
  key: z.string(),
  version: z.string(),
  stage: z.enum(['canary', 'fleet']),
  since: IsoTimeSchema,
});

export function modelRoutes(options: ModelRoutesOptions): ApiRoute[] {
  const { retraining, rollout, log } = options;
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/models',
      tag: 'models',
      summary:
        'The model serving each resource kind (and each resource with its own), and the feature schema',
      responses: {
        200: {
          description: 'Serving models by key',
          schema: z.object({
            featureSchema: z.object({
              version: z.number().int(),
              hash: z.string(),
              names: z.array(z.string()),
            }),
            models: z.array(ServingModelSchema),
          }),
        },
      },
      handle: async (c) => {
        const entries = await retraining.catalog.entries();
        const keys = [...new Set([...RESOURCE_KINDS, ...Object.keys(entries)])];
        const models: z.input<typeof ServingModelSchema>[] = [];
        for (const key of keys) {
          const resolved = await retraining.catalog.resolve(key);
          // A kind's lookup falls back to another key only for ids; list each model under the key it serves.
          if (!resolved || resolved.key !== key) continue;
          let meta;
          try {
            meta = readOnnxMetadata(await readFile(resolved.path));
          } catch (err) {
            log.warn({ key, path: resolved.path, err: errorMessage(err) }, 'cannot read a serving model');
            continue;
          }
          const entry = entries[key];
          const run = resolved.runId ? await retraining.registry.getRun(resolved.runId) : undefined;
          models.push({
            key,
            source: resolved.source,
            runId: meta.trainingRunId,
            version: meta.modelVersion ?? null,
            sha256: entry?.sha256 ?? null,
            promotedAt: entry?.promotedAt ?? null,
            featureSchemaHash: meta.featureSchemaHash,
            compatible: meta.featureSchemaHash === FEATURE_SCHEMA.hash,
            threshold: meta.operatingThreshold ?? DEFAULT_OPERATING_THRESHOLD_FALLBACK,
            horizonS: meta.exhaustion ? meta.exhaustion.horizonMs / 1000 : null,
            band: resolved.band !== undefined,
            metrics: run ? finiteOrNull(run.metrics) : null,
          });
        }
        return c.json({
          featureSchema: {
            version: FEATURE_SCHEMA.version,
            hash: FEATURE_SCHEMA.hash,
            names: [...FEATURE_SCHEMA.names],
          },
          models,
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/models/public-key',
      tag: 'models',
      summary: 'The public half of the model-signing key, for agents’ `agent.models.publicKey`',
      responses: {
        200: {
          description: 'SPKI PEM and the raw key in base64',
          schema: z.object({ pem: z.string(), base64: z.string() }),
        },
      },
      handle: (c) => c.json(rollout.publicKey()),
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/models/rollouts',
      tag: 'models',
      summary: 'Each key’s rollout: canary or fleet, since when, and the canary’s verdict',
      responses: {
        200: { description: 'Rollouts by key', schema: z.object({ rollouts: z.array(RolloutSchema) }) },
      },
      handle: (c) => c.json({ rollouts: rollout.list() }),
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/models/promotions',
      tag: 'models',
      summary: 'Promotion decisions and rollbacks, newest first',
      query: ListQuerySchema,
      responses: {
        200: { description: 'Promotion records', schema: z.object({ promotions: z.array(PromotionSchema) }) },
      },
      handle: async (c, { query }) =>
        c.json({ promotions: await retraining.listPromotions(query.limit ?? DEFAULT_LIST_LIMIT) }),
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/models/drift-checks',
      tag: 'models',
      summary: 'Drift checks, newest first',
      query: ListQuerySchema,
      responses: {
        200: {
          description: 'Drift check records',
          schema: z.object({ driftChecks: z.array(DriftCheckSchema) }),
        },
      },
      handle: async (c, { query }) =>
        c.json({ driftChecks: await retraining.listDriftChecks(query.limit ?? DEFAULT_LIST_LIMIT) }),
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/models/{key}/retrain',
      tag: 'models',
      summary: 'Retrains the key now (after the job in progress); the outcome lands in promotions',
      params: KeyParamsSchema,
      responses: {
        202: {
          description: 'Queued',
          schema: z.object({ resource: z.string(), queued: z.literal(true), running: z.string().nullable() }),
        },
      },
      handle: (c, { params }) => {
        const key = catalogKey(params.key);
        const running = retraining.status().running;
        retraining.retrain(key).then(
          (record) => log.info({ resource: key, decision: record.decision }, 'manual retrain done'),
          (err: unknown) => log.warn({ resource: key, err: errorMessage(err) }, 'manual retrain failed'),
        );
        log.info({ resource: key }, 'retrain requested over the API');
        return c.json(
          {
            resource: key,
            queued: true as const,
            running: running ? `${running.job} ${running.resource}` : null,
          },
          202,
        );
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/models/{key}/drift-check',
      tag: 'models',
      summary: 'Checks the key for drift now, without retraining; answers when the check is done',
      params: KeyParamsSchema,
      responses: { 200: { description: 'The drift check', schema: DriftCheckSchema } },
      handle: async (c, { params }) => c.json(await retraining.checkDrift(catalogKey(params.key))),
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/models/{key}/rollback',
      tag: 'models',
      summary: 'Puts back the model the last promotion of the key replaced',
      params: KeyParamsSchema,
      responses: {
        200: { description: 'The rollback record', schema: PromotionSchema },
        409: {
          description: 'Nothing to roll back to (code ROLLBACK_IMPOSSIBLE)',
          schema: z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
        },
      },
      handle: async (c, { params }) => c.json(await retraining.rollback(catalogKey(params.key))),
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/training/runs',
      tag: 'training',
      summary: 'The retraining loop’s runs, newest first',
      query: ListQuerySchema,
      responses: { 200: { description: 'Runs', schema: z.object({ runs: z.array(RunSchema) }) } },
      handle: async (c, { query }) =>
        c.json({ runs: await retraining.listRuns(query.limit ?? DEFAULT_LIST_LIMIT) }),
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/training/runs/{id}',
      tag: 'training',
      summary: 'One tracked run: params, metrics and their history, data range, artifacts',
      params: z.object({ id: z.string().min(1).max(64) }).strict(),
      responses: { 200: { description: 'The run', schema: RunSchema } },
      handle: async (c, { params }) => {
        const run = await retraining.registry.getRun(params.id);
        if (!run) throw new NotFoundError(`no run "${params.id}"`);
        return c.json(run);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/training/status',
      tag: 'training',
      summary: 'What the retraining loop is doing: the running job, last attempts, the next pass',
      responses: {
        200: {
          description: 'Loop status',
          schema: z.object({
            enabled: z.boolean(),
            running: z
              .object({ resource: z.string(), job: z.enum(['retrain', 'drift']), since: IsoTimeSchema })
              .nullable(),
            lastAttempt: z.record(z.string(), IsoTimeSchema),
            nextPassAt: IsoTimeSchema.nullable(),
          }),
        },
      },
      handle: (c) => {
        const status = retraining.status();
        return c.json({
          enabled: status.enabled,
          running: status.running ?? null,
          lastAttempt: status.lastAttempt,
          nextPassAt: status.nextPassAt ?? null,
        });
      },
    }),
  ];
}

function finiteOrNull(metrics: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
}
