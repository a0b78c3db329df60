import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../shared/log.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { HOST_ID_PATTERN } from '../../shared/wire/topics.js';

export const STREAM_PATH = '/api/v1/stream';
/** A client further behind than this (bytes queued) misses events instead of growing our memory. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Clients that do not answer a ping within this period are disconnected. */
const PING_INTERVAL_MS = 30_000;
/** Most hosts one client may filter on. */
const MAX_FILTER_HOSTS = 1000;

export type StreamEvent = { type: 'telemetry'; hostId: string; data: TelemetryMessage };

export interface StreamStats {
  clients: number;
  sent: number;
  dropped: number;
}

interface Subscriber {
  /** Host ids to receive; undefined for all. */
  hosts: Set<string> | undefined;
  alive: boolean;
}

/**
 * The WebSocket live stream at /api/v1/stream. `?host=a,b` limits a client to
 * some hosts. Each event is serialised once and fanned out; slow clients lose
 * events (counted) rather than queueing without bound.
 */
export class LiveStream {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly subscribers = new Map<WebSocket, Subscriber>();
  private readonly counts = { sent: 0, dropped: 0 };
  private readonly pingTimer: NodeJS.Timeout;

  constructor(private readonly log: Logger) {
    this.pingTimer = setInterval(() => this.pingAll(), PING_INTERVAL_MS).unref();
  }

  /** Takes over an HTTP upgrade request for the stream path; rejects bad filters with 400. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const hostParam = url.searchParams.get('host');
    let hosts: Set<string> | undefined;
    if (hostParam) {
      const ids = hostParam.split(',').filter(Boolean);
      if (ids.length > MAX_FILTER_HOSTS || !ids.every((id) => HOST_ID_PATTERN.test(id))) {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\ninvalid host filter\n');
        return;
      }
      hosts = new Set(ids);
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const subscriber: Subscriber = { hosts, alive: true };
      this.subscribers.set(ws, subscriber);
      ws.on('pong', () => (subscriber.alive = true));
      ws.on('close', () => this.subscribers.delete(ws));
      ws.on('error', (err) => this.log.debug({ err: err.message }, 'stream client error'));
      ws.send(JSON.stringify({ type: 'hello', hosts: hosts ? [...hosts] : null }));
    });
  }

  publish(event: StreamEvent): void {
    if (this.subscribers.size === 0) return;
    const text = JSON.stringify(event);
    for (const [ws, subscriber] of this.subscribers) {
      if (subscriber.hosts && !subscriber.hosts.has(event.hostId)) continue;
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.counts.dropped++;
        continue;
      }
      ws.send(text);
      this.counts.sent++;
    }
  }

  stats(): StreamStats {
    return { clients: this.subscribers.size, ...this.counts };
  }

  close(): void {
    clearInterval(this.pingTimer);
    for (const ws of this.subscribers.keys()) ws.terminate();
    this.subscribers.clear();
    this.wss.close();
  }

  private pingAll(): void {
    for (const [ws, subscriber] of this.subscribers) {
      if (!subscriber.alive) {
        ws.terminate();
        continue;
      }
      subscriber.alive = false;
      ws.ping();
    }
  }
}
