import type { Logger } from '../../shared/log.js';
import type { ScoringEngine } from '../../shared/inference/scorer.js';
import type { ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import type { VerifyKey } from '../../shared/signing/ed25519.js';
import { sha256Hex } from '../../shared/signing/signed-model.js';
import type { ModelSet } from '../inference/model-set.js';
import type { FleetModelStore, ModelOrigin } from './fleet-model-store.js';
import { modelIdentity } from './model-identity.js';
import { prepareCandidate } from './model-candidate.js';

export interface RestoredModel {
  key: string;
  signature: string;
  origin: ModelOrigin;
  /** When the aggregator signed it, Unix epoch ms. */
  createdAt: number;
  /** Version, SHA-256s: the same model signed again is recognised (`modelIdentity`). */
  identity: string;
  /** SHA-256 of the saved message: the same message retained on the broker is not handled twice. */
  payloadSha256: string;
}

/**
 * Puts the fleet models saved by earlier runs in place of the bundled ones,
 * each checked like a new message (a file changed on disk, or a key that
 * changed since, is refused with a warning and the model already there
 * stays).
 */
export async function restoreFleetModels(options: {
  store: FleetModelStore;
  publicKey: VerifyKey;
  exhaustion: ExhaustionConfig;
  models: ModelSet;
  log: Logger;
  engine?: ScoringEngine | undefined;
}): Promise<RestoredModel[]> {
  const { store, publicKey, exhaustion, models, log, engine } = options;
  const restored: RestoredModel[] = [];
  for (const { file, payload, origin } of await store.list()) {
    const verdict = await prepareCandidate(payload, { publicKey, exhaustion, engine });
    if (!verdict.ok) {
      log.warn(
        { file, reason: verdict.reason, detail: verdict.detail },
        'a saved fleet model fails its checks; not used',
      );
      continue;
    }
    const { verified, serving } = verdict;
    await models.setModel(verified.key, serving);
    restored.push({
      key: verified.key,
      signature: verified.signature,
      origin,
      createdAt: verified.manifest.createdAt,
      identity: modelIdentity(verified.manifest),
      payloadSha256: sha256Hex(payload),
    });
    log.info(
      { key: verified.key, model: serving.ref, file, origin },
      'fleet model restored from the data dir',
    );
  }
  return restored;
}
