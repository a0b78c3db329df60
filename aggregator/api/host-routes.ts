/**
 * Liveness, Prometheus metrics, the dashboard page, and hosts with their
 * metric history (docs/rest-api.md#hosts).
 */
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { VERSION } from '../../shared/version.js';
import { HostIdSchema } from '../../shared/wire/telemetry.js';
import type { HostRegistry } from '../live/host-registry.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import { dashboardHtml } from '../web/dashboard.js';
import { HostParamsSchema, HostViewSchema, IsoTimeSchema } from './api-schemas.js';
import { DEFAULT_LOOKBACK_MS, DEFAULT_POINT_LIMIT, MetricsQuerySchema } from './query.js';
import { defineRoute, type ApiRoute } from './route-table.js';
import type { SelfMetrics } from './self-metrics.js';

export interface HostRoutesOptions {
  hosts: HostRegistry;
  store: TelemetryStore;
  metrics: Pick<SelfMetrics, 'contentType' | 'metrics'>;
  brokerUrl: () => string;
}

const SeriesSchema = z.object({
  metric: z.string(),
  unit: z.string(),
  attributes: z.record(z.string(), z.string()),
  /** [Unix epoch ms, value], oldest first. */
  points: z.array(z.tuple([z.number(), z.number()])),
});

export function hostRoutes(options: HostRoutesOptions): ApiRoute[] {
  const { hosts, store, metrics } = options;
  const startedAt = Date.now();
  const requireHost = (id: string) => {
    const host = hosts.get(id);
    if (!host) throw new NotFoundError(`unknown host "${id}"`);
    return host;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/',
      tag: 'web',
      access: 'public',
      summary: 'The dashboard (HTML)',
      responses: { 200: { description: 'The dashboard page', contentType: 'text/html' } },
      handle: (c) => c.html(dashboardHtml),
    }),
    defineRoute({
      method: 'get',
      path: '/healthz',
      tag: 'operations',
      access: 'public',
      summary: 'Liveness: version, uptime, store, broker, number of hosts',
      responses: {
        200: {
          description: 'Up',
          schema: z.object({
            status: z.literal('ok'),
            version: z.string(),
            uptimeSeconds: z.number().int(),
            store: z.string(),
            broker: z.string(),
            hosts: z.number().int(),
          }),
        },
      },
      handle: (c) =>
        c.json({
          status: 'ok' as const,
          version: VERSION,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          store: store.description,
          broker: options.brokerUrl(),
          hosts: hosts.size,
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      tag: 'operations',
      summary: 'Prometheus text exposition (docs/metrics.md); no token needed from loopback',
      responses: { 200: { description: 'Metrics', contentType: 'text/plain; version=0.0.4' } },
      handle: async (c) => {
        c.header('Content-Type', metrics.contentType);
        return c.body(await metrics.metrics());
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/hosts',
      tag: 'hosts',
      summary: 'Every known host with its latest metrics',
      responses: {
        200: { description: 'Hosts by id', schema: z.object({ hosts: z.array(HostViewSchema) }) },
      },
      handle: (c) => c.json({ hosts: hosts.list() }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/hosts/{id}',
      tag: 'hosts',
      summary: 'One host',
      params: HostParamsSchema,
      responses: { 200: { description: 'The host', schema: HostViewSchema } },
      handle: (c, { params }) => c.json(requireHost(params.id)),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/hosts/{id}/metrics',
      tag: 'hosts',
      summary: 'A host’s metric history',
      params: HostParamsSchema,
      query: MetricsQuerySchema,
      responses: {
        200: {
          description: 'Series in the range; when over `limit` points, the oldest are left out',
          schema: z.object({
            hostId: HostIdSchema,
            metric: z.string().nullable(),
            from: IsoTimeSchema,
            to: IsoTimeSchema,
            truncated: z.boolean(),
            series: z.array(SeriesSchema),
          }),
        },
      },
      handle: async (c, { params, query }) => {
        const host = requireHost(params.id);
        const to = query.to ?? Date.now() + 1;
        const from = query.from ?? to - DEFAULT_LOOKBACK_MS;
        if (from >= to) throw new ValidationError('from: must be earlier than to', { path: 'from' });
        const limit = query.limit ?? DEFAULT_POINT_LIMIT;
        const series = await store.querySeries({ hostId: host.id, metric: query.metric, from, to, limit });
        const points = series.reduce((n, s) => n + s.points.length, 0);
        return c.json({
          hostId: host.id,
          metric: query.metric ?? null,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          truncated: points >= limit,
          series,
        });
      },
    }),
  ];
}
