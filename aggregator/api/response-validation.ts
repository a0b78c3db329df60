/**
 * Checks every response of a described route against the route table: its
 * status must be one the route declares and its JSON body must match that
 * status's schema. A mismatch is a bug in this server, so it is logged at
 * error level with the first problem's path, and — in `enforce` mode — the
 * client gets a 500 rather than a body that breaks the published contract.
 *
 * Cost (docs/rest-api.md#response-validation): the body is parsed again and
 * checked — about 0.1 ms for a small response, 4 ms for a 10,000-point
 * history, 13 ms for a 200-host list (700 KB), some 2–3× what serialising
 * it costs. `enforce` in development and tests; `log` with NODE_ENV=production
 * (routes.ts, defaultResponseValidation); `off` skips it.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../shared/log.js';
import { responsesOf } from './openapi.js';
import type { RouteSpec } from './route-table.js';

export const RESPONSE_VALIDATION_MODES = ['enforce', 'log', 'off'] as const;
export type ResponseValidationMode = (typeof RESPONSE_VALIDATION_MODES)[number];

interface CompiledRoute {
  method: string;
  pattern: RegExp;
  route: RouteSpec;
}

export interface ResponseValidationStats {
  checked: number;
  violations: number;
}

/** Finds the described route of a request by method and path. */
export class RouteMatcher {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly RouteSpec[]) {
    // Literal paths before templated ones, so `/api/v1/models/rollouts` wins over `/api/v1/models/{key}`.
    this.compiled = [...routes]
      .filter((r) => !r.websocket)
      .sort((a, b) => Number(a.path.includes('{')) - Number(b.path.includes('{')))
      .map((route) => ({
        method: route.method.toUpperCase(),
        pattern: new RegExp(
          `^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
        ),
        route,
      }));
  }

  match(method: string, path: string): RouteSpec | undefined {
    const m = method === 'HEAD' ? 'GET' : method;
    return this.compiled.find((c) => c.method === m && c.pattern.test(path))?.route;
  }
}

export function responseValidation(
  routes: readonly RouteSpec[],
  mode: ResponseValidationMode,
  log: Logger,
  stats: ResponseValidationStats,
): MiddlewareHandler {
  const matcher = new RouteMatcher(routes);
  return async (c, next) => {
    await next();
    if (mode === 'off') return;
    const route = matcher.match(c.req.method, c.req.path);
    if (!route) return;
    stats.checked++;
    const problem = await checkResponse(route, c.res);
    if (!problem) return;
    stats.violations++;
    log.error(
      {
        method: c.req.method,
        route: `${route.method.toUpperCase()} ${route.path}`,
        status: c.res.status,
        problem,
      },
      'RESPONSE DOES NOT MATCH ITS OPENAPI SCHEMA: this is a bug in the aggregator',
    );
    if (mode === 'enforce') {
      c.res = undefined;
      c.res = c.json(
        { error: { code: 'INTERNAL', message: 'internal error: the response did not match its schema' } },
        500,
      );
    }
  };
}

/** Undefined when the response matches its route; else what is wrong, with the field path. */
export async function checkResponse(route: RouteSpec, res: Response): Promise<string | undefined> {
  const spec = responsesOf(route)[res.status];
  if (!spec) return `status ${res.status} is not declared for ${route.method.toUpperCase()} ${route.path}`;
  if (!spec.schema) return undefined;
  if (!(res.headers.get('content-type') ?? '').includes('json')) return 'the body is not JSON';
  let body: unknown;
  try {
    body = await res.clone().json();
  } catch {
    return 'the body does not parse as JSON';
  }
  const result = spec.schema.safeParse(body);
  if (result.success) return undefined;
  const issue = result.error.issues[0]!;
  return `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`;
}
