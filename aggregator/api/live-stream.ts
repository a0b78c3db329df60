import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../shared/log.js';
import type { EventMessage } from '../../shared/wire/events.js';
import type { PredictionsMessage } from '../../shared/wire/predictions.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import { HOST_ID_PATTERN } from '../../shared/wire/topics.js';
import {
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_FILTER_HOSTS,
  STREAM_KINDS,
  STREAM_PATH,
  SubscribeMessageSchema,
  type StreamKind,
} from './stream-protocol.js';

export { STREAM_PATH };
/** A client further behind than this (bytes queued) misses events instead of growing our memory. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Clients that do not answer a ping within this period are disconnected. */
const PING_INTERVAL_MS = 30_000;

export type StreamEvent =
  | { type: 'telemetry'; hostId: string; data: TelemetryMessage }
  | { type: 'predictions'; hostId: string; data: PredictionsMessage }
  | { type: 'events'; hostId: string; data: EventMessage };

export interface StreamStats {
  clients: number;
  sent: number;
  dropped: number;
}

interface Subscriber {
  /** Host ids to receive; undefined for all. */
  hosts: Set<string> | undefined;
  kinds: Set<StreamKind>;
  alive: boolean;
}

/**
 * The WebSocket live stream at /api/v1/stream: telemetry, predictions and
 * events as agents publish them (protocol: stream-protocol.ts). `?host=a,b`
 * and `?kind=predictions,events` filter at connect; a `subscribe` message
 * changes the filter later. Each event is serialised once and fanned out;
 * slow clients lose events (counted) rather than queueing without bound.
 */
export class LiveStream {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
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
    const kindParam = url.searchParams.get('kind');
    let hosts: Set<string> | undefined;
    if (hostParam) {
      const ids = hostParam.split(',').filter(Boolean);
      if (ids.length > MAX_FILTER_HOSTS || !ids.every((id) => HOST_ID_PATTERN.test(id))) {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\ninvalid host filter\n');
        return;
      }
      hosts = new Set(ids);
    }
    let kinds = new Set<StreamKind>(STREAM_KINDS);
    if (kindParam) {
      const names = kindParam.split(',').filter(Boolean);
      if (names.length === 0 || !names.every(isStreamKind)) {
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\ninvalid kind filter: use ${STREAM_KINDS.join(', ')}\n`,
        );
        return;
      }
      kinds = new Set(names);
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const subscriber: Subscriber = { hosts, kinds, alive: true };
      this.subscribers.set(ws, subscriber);
      ws.on('pong', () => (subscriber.alive = true));
      ws.on('close', () => this.subscribers.delete(ws));
      ws.on('error', (err) => this.log.debug({ err: err.message }, 'stream client error'));
      ws.on('message', (data, isBinary) => this.onClientMessage(ws, subscriber, data, isBinary));
      ws.send(JSON.stringify(helloOf(subscriber)));
    });
  }

  publish(event: StreamEvent): void {
    if (this.subscribers.size === 0) return;
    let text: string | undefined;
    for (const [ws, subscriber] of this.subscribers) {
      if (!subscriber.kinds.has(event.type)) continue;
      if (subscriber.hosts && !subscriber.hosts.has(event.hostId)) continue;
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.counts.dropped++;
        continue;
      }
      text ??= JSON.stringify(event);
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

  /** A `subscribe` message replaces the filter's fields it names; anything else gets an `error` message. */
  private onClientMessage(ws: WebSocket, subscriber: Subscriber, data: RawData, isBinary: boolean): void {
    let parsed;
    try {
      if (isBinary) throw new Error('binary messages are not part of the protocol');
      parsed = SubscribeMessageSchema.safeParse(JSON.parse(rawText(data)));
    } catch (err) {
      this.reply(ws, { type: 'error', message: `not a JSON text message: ${(err as Error).message}` });
      return;
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.map(String).join('.') || '(message)';
      this.reply(ws, { type: 'error', path, message: `${path}: ${issue.message}` });
      return;
    }
    const { hosts, kinds } = parsed.data.subscribe;
    if (hosts !== undefined) subscriber.hosts = hosts === null ? undefined : new Set(hosts);
    if (kinds !== undefined) subscriber.kinds = new Set(kinds);
    this.reply(ws, helloOf(subscriber));
  }

  /** An answer to a client's message; a client that sends but does not read gets no more than the limit queued. */
  private reply(ws: WebSocket, message: object): void {
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.counts.dropped++;
      return;
    }
    ws.send(JSON.stringify(message));
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

function isStreamKind(name: string): name is StreamKind {
  return (STREAM_KINDS as readonly string[]).includes(name);
}

/** Confirms the filter in force: on connect and after each change. */
function helloOf(subscriber: Subscriber) {
  return {
    type: 'hello',
    hosts: subscriber.hosts ? [...subscriber.hosts] : null,
    kinds: [...subscriber.kinds],
  };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}
