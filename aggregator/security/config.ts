import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';

/** Largest accepted HTTP request body, bytes: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Requests per second one client address may make, sustained. */
export const DEFAULT_RATE_PER_SECOND = 50;
/** Requests one client address may make in a burst above the sustained rate. */
export const DEFAULT_RATE_BURST = 200;

export const AUTH_MODES = ['auto', 'required', 'open'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const SecuritySectionSchema = z
  .object({
    /**
     * `required`: MQTT clients log in and REST calls carry a bearer token.
     * `open`: anonymous access. `auto` (default): `open` when both listeners
     * bind to loopback only, `required` otherwise (docs/security.md).
     */
    auth: z.enum(AUTH_MODES).default('auto'),
    /**
     * With `auth: open`, allow listening beyond loopback anyway. Default
     * false: such a configuration is refused at start-up. When true, start-up
     * logs a warning and `cloudsense up` prints one in its banner.
     */
    allowOpenBeyondLoopback: z.boolean().default(false),
    /** TLS for the listeners; off unless both files are given. */
    tls: z
      .object({
        /** PEM certificate (chain) file. */
        cert: z.string().min(1).optional(),
        /** PEM private key file of the certificate. */
        key: z.string().min(1).optional(),
        /** Serve MQTT over TLS (mqtts) when cert and key are given. Default true. */
        mqtt: z.boolean().default(true),
        /** Serve HTTP over TLS (https) when cert and key are given. Default true. */
        http: z.boolean().default(true),
      })
      .strict()
      .prefault({})
      .refine((tls) => (tls.cert === undefined) === (tls.key === undefined), {
        message: 'give both cert and key, or neither',
      }),
    http: z
      .object({
        /** Largest request body, bytes; larger requests get 413. Default 1048576 (1 MiB). */
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(256 * 1024 * 1024)
          .default(DEFAULT_MAX_BODY_BYTES),
        /** Sustained requests per second per client address; more get 429. Default 50. */
        ratePerSecond: z.number().positive().max(100_000).default(DEFAULT_RATE_PER_SECOND),
        /** Requests a client address may make at once above the sustained rate. Default 200. */
        rateBurst: z.number().int().min(1).max(1_000_000).default(DEFAULT_RATE_BURST),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type SecuritySection = z.infer<typeof SecuritySectionSchema>;

/** How the listeners treat clients, decided once at start-up from the configuration. */
export interface AccessPolicy {
  /** True: MQTT logins and REST bearer tokens are checked; anonymous clients are refused. */
  authRequired: boolean;
  /** Both listeners bind to loopback addresses only. */
  loopbackOnly: boolean;
  /** Anonymous access beyond loopback, allowed by `allowOpenBeyondLoopback`: to be logged loudly. */
  openBeyondLoopback: boolean;
}

/**
 * The rule Mosquitto 2 follows: anything that listens beyond loopback
 * refuses anonymous clients, unless an operator explicitly says otherwise.
 * Throws a ConfigError for `auth: open` beyond loopback without the override.
 */
export function decideAccess(security: SecuritySection, bindHosts: readonly string[]): AccessPolicy {
  const loopbackOnly = bindHosts.every(isLoopbackHost);
  const authRequired = security.auth === 'required' || (security.auth === 'auto' && !loopbackOnly);
  if (!authRequired && !loopbackOnly && !security.allowOpenBeyondLoopback) {
    throw new ConfigError([
      { path: 'aggregator.security.auth', message: openBeyondLoopbackProblem(bindHosts) },
    ]);
  }
  return { authRequired, loopbackOnly, openBeyondLoopback: !authRequired && !loopbackOnly };
}

/** `localhost`, 127.0.0.0/8, ::1 and ::ffff:127.x; a wildcard (0.0.0.0, ::) or a name is not loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

function openBeyondLoopbackProblem(bindHosts: readonly string[]): string {
  const beyond = bindHosts.filter((h) => !isLoopbackHost(h)).join(', ');
  return (
    `open, but ${beyond} is beyond loopback: anyone who can reach it could publish and read ` +
    'everything. Bind to 127.0.0.1, use auth: required (docs/security.md), or set ' +
    'aggregator.security.allowOpenBeyondLoopback: true'
  );
}

/**
 * The same rule as a schema refinement, for the aggregator's and `up`'s
 * configuration, so the problem is listed with the others at start-up.
 */
export function refineAccess(
  config: { http: { host: string }; mqtt: { host: string }; aggregator: { security: SecuritySection } },
  ctx: z.RefinementCtx,
): void {
  const hosts = [config.http.host, config.mqtt.host];
  const { auth, allowOpenBeyondLoopback } = config.aggregator.security;
  if (auth === 'open' && !allowOpenBeyondLoopback && !hosts.every(isLoopbackHost)) {
    ctx.addIssue({
      code: 'custom',
      path: ['aggregator', 'security', 'auth'],
      message: openBeyondLoopbackProblem(hosts),
    });
  }
}

/** Says at start-up how clients are treated; loudly when anonymous clients or clear-text secrets cross the network. */
export function logAccessPolicy(access: AccessPolicy, security: SecuritySection, log: Logger): void {
  const tls = security.tls.cert !== undefined;
  if (access.openBeyondLoopback) {
    log.warn(
      { auth: 'open' },
      'ANONYMOUS ACCESS BEYOND LOOPBACK: anyone who reaches these listeners can publish and read everything ' +
        '(aggregator.security.allowOpenBeyondLoopback)',
    );
    return;
  }
  log.info(
    { auth: access.authRequired ? 'required' : 'open (loopback only)', tls },
    'MQTT and HTTP authentication',
  );
  if (access.authRequired && !access.loopbackOnly && !tls) {
    log.warn(
      'passwords and tokens cross the network in clear text: set aggregator.security.tls.cert and .key (docs/security.md)',
    );
  }
}
