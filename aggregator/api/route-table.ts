/**
 * The API's one source of truth: each route is a `RouteSpec` — method, path,
 * zod schemas for its path parameters, query, body and every response — and,
 * for the routes this folder serves, its handler. The OpenAPI document
 * (openapi.ts) is built from the same table, requests are parsed with the
 * same schemas before a handler sees them (a failure is a 400 naming the
 * field), and responses are checked against them (response-validation.ts).
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import { issueError } from './validation-error.js';

export type HttpMethod = 'get' | 'post' | 'delete';

/** Query parameters and path parameters arrive as strings: their schemas take strings. */
type StringFields = z.ZodObject<Record<string, z.ZodType<unknown, string | undefined>>>;

export interface ResponseSpec {
  description: string;
  /** The JSON body's schema; absent for a body-less response (204) or a non-JSON one. */
  schema?: z.ZodType;
  /** Defaults to application/json when `schema` is set. */
  contentType?: string;
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI form: `/api/v1/hosts/{id}`. */
  path: string;
  summary: string;
  description?: string;
  /** Groups routes in the document: `hosts`, `predictions`, `models`, … */
  tag: string;
  /** Who may call without a token (docs/security.md); default: a bearer token's role decides. */
  access?: 'public' | 'read' | 'operate' | 'admin';
  params?: StringFields;
  query?: StringFields;
  body?: z.ZodType;
  /** Every success (and route-specific failure) status. Common errors are added by `commonErrors`. */
  responses: Record<number, ResponseSpec>;
  /** A WebSocket upgrade served outside Hono (the live stream): in the document, not in the table of handlers. */
  websocket?: boolean;
}

/** What a handler receives: its request parts, parsed. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

export interface ApiRoute<P = unknown, Q = unknown, B = unknown> extends RouteSpec {
  handle: (c: Context, input: RouteInput<P, Q, B>) => Response | Promise<Response>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;

/** A route with its handler, typed from its schemas. */
export function defineRoute<
  PS extends StringFields | undefined = undefined,
  QS extends StringFields | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
>(
  route: RouteSpec & {
    params?: PS;
    query?: QS;
    body?: BS;
    handle: (c: Context, input: RouteInput<Out<PS>, Out<QS>, Out<BS>>) => Response | Promise<Response>;
  },
): ApiRoute {
  return route as unknown as ApiRoute;
}

/** `/api/v1/hosts/{id}` → `/api/v1/hosts/:id` */
export function honoPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}

/** Registers each route on `app`, its request parsed with its schemas before its handler runs. */
export function mountRoutes(app: Hono, routes: readonly ApiRoute[]): void {
  for (const route of routes) {
    app.on(route.method.toUpperCase(), honoPath(route.path), async (c) => {
      const params = route.params ? parseFields(route.params, c.req.param() as Record<string, string>) : {};
      const query = route.query ? parseFields(route.query, c.req.query(), 'unknown query parameter') : {};
      const body = route.body ? parseBody(route.body, await c.req.text()) : undefined;
      return route.handle(c, { params, query, body });
    });
  }
}

/** Path or query parameters; a failure becomes a 400 naming the parameter. */
export function parseFields<S extends z.ZodType>(
  schema: S,
  fields: Record<string, string>,
  unknownMessage = 'unknown parameter',
): z.output<S> {
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  throw issueError(result.error, '(query)', unknownMessage);
}

/** A JSON body parsed with its schema; failures are 400s naming the field (`rows.3.features.12`). */
export function parseBody<S extends z.ZodType>(schema: S, text: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError('the body is not JSON', { path: '(body)', cause: err });
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  throw issueError(result.error, '(body)', 'unknown field');
}

/** A whole number given as a query string, within bounds. */
export function countParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}
