/**
 * Turns a model message into a model ready to serve, or says why not: the
 * wire checks (shared/signing/signed-model.ts: size, schema, signature,
 * SHA-256s, feature schema), then the ONNX metadata must agree with the
 * signed manifest, onnxruntime must load it, and it must pass the smoke
 * test. Used for updates off the broker and for the copies saved in the
 * data dir alike.
 */
import type { ScoringEngine } from '../../shared/inference/scorer.js';
import { errorMessage } from '../../shared/errors.js';
import { FEATURE_SCHEMA } from '../../shared/features/index.js';
import { readOnnxMetadata } from '../../shared/inference/onnx-metadata.js';
import type { ExhaustionConfig } from '../../shared/resources/exhaustion.js';
import type { VerifyKey } from '../../shared/signing/ed25519.js';
import { verifyModelMessage, type VerifiedModel } from '../../shared/signing/signed-model.js';
import type { ModelRejectReason } from '../../shared/wire/events.js';
import { loadServingModel } from '../inference/model-dir.js';
import { releaseServingModel, type ServingModel } from '../inference/model-set.js';
import { smokeTest } from './smoke-test.js';

export type CandidateVerdict =
  | { ok: true; verified: VerifiedModel; serving: ServingModel }
  | {
      ok: false;
      reason: ModelRejectReason;
      detail: string;
      claimed?: { version: string; sha256: string } | undefined;
      /** Set once the signature held: the message is genuine, only its model is not usable. */
      verified?: VerifiedModel;
    };

export interface CandidateOptions {
  /** The topic key it came on; unset for a saved copy. */
  key?: string | undefined;
  publicKey: VerifyKey;
  exhaustion: ExhaustionConfig;
  /** The engine the model will serve with, and is loaded and smoke-tested with. Default onnxruntime. */
  engine?: ScoringEngine | undefined;
}

/** Verifies the message; only a message that passed the signature and hash checks is handed to a scoring engine. */
export function verifyCandidate(payload: Uint8Array, options: CandidateOptions) {
  return verifyModelMessage(payload, {
    key: options.key,
    publicKey: options.publicKey,
    featureSchemaHash: FEATURE_SCHEMA.hash,
  });
}

/** Loads a verified model and smoke-tests it; the caller owns the returned model. */
export async function loadCandidate(
  verified: VerifiedModel,
  options: Pick<CandidateOptions, 'exhaustion' | 'engine'>,
): Promise<CandidateVerdict> {
  const { exhaustion, engine } = options;
  const { manifest, artifacts, key } = verified;
  const claimed = { version: manifest.version, sha256: manifest.sha256 };
  const fail = (reason: ModelRejectReason, detail: string): CandidateVerdict => ({
    ok: false,
    reason,
    detail,
    claimed,
    verified,
  });
  let featureSchemaHash: string;
  try {
    featureSchemaHash = readOnnxMetadata(artifacts.onnx).featureSchemaHash;
  } catch (err) {
    return fail('load', errorMessage(err));
  }
  if (featureSchemaHash !== manifest.featureSchemaHash) {
    return fail(
      'schema',
      `the ONNX metadata names feature schema ${featureSchemaHash.slice(0, 12)}…, the signed manifest ` +
        `${manifest.featureSchemaHash.slice(0, 12)}…`,
    );
  }
  let serving: ServingModel;
  try {
    serving = await loadServingModel(
      manifest.kind,
      { model: artifacts.onnx, band: artifacts.band },
      { source: 'fleet', version: manifest.version, engine },
    );
  } catch (err) {
    return fail('load', errorMessage(err));
  }
  let problem: string | undefined;
  try {
    problem = await smokeTest(serving, key, exhaustion);
  } catch (err) {
    problem = `scoring failed: ${errorMessage(err)}`;
  }
  if (problem) {
    await releaseServingModel(serving);
    return fail('smoke', problem);
  }
  return { ok: true, verified, serving };
}

/** Both steps: verify, then load and smoke-test. */
export async function prepareCandidate(
  payload: Uint8Array,
  options: CandidateOptions,
): Promise<CandidateVerdict> {
  const verdict = verifyCandidate(payload, options);
  if (!verdict.ok) return verdict;
  return loadCandidate(verdict.model, options);
}
