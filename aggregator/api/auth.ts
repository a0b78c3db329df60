/**
 * What every HTTP request passes before a route (docs/rest-api.md#authentication):
 * a per-address rate limit (429 with Retry-After), a body size limit (413),
 * and a bearer token whose role covers the call: GET and HEAD need `read`,
 * other methods `operate`, token and enrolment management `admin`.
 * Without authentication (loopback only) requests without a token pass;
 * a token that is sent is still checked.
 */
import type { IncomingMessage } from 'node:http';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { RateLimitedLog, type Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import type { SecuritySection } from '../security/config.js';
import { isLoopbackHost } from '../security/config.js';
import { roleAllows, type ApiRole, type CredentialStore } from '../security/credential-store.js';
import { RateLimiter } from '../security/rate-limiter.js';
import { registerCredentialRoutes } from './credential-routes.js';
import type { ErrorBody } from './errors.js';

export interface ApiAccessOptions {
  credentials: CredentialStore;
  /** False: requests without a token are let through (loopback-only listeners). */
  authRequired: boolean;
  limits: SecuritySection['http'];
  log: Logger;
}

/** Counted refusals, for /metrics. */
export interface ApiAccessStats {
  unauthorized: number;
  forbidden: number;
  rateLimited: number;
  tooLarge: number;
}

/** Paths anyone may call: liveness, the dashboard page, the API description, enrolment (its token is in the body). */
const PUBLIC_PATHS = new Set(['/', '/healthz', '/openapi.json', '/api/v1/enroll']);
/** Paths that manage credentials: admin only, even without authentication. */
const ADMIN_PREFIXES = ['/api/v1/tokens', '/api/v1/enrollment-tokens'];

/**
 * The HTTP side of access control. `install` puts the checks in front of
 * every route of `app` and adds the enrolment and token routes;
 * `authorizeUpgrade` checks the live stream's WebSocket handshake, which
 * does not pass through the app.
 */
export class ApiAccess {
  private readonly limiter: RateLimiter;
  private readonly counts: ApiAccessStats = { unauthorized: 0, forbidden: 0, rateLimited: 0, tooLarge: 0 };
  private readonly refusedLog: RateLimitedLog;

  constructor(private readonly options: ApiAccessOptions) {
    this.limiter = new RateLimiter(options.limits.ratePerSecond, options.limits.rateBurst);
    this.refusedLog = new RateLimitedLog(options.log);
  }

  install(app: Hono): void {
    app.use('*', this.rateLimit(), this.bodyLimit(), this.authenticate());
    registerCredentialRoutes(app, this.options.credentials, this.options.log);
  }

  /** For the WebSocket stream: a `read` token in the Authorization header or the `access_token` query parameter. */
  async authorizeUpgrade(request: IncomingMessage): Promise<{ status: 200 | 401 | 403 | 429 }> {
    const address = request.socket.remoteAddress ?? 'unknown';
    if (!this.limiter.take(address).ok) return { status: 429 };
    const url = new URL(request.url ?? '/', 'http://localhost');
    const token = bearerToken(request.headers.authorization) ?? url.searchParams.get('access_token');
    return { status: await this.decide(token ?? undefined, 'read', address) };
  }

  stats(): ApiAccessStats {
    return { ...this.counts };
  }

  private rateLimit(): MiddlewareHandler {
    return async (c, next) => {
      const verdict = this.limiter.take(clientAddress(c));
      if (!verdict.ok) {
        this.counts.rateLimited++;
        c.header('Retry-After', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))));
        return c.json(
          errorBody('RATE_LIMITED', 'too many requests; retry after the Retry-After seconds'),
          429,
        );
      }
      return next();
    };
  }

  private bodyLimit(): MiddlewareHandler {
    const maxSize = this.options.limits.maxBodyBytes;
    return bodyLimit({
      maxSize,
      onError: (c) => {
        this.counts.tooLarge++;
        return c.json(errorBody('PAYLOAD_TOO_LARGE', `the request body is over ${maxSize} bytes`), 413);
      },
    });
  }

  private authenticate(): MiddlewareHandler {
    return async (c, next) => {
      const path = c.req.path;
      const address = clientAddress(c);
      if (PUBLIC_PATHS.has(path)) return next();
      // Like a Prometheus exporter: scrapes from this machine need no token.
      if (path === '/metrics' && isLoopbackHost(address)) return next();
      const needed: ApiRole = ADMIN_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))
        ? 'admin'
        : c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS'
          ? 'read'
          : 'operate';
      const status = await this.decide(bearerToken(c.req.header('authorization')), needed, address);
      if (status === 401) {
        c.header('WWW-Authenticate', 'Bearer realm="cloudsense"');
        return c.json(errorBody('UNAUTHORIZED', 'a valid bearer token is required (docs/security.md)'), 401);
      }
      if (status === 403) {
        return c.json(errorBody('FORBIDDEN', `this call needs a token with the ${needed} role`), 403);
      }
      return next();
    };
  }

  /** 200 to go ahead, 401 for a missing or invalid token, 403 for a token whose role is too low. */
  private async decide(
    token: string | undefined,
    needed: ApiRole,
    address: string,
  ): Promise<200 | 401 | 403> {
    if (token === undefined) {
      if (!this.options.authRequired && needed !== 'admin') return 200;
      this.counts.unauthorized++;
      return 401;
    }
    let info;
    try {
      info = await this.options.credentials.verifyApiToken(token);
    } catch (err) {
      this.options.log.error({ err: errorMessage(err) }, 'cannot check a bearer token');
    }
    if (!info) {
      this.counts.unauthorized++;
      this.refusedLog.warn({ address }, 'HTTP request with an invalid bearer token');
      return 401;
    }
    if (!roleAllows(info.role, needed)) {
      this.counts.forbidden++;
      return 403;
    }
    return 200;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** The peer's address; behind a reverse proxy that is the proxy's. */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
