import { Hono } from 'hono';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { VERSION } from '../../shared/version.js';
import type { HostRegistry } from '../live/host-registry.js';
import type { LeaseTable } from '../remediation/lease-table.js';
import { remediationRoutes } from '../remediation/remediation-routes.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import { dashboardHtml } from '../web/dashboard.js';
import { errorResponder } from './errors.js';
import { DEFAULT_LOOKBACK_MS, DEFAULT_POINT_LIMIT, MetricsQuerySchema, parseQuery } from './query.js';
import type { SelfMetrics } from './self-metrics.js';

export interface ApiDependencies {
  hosts: HostRegistry;
  store: TelemetryStore;
  /** What `GET /metrics` serves. */
  metrics: Pick<SelfMetrics, 'contentType' | 'metrics'>;
  brokerUrl: () => string;
  log: Logger;
  /** The fleet's remediation leases, behind `/api/v1/remediation`. */
  leases: LeaseTable;
  /** Installs access control in front of every route, and the credential routes (api/auth.ts). */
  security?: (app: Hono) => void;
}

/** The REST API under /api/v1, plus /healthz, /metrics and the dashboard. */
export function createApi(deps: ApiDependencies): Hono {
  const app = new Hono();
  const startedAt = Date.now();

  app.onError(errorResponder(deps.log));
  app.notFound((c) =>
    c.json({ error: { code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  deps.security?.(app);

  app.get('/', (c) => c.html(dashboardHtml));

  app.get('/healthz', (c) =>
    c.json({
      status: 'ok',
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      store: deps.store.description,
      broker: deps.brokerUrl(),
      hosts: deps.hosts.size,
    }),
  );

  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.metrics.contentType);
    return c.body(await deps.metrics.metrics());
  });

  app.get('/api/v1/hosts', (c) => c.json({ hosts: deps.hosts.list() }));

  app.get('/api/v1/hosts/:id', (c) => c.json(requireHost(deps.hosts, c.req.param('id'))));

  app.get('/api/v1/hosts/:id/metrics', async (c) => {
    const host = requireHost(deps.hosts, c.req.param('id'));
    const query = parseQuery(MetricsQuerySchema, c.req.query());
    const to = query.to ?? Date.now() + 1;
    const from = query.from ?? to - DEFAULT_LOOKBACK_MS;
    if (from >= to) throw new ValidationError('from: must be earlier than to', { path: 'from' });
    const limit = query.limit ?? DEFAULT_POINT_LIMIT;
    const series = await deps.store.querySeries({ hostId: host.id, metric: query.metric, from, to, limit });
    const points = series.reduce((n, s) => n + s.points.length, 0);
    return c.json({
      hostId: host.id,
      metric: query.metric ?? null,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      truncated: points >= limit,
      series,
    });
  });

  app.route(
    '/api/v1/remediation',
    remediationRoutes({ ...deps, log: deps.log.child({ component: 'remediation' }) }),
  );

  return app;
}

function requireHost(hosts: HostRegistry, id: string) {
  const host = hosts.get(id);
  if (!host) throw new NotFoundError(`unknown host "${id}"`);
  return host;
}
