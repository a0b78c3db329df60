/**
 * The signed model message, retained on `cloudsense/v1/models/{key}`
 * (topics.ts): an exhaustion forecast in ONNX, optionally with its
 * time-to-exhaustion band, and an Ed25519 signature by the aggregator over a
 * canonical byte string of the manifest (every field but the ONNX bytes and
 * the signature; the bytes are covered by their SHA-256). docs/mqtt.md
 * describes it for other implementations.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RESOURCE_KINDS, isResourceKind, parseResourceId } from '../resources/resource-id.js';
import { CanonicalResourceIdSchema } from './predictions.js';
import { HostIdSchema, SCHEMA_VERSION } from './telemetry.js';

/**
 * Largest model message an agent reads, bytes (16 MiB), checked before
 * parsing. A 1000-tree depth-6 forecast is about 2-4 MB of ONNX, 3-5 MB in
 * base64; the band's three quantile models are of the same order.
 */
export const MAX_MODEL_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The first field of the signed bytes: says what they are, so a signature cannot be replayed elsewhere. */
export const MODEL_SIGNATURE_PURPOSE = 'cloudsense.model.v1';

/** A model's version label: 1-64 of `A-Z a-z 0-9 . _ : + -`, starting with a letter or digit (a run id fits). */
export const ModelVersionSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$/, 'version: 1-64 of A-Z a-z 0-9 . _ : + -');

export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex');

/** Standard base64 with padding. */
const Base64Schema = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64')
  .refine((s) => s.length % 4 === 0, 'not padded base64');

/** What a model serves: a resource kind, or a canonical resource id for a model of that one resource. */
export const ModelKeySchema = z
  .string()
  .max(3000)
  .refine(isModelKey, 'a resource kind or a canonical resource id');

export function isModelKey(key: string): boolean {
  if (isResourceKind(key)) return true;
  return CanonicalResourceIdSchema.safeParse(key).success;
}

/** The resource kind of a model key. */
export function kindOfModelKey(key: string): (typeof RESOURCE_KINDS)[number] {
  return isResourceKind(key) ? key : parseResourceId(key).kind;
}

const ArtifactSchema = z.object({
  sha256: Sha256HexSchema,
  onnx: Base64Schema,
});

/**
 * Which hosts a model is for (a canary rollout); absent: every host. A host
 * takes the model when it is in `hosts`, or when its bucket
 * (`modelRolloutBucket`) is below `percent`.
 */
export const ModelTargetsSchema = z
  .object({
    hosts: z.array(HostIdSchema).min(1).max(10_000).optional(),
    percent: z.number().int().min(0).max(100).optional(),
  })
  .refine((t) => t.hosts !== undefined || t.percent !== undefined, 'targets needs hosts or percent');
export type ModelTargets = z.infer<typeof ModelTargetsSchema>;

export const ModelMessageSchema = z
  .object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    kind: z.enum(RESOURCE_KINDS),
    /** Set for a model of one resource (a canonical id of `kind`); the topic key is then this id. */
    resource: CanonicalResourceIdSchema.optional(),
    /** The model's version label, shown in predictions and the agent's status. */
    version: ModelVersionSchema,
    /** When the aggregator signed it, Unix epoch ms. */
    createdAt: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** The feature schema the model was trained on; the agent's must be the same. */
    featureSchemaHash: Sha256HexSchema,
    /** SHA-256 of the ONNX bytes (after base64 decoding). */
    sha256: Sha256HexSchema,
    /** The exhaustion forecast, ONNX, base64. */
    onnx: Base64Schema,
    /** The time-to-exhaustion band's P10/P50/P90 quantile models, when it has one. */
    band: z.object({ p10: ArtifactSchema, p50: ArtifactSchema, p90: ArtifactSchema }).optional(),
    targets: ModelTargetsSchema.optional(),
    /** Ed25519 signature of `modelSignedBytes(message)`, base64 (64 bytes). */
    signature: Base64Schema,
  })
  .refine((m) => m.resource === undefined || parseResourceId(m.resource).kind === m.kind, {
    message: 'resource must be of the model’s kind',
    path: ['resource'],
  });
export type ModelMessage = z.infer<typeof ModelMessageSchema>;

/** The signed fields of a model message: everything but the ONNX bytes and the signature. */
export type ModelManifest = Omit<ModelMessage, 'onnx' | 'band' | 'signature'> & {
  band?: { p10: { sha256: string }; p50: { sha256: string }; p90: { sha256: string } } | undefined;
};

/** The topic key of a model: its resource id when it has one, else its kind. */
export function modelKeyOf(manifest: Pick<ModelManifest, 'kind' | 'resource'>): string {
  return manifest.resource ?? manifest.kind;
}

/**
 * The bytes the signature covers: the UTF-8 of this JSON object, keys in
 * exactly this order, no whitespace, absent optional fields as `null`:
 *
 *   {"purpose":"cloudsense.model.v1","schemaVersion":1,"kind":…,"resource":…|null,
 *    "version":…,"createdAt":…,"featureSchemaHash":…,"sha256":…,
 *    "band":{"p10":…,"p50":…,"p90":…}|null,"targets":{"hosts":[…]|null,"percent":…|null}|null}
 *
 * where `band` holds the three SHA-256s. Every string the schema admits here
 * is printable ASCII without `"` or `\`, and every number an integer, so
 * any JSON encoder (e.g. Python's `json.dumps(obj, separators=(",", ":"))`)
 * produces the same bytes.
 */
export function modelSignedBytes(manifest: ModelManifest): Buffer {
  const { band, targets } = manifest;
  const canonical = {
    purpose: MODEL_SIGNATURE_PURPOSE,
    schemaVersion: manifest.schemaVersion,
    kind: manifest.kind,
    resource: manifest.resource ?? null,
    version: manifest.version,
    createdAt: manifest.createdAt,
    featureSchemaHash: manifest.featureSchemaHash,
    sha256: manifest.sha256,
    band: band ? { p10: band.p10.sha256, p50: band.p50.sha256, p90: band.p90.sha256 } : null,
    targets: targets ? { hosts: targets.hosts ?? null, percent: targets.percent ?? null } : null,
  };
  return Buffer.from(JSON.stringify(canonical), 'utf8');
}

/**
 * A host's rollout bucket, 0..99, the same for every model: the first four
 * bytes of SHA-256(UTF-8 host id) as a big-endian unsigned integer, modulo
 * 100. `percent: 5` reaches the hosts of buckets 0-4, and raising it keeps them.
 */
export function modelRolloutBucket(hostId: string): number {
  return createHash('sha256').update(hostId, 'utf8').digest().readUInt32BE(0) % 100;
}

/** Whether a model with these targets is meant for `hostId`. */
export function modelTargetsHost(targets: ModelTargets | undefined, hostId: string): boolean {
  if (!targets) return true;
  if (targets.hosts?.includes(hostId)) return true;
  return targets.percent !== undefined && modelRolloutBucket(hostId) < targets.percent;
}
