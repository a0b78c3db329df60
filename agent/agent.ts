import type { Logger } from '../shared/log.js';
import { errorMessage } from '../shared/errors.js';
import { VERSION } from '../shared/version.js';
import { SCHEMA_VERSION, type TelemetryMessage } from '../shared/wire/telemetry.js';
import { HostMetricsCollector } from './collectors/host-metrics.js';
import { brokerUrlOf, queueDirOf, type AgentConfig } from './config.js';
import { MqttPublisher, STOP_TIMEOUT_MS } from './publish/mqtt-publisher.js';
import { QueueForwarder, type ForwarderStats } from './publish/queue-forwarder.js';
import { FileDiskQueue, type DiskQueueStats } from './queue/disk-queue.js';

export interface Agent {
  start(): Promise<void>;
  /** Safe to call twice and before start. */
  stop(): Promise<void>;
  readonly hostId: string;
  readonly brokerUrl: string;
  /** The disk queue's counters and the forwarder's. */
  stats(): { queue: DiskQueueStats; forwarder: ForwarderStats };
}

/**
 * Builds the agent pipeline from its configuration:
 * collector → telemetry message → disk queue (assigns the sequence number)
 * → forwarder → MQTT publisher; the aggregator's acknowledgements come back
 * through the publisher and trim the queue.
 */
export function createAgent(config: AgentConfig, log: Logger): Agent {
  const { hostId, intervalSeconds } = config.agent;
  const brokerUrl = brokerUrlOf(config);
  const collector = new HostMetricsCollector();
  const queueDir = queueDirOf(config);
  const queue = new FileDiskQueue({
    dir: queueDir,
    maxBytes: config.agent.queue.maxSize,
    maxAgeMs: config.agent.queue.maxAge,
    fsync: config.agent.queue.fsync,
    fsyncIntervalMs: config.agent.queue.fsyncInterval,
    log: log.child({ component: 'queue' }),
  });
  const publisher = new MqttPublisher({
    brokerUrl,
    hostId,
    agentVersion: VERSION,
    intervalSeconds,
    username: config.agent.username,
    password: config.agent.password,
    log,
    onConnect: () => forwarder.connected(),
    onConnectionLost: () => forwarder.disconnected(),
    onAck: (ack, retained) => void forwarder.acknowledged(ack.seq, retained),
  });
  const forwarder = new QueueForwarder({
    queue,
    send: (payload) => publisher.publishTelemetryPayload(payload),
    renumber: renumberTelemetry,
    log: log.child({ component: 'forwarder' }),
  });
  let timer: NodeJS.Timeout | undefined;
  let cycle: Promise<void> | undefined;
  let state: 'new' | 'running' | 'stopped' = 'new';

  async function runCycle(): Promise<void> {
    const metrics = await collector.collect();
    const timestamp = Date.now();
    try {
      await queue.append((seq) => {
        const message: TelemetryMessage = {
          schemaVersion: SCHEMA_VERSION,
          hostId,
          seq,
          timestamp,
          intervalSeconds,
          metrics,
        };
        return Buffer.from(JSON.stringify(message));
      });
    } catch (err) {
      log.error({ err: errorMessage(err), queue: queueDir }, 'telemetry not queued; this sample is lost');
      return;
    }
    forwarder.appended();
  }

  /** Runs a cycle unless the previous one is still busy, then schedules the next on the interval grid. */
  function tick(): void {
    if (state !== 'running') return;
    if (!cycle) {
      cycle = runCycle()
        .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'collection failed'))
        .finally(() => (cycle = undefined));
    }
    const periodMs = intervalSeconds * 1000;
    timer = setTimeout(tick, periodMs - (Date.now() % periodMs));
  }

  return {
    hostId,
    brokerUrl,
    stats: () => ({ queue: queue.stats(), forwarder: forwarder.stats() }),
    async start() {
      if (state !== 'new') return;
      await queue.start();
      state = 'running';
      const opened = queue.stats();
      log.info(
        {
          queue: queueDir,
          nextSeq: opened.lastSeq + 1,
          confirmedSeq: opened.confirmedSeq,
          pending: opened.pending,
          corrupt: opened.corrupt,
          dropped: opened.dropped,
          bytes: opened.bytes,
        },
        'telemetry queue opened',
      );
      forwarder.start();
      publisher.start();
      await collector.prime();
      log.info({ hostId, intervalSeconds, broker: brokerUrl }, 'agent started');
      tick();
    },
    async stop() {
      if (state !== 'running') {
        state = 'stopped';
        return;
      }
      state = 'stopped';
      clearTimeout(timer);
      await cycle;
      // Give the aggregator a moment to confirm the last messages; whatever it has not confirmed
      // stays in the queue and is sent after the next start.
      if (publisher.connected && !(await forwarder.settled(STOP_TIMEOUT_MS))) {
        log.warn(
          { unconfirmed: queue.lastSeq - queue.confirmedSeq },
          'stopping with unconfirmed telemetry; it stays queued for the next start',
        );
      }
      forwarder.stop();
      await publisher.stop();
      await queue.stop();
      const { lastSeq, confirmedSeq, ...counters } = queue.stats();
      log.info({ hostId, lastSeq, confirmedSeq, queue: counters }, 'agent stopped');
    },
  };
}

/** A queued telemetry message under a new sequence number, everything else unchanged. */
function renumberTelemetry(payload: Buffer, seq: number): Uint8Array {
  const message = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...message, seq }));
}
