/**
 * Response schemas shared by several routes. Wire schemas (shared/wire/) are
 * reused where a response carries a message as agents sent it.
 */
import { z } from 'zod';
import { ModelRefSchema, PredictionSchema } from '../../shared/wire/predictions.js';
import { HOST_STATES, HostIdSchema, MetricPointSchema } from '../../shared/wire/telemetry.js';
import type { HostView } from '../live/host-registry.js';

export const ErrorBodySchema = z
  .object({
    error: z.object({
      /** Stable code to branch on: INVALID_INPUT, NOT_FOUND, UNAUTHORIZED, … */
      code: z.string(),
      message: z.string(),
      /** The offending field or parameter, dotted (`rows.2.features.7`), on 400s. */
      path: z.string().optional(),
    }),
  })
  .meta({ title: 'Error' });

export const IsoTimeSchema = z.string().meta({ description: 'ISO 8601 time', format: 'date-time' });

/** A host path parameter. */
export const HostParamsSchema = z.object({ id: HostIdSchema }).strict();

export const HostViewSchema = z
  .object({
    id: HostIdSchema,
    lastSeen: IsoTimeSchema.nullable(),
    online: z.boolean(),
    status: z.enum(HOST_STATES).nullable(),
    agentVersion: z.string().nullable(),
    intervalSeconds: z.number().nullable(),
    lastSeq: z.number().int().nullable(),
    metrics: z.array(MetricPointSchema),
    /** The model serving each resource kind (or resource id), as the agent's status names them; null before one does. */
    models: z.record(z.string(), ModelRefSchema).nullable(),
  })
  .meta({ title: 'Host' });

// The registry's view and its schema must not drift apart: this fails to compile when they do.
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const HOST_VIEW_MATCHES_SCHEMA: SameShape<HostView, z.output<typeof HostViewSchema>> = true;

/** The latest forecast for one resource of a host (aggregator/live/fleet-forecasts.ts). */
export const LiveForecastSchema = PredictionSchema.extend({
  hostId: HostIdSchema,
  /** The cycle's collection time (the agent's clock). */
  time: IsoTimeSchema,
  /** When the aggregator received it (its clock). */
  receivedAt: IsoTimeSchema,
}).meta({ title: 'LiveForecast' });

export const StoredPredictionSchema = PredictionSchema.extend({
  seq: z.number().int(),
  time: IsoTimeSchema,
}).meta({ title: 'StoredPrediction' });
