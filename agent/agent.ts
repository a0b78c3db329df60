import type { Logger } from '../shared/log.js';
import { withTimeout } from '../shared/async.js';
import { errorMessage } from '../shared/errors.js';
import { VERSION } from '../shared/version.js';
import { SCHEMA_VERSION, type TelemetryMessage } from '../shared/wire/telemetry.js';
import { HostMetricsCollector } from './collectors/host-metrics.js';
import { brokerUrlOf, type AgentConfig } from './config.js';
import { MqttPublisher, STOP_TIMEOUT_MS } from './publish/mqtt-publisher.js';

export interface Agent {
  start(): Promise<void>;
  /** Safe to call twice and before start. */
  stop(): Promise<void>;
  readonly hostId: string;
  readonly brokerUrl: string;
}

/**
 * Builds the agent pipeline from its configuration:
 * collector → telemetry message (sequence-numbered) → MQTT publisher.
 */
export function createAgent(config: AgentConfig, log: Logger): Agent {
  const { hostId, intervalSeconds } = config.agent;
  const brokerUrl = brokerUrlOf(config);
  const collector = new HostMetricsCollector();
  const publisher = new MqttPublisher({
    brokerUrl,
    hostId,
    agentVersion: VERSION,
    intervalSeconds,
    username: config.agent.username,
    password: config.agent.password,
    log,
  });
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let cycle: Promise<void> | undefined;
  let running = false;
  const unacked = new Set<Promise<void>>();

  async function runCycle(): Promise<void> {
    const metrics = await collector.collect();
    const message: TelemetryMessage = {
      schemaVersion: SCHEMA_VERSION,
      hostId,
      seq: ++seq,
      timestamp: Date.now(),
      intervalSeconds,
      metrics,
    };
    const ack = publisher
      .publishTelemetry(message)
      .catch((err: unknown) =>
        log.warn({ seq: message.seq, err: errorMessage(err) }, 'telemetry not delivered'),
      )
      .finally(() => unacked.delete(ack));
    unacked.add(ack);
  }

  /** Runs a cycle unless the previous one is still busy, then schedules the next on the interval grid. */
  function tick(): void {
    if (!running) return;
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
    async start() {
      if (running) return;
      running = true;
      publisher.start();
      await collector.prime();
      log.info({ hostId, intervalSeconds, broker: brokerUrl }, 'agent started');
      tick();
    },
    async stop() {
      if (!running) return;
      running = false;
      clearTimeout(timer);
      await cycle;
      // Telemetry still unacknowledged after the timeout stays in mqtt.js's outgoing store and is lost
      // with the process; the on-disk queue is what makes it survive.
      await withTimeout(Promise.allSettled([...unacked]), STOP_TIMEOUT_MS, 'waiting for acks').catch(() =>
        log.warn({ unacked: unacked.size }, 'stopping with unacknowledged telemetry'),
      );
      await publisher.stop();
      log.info({ hostId, published: seq }, 'agent stopped');
    },
  };
}
