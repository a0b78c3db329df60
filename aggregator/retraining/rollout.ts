/**
 * Rollout of promoted models to the agents: each model is signed with the
 * aggregator's Ed25519 key (generated in the data dir on first start) and
 * published retained:
 *
 * 1. **canary**: on the canary hosts' own topics
 *    `cloudsense/v1/hosts/{hostId}/models/{key}`, which take precedence over
 *    the fleet topic on those hosts; the fleet topic
 *    `cloudsense/v1/models/{key}` keeps the model the fleet had, so every
 *    other host, and a new one, takes that. The canary hosts are a fixed,
 *    deterministic share (`canaryPercent`, at least one) of the online hosts
 *    whose status names a model for the key, by rollout bucket;
 * 2. after `canaryHold`, **fleet**: the model on the fleet topic, then the
 *    canary hosts' topics cleared (empty retained payload: follow the fleet
 *    topic), when the canary held: no host rejected the model or rolled it
 *    back (`model.rejected` / `model.rolled_back` events), and every canary
 *    host reports it in its status. When it did not hold, the canary
 *    hosts' topics are cleared and `onCanaryFailed` is called (the loop's
 *    rollback).
 *
 * A rollback skips the canary: the model it brings back served the fleet
 * before; it goes on the fleet topic and any canary topics are cleared.
 * Rollout state is kept in `retraining/rollouts.json`, so a canary pending
 * at a restart is judged after it. See docs/retraining.md#rollout.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import {
  type SigningKey,
  generateSigningKeyPair,
  parseSigningKey,
  rawPublicKey,
  verifyKeyOf,
} from '../../shared/signing/ed25519.js';
import { encodeModelMessage, signModel } from '../../shared/signing/signed-model.js';
import { MODEL_ADOPTED, MODEL_REJECTED, MODEL_ROLLED_BACK } from '../../shared/wire/events.js';
import { MAX_MODEL_MESSAGE_BYTES, kindOfModelKey, modelRolloutBucket } from '../../shared/wire/models.js';
import type { ModelRef } from '../../shared/wire/model-ref.js';
import { hostModelTopic, modelTopic } from '../../shared/wire/topics.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import type { PromotedModel } from './promoted-model.js';
import { RETRAINING_DIR } from './retraining-log.js';

/** Under the data dir: the aggregator's model-signing key pair (the names `cloudsense keys generate` writes). */
export const KEYS_DIR = 'keys';
export const PRIVATE_KEY_FILE = 'model-signing.key';
export const PUBLIC_KEY_FILE = 'model-signing.pub';
const ROLLOUTS_FILE = 'rollouts.json';
/** Most events read per host when a canary is judged. */
const MAX_EVENTS_PER_HOST = 10_000;

export interface RolloutSettings {
  /** Share of the hosts (at least one, by rollout bucket) that get a new model first, 0..100; 0 or 100 skips the canary. */
  canaryPercent: number;
  /** How long the canary runs before it is judged, ms. */
  canaryHold: number;
}

export interface PublicModelKey {
  /** SPKI PEM, as `model-signing.pub` holds it. */
  pem: string;
  /** The raw key in base64: the inline form for `agent.models.publicKey`. */
  base64: string;
}

/** One key's rollout state. */
export interface RolloutState {
  key: string;
  version: string;
  stage: 'canary' | 'fleet';
  /** ISO 8601: when this stage was published. */
  since: string;
  model: PromotedModel;
  /** The hosts whose own model topic holds this model (the canary's); cleared at the fleet stage. */
  canaryHosts?: string[];
  /** At the canary stage: the model the fleet topic holds meanwhile (none when the fleet had none). */
  fleet?: PromotedModel;
  /** Canary verdict, once judged. */
  canary?: CanaryVerdict;
}

export interface CanaryVerdict {
  /** `model.adopted` / `model.rejected` / `model.rolled_back` events of this model since the canary began. */
  adopted: number;
  rejected: number;
  rolledBack: number;
  /** Canary hosts whose status does not report this version for the key. */
  missing: string[];
  held: boolean;
}

/** What the rollout needs to know of a host (the aggregator's host registry). */
export interface RolloutHost {
  id: string;
  online: boolean;
  /** The models its last status named, by key. */
  models: Record<string, ModelRef> | null;
}

export interface ModelRolloutOptions {
  dataDir: string;
  settings: RolloutSettings;
  /** Publishes retained (QoS 1) on the broker. */
  publish: (topic: string, payload: Buffer) => Promise<void>;
  /** Where the agents' model events are stored (the canary's verdict). */
  store: TelemetryStore;
  /**
   * The hosts the aggregator knows: the canary is chosen from them, and
   * judged by their status. Without it no host qualifies, and every model
   * goes to the fleet at once.
   */
  hosts?: () => readonly RolloutHost[];
  log: Logger;
  /** A canary that did not hold: bring the previous model back. */
  onCanaryFailed?: (key: string, reason: string) => Promise<unknown> | void;
  now?: () => number;
}

export class ModelRollout {
  private signingKey: SigningKey | undefined;
  private publicModelKey: PublicModelKey | undefined;
  private states: Record<string, RolloutState> = {};
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly options: ModelRolloutOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads (or, on first start, generates) the signing key and resumes a pending canary. */
  async start(): Promise<void> {
    const keys = await loadOrCreateSigningKey(this.options.dataDir);
    this.signingKey = keys.signingKey;
    this.publicModelKey = keys.publicKey;
    this.states = await this.readStates();
    await this.republish();
    for (const state of Object.values(this.states)) {
      if (state.stage === 'canary' && !state.canary) this.scheduleCanaryCheck(state);
    }
  }

  /**
   * Publishes again what the model topics held before a restart: a broker
   * that keeps retained messages in memory only (the embedded one) starts
   * empty, and a new agent would find no fleet model until the next
   * promotion. Agents that hold the model already do not reload it (same
   * version and SHA-256). A canary pending at the restart goes back on its
   * hosts' topics, and the model the fleet had on the fleet topic.
   */
  private async republish(): Promise<void> {
    for (const state of Object.values(this.states)) {
      const publications: Array<[PromotedModel, string]> =
        state.stage === 'fleet'
          ? [[state.model, modelTopic(state.key)]]
          : [
              ...(state.fleet ? [[state.fleet, modelTopic(state.key)] as [PromotedModel, string]] : []),
              ...(state.canaryHosts ?? []).map(
                (hostId) => [state.model, hostModelTopic(hostId, state.key)] as [PromotedModel, string],
              ),
            ];
      try {
        for (const [model, topic] of publications) await this.publishModel(model, topic);
      } catch (err) {
        this.options.log.warn(
          { key: state.key, version: state.version, err: errorMessage(err) },
          'model not published again after the restart; agents keep the one they hold',
        );
      }
    }
  }

  /** Stops the canary timers. Safe to call twice and before start. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** The public half of the signing key, for agents' `agent.models.publicKey`. */
  publicKey(): PublicModelKey {
    if (!this.publicModelKey) throw new Error('the rollout is not started');
    return this.publicModelKey;
  }

  /** Every key's rollout state. */
  list(): RolloutState[] {
    return Object.values(this.states);
  }

  /**
   * Publishes a promoted model: to the canary hosts first, or straight to the
   * fleet with `immediate` (a rollback), when there is no canary share, or
   * when no online host serves the key.
   */
  async roll(model: PromotedModel, options: { immediate?: boolean } = {}): Promise<RolloutState> {
    const { canaryPercent } = this.options.settings;
    const wantsCanary = !options.immediate && canaryPercent > 0 && canaryPercent < 100;
    const canaryHosts = wantsCanary
      ? chooseCanaryHosts(this.options.hosts?.() ?? [], model.key, canaryPercent)
      : [];
    const canary = canaryHosts.length > 0;
    if (wantsCanary && !canary) {
      this.options.log.warn(
        { key: model.key, version: model.version },
        'no online host reports a model for this key; no canary, the model goes to every host',
      );
    }
    clearTimeout(this.timers.get(model.key));
    const previous = this.states[model.key];
    const before = previous?.canaryHosts ?? [];
    // What the fleet topic holds while this canary runs: the model the fleet was on.
    const fleet = previous?.stage === 'fleet' ? previous.model : previous?.fleet;
    if (canary) {
      for (const hostId of canaryHosts) await this.publishModel(model, hostModelTopic(hostId, model.key));
      // A canary still out for an older model: its hosts not in this one follow the fleet topic again.
      await this.clearHostTopics(
        model.key,
        before.filter((h) => !canaryHosts.includes(h)),
      );
    } else {
      await this.publishModel(model, modelTopic(model.key));
      await this.clearHostTopics(model.key, before);
    }
    const state: RolloutState = {
      key: model.key,
      version: model.version,
      stage: canary ? 'canary' : 'fleet',
      since: new Date(this.now()).toISOString(),
      model,
      ...(canary && { canaryHosts }),
      ...(canary && fleet && { fleet }),
    };
    await this.saveState(state);
    this.options.log.info(
      {
        key: model.key,
        version: model.version,
        stage: state.stage,
        canaryHosts: canary ? canaryHosts : undefined,
      },
      'model published',
    );
    if (canary) this.scheduleCanaryCheck(state);
    return state;
  }

  /**
   * Judges the canary of `key` now: the fleet gets the model when no host
   * rejected or rolled it back and every canary host reports it; else the
   * canary hosts follow the fleet topic again and onCanaryFailed runs. The
   * timer calls it after `canaryHold`.
   */
  async judgeCanary(key: string): Promise<RolloutState | undefined> {
    const state = this.states[key];
    if (!state || state.stage !== 'canary') return state;
    clearTimeout(this.timers.get(key));
    const canaryHosts = state.canaryHosts ?? [];
    const events = await this.canaryEvents(state);
    const missing = canaryHosts.filter((id) => !this.reportsVersion(id, key, state.version));
    const held = events.rejected === 0 && events.rolledBack === 0 && missing.length === 0;
    const verdict: CanaryVerdict = { ...events, missing, held };
    if (!held) {
      const reason =
        `canary of ${key} version ${state.version}: ${events.rejected} hosts rejected it, ` +
        `${events.rolledBack} rolled it back, ${missing.length} of ${canaryHosts.length} do not report it` +
        (missing.length > 0 ? ` (${missing.slice(0, 10).join(', ')})` : '');
      await this.clearHostTopics(key, canaryHosts);
      await this.saveState({ ...state, canaryHosts: [], canary: verdict });
      this.options.log.warn({ key, version: state.version, ...verdict }, 'canary did not hold');
      await this.options.onCanaryFailed?.(key, reason);
      return this.states[key];
    }
    await this.publishModel(state.model, modelTopic(key));
    await this.clearHostTopics(key, canaryHosts);
    const next: RolloutState = {
      ...state,
      stage: 'fleet',
      since: new Date(this.now()).toISOString(),
      canaryHosts: [],
      canary: verdict,
    };
    // The fleet topic now holds this model.
    delete next.fleet;
    await this.saveState(next);
    this.options.log.info(
      { key, version: state.version, ...verdict },
      'canary held; model published to every host',
    );
    return next;
  }

  /** Whether the host's last status names `version` as the fleet model serving `key`. */
  private reportsVersion(hostId: string, key: string, version: string): boolean {
    const host = this.options.hosts?.().find((h) => h.id === hostId);
    const ref = host?.models?.[key];
    return ref?.source === 'fleet' && ref.version === version;
  }

  /** Empty retained payloads on the hosts' own topics of `key`: they follow the fleet topic again. */
  private async clearHostTopics(key: string, hostIds: readonly string[]): Promise<void> {
    for (const hostId of hostIds) await this.options.publish(hostModelTopic(hostId, key), Buffer.alloc(0));
  }

  private scheduleCanaryCheck(state: RolloutState): void {
    if (this.stopped) return;
    const due = Date.parse(state.since) + this.options.settings.canaryHold;
    const timer = setTimeout(
      () => {
        this.timers.delete(state.key);
        this.judgeCanary(state.key).catch((err: unknown) =>
          this.options.log.error({ key: state.key, err: errorMessage(err) }, 'judging the canary failed'),
        );
      },
      Math.max(0, due - this.now()),
    );
    timer.unref();
    this.timers.set(state.key, timer);
  }

  /** What the agents said about this model since its canary went out. */
  private async canaryEvents(
    state: RolloutState,
  ): Promise<Pick<CanaryVerdict, 'adopted' | 'rejected' | 'rolledBack'>> {
    const { store } = this.options;
    const from = Date.parse(state.since);
    const counts = { adopted: 0, rejected: 0, rolledBack: 0 };
    for (const host of await store.latestPerHost()) {
      const events = await store.queryEvents({
        hostId: host.hostId,
        from,
        to: this.now() + 1,
        limit: MAX_EVENTS_PER_HOST,
      });
      for (const event of events) {
        if (event.type === MODEL_ADOPTED && event.sha256 === state.model.sha256) counts.adopted++;
        else if (event.type === MODEL_REJECTED && event.sha256 === state.model.sha256) counts.rejected++;
        else if (event.type === MODEL_ROLLED_BACK && event.sha256 === state.model.sha256) counts.rolledBack++;
      }
    }
    return counts;
  }

  /** Signs `model` (anew: the signature covers the time) and publishes it retained on `topic`. */
  private async publishModel(model: PromotedModel, topic: string): Promise<void> {
    if (!this.signingKey) throw new Error('the rollout is not started');
    const kind = kindOfModelKey(model.key);
    const onnx = await readFile(model.modelPath);
    const band = model.band && {
      p10: await readFile(model.band.p10),
      p50: await readFile(model.band.p50),
      p90: await readFile(model.band.p90),
    };
    const message = signModel(
      {
        kind,
        resource: model.key === kind ? undefined : model.key,
        version: model.version,
        createdAt: this.now(),
        featureSchemaHash: model.featureSchemaHash,
      },
      { onnx, band },
      this.signingKey,
    );
    const payload = encodeModelMessage(message);
    if (payload.length > MAX_MODEL_MESSAGE_BYTES) {
      throw new Error(
        `the signed ${model.key} model is ${payload.length} bytes; agents take at most ${MAX_MODEL_MESSAGE_BYTES}`,
      );
    }
    await this.options.publish(topic, payload);
  }

  private get statesFile(): string {
    return join(this.options.dataDir, RETRAINING_DIR, ROLLOUTS_FILE);
  }

  private async readStates(): Promise<Record<string, RolloutState>> {
    try {
      return JSON.parse(await readFile(this.statesFile, 'utf8')) as Record<string, RolloutState>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      this.options.log.warn({ err: errorMessage(err) }, 'rollout state unreadable; starting afresh');
      return {};
    }
  }

  private async saveState(state: RolloutState): Promise<void> {
    this.states = { ...this.states, [state.key]: state };
    await mkdir(join(this.options.dataDir, RETRAINING_DIR), { recursive: true });
    await writeFileAtomic(this.statesFile, `${JSON.stringify(this.states, null, 2)}\n`);
  }
}

/**
 * The aggregator's signing key from `<data dir>/keys/`, generated there on
 * first start: the private key with mode 0600, the public key beside it for
 * the agents. An existing pair (e.g. from `cloudsense keys generate --out
 * <data dir>/keys`) is kept.
 */
export async function loadOrCreateSigningKey(
  dataDir: string,
): Promise<{ signingKey: SigningKey; publicKey: PublicModelKey; created: boolean }> {
  const dir = join(dataDir, KEYS_DIR);
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  let created = false;
  let privatePem: string;
  try {
    privatePem = await readFile(privatePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const pair = generateSigningKeyPair();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // 'wx': two aggregators starting at once on one data dir must not overwrite each other's key.
    await writeFile(privatePath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    await chmod(privatePath, 0o600);
    await writeFile(join(dir, PUBLIC_KEY_FILE), pair.publicKeyPem, { mode: 0o644 });
    privatePem = pair.privateKeyPem;
    created = true;
  }
  const signingKey = parseSigningKey(privatePem);
  const verify = verifyKeyOf(signingKey);
  const pem = verify.key.export({ type: 'spki', format: 'pem' }).toString();
  return { signingKey, publicKey: { pem, base64: rawPublicKey(verify) }, created };
}

/**
 * The canary hosts of `key`: `percent` of the online hosts whose status names
 * a model for the key or its kind (hosts that score it; a simulated host
 * names none), at least one, taken in rollout-bucket order
 * (`modelRolloutBucket`, then id) so the same hosts go first every time and
 * a larger share keeps them. Empty when no host qualifies.
 */
export function chooseCanaryHosts(hosts: readonly RolloutHost[], key: string, percent: number): string[] {
  const kind = kindOfModelKey(key);
  const candidates = hosts
    .filter((h) => h.online && h.models !== null && (h.models[key] ?? h.models[kind]) !== undefined)
    .map((h) => ({ id: h.id, bucket: modelRolloutBucket(h.id) }))
    .sort((a, b) => a.bucket - b.bucket || a.id.localeCompare(b.id));
  if (candidates.length === 0) return [];
  const count = Math.max(1, Math.floor((candidates.length * percent) / 100));
  return candidates.slice(0, count).map((c) => c.id);
}
