/**
 * The OpenAPI 3.1 document served at `/openapi.json`, built from the route
 * table (route-table.ts): the same zod schemas that parse requests and check
 * responses become its JSON Schemas (OpenAPI 3.1 speaks JSON Schema 2020-12,
 * which is what `z.toJSONSchema` writes). Request schemas are described as
 * the client sends them (`io: 'input'`), responses as the server writes them.
 */
import { z } from 'zod';
import { VERSION } from '../../shared/version.js';
import { ErrorBodySchema } from './api-schemas.js';
import type { ResponseSpec, RouteSpec } from './route-table.js';

type JsonSchema = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input: `error.path` names the parameter or field',
  401: 'A valid bearer token is required (docs/security.md)',
  403: 'The token’s role does not cover this call',
  404: 'Not found',
  413: 'The request body is too large',
  429: 'Too many requests; retry after the Retry-After seconds',
  500: 'Internal error (also: a response that did not match its schema)',
  503: 'Busy or shutting down; retrying later may help',
};

/**
 * Every status a route can answer with: its own, plus the ones the common
 * layers add (validation, access control, limits, the error handler).
 */
export function responsesOf(route: RouteSpec): Record<number, ResponseSpec> {
  // The rate limit (429) covers every request, public ones included; 503: busy, or shutting down.
  const common: number[] = [429, 500, 503];
  if (route.params || route.query || route.body) common.push(400);
  if (route.params) common.push(404);
  if (route.access !== 'public') common.push(401, 403);
  // The body limit covers every request that may carry one.
  if (route.method !== 'get') common.push(413);
  const out: Record<number, ResponseSpec> = {};
  for (const status of common) out[status] = { description: STATUS_TEXT[status]!, schema: ErrorBodySchema };
  return { ...out, ...route.responses };
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // The document names the dialect once (jsonSchemaDialect); each schema need not.
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parameters(route: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    for (const [name, field] of Object.entries(schema.shape)) {
      const fieldSchema = field as z.ZodType;
      const optional = fieldSchema.safeParse(undefined).success;
      const description = fieldSchema.description ?? (fieldSchema.meta()?.description as string | undefined);
      out.push({
        name,
        in: where,
        required: where === 'path' || !optional,
        ...(description !== undefined && { description }),
        schema: jsonSchema(fieldSchema, 'input'),
      });
    }
  }
  return out;
}

function operation(route: RouteSpec): JsonSchema {
  const responses: JsonSchema = {};
  for (const [status, response] of Object.entries(responsesOf(route))) {
    const contentType = response.contentType ?? (response.schema ? 'application/json' : undefined);
    responses[status] = {
      description: response.description,
      ...(contentType && {
        content: { [contentType]: response.schema ? { schema: jsonSchema(response.schema, 'output') } : {} },
      }),
    };
  }
  const params = parameters(route);
  return {
    operationId: `${route.method}${route.path.replace(/\{([^}]+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: route.summary,
    ...(route.description && { description: route.description }),
    tags: [route.tag],
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(params.length > 0 && { parameters: params }),
    ...(route.body && {
      requestBody: {
        required: true,
        content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
      },
    }),
    responses,
  };
}

/** The OpenAPI 3.1 document for `routes`. */
export function openApiDocument(routes: readonly RouteSpec[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`route ${route.method} ${route.path} is in the table twice`);
    item[route.method] = operation(route);
  }
  const tags = [...new Set(routes.map((r) => r.tag))].sort().map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'CloudSense aggregator API',
      version: VERSION,
      description:
        'Hosts, telemetry history, exhaustion forecasts, on-demand scoring, models and training runs, alerts, ' +
        'recommendations and remediation. Reference: docs/rest-api.md. The live stream at /api/v1/stream is a ' +
        'WebSocket (its protocol is in docs/rest-api.md#live-stream).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags,
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API token (`cloudsense tokens create`): GET needs read, writes operate, tokens admin.',
        },
      },
    },
    paths,
  };
}
