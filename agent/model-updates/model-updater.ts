/**
 * Signed model updates on the agent. The aggregator keeps one retained
 * message per model on the fleet topic `cloudsense/v1/models/{key}`, and,
 * while a canary is out, the canary's model on the canary hosts' own topic
 * `cloudsense/v1/hosts/{hostId}/models/{key}`. For each key the agent serves:
 *
 * - the model on its own host topic, when there is one that is valid, meant
 *   for this host and not rolled back here before;
 * - else the model on the fleet topic (same conditions);
 * - else the model it has.
 *
 * An empty retained payload on the host topic clears it: the agent follows
 * the fleet topic again, with the last fleet message it received (held for
 * that). A model restored from the data dir that came on the host topic
 * keeps serving after a restart until the host topic is cleared or a fleet
 * message signed after it arrives (a cleared retained message is not
 * delivered to a new subscription, so its absence alone proves nothing).
 *
 * A model to adopt goes through:
 *
 *   verify (size → schema → signature → SHA-256 → feature schema)
 *   → load (onnxruntime) → smoke test → swap (ModelSet.replace)
 *   → probation: the first `probationCycles` cycles of live rows
 *   → kept (saved to the data dir, the previous model released)
 *     or rolled back (the previous model put back) on any NaN or
 *     out-of-range probability.
 *
 * A message that fails a check is refused with a `model.rejected` event and
 * never loaded; the current model keeps serving. The model serving now,
 * signed again (a canary promoted to the fleet topic), is not loaded twice.
 * Every decision is an event handed to `emit` (the agent's disk queue).
 * Messages are handled one at a time, in arrival order.
 */
import type { ScoringEngine } from '../../shared/inference/scorer.js';
import { errorMessage } from '../../shared/errors.js';
import { RateLimitedLog, type Logger } from '../../shared/log.js';
import type { ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import type { VerifyKey } from '../../shared/signing/ed25519.js';
import { sha256Hex } from '../../shared/signing/signed-model.js';
import type { ModelRejectReason } from '../../shared/wire/events.js';
import { MAX_MODEL_MESSAGE_BYTES, isModelKey, modelTargetsHost } from '../../shared/wire/models.js';
import { parseHostModelTopic, parseModelTopic } from '../../shared/wire/topics.js';
import { releaseServingModel, type ModelSet, type ServingModel } from '../inference/model-set.js';
import type { ScoringOutcome } from '../inference/resource-forecaster.js';
import type { FleetModelStore, ModelOrigin } from './fleet-model-store.js';
import { loadCandidate, verifyCandidate } from './model-candidate.js';
import { adoptedEvent, rejectedEvent, rolledBackEvent, type EventBuilder } from './model-events.js';
import { modelIdentity } from './model-identity.js';
import { restoreFleetModels } from './restore-fleet-models.js';

/** Cycles a new model must score live rows without a NaN or out-of-range probability before it is kept. */
export const PROBATION_CYCLES = 3;

export interface ModelUpdaterOptions {
  hostId: string;
  publicKey: VerifyKey;
  models: ModelSet;
  store: FleetModelStore;
  /** The exhaustion definitions, for the smoke test's rows. */
  exhaustion: ExhaustionConfig;
  /** Queues an event; the disk queue gives it its sequence number. */
  emit: (build: EventBuilder) => Promise<void>;
  /** Called whenever the current models changed (adopted, rolled back). */
  onModelsChanged?: () => void;
  log: Logger;
  probationCycles?: number;
  /** The engine adopted models serve with. Default onnxruntime. */
  engine?: ScoringEngine | undefined;
}

/** The last message on one of a key's topics. */
interface TopicMessage {
  /** Dropped once the message is refused: it is never looked at again. */
  payload: Buffer | undefined;
  /** SHA-256 of the payload: a retained message redelivered on reconnect is not news. */
  digest: string;
  refused: boolean;
}

/** What the two topics of one key hold, as far as this agent has heard. */
interface KeyTopics {
  fleet?: TopicMessage | undefined;
  host?: TopicMessage | undefined;
  /** A restored model from the host topic: it serves until the host topic clears or a newer fleet model comes. */
  presumedHost?: { createdAt: number } | undefined;
}

/** The model the updater put in place for a key. */
interface ActiveModel {
  signature: string;
  /** SHA-256 of the message it came in. */
  digest: string;
  identity: string;
  origin: ModelOrigin;
}

/** A model in its first cycles, and what to put back should it misbehave. */
interface Probation {
  readonly key: string;
  readonly model: ServingModel;
  readonly previous: ServingModel | undefined;
  readonly previousActive: ActiveModel | undefined;
  readonly sha256: string;
  /** The signed message, saved once the model is kept; the same model signed again replaces it. */
  payload: Uint8Array;
  origin: ModelOrigin;
  cycles: number;
  settled: boolean;
}

export class ModelUpdater {
  private chain: Promise<void> = Promise.resolve();
  private readonly topics = new Map<string, KeyTopics>();
  /** The model the updater put in place for each key (absent: the bundled one). */
  private readonly active = new Map<string, ActiveModel>();
  private readonly probation = new Map<string, Probation>();
  private readonly badTopicLog: RateLimitedLog;
  private readonly probationCycles: number;
  private stopped = false;

  constructor(private readonly options: ModelUpdaterOptions) {
    this.badTopicLog = new RateLimitedLog(options.log, 60_000);
    this.probationCycles = options.probationCycles ?? PROBATION_CYCLES;
  }

  /**
   * Puts the fleet models saved by earlier runs in place of the bundled
   * ones, each checked like a new message. Returns the keys restored.
   */
  async restore(): Promise<string[]> {
    const restored = await restoreFleetModels(this.options);
    for (const { key, signature, payloadSha256, identity, origin, createdAt } of restored) {
      this.active.set(key, { signature, digest: payloadSha256, identity, origin });
      if (origin === 'host') this.topicsOf(key).presumedHost = { createdAt };
    }
    return restored.map((r) => r.key);
  }

  /** A message on a model topic, the fleet's or this host's (from the broker); handled after the ones before it. */
  receive(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    const fleetKey = parseModelTopic(topic);
    const hostTopic = fleetKey === null ? parseHostModelTopic(topic) : null;
    const origin: ModelOrigin | undefined =
      fleetKey !== null ? 'fleet' : hostTopic?.hostId === this.options.hostId ? 'host' : undefined;
    const key = fleetKey ?? hostTopic?.key;
    if (origin === undefined || key === undefined || !isModelKey(key)) {
      this.badTopicLog.warn(
        { topic },
        'ignored a message on a model topic that names no resource kind or id, or another host',
      );
      return;
    }
    const topics = this.topicsOf(key);
    if (payload.length === 0) {
      // An empty retained message clears the topic. The fleet's: nothing to adopt, the current model
      // stays. The host's: the canary is over, and the fleet topic's model serves again.
      if (origin === 'fleet') topics.fleet = undefined;
      else if (topics.host || topics.presumedHost) {
        topics.host = undefined;
        topics.presumedHost = undefined;
        this.enqueue(() => this.evaluate(key));
      }
      return;
    }
    const digest = payload.length > MAX_MODEL_MESSAGE_BYTES ? `size:${payload.length}` : sha256Hex(payload);
    if (topics[origin]?.digest === digest) return;
    topics[origin] = { payload, digest, refused: false };
    if (origin === 'host') topics.presumedHost = undefined;
    this.enqueue(() => this.evaluate(key));
  }

  /** The forecaster's report after a model scored a cycle's live rows. */
  scored(model: ServingModel, outcome: ScoringOutcome): void {
    for (const entry of this.probation.values()) {
      if (entry.model !== model || entry.settled) continue;
      if (outcome.invalid > 0) {
        entry.settled = true;
        const detail = `${outcome.invalid} of ${outcome.rows} probabilities NaN or outside 0..1 in cycle ${entry.cycles + 1}`;
        this.enqueue(() => this.rollBack(entry, detail));
      } else if (++entry.cycles >= this.probationCycles) {
        entry.settled = true;
        this.enqueue(() => this.keep(entry));
      }
    }
  }

  /** Resolves once every message received so far, and every probation verdict, has been handled. */
  async settled(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.chain) {
      seen = this.chain;
      await seen;
    }
  }

  /** Finishes the update in progress, then releases the models held for rollback. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
    const held = [...this.probation.values()];
    this.probation.clear();
    await Promise.all(held.map((p) => (p.previous ? releaseServingModel(p.previous) : undefined)));
  }

  private topicsOf(key: string): KeyTopics {
    let topics = this.topics.get(key);
    if (!topics) {
      topics = {};
      this.topics.set(key, topics);
    }
    return topics;
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain
      .then(() => (this.stopped ? undefined : task()))
      .catch((err: unknown) => this.options.log.error({ err: errorMessage(err) }, 'model update failed'));
  }

  /** Serves the host topic's model, else the fleet topic's; a topic whose model cannot serve here is passed over. */
  private async evaluate(key: string): Promise<void> {
    const topics = this.topicsOf(key);
    for (const origin of ['host', 'fleet'] as const) {
      const message = topics[origin];
      if (!message?.payload || message.refused) continue;
      if ((await this.consider(key, origin, message, message.payload, topics)) === 'serves') return;
    }
  }

  /** Adopts the message's model unless it already serves; 'passed' when it cannot serve on this host. */
  private async consider(
    key: string,
    origin: ModelOrigin,
    message: TopicMessage,
    payload: Buffer,
    topics: KeyTopics,
  ): Promise<'serves' | 'passed'> {
    const { hostId, publicKey, exhaustion, store, log } = this.options;
    const active = this.active.get(key);
    if (active?.digest === message.digest) return 'serves';
    const refuse = () => {
      message.refused = true;
      message.payload = undefined;
      return 'passed' as const;
    };
    const verdict = verifyCandidate(payload, { key, publicKey, exhaustion });
    if (!verdict.ok) {
      await this.reject(key, verdict);
      return refuse();
    }
    const verified = verdict.model;
    const { manifest } = verified;
    if (!modelTargetsHost(manifest.targets, hostId)) {
      log.info(
        { key, version: manifest.version, origin },
        'a model update for other hosts; not adopted here',
      );
      return refuse();
    }
    if (origin === 'fleet' && topics.presumedHost) {
      // The canary model restored from the data dir serves until the fleet topic moves past it.
      if (manifest.createdAt <= topics.presumedHost.createdAt) return 'serves';
      topics.presumedHost = undefined;
    }
    const identity = modelIdentity(manifest);
    if (active && (active.signature === verified.signature || active.identity === identity)) {
      await this.rebase(
        key,
        { signature: verified.signature, digest: message.digest, identity, origin },
        payload,
      );
      return 'serves';
    }
    if ((await store.rolledBack(key)) === manifest.sha256) {
      log.warn(
        { key, version: manifest.version, origin },
        'this model was rolled back on this host before; not adopted again',
      );
      return refuse();
    }
    const loaded = await loadCandidate(verified, { exhaustion, engine: this.options.engine });
    if (!loaded.ok) {
      await this.reject(key, loaded);
      return refuse();
    }
    await this.adopt(
      key,
      loaded.serving,
      { signature: verified.signature, digest: message.digest, identity, origin },
      manifest.sha256,
      payload,
    );
    return 'serves';
  }

  /**
   * The model serving `key` came again in another message (signed anew, or on
   * the other topic): no reload; the saved copy becomes that message, so a
   * restart knows which topic it follows.
   */
  private async rebase(key: string, next: ActiveModel, payload: Uint8Array): Promise<void> {
    const { store, log } = this.options;
    this.active.set(key, next);
    const pending = this.probation.get(key);
    if (pending) {
      pending.payload = payload;
      pending.origin = next.origin;
      return;
    }
    await store
      .save(key, payload, next.origin)
      .catch((err: unknown) =>
        log.warn({ key, err: errorMessage(err), dir: store.dir }, 'cannot save the fleet model'),
      );
    log.info({ key, origin: next.origin }, 'the model serving now came again; kept without reloading');
  }

  private async adopt(
    key: string,
    model: ServingModel,
    next: ActiveModel,
    sha256: string,
    payload: Uint8Array,
  ): Promise<void> {
    const { models, hostId, log } = this.options;
    // A newer model while the last one is still on probation: the one on probation becomes the fallback.
    const pending = this.probation.get(key);
    if (pending) {
      this.probation.delete(key);
      pending.settled = true;
      if (pending.previous) await releaseServingModel(pending.previous);
    }
    const previousActive = this.active.get(key);
    const previous = await models.replace(key, model);
    this.active.set(key, next);
    const entry: Probation = {
      key,
      model,
      previous,
      previousActive,
      sha256,
      payload,
      origin: next.origin,
      cycles: 0,
      settled: false,
    };
    this.probation.set(key, entry);
    log.info({ key, model: model.ref, previous: previous?.ref, origin: next.origin }, 'model update adopted');
    await this.emit(adoptedEvent(hostId, key, { sha256, model: model.ref, previous: previous?.ref }));
    this.options.onModelsChanged?.();
    if (this.probationCycles === 0) {
      entry.settled = true;
      await this.keep(entry);
    }
  }

  /** The model came through probation: save it for the next start, release the one it replaced. */
  private async keep(entry: Probation): Promise<void> {
    if (this.probation.get(entry.key) !== entry) return;
    this.probation.delete(entry.key);
    if (entry.previous) await releaseServingModel(entry.previous);
    try {
      await this.options.store.save(entry.key, entry.payload, entry.origin);
      this.options.log.info({ key: entry.key, model: entry.model.ref }, 'fleet model kept and saved');
    } catch (err) {
      this.options.log.warn(
        { key: entry.key, err: errorMessage(err), dir: this.options.store.dir },
        'cannot save the fleet model; it serves until the agent stops',
      );
    }
  }

  private async rollBack(entry: Probation, detail: string): Promise<void> {
    const { models, store, hostId, log } = this.options;
    if (this.probation.get(entry.key) !== entry) return;
    this.probation.delete(entry.key);
    await models.setModel(entry.key, entry.previous);
    if (entry.previousActive) this.active.set(entry.key, entry.previousActive);
    else this.active.delete(entry.key);
    log.warn(
      { key: entry.key, model: entry.model.ref, restored: entry.previous?.ref, detail },
      'model update rolled back',
    );
    await store
      .markRolledBack(entry.key, entry.sha256)
      .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'cannot record the rollback'));
    await this.emit(
      rolledBackEvent(hostId, entry.key, {
        sha256: entry.sha256,
        model: entry.model.ref,
        restored: entry.previous?.ref,
        detail,
      }),
    );
    this.options.onModelsChanged?.();
    // A canary model rolled back: the fleet topic's model, if it is not the one put back, serves next.
    await this.evaluate(entry.key);
  }

  private async reject(
    key: string,
    rejection: {
      reason: ModelRejectReason;
      detail: string;
      claimed?: { version: string; sha256: string } | undefined;
    },
  ): Promise<void> {
    const { reason, detail, claimed } = rejection;
    this.options.log.warn({ key, reason, detail, version: claimed?.version }, 'model update rejected');
    await this.emit(
      rejectedEvent(this.options.hostId, key, { reason, detail, ...(claimed ? { claimed } : {}) }),
    );
  }

  private async emit(build: EventBuilder): Promise<void> {
    try {
      await this.options.emit(build);
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err) }, 'model event not queued');
    }
  }
}
