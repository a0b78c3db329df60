/**
 * Enrolment and credential management over HTTP (docs/rest-api.md#authentication):
 * `POST /api/v1/enroll` trades a one-time enrolment token for an agent's
 * MQTT credentials; the admin routes issue enrolment tokens and manage the
 * API's bearer tokens. The access checks in front of them live in auth.ts.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { DurationSchema } from '../../shared/config/duration.js';
import { NotFoundError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { HostIdSchema } from '../../shared/wire/telemetry.js';
import { parseBody } from './route-table.js';
import { API_ROLES, EnrolmentRefusedError, type CredentialStore } from '../security/credential-store.js';

/** How long an enrolment token is valid unless the request says: 1 hour. */
export const DEFAULT_ENROLMENT_TTL_MS = 60 * 60 * 1000;
/** The longest an enrolment token may be valid: 30 days. */
export const MAX_ENROLMENT_TTL_MS = 30 * 86_400_000;

export const EnrolSchema = z.object({ token: z.string().min(1).max(512), hostId: HostIdSchema }).strict();
export const EnrolmentTokenSchema = z
  .object({
    hostId: HostIdSchema.optional(),
    ttl: DurationSchema.refine((ms) => ms > 0 && ms <= MAX_ENROLMENT_TTL_MS, 'between 1s and 30d').optional(),
  })
  .strict();
export const ApiTokenSchema = z
  .object({ role: z.enum(API_ROLES), name: z.string().min(1).max(200).optional() })
  .strict();

export function registerCredentialRoutes(app: Hono, credentials: CredentialStore, log: Logger): void {
  app.post('/api/v1/enroll', async (c) => {
    const body = await jsonBody(c, EnrolSchema);
    try {
      const issued = await credentials.redeemEnrolmentToken(body.token, body.hostId);
      log.info({ hostId: body.hostId }, 'agent enrolled');
      return c.json({ hostId: body.hostId, ...issued });
    } catch (err) {
      if (!(err instanceof EnrolmentRefusedError)) throw err;
      log.warn({ hostId: body.hostId, reason: err.message }, 'enrolment refused');
      return c.json(
        { error: { code: err.code, message: err.message } },
        err.reason === 'invalid' ? 401 : 403,
      );
    }
  });

  app.post('/api/v1/enrollment-tokens', async (c) => {
    const body = await jsonBody(c, EnrolmentTokenSchema);
    const issued = await credentials.createEnrolmentToken({
      ttlMs: body.ttl ?? DEFAULT_ENROLMENT_TTL_MS,
      hostId: body.hostId,
    });
    return c.json(
      {
        token: issued.token,
        hostId: body.hostId ?? null,
        expiresAt: new Date(issued.expiresAt).toISOString(),
      },
      201,
    );
  });

  app.get('/api/v1/tokens', async (c) =>
    c.json({
      tokens: (await credentials.listApiTokens()).map((t) => ({
        ...t,
        createdAt: new Date(t.createdAt).toISOString(),
      })),
    }),
  );

  app.post('/api/v1/tokens', async (c) => {
    const body = await jsonBody(c, ApiTokenSchema);
    const issued = await credentials.createApiToken(body.role, body.name);
    log.info({ id: issued.id, role: body.role }, 'API token created');
    return c.json({ id: issued.id, role: body.role, token: issued.token }, 201);
  });

  app.delete('/api/v1/tokens/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await credentials.revokeApiToken(id))) throw new NotFoundError(`no token with id "${id}"`);
    log.info({ id }, 'API token revoked');
    return c.body(null, 204);
  });
}

/** The request's JSON body checked against `schema`; a failure is a 400 naming the field. */
async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseBody(schema, await c.req.text());
}
