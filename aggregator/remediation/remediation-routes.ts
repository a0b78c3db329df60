/**
 * `/api/v1/remediation`: the fleet-wide lease agents ask for before an
 * enforced run, and the remediation audit trail from the store
 * (docs/rest-api.md#remediation).
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import {
  REMEDIATION,
  REMEDIATION_DECISIONS,
  type EventMessage,
  RemediationEventSchema,
  type RemediationEvent,
} from '../../shared/wire/events.js';
import { LeaseRequestSchema, LeaseSchema, PlaybookNameSchema } from '../../shared/wire/remediation.js';
import { HostIdSchema } from '../../shared/wire/telemetry.js';
import { MetricsQuerySchema, parseQuery } from '../api/query.js';
import { parseBody, type RouteSpec } from '../api/route-table.js';
import type { HostRegistry } from '../live/host-registry.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import type { LeaseTable } from './lease-table.js';

/** Largest lease request body, bytes; a request is about 150. */
export const MAX_LEASE_REQUEST_BYTES = 4096;
/** Audit queries without `from` start this far back, ms (7 days). */
export const DEFAULT_AUDIT_LOOKBACK_MS = 7 * 86_400_000;
export const DEFAULT_AUDIT_LIMIT = 1000;
export const MAX_AUDIT_LIMIT = 10_000;
/**
 * Events read per host to find its remediation events among them (the store
 * filters by host and time; remediation, alert and model events share the
 * table). Events are rare next to telemetry: a host sends a few a day.
 */
const EVENTS_SCANNED_PER_HOST = 100_000;

export interface RemediationRoutesOptions {
  leases: LeaseTable;
  store: TelemetryStore;
  hosts: HostRegistry;
  log: Logger;
}

const AuditQuerySchema = z
  .object({
    host: HostIdSchema.optional(),
    playbook: PlaybookNameSchema.optional(),
    decision: z.enum(REMEDIATION_DECISIONS).optional(),
    from: MetricsQuerySchema.shape.from,
    to: MetricsQuerySchema.shape.to,
    limit: z
      .string()
      .regex(/^\d+$/, 'expected a whole number')
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_AUDIT_LIMIT))
      .optional(),
  })
  .strict();

/** Where `remediationRoutes` is mounted. */
export const REMEDIATION_PREFIX = '/api/v1/remediation';

const LeaseRefusedSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
  maxConcurrent: z.number().int(),
  retryAfterSeconds: z.number().int(),
  active: z.array(LeaseSchema),
});

/** These routes as the API's route table describes them (the OpenAPI document, response checks). */
export const REMEDIATION_ROUTE_SPECS: readonly RouteSpec[] = [
  {
    method: 'post',
    path: `${REMEDIATION_PREFIX}/leases`,
    tag: 'remediation',
    summary: 'Asks for one of the fleet’s remediation leases before an enforced run',
    body: LeaseRequestSchema,
    responses: {
      201: { description: 'Granted (or renewed)', schema: LeaseSchema },
      409: {
        description: 'The fleet cap is taken; Retry-After says when to ask again',
        schema: LeaseRefusedSchema,
      },
    },
  },
  {
    method: 'delete',
    path: `${REMEDIATION_PREFIX}/leases/{id}`,
    tag: 'remediation',
    summary: 'Releases a lease',
    params: z.object({ id: z.string().min(1) }),
    responses: { 200: { description: 'Released', schema: z.object({ released: LeaseSchema }) } },
  },
  {
    method: 'get',
    path: `${REMEDIATION_PREFIX}/leases`,
    tag: 'remediation',
    summary: 'The leases held now and the cap',
    responses: {
      200: {
        description: 'Leases',
        schema: z.object({ maxConcurrent: z.number().int(), leases: z.array(LeaseSchema) }),
      },
    },
  },
  {
    method: 'get',
    path: `${REMEDIATION_PREFIX}/audit`,
    tag: 'remediation',
    summary: 'The remediation audit trail: every decision agents made, oldest first',
    query: AuditQuerySchema,
    responses: {
      200: {
        description: 'Remediation events (the newest `limit`)',
        schema: z.object({
          from: z.string(),
          to: z.string(),
          host: z.string().nullable(),
          truncated: z.boolean(),
          events: z.array(RemediationEventSchema),
        }),
      },
    },
  },
];

export function remediationRoutes(options: RemediationRoutesOptions): Hono {
  const { leases, store, hosts, log } = options;
  const app = new Hono();

  app.post(
    '/leases',
    bodyLimit({
      maxSize: MAX_LEASE_REQUEST_BYTES,
      onError: (c) =>
        c.json(
          {
            error: {
              code: 'PAYLOAD_TOO_LARGE',
              message: `a lease request is at most ${MAX_LEASE_REQUEST_BYTES} bytes`,
            },
          },
          413,
        ),
    }),
    async (c) => {
      const request = parseBody(LeaseRequestSchema, await c.req.text());
      const decision = leases.acquire(request);
      if (!decision.granted) {
        const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        log.info(
          { hostId: request.hostId, playbook: request.playbook, held: decision.active.length },
          'remediation lease refused: the fleet cap is taken',
        );
        c.header('Retry-After', String(retryAfterSeconds));
        return c.json(
          {
            error: {
              code: 'LEASE_CAP_REACHED',
              message: `${decision.active.length} of ${leases.maxConcurrent} remediation leases are held (aggregator.remediation.maxConcurrent)`,
            },
            maxConcurrent: leases.maxConcurrent,
            retryAfterSeconds,
            active: decision.active,
          },
          409,
        );
      }
      const { lease, renewed } = decision;
      log.info({ ...lease, renewed }, 'remediation lease granted');
      return c.json(lease, 201);
    },
  );

  app.delete('/leases/:id', (c) => {
    const released = leases.release(c.req.param('id'));
    if (!released)
      throw new NotFoundError(`no lease "${c.req.param('id').slice(0, 64)}" is held (released or expired)`);
    log.info(
      { leaseId: released.leaseId, hostId: released.hostId, playbook: released.playbook },
      'remediation lease released',
    );
    return c.json({ released });
  });

  app.get('/leases', (c) => c.json({ maxConcurrent: leases.maxConcurrent, leases: leases.list() }));

  app.get('/audit', async (c) => {
    const query = parseQuery(AuditQuerySchema, c.req.query());
    const to = query.to ?? Date.now() + 1;
    const from = query.from ?? to - DEFAULT_AUDIT_LOOKBACK_MS;
    if (from >= to) throw new ValidationError('from: must be earlier than to', { path: 'from' });
    const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
    const hostIds = query.host !== undefined ? [query.host] : hosts.list().map((h) => h.id);
    const found: RemediationEvent[] = [];
    for (const hostId of hostIds) {
      const events = await store.queryEvents({ hostId, from, to, limit: EVENTS_SCANNED_PER_HOST });
      for (const event of events) {
        if (!isRemediation(event)) continue;
        if (query.playbook !== undefined && event.playbook !== query.playbook) continue;
        if (query.decision !== undefined && event.decision !== query.decision) continue;
        found.push(event);
      }
    }
    found.sort((a, b) => a.timestamp - b.timestamp || a.hostId.localeCompare(b.hostId) || a.seq - b.seq);
    return c.json({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      host: query.host ?? null,
      truncated: found.length > limit,
      // The newest `limit`, oldest first, like the other history endpoints.
      events: found.slice(-limit),
    });
  });

  return app;
}

function isRemediation(event: EventMessage): event is RemediationEvent {
  return event.type === REMEDIATION;
}
