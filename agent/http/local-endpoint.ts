/**
 * The agent's local HTTP endpoint: `GET /healthz` (JSON) and `GET /metrics`
 * (Prometheus text), nothing else. Plain `node:http` with no framework: the
 * agent has an RSS budget, and two read-only routes need no router.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { healthOf, type AgentHealthSources } from './health.js';
import { createAgentMetrics, type AgentMetrics } from './self-metrics.js';
import type { AgentSelfReport } from './self-report.js';

/**
 * Socket limits, ms: a scraper or probe sends a few hundred bytes and reads
 * a few KB, so a client slower than this is stuck or hostile and must not
 * keep a socket of the agent open.
 */
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export interface LocalEndpointOptions {
  host: string;
  port: number;
  sources: AgentHealthSources;
  report: AgentSelfReport;
  log: Logger;
}

export class AgentLocalEndpoint {
  private server: Server | undefined;
  private metrics: AgentMetrics | undefined;

  constructor(private readonly options: LocalEndpointOptions) {}

  /** Listens; rejects (with what to change) when the address cannot be bound. */
  async start(): Promise<void> {
    if (this.server) return;
    const { host, port, sources, report, log } = this.options;
    this.metrics = createAgentMetrics(sources, report);
    const server = createServer((req, res) => void this.handle(req, res));
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.maxHeadersCount = 50;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? 'the port is in use by another program'
            : err.code === 'EADDRNOTAVAIL'
              ? 'no interface of this host has that address'
              : errorMessage(err);
        reject(new Error(`agent.http cannot listen on ${host}:${port}: ${why}; change agent.http.host/port`));
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => log.warn({ err: errorMessage(err) }, 'local endpoint error'));
    this.server = server;
    log.info({ url: this.url }, 'local endpoint listening: /healthz, /metrics');
  }

  /** `http://host:port` as bound (the port a `0` picked). */
  get url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Closes the port at once (open connections too: answers are small and a scraper retries). Safe to call twice. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.metrics?.close();
    this.metrics = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/metrics') {
      return send(
        res,
        404,
        'application/json',
        JSON.stringify({ error: 'not found: try /healthz or /metrics' }),
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'application/json', JSON.stringify({ error: `${req.method} is not allowed` }));
    }
    try {
      if (path === '/healthz') {
        return send(res, 200, 'application/json', JSON.stringify(healthOf(this.options.sources)), req);
      }
      const registry = this.metrics?.registry;
      if (!registry) return send(res, 503, 'text/plain', 'stopping\n');
      return send(res, 200, registry.contentType, await registry.metrics(), req);
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err), path }, 'local endpoint could not answer');
      return send(res, 500, 'application/json', JSON.stringify({ error: errorMessage(err) }));
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, req?: IncomingMessage): void {
  res.writeHead(status, {
    'Content-Type': type.includes('charset') ? type : `${type}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(req?.method === 'HEAD' ? undefined : body);
}
