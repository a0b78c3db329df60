/**
 * The live stream's protocol (docs/rest-api.md#live-stream), one JSON object
 * per WebSocket text message:
 *
 * - server → client: `{"type":"hello","hosts":[…]|null,"kinds":[…]}` on
 *   connect and after every subscription change; then
 *   `{"type":"telemetry"|"predictions"|"events","hostId":…,"data":<the agent's message>}`;
 *   `{"type":"error","message":…}` for a client message it cannot use.
 * - client → server: `{"subscribe":{"hosts":[…]|null,"kinds":[…]}}` replaces
 *   the filter (a field left out keeps its value; `hosts: null` is every host).
 *
 * The filter at connect comes from the query string: `?host=a,b&kind=predictions,events`.
 */
import { z } from 'zod';
import { HostIdSchema } from '../../shared/wire/telemetry.js';
import type { RouteSpec } from './route-table.js';

export const STREAM_PATH = '/api/v1/stream';
export const STREAM_KINDS = ['telemetry', 'predictions', 'events'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];
/** Most hosts one client may filter on. */
export const MAX_FILTER_HOSTS = 1000;
/** Largest client message, bytes: a subscription naming MAX_FILTER_HOSTS long host ids fits. */
export const MAX_CLIENT_MESSAGE_BYTES = 256 * 1024;

export const SubscribeMessageSchema = z
  .object({
    subscribe: z
      .object({
        hosts: z.array(HostIdSchema).max(MAX_FILTER_HOSTS).nullable().optional(),
        kinds: z.array(z.enum(STREAM_KINDS)).min(1).optional(),
      })
      .strict(),
  })
  .strict();
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>;

/** The filter at connect, from the query string. */
export const StreamQuerySchema = z
  .object({
    host: z
      .string()
      .optional()
      .describe(`comma-separated host ids (at most ${MAX_FILTER_HOSTS}); default every host`),
    kind: z
      .string()
      .optional()
      .describe(`comma-separated: ${STREAM_KINDS.join(', ')}; default all three`),
    access_token: z.string().optional().describe('a read token, for clients that cannot set headers'),
  })
  .strict();

export const STREAM_ROUTE_SPEC: RouteSpec = {
  method: 'get',
  path: STREAM_PATH,
  tag: 'stream',
  websocket: true,
  summary: 'WebSocket live stream of telemetry, predictions and events, filtered per client',
  description:
    'Upgrade to WebSocket. Server messages: hello, telemetry, predictions, events, error. Client message: ' +
    '{"subscribe":{"hosts":[...]|null,"kinds":[...]}}. Protocol: docs/rest-api.md#live-stream.',
  query: StreamQuerySchema,
  responses: {
    101: { description: 'Switching to the WebSocket protocol' },
  },
};
