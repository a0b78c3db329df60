/**
 * A virtual host's forecast models and signed model updates, with the
 * agent's own code: the bundled models (agent.models.dir, else
 * models/baseline) loaded by loadModelDir into a ModelSet, the agent's
 * ModelUpdater (verify signature, SHA-256 and feature schema, load, smoke
 * test, swap), and a FleetModelStore under
 * `{dataDir}/fleet-models/{hostId}/`, so a restarted simulation starts with
 * the models its hosts had adopted. The host's status names its models as
 * an agent's does, and its model events go out on its events topic.
 *
 * Virtual hosts do not score predictions, so there are no live rows to put
 * a new model on probation with: a model that passed the smoke test is kept
 * at once (probation of zero cycles).
 */
import { join, resolve } from 'node:path';
import { DEFAULT_AGENT_SCORING_ENGINE } from '../../agent/inference/config.js';
import { loadModelDir } from '../../agent/inference/model-dir.js';
import { ModelSet } from '../../agent/inference/model-set.js';
import type { EventBuilder } from '../../agent/model-updates/model-events.js';
import { FleetModelStore } from '../../agent/model-updates/fleet-model-store.js';
import { ModelUpdater } from '../../agent/model-updates/model-updater.js';
import type { Logger } from '../../shared/log.js';
import type { ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import type { VerifyKey } from '../../shared/signing/ed25519.js';
import type { ModelRef } from '../../shared/wire/predictions.js';

/** What every virtual host that takes model updates shares. */
export interface ModelUpdateSettings {
  publicKey: VerifyKey;
  /** The bundled models' directory; undefined: none. */
  modelsDir: string | undefined;
  /** Whether `modelsDir` was configured (then it must exist). */
  modelsDirConfigured: boolean;
  /** Each host keeps its adopted models in `{dataDir}/fleet-models/{hostId}/`, as an agent does. */
  dataDir: string;
  exhaustion: ExhaustionConfig;
  /** How many virtual hosts (the first ones) take updates. */
  maxHosts: number;
}

export interface HostModelsOptions {
  hostId: string;
  settings: ModelUpdateSettings;
  /** Publishes one of the updater's events, numbered in the host's sequence. */
  emit: (build: EventBuilder) => Promise<void>;
  /** The host's models changed (loaded, adopted, rolled back): its status should name them. */
  onModelsChanged: (models: Record<string, ModelRef>) => void;
  log: Logger;
}

export class HostModels {
  private readonly models = new ModelSet();
  private readonly updater: ModelUpdater;

  constructor(private readonly options: HostModelsOptions) {
    const { hostId, settings, log } = options;
    this.updater = new ModelUpdater({
      hostId,
      publicKey: settings.publicKey,
      models: this.models,
      store: new FleetModelStore(resolve(join(settings.dataDir, 'fleet-models', hostId)), log),
      exhaustion: settings.exhaustion,
      emit: options.emit,
      engine: DEFAULT_AGENT_SCORING_ENGINE,
      onModelsChanged: () => options.onModelsChanged(this.models.refs()),
      log,
      probationCycles: 0,
    });
  }

  /** Loads the bundled models, then the ones adopted by earlier runs; resolves with the models served. */
  async start(): Promise<Record<string, ModelRef>> {
    const { settings, log } = this.options;
    const loaded = await loadModelDir(settings.modelsDir, {
      configured: settings.modelsDirConfigured,
      source: 'bundled',
      log,
      engine: DEFAULT_AGENT_SCORING_ENGINE,
    });
    for (const [kind, model] of loaded) await this.models.setModel(kind, model);
    await this.updater.restore();
    const refs = this.models.refs();
    this.options.onModelsChanged(refs);
    return refs;
  }

  /** A message on one of the host's model topics (fleet or its own), unchecked: the updater checks it. */
  receive(topic: string, payload: Buffer): void {
    this.updater.receive(topic, payload);
  }

  /** Finishes the update in progress and releases every model. Safe to call twice and before start. */
  async stop(): Promise<void> {
    await this.updater.stop();
    await this.models.close();
  }
}
