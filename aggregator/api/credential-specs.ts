/**
 * The enrolment and token routes (credential-routes.ts, installed with the
 * access checks by auth.ts) as the route table describes them, for the
 * OpenAPI document and response validation.
 */
import { z } from 'zod';
import { API_ROLES } from '../security/credential-store.js';
import { IsoTimeSchema } from './api-schemas.js';
import { ApiTokenSchema, EnrolSchema, EnrolmentTokenSchema } from './credential-routes.js';
import type { RouteSpec } from './route-table.js';

const RefusalSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const CREDENTIAL_ROUTE_SPECS: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/api/v1/enroll',
    tag: 'security',
    access: 'public',
    summary: 'Trades a one-time enrolment token for an agent’s MQTT credentials',
    body: EnrolSchema,
    responses: {
      200: {
        description: 'The agent’s MQTT username and password',
        schema: z.object({ hostId: z.string(), username: z.string(), password: z.string() }),
      },
      401: { description: 'Unknown or spent enrolment token', schema: RefusalSchema },
      403: { description: 'The token is for another host', schema: RefusalSchema },
    },
  },
  {
    method: 'post',
    path: '/api/v1/enrollment-tokens',
    tag: 'security',
    access: 'admin',
    summary: 'Issues a one-time enrolment token (admin)',
    body: EnrolmentTokenSchema,
    responses: {
      201: {
        description: 'The token, shown once',
        schema: z.object({ token: z.string(), hostId: z.string().nullable(), expiresAt: IsoTimeSchema }),
      },
    },
  },
  {
    method: 'get',
    path: '/api/v1/tokens',
    tag: 'security',
    access: 'admin',
    summary: 'The API tokens, without their secrets (admin)',
    responses: {
      200: {
        description: 'Tokens',
        schema: z.object({
          tokens: z.array(
            z.object({
              id: z.string(),
              role: z.enum(API_ROLES),
              name: z.string().optional(),
              createdAt: IsoTimeSchema,
            }),
          ),
        }),
      },
    },
  },
  {
    method: 'post',
    path: '/api/v1/tokens',
    tag: 'security',
    access: 'admin',
    summary: 'Creates an API token (admin); the secret is shown once',
    body: ApiTokenSchema,
    responses: {
      201: {
        description: 'The new token',
        schema: z.object({ id: z.string(), role: z.enum(API_ROLES), token: z.string() }),
      },
    },
  },
  {
    method: 'delete',
    path: '/api/v1/tokens/{id}',
    tag: 'security',
    access: 'admin',
    summary: 'Revokes an API token (admin)',
    params: z.object({ id: z.string().min(1).max(64) }).strict(),
    responses: { 204: { description: 'Revoked' } },
  },
];
