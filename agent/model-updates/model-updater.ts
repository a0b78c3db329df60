/**
 * Signed model updates on the agent. The aggregator keeps one retained
 * message per model on `cloudsense/v1/models/{key}`; for each that reaches
 * the agent:
 *
 *   verify (size → schema → signature → SHA-256 → feature schema)
 *   → load (onnxruntime) → smoke test → swap (ModelSet.replace)
 *   → probation: the first `probationCycles` cycles of live rows
 *   → kept (saved to the data dir, the previous model released)
 *     or rolled back (the previous model put back) on any NaN or
 *     out-of-range probability.
 *
 * A message that fails a check is refused with a `model.rejected` event and
 * never loaded; the current model keeps serving. Every decision is an event
 * handed to `emit` (the agent's disk queue). Messages are handled one at a
 * time, in arrival order.
 */
import { errorMessage } from '../../shared/errors.js';
import { RateLimitedLog, type Logger } from '../../shared/log.js';
import type { ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import type { VerifyKey } from '../../shared/signing/ed25519.js';
import { sha256Hex } from '../../shared/signing/signed-model.js';
import type { ModelRejectReason } from '../../shared/wire/events.js';
import { MAX_MODEL_MESSAGE_BYTES, isModelKey, modelTargetsHost } from '../../shared/wire/models.js';
import { parseModelTopic } from '../../shared/wire/topics.js';
import { releaseServingModel, type ModelSet, type ServingModel } from '../inference/model-set.js';
import type { ScoringOutcome } from '../inference/resource-forecaster.js';
import type { FleetModelStore } from './fleet-model-store.js';
import { loadCandidate, verifyCandidate } from './model-candidate.js';
import { adoptedEvent, rejectedEvent, rolledBackEvent, type EventBuilder } from './model-events.js';
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
}

/** A model in its first cycles, and what to put back should it misbehave. */
interface Probation {
  readonly key: string;
  readonly model: ServingModel;
  readonly previous: ServingModel | undefined;
  readonly previousSignature: string | undefined;
  readonly sha256: string;
  readonly signature: string;
  /** The signed message, saved once the model is kept. */
  readonly payload: Uint8Array;
  cycles: number;
  settled: boolean;
}

export class ModelUpdater {
  private chain: Promise<void> = Promise.resolve();
  /** Digest of the last message handled per key: a retained message redelivered on reconnect is skipped. */
  private readonly lastPayload = new Map<string, string>();
  /** Signature of the fleet model serving each key. */
  private readonly activeSignature = new Map<string, string>();
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
    for (const { key, signature, payloadSha256 } of restored) {
      this.activeSignature.set(key, signature);
      this.lastPayload.set(key, payloadSha256);
    }
    return restored.map((r) => r.key);
  }

  /** A message on a model topic (from the broker); handled after the ones before it. */
  receive(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    const key = parseModelTopic(topic);
    if (key === null || !isModelKey(key)) {
      this.badTopicLog.warn(
        { topic },
        'ignored a message on a model topic that names no resource kind or id',
      );
      return;
    }
    // An empty retained message clears the topic: nothing to adopt, and the current model stays.
    if (payload.length === 0) return;
    const digest = payload.length > MAX_MODEL_MESSAGE_BYTES ? `size:${payload.length}` : sha256Hex(payload);
    if (this.lastPayload.get(key) === digest) return;
    this.lastPayload.set(key, digest);
    this.enqueue(() => this.update(key, payload));
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

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain
      .then(() => (this.stopped ? undefined : task()))
      .catch((err: unknown) => this.options.log.error({ err: errorMessage(err) }, 'model update failed'));
  }

  private async update(key: string, payload: Buffer): Promise<void> {
    const { hostId, publicKey, exhaustion, store, log } = this.options;
    const verdict = verifyCandidate(payload, { key, publicKey, exhaustion });
    if (!verdict.ok) return this.reject(key, verdict);
    const verified = verdict.model;
    const { manifest } = verified;
    if (!modelTargetsHost(manifest.targets, hostId)) {
      log.info({ key, version: manifest.version }, 'a model update for other hosts; not adopted here');
      return;
    }
    if (this.activeSignature.get(key) === verified.signature) return;
    if ((await store.rolledBack(key)) === manifest.sha256) {
      log.warn(
        { key, version: manifest.version },
        'this model was rolled back on this host before; not adopted again',
      );
      return;
    }
    const loaded = await loadCandidate(verified, exhaustion);
    if (!loaded.ok) return this.reject(key, loaded);
    await this.adopt(key, loaded.serving, verified.signature, manifest.sha256, payload);
  }

  private async adopt(
    key: string,
    model: ServingModel,
    signature: string,
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
    const previousSignature = this.activeSignature.get(key);
    const previous = await models.replace(key, model);
    this.activeSignature.set(key, signature);
    const entry: Probation = {
      key,
      model,
      previous,
      previousSignature,
      sha256,
      signature,
      payload,
      cycles: 0,
      settled: false,
    };
    this.probation.set(key, entry);
    log.info({ key, model: model.ref, previous: previous?.ref }, 'model update adopted');
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
      await this.options.store.save(entry.key, entry.payload);
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
    if (entry.previousSignature) this.activeSignature.set(entry.key, entry.previousSignature);
    else this.activeSignature.delete(entry.key);
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
