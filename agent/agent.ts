import { RateLimitedLog, type Logger } from '../shared/log.js';
import { errorMessage } from '../shared/errors.js';
import { VERSION } from '../shared/version.js';
import type { SequencedMessage, SequencedTopicKind } from '../shared/wire/sequenced.js';
import { SCHEMA_VERSION, type TelemetryMessage } from '../shared/wire/telemetry.js';
import { AlertHysteresis } from './alerts/alert-hysteresis.js';
import { AlertStateFile } from './alerts/alert-state-file.js';
import { NO_FORECAST_RESOLVE_MS } from './alerts/config.js';
import { HostMetricsCollector } from './collectors/host-metrics.js';
import { alertStateFileOf, brokerUrlOf, fleetModelsDirOf, queueDirOf, type AgentConfig } from './config.js';
import { modelsDirOf } from './inference/config.js';
import { loadModelDir } from './inference/model-dir.js';
import { ModelSet } from './inference/model-set.js';
import { PredictionCycle } from './inference/prediction-cycle.js';
import { ResourceForecaster } from './inference/resource-forecaster.js';
import { FleetModelStore } from './model-updates/fleet-model-store.js';
import { ModelUpdater } from './model-updates/model-updater.js';
import { readModelPublicKey } from './model-updates/public-key.js';
import { brokerLoginOf } from './publish/broker-credentials.js';
import { MqttPublisher, STOP_TIMEOUT_MS } from './publish/mqtt-publisher.js';
import { QueueForwarder } from './publish/queue-forwarder.js';
import { queueTagOf, renumberPayload, topicKindOfTag } from './publish/queued-message.js';
import { FileDiskQueue } from './queue/disk-queue.js';
import { buildRemediation } from './remediation/build.js';
import type { AgentRuntimeStats } from './http/health.js';
import type { AgentLocalEndpoint } from './http/local-endpoint.js';
import { AgentSelfReport } from './http/self-report.js';

export interface Agent {
  start(): Promise<void>;
  /** Safe to call twice and before start. */
  stop(): Promise<void>;
  readonly hostId: string;
  readonly brokerUrl: string;
  /** The disk queue's counters, the forwarder's and the forecaster's, the cycles' and the broker connection. */
  stats(): AgentRuntimeStats;
  /**
   * The exhaustion models the agent scores with; `models.setModel(kind, …)`
   * swaps one while the agent runs (signed model updates do it through the
   * model updater).
   */
  readonly models: ModelSet;
}

/**
 * Builds the agent pipeline from its configuration:
 * collector → telemetry message → disk queue (assigns the sequence number)
 * → forwarder → MQTT publisher, and after each telemetry message the
 * prediction cycle (features → models → alert hysteresis) whose predictions
 * and alert events go into the same queue, numbered in the same sequence.
 * The aggregator's acknowledgements come back through the publisher and
 * trim the queue.
 */
export function createAgent(config: AgentConfig, log: Logger): Agent {
  const { hostId, intervalSeconds } = config.agent;
  const brokerUrl = brokerUrlOf(config);
  const modelsSection = config.agent.models;
  const takesUpdates = modelsSection.updates && modelsSection.publicKey !== undefined;
  const collector = new HostMetricsCollector({
    collect: config.agent.collect,
    log: log.child({ component: 'collector' }),
  });
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
    ...brokerLoginOf(config),
    log,
    onConnect: () => forwarder.connected(),
    onConnectionLost: () => forwarder.disconnected(),
    onAck: (ack, retained) => void forwarder.acknowledged(ack.seq, retained),
    // Model updates need the aggregator's public key; without one the agent does not even listen.
    ...(takesUpdates
      ? { onModel: (topic: string, payload: Buffer) => updater?.receive(topic, payload) }
      : {}),
  });
  const forwarder = new QueueForwarder({
    queue,
    send: (payload, tag) => {
      const kind = topicKindOfTag(tag);
      if (kind) return publisher.publishPayload(kind, payload);
      // A record from a newer agent version's queue: its number stays a hole that the aggregator skips.
      unknownTagLog.warn({ tag }, 'queued message of an unknown kind; not published');
      return Promise.resolve();
    },
    renumber: renumberPayload,
    log: log.child({ component: 'forwarder' }),
  });
  const unknownTagLog = new RateLimitedLog(log);
  const inferenceLog = log.child({ component: 'inference' });
  const models = new ModelSet();
  let updater: ModelUpdater | undefined; // built in start(), once the public key is read
  const forecaster = new ResourceForecaster({
    models,
    exhaustion: config.exhaustion,
    log: inferenceLog,
    onScored: (model, outcome) => updater?.scored(model, outcome),
  });
  const alertState = new AlertStateFile(alertStateFileOf(config), log.child({ component: 'alerts' }));
  let predictionCycle: PredictionCycle | undefined; // built in start(), after the saved alerts are read
  const inferenceErrorLog = new RateLimitedLog(inferenceLog);
  // Playbooks fed each cycle's predictions; every decision is an event in the same queue.
  const remediation = buildRemediation(
    config,
    async (build) => {
      await enqueue('events', build);
      forwarder.appended();
    },
    log.child({ component: 'remediation' }),
  );
  let timer: NodeJS.Timeout | undefined;
  let cycle: Promise<void> | undefined;
  let state: 'new' | 'running' | 'stopped' = 'new';
  // What /healthz and /metrics report; the endpoint itself (and prom-client) is loaded only when enabled.
  const report = new AgentSelfReport();
  let localEndpoint: AgentLocalEndpoint | undefined;

  /** Appends one message to the queue, which gives it its sequence number. */
  async function enqueue(kind: SequencedTopicKind, build: (seq: number) => SequencedMessage): Promise<void> {
    await queue.append(
      (seq) => Buffer.from(JSON.stringify(report.queued(kind, build(seq)))),
      queueTagOf(kind),
    );
  }

  async function runCycle(): Promise<void> {
    const metrics = await collector.collect();
    const telemetry: Omit<TelemetryMessage, 'seq'> = {
      schemaVersion: SCHEMA_VERSION,
      hostId,
      timestamp: Date.now(),
      intervalSeconds,
      metrics,
    };
    try {
      await enqueue('telemetry', (seq) => ({ ...telemetry, seq }));
    } catch (err) {
      log.error({ err: errorMessage(err), queue: queueDir }, 'telemetry not queued; this sample is lost');
      report.telemetryLost();
      return;
    }
    forwarder.appended();
    if (!predictionCycle) return;
    try {
      // Telemetry is out first: a failing forecast never costs a sample.
      const { predictions, events } = await predictionCycle.run(telemetry);
      for (const build of predictions) await enqueue('predictions', build);
      for (const build of events) await enqueue('events', build);
      // The builders only add the sequence number: their predictions are this cycle's.
      remediation?.observe(
        predictions.flatMap((build) => build(0).predictions),
        telemetry.timestamp,
      );
    } catch (err) {
      inferenceErrorLog.warn({ err: errorMessage(err) }, 'prediction cycle failed; telemetry continues');
      report.forecastFailed();
    }
    forwarder.appended();
  }

  /**
   * Loads the models once and restores the raised alerts. Resources of a
   * kind without a model are still fed to their extractors, so a model that
   * arrives later (`models.setModel`) starts from their history.
   */
  async function startInference(): Promise<void> {
    const { dir, configured } = modelsDirOf(config.agent.models);
    const loaded = await loadModelDir(dir, {
      configured,
      source: 'bundled',
      log: inferenceLog,
      engine: modelsSection.engine,
    });
    for (const [kind, model] of loaded) await models.setModel(kind, model);
    const fleet = await startModelUpdates();
    inferenceLog.info(
      {
        dir,
        kinds: [...loaded.keys()],
        fleet,
        rssMiB: Math.round(process.memoryUsage().rss / 1048576),
      },
      models.keys().length > 0
        ? 'forecast models loaded'
        : 'no forecast models; predictions start when one is set',
    );
    publisher.setModels(models.refs());
    const alerts = new AlertHysteresis(
      { ...config.agent.alerts, noForecastAfterMs: NO_FORECAST_RESOLVE_MS },
      await alertState.load(),
    );
    predictionCycle = new PredictionCycle({ hostId, forecaster, alerts, alertState });
  }

  /**
   * Reads the aggregator's public key and puts the fleet models saved by
   * earlier runs in place (checked again); returns their keys. Without a key
   * (or with updates off) the agent keeps its bundled models.
   */
  async function startModelUpdates(): Promise<string[]> {
    const modelLog = log.child({ component: 'model-updates' });
    if (!modelsSection.updates) {
      modelLog.info('model updates are off (agent.models.updates); the agent keeps its bundled models');
      return [];
    }
    if (modelsSection.publicKey === undefined) {
      modelLog.warn(
        'agent.models.publicKey is not set: model updates from the aggregator are refused and the agent ' +
          "keeps its bundled models; set it to the aggregator's model-signing.pub to take them",
      );
      return [];
    }
    updater = new ModelUpdater({
      hostId,
      publicKey: readModelPublicKey(modelsSection.publicKey),
      models,
      store: new FleetModelStore(fleetModelsDirOf(config), modelLog),
      exhaustion: config.exhaustion,
      emit: async (build) => {
        await enqueue('events', build);
        forwarder.appended();
      },
      onModelsChanged: () => publisher.setModels(models.refs()),
      log: modelLog,
      engine: modelsSection.engine,
    });
    return updater.restore();
  }

  function stats(): AgentRuntimeStats {
    return {
      queue: queue.stats(),
      forwarder: forwarder.stats(),
      forecaster: forecaster.stats(),
      cycles: report.stats(),
      brokerConnected: publisher.connected,
    };
  }

  /** Binds `agent.http` first, so a taken port stops the start before anything else runs. */
  async function startLocalEndpoint(): Promise<AgentLocalEndpoint> {
    const { AgentLocalEndpoint } = await import('./http/local-endpoint.js');
    const endpoint = new AgentLocalEndpoint({
      ...config.agent.http,
      report,
      sources: {
        hostId,
        version: VERSION,
        brokerUrl,
        intervalSeconds,
        queueMaxBytes: config.agent.queue.maxSize,
        startedAt: Date.now(),
        stats,
        models: () => models.refs(),
      },
      log: log.child({ component: 'http' }),
    });
    await endpoint.start();
    return endpoint;
  }

  /** Runs a cycle unless the previous one is still busy, then schedules the next on the interval grid. */
  function tick(): void {
    if (state !== 'running') return;
    if (!cycle) {
      cycle = report
        .cycle(runCycle)
        .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'collection failed'))
        .finally(() => (cycle = undefined));
    }
    const periodMs = intervalSeconds * 1000;
    timer = setTimeout(tick, periodMs - (Date.now() % periodMs));
  }

  return {
    hostId,
    brokerUrl,
    models,
    stats,
    async start() {
      if (state !== 'new') return;
      if (config.agent.http.enabled) localEndpoint = await startLocalEndpoint();
      await startInference();
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
      await localEndpoint?.stop();
      if (state !== 'running') {
        state = 'stopped';
        await updater?.stop();
        await models.close();
        return;
      }
      state = 'stopped';
      clearTimeout(timer);
      await cycle;
      // Decisions under way are audited before the queue closes; a running command is stopped.
      await remediation?.stop();
      // A model update in progress finishes (its event is queued) before the queue closes.
      await updater?.stop();
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
      await models.close();
      const { lastSeq, confirmedSeq, ...counters } = queue.stats();
      const { cycles, cpuMs } = forecaster.stats();
      const forecastCpuMsPerCycle = cycles > 0 ? Number((cpuMs / cycles).toFixed(3)) : undefined;
      log.info({ hostId, lastSeq, confirmedSeq, queue: counters, forecastCpuMsPerCycle }, 'agent stopped');
    },
  };
}
