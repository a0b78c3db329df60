import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from '../../shared/log.js';
import { STREAM_PATH, type LiveStream } from './live-stream.js';
import { listen } from '../listen.js';

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port; `port` tells which after start. */
  port: number;
  app: Hono;
  stream: LiveStream;
  log: Logger;
  /** Reads the PEM key and certificate at start: the listener speaks HTTPS. */
  tls?: (() => { key: Buffer; cert: Buffer }) | undefined;
  /** Checks a live-stream handshake, which bypasses the app's middleware; without it, every one is accepted. */
  authorizeUpgrade?: ((request: IncomingMessage) => Promise<{ status: 200 | 401 | 403 | 429 }>) | undefined;
}

/** Requests that take longer than this are cut off, milliseconds. */
const REQUEST_TIMEOUT_MS = 30_000;

const STATUS_TEXT = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests' } as const;

/** The aggregator's HTTP listener: REST and dashboard through Hono, the live stream through ws. */
export class HttpServer {
  private server: Server | undefined;
  private boundPort: number;

  constructor(private readonly options: HttpServerOptions) {
    this.boundPort = options.port;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `${this.options.tls ? 'https' : 'http'}://${host}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const { tls, authorizeUpgrade } = this.options;
    const server = createAdaptorServer({
      fetch: this.options.app.fetch,
      ...(tls ? { createServer: createHttpsServer, serverOptions: tls() } : {}),
    }) as Server;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.on('upgrade', (request, socket, head) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== STREAM_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      if (!authorizeUpgrade) {
        this.options.stream.handleUpgrade(request, socket, head);
        return;
      }
      void authorizeUpgrade(request).then(({ status }) => {
        if (status === 200) this.options.stream.handleUpgrade(request, socket, head);
        else socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n\r\n`);
      });
    });
    this.boundPort = await listen(
      server,
      { host: this.options.host, port: this.options.port, url: this.url },
      'http.port (CLOUDSENSE_HTTP_PORT or --http-port)',
    );
    this.server = server;
    this.options.log.info({ url: this.url }, 'HTTP API listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.options.stream.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Let in-flight requests finish briefly, then cut what is left.
    const timer = setTimeout(() => server.closeAllConnections(), 2000).unref();
    await closed;
    clearTimeout(timer);
  }
}
