/**
 * Alerts and recommendations (docs/rest-api.md#alerts): the alerts agents
 * hold raised now (their latest forecasts, after the agent's hysteresis),
 * the stored `alert.raised` / `alert.resolved` history, and for each
 * resource at risk a recommendation in plain words (recommendation.ts).
 */
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import {
  ALERT_RAISED,
  ALERT_RESOLVED,
  AlertRaisedEventSchema,
  AlertResolvedEventSchema,
  REMEDIATION,
  type EventMessage,
} from '../../shared/wire/events.js';
import { ModelRefSchema, TimeToExhaustionBandSchema } from '../../shared/wire/predictions.js';
import { HostIdSchema } from '../../shared/wire/telemetry.js';
import type { FleetForecasts, ResourceForecast } from '../live/fleet-forecasts.js';
import type { HostRegistry } from '../live/host-registry.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import { IsoTimeSchema } from './api-schemas.js';
import { MetricsQuerySchema } from './query.js';
import { recommend, type PlaybookHint } from './recommendation.js';
import { countParam, defineRoute, type ApiRoute } from './route-table.js';

/** Alert history without `from` starts this far back, ms (7 days). */
export const DEFAULT_ALERT_LOOKBACK_MS = 7 * 86_400_000;
export const DEFAULT_ALERT_LIMIT = 1000;
export const MAX_ALERT_LIMIT = 10_000;
/** How far back a remediation event may name the playbook of a resource, ms (7 days). */
const PLAYBOOK_LOOKBACK_MS = 7 * 86_400_000;
/** Events read per host for history and playbooks; events are rare next to telemetry. */
const EVENTS_SCANNED_PER_HOST = 100_000;

export interface AlertRoutesOptions {
  hosts: HostRegistry;
  store: TelemetryStore;
  forecasts: FleetForecasts;
}

const ActiveAlertSchema = z
  .object({
    hostId: HostIdSchema,
    resource: z.string(),
    probability: z.number().min(0).max(1),
    threshold: z.number().min(0).max(1),
    horizonS: z.number(),
    ttBand: TimeToExhaustionBandSchema.nullable(),
    model: ModelRefSchema,
    /** The forecast that holds it raised: its collection time. */
    time: IsoTimeSchema,
  })
  .meta({ title: 'ActiveAlert' });

const AlertsQuerySchema = z
  .object({
    state: z
      .enum(['active', 'all'])
      .optional()
      .describe('active (default): raised now; all: plus stored history'),
    host: HostIdSchema.optional().describe('one host; default every host'),
    from: MetricsQuerySchema.shape.from.describe('history start (state=all); default 7 days before `to`'),
    to: MetricsQuerySchema.shape.to.describe('history end, exclusive (state=all); default now'),
    limit: countParam(1, MAX_ALERT_LIMIT)
      .optional()
      .describe(`most history events, the newest kept; default ${DEFAULT_ALERT_LIMIT}`),
  })
  .strict();

const RecommendationSchema = z
  .object({
    hostId: HostIdSchema,
    resource: z.string(),
    kind: z.string(),
    probability: z.number().min(0).max(1),
    threshold: z.number().min(0).max(1),
    horizonS: z.number(),
    ttBand: TimeToExhaustionBandSchema.nullable(),
    action: z.string(),
    playbook: z.object({ playbook: z.string(), mode: z.string() }).nullable(),
    text: z.string(),
    /** True while the agent holds an alert raised for it; false: at or over the threshold, not yet raised. */
    alert: z.boolean(),
    time: IsoTimeSchema,
  })
  .meta({ title: 'Recommendation' });

export function alertRoutes(options: AlertRoutesOptions): ApiRoute[] {
  const { hosts, store, forecasts } = options;

  /** Forecasts at risk (alert raised, or probability at or over the threshold), riskiest first. */
  const atRisk = (host?: string) =>
    forecasts
      .list(0)
      .filter((h) => host === undefined || h.hostId === host)
      .flatMap((h) => h.forecasts.map((f) => ({ hostId: h.hostId, forecast: f })))
      .filter(({ forecast: f }) => f.alert || f.probability >= f.threshold)
      .sort((a, b) => b.forecast.probability - a.forecast.probability || a.hostId.localeCompare(b.hostId));

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/alerts',
      tag: 'alerts',
      summary: 'Alerts raised now, and with state=all the stored alert events',
      query: AlertsQuerySchema,
      responses: {
        200: {
          description: 'Active alerts (riskiest first) and, for state=all, history oldest first',
          schema: z.object({
            state: z.enum(['active', 'all']),
            alerts: z.array(ActiveAlertSchema),
            history: z
              .object({
                from: IsoTimeSchema,
                to: IsoTimeSchema,
                truncated: z.boolean(),
                events: z.array(z.union([AlertRaisedEventSchema, AlertResolvedEventSchema])),
              })
              .nullable(),
          }),
        },
      },
      handle: async (c, { query }) => {
        const state = query.state ?? 'active';
        const alerts = atRisk(query.host)
          .filter(({ forecast }) => forecast.alert)
          .map(({ hostId, forecast }) => ({ hostId, ...activeFields(forecast) }));
        if (state === 'active') return c.json({ state, alerts, history: null });
        const to = query.to ?? Date.now() + 1;
        const from = query.from ?? to - DEFAULT_ALERT_LOOKBACK_MS;
        if (from >= to) throw new ValidationError('from: must be earlier than to', { path: 'from' });
        const limit = query.limit ?? DEFAULT_ALERT_LIMIT;
        const hostIds = query.host !== undefined ? [query.host] : hosts.list().map((h) => h.id);
        const events: EventMessage[] = [];
        for (const hostId of hostIds) {
          for (const e of await store.queryEvents({ hostId, from, to, limit: EVENTS_SCANNED_PER_HOST })) {
            if (e.type === ALERT_RAISED || e.type === ALERT_RESOLVED) events.push(e);
          }
        }
        events.sort((a, b) => a.timestamp - b.timestamp || a.hostId.localeCompare(b.hostId) || a.seq - b.seq);
        return c.json({
          state,
          alerts,
          history: {
            from: new Date(from).toISOString(),
            to: new Date(to).toISOString(),
            truncated: events.length > limit,
            events: events.slice(-limit),
          },
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/recommendations',
      tag: 'alerts',
      summary:
        'For each resource at risk: which host, what, how soon, how likely, and what to do, in plain words',
      query: z.object({ host: HostIdSchema.optional().describe('one host; default every host') }).strict(),
      responses: {
        200: {
          description: 'Recommendations, riskiest first',
          schema: z.object({ recommendations: z.array(RecommendationSchema) }),
        },
      },
      handle: async (c, { query }) => {
        const risky = atRisk(query.host);
        const now = Date.now();
        const playbooks = new Map<string, Map<string, PlaybookHint>>();
        for (const hostId of new Set(risky.map((r) => r.hostId))) {
          const events = await store.queryEvents({
            hostId,
            from: now - PLAYBOOK_LOOKBACK_MS,
            to: now + 1,
            limit: EVENTS_SCANNED_PER_HOST,
          });
          const byResource = new Map<string, PlaybookHint>();
          // Oldest first: the latest event naming a resource's playbook wins.
          for (const e of events) {
            if (e.type === REMEDIATION) byResource.set(e.resource, { playbook: e.playbook, mode: e.mode });
          }
          playbooks.set(hostId, byResource);
        }
        const recommendations = risky.map(({ hostId, forecast: f }) => ({
          ...recommend({
            hostId,
            resource: f.resource,
            probability: f.probability,
            threshold: f.threshold,
            horizonS: f.horizonS,
            ttBand: f.ttBand,
            playbook: playbooks.get(hostId)?.get(f.resource),
          }),
          alert: f.alert,
          time: new Date(f.timestamp).toISOString(),
        }));
        return c.json({ recommendations });
      },
    }),
  ];
}

function activeFields(f: ResourceForecast) {
  return {
    resource: f.resource,
    probability: f.probability,
    threshold: f.threshold,
    horizonS: f.horizonS,
    ttBand: f.ttBand ?? null,
    model: f.model,
    time: new Date(f.timestamp).toISOString(),
  };
}
