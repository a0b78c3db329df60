/**
 * Live mode: every virtual host publishes over MQTT exactly as a real agent
 * does — its own MqttPublisher (client id `cloudsense-agent-<host id>`,
 * retained `online` status, `offline` last will, QoS 1 telemetry with
 * per-host sequence numbers). Simulated time runs `speed` times faster than
 * real time; timestamps are simulated time.
 *
 * Pacing: tick k is due at real time start + k · interval ÷ speed. When
 * that is faster than a timer can fire, several ticks go out per turn; when
 * the broker acknowledges more slowly than messages are made, the
 * simulation waits (it never drops or skips a tick) and the status line
 * says how far behind the requested speed it runs.
 *
 * With `modelUpdates`, the first `maxHosts` virtual hosts also take signed
 * model updates through the agent's own model updater (host-models.ts):
 * they subscribe to the fleet's and their own model topics, report their
 * models in their status, and publish their model events.
 */
import { MqttPublisher, STOP_TIMEOUT_MS } from '../../agent/publish/mqtt-publisher.js';
import { delay, withTimeout } from '../../shared/async.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { RateLimitedLog, type Logger } from '../../shared/log.js';
import type { TelemetryMessage } from '../../shared/wire/telemetry.js';
import type { Simulation } from '../simulation.js';
import { HostModels, type ModelUpdateSettings } from './host-models.js';

/** How long start() waits for every virtual host to connect. */
export const CONNECT_TIMEOUT_MS = 15_000;
/** Unacknowledged messages per host before the simulation waits for the broker. */
export const MAX_IN_FLIGHT_PER_HOST = 200;
/**
 * Unacknowledged messages over the whole fleet before the simulation waits:
 * keeps the backlog (and so the time a stop takes to drain it) to a second
 * or two of what a broker acknowledges.
 */
export const MAX_IN_FLIGHT_TOTAL = 5000;
/** Most ticks made in one turn of the event loop, so acks and signals are handled in between. */
const MAX_TICKS_PER_TURN = 20;
/** Real time between status lines. */
const STATUS_EVERY_MS = 10_000;

export interface LiveSimulationOptions {
  simulation: Simulation;
  brokerUrl: string;
  username?: string | undefined;
  password?: string | undefined;
  agentVersion: string;
  /** Simulated seconds per real second. */
  speed: number;
  /** Real time after which the run ends by itself, ms; undefined to run until stopped. */
  durationMs?: number | undefined;
  /** Set: the first `maxHosts` virtual hosts take signed model updates. */
  modelUpdates?: ModelUpdateSettings | undefined;
  log: Logger;
}

export interface LiveStats {
  ticks: number;
  published: number;
  acknowledged: number;
  failed: number;
  inFlight: number;
  /** Simulated time reached, Unix epoch ms. */
  simulatedMs: number;
  /** Simulated ms per real ms so far. */
  effectiveSpeed: number;
  realSeconds: number;
}

export class LiveSimulation {
  private readonly publishers: MqttPublisher[];
  /** Per host, its models when it takes model updates. */
  private readonly hostModels: Array<HostModels | undefined>;
  private readonly inFlight: Int32Array;
  private inFlightTotal = 0;
  private readonly counts = { published: 0, acknowledged: 0, failed: 0 };
  private readonly failures: RateLimitedLog;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private realStart = 0;
  private lastStatus = 0;
  private resolveFinished: () => void = () => undefined;
  /** Resolves when `durationMs` of real time has passed (never when no duration was given). */
  readonly finished: Promise<void>;

  constructor(private readonly options: LiveSimulationOptions) {
    const { simulation, log } = options;
    // Publishers log their connects at debug level: a thousand "connected" lines say nothing.
    const publisherLog = log.child(
      { component: 'publisher' },
      { level: log.level === 'info' ? 'warn' : log.level },
    );
    const modelLog = log.child({ component: 'model-updates' });
    const { modelUpdates } = options;
    this.hostModels = [];
    this.publishers = simulation.fleet.hosts.map((host, i) => {
      const models =
        modelUpdates && i < modelUpdates.maxHosts
          ? new HostModels({
              hostId: host.hostId,
              settings: modelUpdates,
              emit: async (build) => {
                const event = build(host.nextSeq());
                await publisher.publishPayload('events', Buffer.from(JSON.stringify(event)));
              },
              onModelsChanged: (refs) => publisher.setModels(refs),
              log: modelLog.child({ hostId: host.hostId }),
            })
          : undefined;
      this.hostModels.push(models);
      const publisher: MqttPublisher = new MqttPublisher({
        brokerUrl: options.brokerUrl,
        hostId: host.hostId,
        agentVersion: options.agentVersion,
        intervalSeconds: simulation.settings.intervalSeconds,
        username: options.username,
        password: options.password,
        log: publisherLog.child({ hostId: host.hostId }),
        ...(models ? { onModel: (topic: string, payload: Buffer) => models.receive(topic, payload) } : {}),
      });
      return publisher;
    });
    this.inFlight = new Int32Array(this.publishers.length);
    this.failures = new RateLimitedLog(log);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  private get tickPeriodMs(): number {
    return this.options.simulation.intervalMs / this.options.speed;
  }

  /**
   * Loads the models of the hosts that take updates (one host at a time:
   * onnxruntime's start-up is heavy), connects every virtual host, then
   * starts the clock. Fails when the broker cannot be reached.
   */
  async start(): Promise<void> {
    if (this.running || this.stopped) return;
    for (const models of this.hostModels) await models?.start();
    for (const p of this.publishers) p.start();
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    while (!this.publishers.every((p) => p.connected)) {
      if (Date.now() > deadline) {
        const connected = this.publishers.filter((p) => p.connected).length;
        throw new CloudSenseError(
          'BROKER_UNREACHABLE',
          `only ${connected} of ${this.publishers.length} virtual hosts connected to ${this.options.brokerUrl} ` +
            `within ${CONNECT_TIMEOUT_MS / 1000} s; is the aggregator (or your broker) running there? ` +
            'Set the broker with --broker or --mqtt-host/--mqtt-port',
        );
      }
      await delay(50);
    }
    this.running = true;
    this.realStart = performance.now();
    this.lastStatus = this.realStart;
    this.loop();
  }

  private loop = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const { simulation, durationMs } = this.options;
    const now = performance.now();
    if (durationMs !== undefined && now - this.realStart >= durationMs) {
      this.running = false;
      this.resolveFinished();
      return;
    }
    const due = Math.floor((now - this.realStart) / this.tickPeriodMs) + 1;
    let made = 0;
    while (simulation.counts.ticks < due && made < MAX_TICKS_PER_TURN && !this.backlogged()) {
      this.publish(simulation.tick());
      made++;
    }
    if (now - this.lastStatus >= STATUS_EVERY_MS) this.status(now);
    const nextDue = this.realStart + simulation.counts.ticks * this.tickPeriodMs;
    const wait = this.backlogged() ? 5 : Math.max(0, nextDue - performance.now());
    const untilEnd = durationMs === undefined ? Infinity : this.realStart + durationMs - performance.now();
    this.timer = setTimeout(this.loop, Math.max(0, Math.min(wait, untilEnd)));
  };

  private backlogged(): boolean {
    if (this.inFlightTotal >= MAX_IN_FLIGHT_TOTAL) return true;
    for (const n of this.inFlight) if (n >= MAX_IN_FLIGHT_PER_HOST) return true;
    return false;
  }

  private publish(messages: readonly TelemetryMessage[]): void {
    messages.forEach((message, i) => {
      this.counts.published++;
      this.inFlight[i]!++;
      this.inFlightTotal++;
      this.publishers[i]!.publishTelemetry(message)
        .then(
          () => this.counts.acknowledged++,
          (err: unknown) => {
            this.counts.failed++;
            this.failures.warn(
              { hostId: message.hostId, seq: message.seq, err: errorMessage(err) },
              'telemetry not delivered',
            );
          },
        )
        .finally(() => {
          this.inFlight[i]!--;
          this.inFlightTotal--;
        });
    });
  }

  private status(now: number): void {
    this.lastStatus = now;
    const s = this.stats();
    const fields = {
      simulated: new Date(s.simulatedMs).toISOString(),
      published: s.published,
      acknowledged: s.acknowledged,
      inFlight: s.inFlight,
      events: this.options.simulation.counts.events,
      speed: Number(s.effectiveSpeed.toFixed(1)),
    };
    if (s.effectiveSpeed < 0.9 * this.options.speed && s.realSeconds > 5) {
      this.options.log.warn(
        { ...fields, requestedSpeed: this.options.speed },
        'falling behind the requested speed (the broker or this machine cannot keep up)',
      );
    } else {
      this.options.log.info(fields, 'simulating');
    }
  }

  stats(): LiveStats {
    const { simulation } = this.options;
    const realMs = this.realStart > 0 ? performance.now() - this.realStart : 0;
    const simulatedMs = simulation.nextTickMs;
    return {
      ticks: simulation.counts.ticks,
      ...this.counts,
      inFlight: this.inFlightTotal,
      simulatedMs,
      effectiveSpeed: realMs > 0 ? (simulation.counts.ticks * simulation.intervalMs) / realMs : 0,
      realSeconds: realMs / 1000,
    };
  }

  /**
   * Stops the clock, waits for outstanding acknowledgements, marks every host
   * offline (retained) and disconnects. Safe to call twice and before start.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    clearTimeout(this.timer);
    this.resolveFinished();
    const drained = async () => {
      while (this.inFlightTotal > 0) await delay(20);
    };
    await withTimeout(drained(), STOP_TIMEOUT_MS, 'waiting for acks').catch(() =>
      this.options.log.warn(
        { unacknowledged: this.inFlightTotal },
        'telemetry still unacknowledged; disconnecting (each host waits a little longer for its acks)',
      ),
    );
    // Model updates first: one in progress may still publish its event.
    await Promise.all(this.hostModels.map((m) => m?.stop()));
    await Promise.all(this.publishers.map((p) => p.stop()));
  }
}
