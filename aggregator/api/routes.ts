import { Hono } from 'hono';
import type { Logger } from '../../shared/log.js';
import type { FleetForecasts } from '../live/fleet-forecasts.js';
import type { HostRegistry } from '../live/host-registry.js';
import type { LeaseTable } from '../remediation/lease-table.js';
import {
  REMEDIATION_PREFIX,
  REMEDIATION_ROUTE_SPECS,
  remediationRoutes,
} from '../remediation/remediation-routes.js';
import type { RetrainingLoop } from '../retraining/retraining-loop.js';
import type { ModelRollout } from '../retraining/rollout.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import { alertRoutes } from './alert-routes.js';
import { CREDENTIAL_ROUTE_SPECS } from './credential-specs.js';
import { errorResponder } from './errors.js';
import { hostRoutes } from './host-routes.js';
import { modelRoutes } from './model-routes.js';
import { openApiDocument } from './openapi.js';
import { predictionRoutes } from './prediction-routes.js';
import {
  responseValidation,
  type ResponseValidationMode,
  type ResponseValidationStats,
} from './response-validation.js';
import { defineRoute, mountRoutes, type ApiRoute, type RouteSpec } from './route-table.js';
import type { SelfMetrics } from './self-metrics.js';
import { ServingModels } from './serving-models.js';
import { STREAM_ROUTE_SPEC } from './stream-protocol.js';

export interface ApiDependencies {
  hosts: HostRegistry;
  store: TelemetryStore;
  /** The latest forecast per host and resource: live predictions, alerts, recommendations. */
  forecasts: FleetForecasts;
  /** What `GET /metrics` serves. */
  metrics: Pick<SelfMetrics, 'contentType' | 'metrics'>;
  brokerUrl: () => string;
  log: Logger;
  /** The fleet's remediation leases, behind `/api/v1/remediation`. */
  leases: LeaseTable;
  /** Runs, promotions, drift checks, the model catalog; retrain, drift-check and rollback. */
  retraining: RetrainingLoop;
  /** The signing key and the rollouts. */
  rollout: ModelRollout;
  /**
   * What a response that does not match its schema gets (docs/rest-api.md#response-validation):
   * `enforce` a 500 and an error log, `log` the log only, `off` no check. Default
   * `defaultResponseValidation()`.
   */
  responseValidation?: ResponseValidationMode | undefined;
  /** Installs access control in front of every route, and the credential routes (api/auth.ts). */
  security?: (app: Hono) => void;
}

export interface Api {
  app: Hono;
  /** Every route the API describes: the handlers here, the credential and remediation routes, the stream. */
  routes: readonly RouteSpec[];
  /** The OpenAPI 3.1 document served at /openapi.json. */
  document: Record<string, unknown>;
  responseChecks: ResponseValidationStats;
  /** Releases the models loaded for `POST /api/v1/predict`. */
  close(): Promise<void>;
}

/**
 * `enforce` in development and tests, `log` with NODE_ENV=production: checking costs
 * little (0.1 ms on a small response, about 13 ms on a 700 KB host list), and in
 * production a drifted field is better served and logged loudly than turned into an outage.
 */
export function defaultResponseValidation(env: NodeJS.ProcessEnv = process.env): ResponseValidationMode {
  return env.NODE_ENV === 'production' ? 'log' : 'enforce';
}

/** The REST API under /api/v1, plus /healthz, /metrics, /openapi.json and the dashboard. */
export function createApi(deps: ApiDependencies): Api {
  const app = new Hono();
  const models = new ServingModels(() => deps.retraining.catalog);
  const handled: ApiRoute[] = [
    ...hostRoutes(deps),
    ...predictionRoutes({ ...deps, models }),
    ...modelRoutes({ ...deps, log: deps.log.child({ component: 'models' }) }),
    ...alertRoutes(deps),
  ];
  const openApiRoute = defineRoute({
    method: 'get',
    path: '/openapi.json',
    tag: 'operations',
    access: 'public',
    summary: 'This document: OpenAPI 3.1',
    responses: { 200: { description: 'The OpenAPI document', contentType: 'application/json' } },
    handle: (c) => c.json(document),
  });
  const routes: RouteSpec[] = [
    ...handled,
    openApiRoute,
    ...REMEDIATION_ROUTE_SPECS,
    ...CREDENTIAL_ROUTE_SPECS,
    STREAM_ROUTE_SPEC,
  ];
  const document = openApiDocument(routes);
  const responseChecks: ResponseValidationStats = { checked: 0, violations: 0 };

  app.onError(errorResponder(deps.log));
  app.notFound((c) =>
    c.json({ error: { code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );
  // First, so it sees every answer: the access checks' refusals included.
  app.use(
    '*',
    responseValidation(
      routes,
      deps.responseValidation ?? defaultResponseValidation(),
      deps.log.child({ component: 'http' }),
      responseChecks,
    ),
  );
  deps.security?.(app);
  mountRoutes(app, [...handled, openApiRoute]);
  app.route(
    REMEDIATION_PREFIX,
    remediationRoutes({ ...deps, log: deps.log.child({ component: 'remediation' }) }),
  );

  return { app, routes, document, responseChecks, close: () => models.close() };
}
