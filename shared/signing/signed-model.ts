/**
 * Signing and verifying model messages (shared/wire/models.ts): what the
 * aggregator (and `cloudsense model publish`) does before publishing, and
 * the checks an agent runs before it lets a model near onnxruntime, in this
 * order, cheapest and most fundamental first:
 *
 *   size → JSON and schema → topic → signature → SHA-256s → feature schema
 *
 * Loading and the smoke test come after, on the agent.
 */
import { createHash } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { ModelRejectReason } from '../wire/events.js';
import {
  MAX_MODEL_MESSAGE_BYTES,
  ModelMessageSchema,
  modelKeyOf,
  modelSignedBytes,
  type ModelManifest,
  type ModelMessage,
  type ModelTargets,
} from '../wire/models.js';
import { SCHEMA_VERSION } from '../wire/telemetry.js';
import { signBytes, verifyBytes, type SigningKey, type VerifyKey } from './ed25519.js';

/** The ONNX bytes a model message carries. */
export interface ModelArtifacts {
  onnx: Uint8Array;
  band?: { p10: Uint8Array; p50: Uint8Array; p90: Uint8Array } | undefined;
}

/** What the signer says about a model; the SHA-256s are computed from the bytes. */
export interface ModelDescription {
  kind: ModelMessage['kind'];
  resource?: string | undefined;
  version: string;
  createdAt: number;
  featureSchemaHash: string;
  targets?: ModelTargets | undefined;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Builds and signs a model message (validated against the wire schema, so nothing unverifiable goes out). */
export function signModel(
  description: ModelDescription,
  artifacts: ModelArtifacts,
  key: SigningKey,
): ModelMessage {
  const { band } = artifacts;
  const manifest: ModelManifest = {
    schemaVersion: SCHEMA_VERSION,
    kind: description.kind,
    ...(description.resource !== undefined ? { resource: description.resource } : {}),
    version: description.version,
    createdAt: description.createdAt,
    featureSchemaHash: description.featureSchemaHash,
    sha256: sha256Hex(artifacts.onnx),
    ...(band
      ? {
          band: {
            p10: { sha256: sha256Hex(band.p10) },
            p50: { sha256: sha256Hex(band.p50) },
            p90: { sha256: sha256Hex(band.p90) },
          },
        }
      : {}),
    ...(description.targets ? { targets: description.targets } : {}),
  };
  const artifact = (bytes: Uint8Array, sha256: string) => ({ sha256, onnx: base64(bytes) });
  const message = {
    ...manifest,
    onnx: base64(artifacts.onnx),
    ...(band && manifest.band
      ? {
          band: {
            p10: artifact(band.p10, manifest.band.p10.sha256),
            p50: artifact(band.p50, manifest.band.p50.sha256),
            p90: artifact(band.p90, manifest.band.p90.sha256),
          },
        }
      : {}),
    signature: signBytes(modelSignedBytes(manifest), key).toString('base64'),
  };
  return ModelMessageSchema.parse(message);
}

/** The message as published: UTF-8 JSON. */
export function encodeModelMessage(message: ModelMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

/** A model message that passed every check: its signed manifest and the decoded bytes. */
export interface VerifiedModel {
  /** The topic key: the model's resource id, or its kind. */
  key: string;
  manifest: ModelManifest;
  /** Base64, as received: tells two signed messages apart. */
  signature: string;
  artifacts: ModelArtifacts;
}

export type ModelVerdict =
  | { ok: true; model: VerifiedModel }
  | {
      ok: false;
      reason: ModelRejectReason;
      /** A sentence for people. */
      detail: string;
      /** What the message claims to be, once it parsed (unverified unless the reason comes after the signature). */
      claimed?: { version: string; sha256: string };
    };

export interface VerifyOptions {
  /** The key of the topic the message came on; the message must be for it. Unset: not checked (a saved copy). */
  key?: string | undefined;
  publicKey: VerifyKey;
  /** The feature schema this build computes (FEATURE_SCHEMA.hash). */
  featureSchemaHash: string;
  maxBytes?: number;
}

/** Runs the checks in the order of the file comment; the first that fails decides. */
export function verifyModelMessage(payload: Uint8Array, options: VerifyOptions): ModelVerdict {
  const maxBytes = options.maxBytes ?? MAX_MODEL_MESSAGE_BYTES;
  if (payload.length > maxBytes) {
    return {
      ok: false,
      reason: 'size',
      detail: `${payload.length} bytes, more than the ${maxBytes} allowed`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `not JSON: ${errorMessage(err)}` };
  }
  const parsed = ModelMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.') || '(root)';
    return { ok: false, reason: 'malformed', detail: `${path}: ${issue.message}`.slice(0, 400) };
  }
  const message = parsed.data;
  const claimed = { version: message.version, sha256: message.sha256 };
  const key = modelKeyOf(message);
  if (options.key !== undefined && key !== options.key) {
    return {
      ok: false,
      reason: 'malformed',
      detail: `a model for ${key} published on the topic of ${options.key}`,
      claimed,
    };
  }
  const { onnx, band, signature, ...rest } = message;
  const manifest: ModelManifest = {
    ...rest,
    ...(band
      ? {
          band: {
            p10: { sha256: band.p10.sha256 },
            p50: { sha256: band.p50.sha256 },
            p90: { sha256: band.p90.sha256 },
          },
        }
      : {}),
  };
  if (!verifyBytes(modelSignedBytes(manifest), Buffer.from(signature, 'base64'), options.publicKey)) {
    return {
      ok: false,
      reason: 'signature',
      detail: 'the signature does not verify with the configured public key',
      claimed,
    };
  }
  const artifacts: ModelArtifacts = {
    onnx: Buffer.from(onnx, 'base64'),
    ...(band
      ? {
          band: {
            p10: Buffer.from(band.p10.onnx, 'base64'),
            p50: Buffer.from(band.p50.onnx, 'base64'),
            p90: Buffer.from(band.p90.onnx, 'base64'),
          },
        }
      : {}),
  };
  const mismatch = hashMismatch(manifest, artifacts);
  if (mismatch) return { ok: false, reason: 'hash', detail: mismatch, claimed };
  if (manifest.featureSchemaHash !== options.featureSchemaHash) {
    return {
      ok: false,
      reason: 'schema',
      detail:
        `trained on feature schema ${manifest.featureSchemaHash.slice(0, 12)}…, ` +
        `this agent computes ${options.featureSchemaHash.slice(0, 12)}…`,
      claimed,
    };
  }
  return { ok: true, model: { key, manifest, signature, artifacts } };
}

function hashMismatch(manifest: ModelManifest, artifacts: ModelArtifacts): string | undefined {
  const pairs: Array<[string, string, Uint8Array]> = [['onnx', manifest.sha256, artifacts.onnx]];
  if (manifest.band && artifacts.band) {
    for (const q of ['p10', 'p50', 'p90'] as const) {
      pairs.push([`band.${q}`, manifest.band[q].sha256, artifacts.band[q]]);
    }
  }
  for (const [what, expected, bytes] of pairs) {
    const actual = sha256Hex(bytes);
    if (actual !== expected) {
      return `SHA-256 of ${what} is ${actual.slice(0, 12)}…, the signed manifest says ${expected.slice(0, 12)}…`;
    }
  }
  return undefined;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
