import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import {
  generateSigningKeyPair,
  isInlineKey,
  parseSigningKey,
  parseVerifyKey,
  rawPublicKey,
  signBytes,
  verifyBytes,
  verifyKeyOf,
} from '../../shared/signing/ed25519.js';
import { sha256Hex, verifyModelMessage, type ModelVerdict } from '../../shared/signing/signed-model.js';
import {
  ModelMessageSchema,
  modelRolloutBucket,
  modelSignedBytes,
  modelTargetsHost,
  type ModelManifest,
} from '../../shared/wire/models.js';
import { MODELS_FILTER, modelTopic, parseModelTopic } from '../../shared/wire/topics.js';
import { forecastBytes, payloadOf, signedModel } from '../helpers/signed-models.js';

// RFC 8032 section 7.1, TEST 1: the empty message.
const RFC_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const RFC_PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
const RFC_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

const pair = generateSigningKeyPair();
const signingKey = parseSigningKey(pair.privateKeyPem);
const verifyKey = parseVerifyKey(pair.publicKeyPem);
const otherKey = parseVerifyKey(generateSigningKeyPair().publicKeyPem);

function rejected(verdict: ModelVerdict): { reason: string; detail: string } {
  assert.equal(verdict.ok, false, 'expected the message to be rejected');
  if (verdict.ok) throw new Error('unreachable');
  return verdict;
}

const verify = (payload: Uint8Array, key = 'cpu') =>
  verifyModelMessage(payload, { key, publicKey: verifyKey, featureSchemaHash: FEATURE_SCHEMA.hash });

describe('Ed25519 keys and signatures', () => {
  it('matches RFC 8032 test 1 from raw base64 keys', () => {
    const key = parseSigningKey(RFC_SEED.toString('base64'));
    assert.equal(signBytes(Buffer.alloc(0), key).toString('hex'), RFC_SIGNATURE);
    const pub = parseVerifyKey(RFC_PUBLIC.toString('base64'));
    assert.equal(rawPublicKey(pub), RFC_PUBLIC.toString('base64'));
    assert.equal(rawPublicKey(verifyKeyOf(key)), RFC_PUBLIC.toString('base64'));
    assert.ok(verifyBytes(Buffer.alloc(0), Buffer.from(RFC_SIGNATURE, 'hex'), pub));
  });

  it('verifies what it signed, and nothing tampered with', () => {
    const data = Buffer.from('the bytes of a model manifest');
    const signature = signBytes(data, signingKey);
    assert.ok(verifyBytes(data, signature, verifyKey));
    assert.ok(verifyBytes(data, signature, parseVerifyKey(pair.publicKeyBase64)), 'raw base64 form');
    const tampered = Buffer.from(data);
    tampered[3] = tampered[3]! ^ 1;
    assert.equal(verifyBytes(tampered, signature, verifyKey), false);
    const badSignature = Buffer.from(signature);
    badSignature[10] = badSignature[10]! ^ 0x80;
    assert.equal(verifyBytes(data, badSignature, verifyKey), false);
    assert.equal(verifyBytes(data, signature.subarray(0, 63), verifyKey), false, 'short signature');
    assert.equal(verifyBytes(data, signature, otherKey), false, 'another key');
  });

  it('tells inline keys from paths and refuses a private key where a public one belongs', () => {
    assert.ok(isInlineKey(pair.publicKeyPem));
    assert.ok(isInlineKey(pair.publicKeyBase64));
    assert.equal(isInlineKey('/etc/cloudsense/model-signing.pub'), false);
    assert.throws(() => parseVerifyKey(pair.privateKeyPem), /private key/);
    assert.throws(() => parseVerifyKey('not a key'), /not an Ed25519 public key/);
    assert.throws(() => parseSigningKey(pair.publicKeyPem), /not an Ed25519 private key/);
  });
});

describe('model messages', () => {
  it('signs a fixed, documented byte string', () => {
    const manifest: ModelManifest = {
      schemaVersion: 1,
      kind: 'filesystem',
      resource: 'filesystem:%2Fvar',
      version: '2026-03-01.2',
      createdAt: 1795764436661,
      featureSchemaHash: 'a'.repeat(64),
      sha256: 'b'.repeat(64),
      band: {
        p10: { sha256: 'c'.repeat(64) },
        p50: { sha256: 'd'.repeat(64) },
        p90: { sha256: 'e'.repeat(64) },
      },
      targets: { hosts: ['web-01', 'db-02'], percent: 5 },
    };
    assert.equal(
      modelSignedBytes(manifest).toString('utf8'),
      '{"purpose":"cloudsense.model.v1","schemaVersion":1,"kind":"filesystem","resource":"filesystem:%2Fvar",' +
        `"version":"2026-03-01.2","createdAt":1795764436661,"featureSchemaHash":"${'a'.repeat(64)}",` +
        `"sha256":"${'b'.repeat(64)}","band":{"p10":"${'c'.repeat(64)}","p50":"${'d'.repeat(64)}",` +
        `"p90":"${'e'.repeat(64)}"},"targets":{"hosts":["web-01","db-02"],"percent":5}}`,
    );
    const minimal: ModelManifest = { ...manifest, resource: undefined, band: undefined, targets: undefined };
    assert.equal(
      modelSignedBytes(minimal).toString('utf8'),
      '{"purpose":"cloudsense.model.v1","schemaVersion":1,"kind":"filesystem","resource":null,' +
        `"version":"2026-03-01.2","createdAt":1795764436661,"featureSchemaHash":"${'a'.repeat(64)}",` +
        `"sha256":"${'b'.repeat(64)}","band":null,"targets":null}`,
    );
  });

  it('passes a well-signed model, whatever order its JSON fields come in', () => {
    const message = signedModel(signingKey, 'cpu');
    const verdict = verify(payloadOf(message));
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.model.key, 'cpu');
    assert.equal(verdict.model.manifest.sha256, sha256Hex(verdict.model.artifacts.onnx));
    const reordered = Object.fromEntries(Object.entries(message).reverse());
    assert.ok(verify(payloadOf(reordered)).ok);
  });

  it('rejects an oversized payload before parsing it', () => {
    const verdict = verifyModelMessage(Buffer.alloc(2048, 0x7b), {
      key: 'cpu',
      publicKey: verifyKey,
      featureSchemaHash: FEATURE_SCHEMA.hash,
      maxBytes: 1024,
    });
    assert.equal(rejected(verdict).reason, 'size');
  });

  it('rejects what is not JSON, not the schema, or on another model’s topic as malformed', () => {
    assert.equal(rejected(verify(Buffer.from('{"kind":'))).reason, 'malformed');
    const message = signedModel(signingKey, 'cpu');
    assert.equal(rejected(verify(payloadOf({ ...message, sha256: 'xyz' }))).reason, 'malformed');
    assert.equal(rejected(verify(payloadOf({ ...message, onnx: 'not base64!' }))).reason, 'malformed');
    const other = rejected(verify(payloadOf(message), 'memory'));
    assert.equal(other.reason, 'malformed');
    assert.match(other.detail, /for cpu published on the topic of memory/);
  });

  it('rejects a bad signature: another key, or any signed field changed', () => {
    const message = signedModel(signingKey, 'cpu');
    const foreign = verifyModelMessage(payloadOf(message), {
      key: 'cpu',
      publicKey: otherKey,
      featureSchemaHash: FEATURE_SCHEMA.hash,
    });
    assert.equal(rejected(foreign).reason, 'signature');
    for (const change of [
      { version: 'v-other' },
      { createdAt: message.createdAt + 1 },
      { targets: { percent: 100 } },
      { sha256: sha256Hex(Buffer.from('other')) },
      { signature: Buffer.alloc(64).toString('base64') },
    ]) {
      assert.equal(
        rejected(verify(payloadOf({ ...message, ...change }))).reason,
        'signature',
        JSON.stringify(change),
      );
    }
  });

  it('rejects ONNX bytes whose SHA-256 is not the signed one', () => {
    const message = signedModel(signingKey, 'cpu');
    const swapped = Buffer.from(forecastBytes('cpu', { splitAt: 0.1 })).toString('base64');
    const verdict = rejected(verify(payloadOf({ ...message, onnx: swapped })));
    assert.equal(verdict.reason, 'hash');
    assert.match(verdict.detail, /SHA-256 of onnx/);
    const band = { p10: forecastBytes('cpu'), p50: forecastBytes('cpu'), p90: forecastBytes('cpu') };
    const banded = signedModel(signingKey, 'cpu', { artifacts: { onnx: forecastBytes('cpu'), band } });
    const p90 = { ...banded.band!.p90, onnx: swapped };
    const bandVerdict = rejected(verify(payloadOf({ ...banded, band: { ...banded.band!, p90 } })));
    assert.equal(bandVerdict.reason, 'hash');
    assert.match(bandVerdict.detail, /band\.p90/);
  });

  it('rejects a model signed for another feature schema', () => {
    const message = signedModel(signingKey, 'cpu', { description: { featureSchemaHash: 'f'.repeat(64) } });
    assert.equal(rejected(verify(payloadOf(message))).reason, 'schema');
  });

  it('refuses to build a message the schema would not pass', () => {
    assert.throws(() => signedModel(signingKey, 'cpu', { description: { version: 'has space' } }));
    assert.throws(() => signedModel(signingKey, 'cpu', { description: { resource: 'memory' } }), /kind/);
    assert.ok(
      ModelMessageSchema.safeParse(
        signedModel(signingKey, 'filesystem', { description: { resource: 'filesystem:%2Fvar' } }),
      ).success,
    );
  });

  it('names topics by kind or resource id, and targets hosts by list or stable share', () => {
    assert.equal(modelTopic('filesystem:%2Fvar'), 'cloudsense/v1/models/filesystem:%2Fvar');
    assert.equal(parseModelTopic('cloudsense/v1/models/cpu'), 'cpu');
    assert.equal(parseModelTopic('cloudsense/v1/models/cpu/extra'), null);
    assert.equal(parseModelTopic('cloudsense/v1/hosts/a/status'), null);
    assert.equal(MODELS_FILTER, 'cloudsense/v1/models/+');
    assert.ok(modelTargetsHost(undefined, 'web-01'));
    assert.ok(modelTargetsHost({ hosts: ['web-01'] }, 'web-01'));
    assert.equal(modelTargetsHost({ hosts: ['web-02'] }, 'web-01'), false);
    assert.equal(modelTargetsHost({ percent: 0 }, 'web-01'), false);
    assert.ok(modelTargetsHost({ percent: 100 }, 'web-01'));
    const bucket = modelRolloutBucket('web-01');
    assert.ok(bucket >= 0 && bucket < 100);
    assert.ok(modelTargetsHost({ percent: bucket + 1 }, 'web-01'));
    assert.equal(modelTargetsHost({ percent: bucket }, 'web-01'), false);
    const hosts = Array.from({ length: 1000 }, (_, i) => `host-${i}`);
    const share = hosts.filter((h) => modelTargetsHost({ percent: 10 }, h)).length;
    assert.ok(share > 60 && share < 140, `10 % of 1000 hosts, got ${share}`);
  });
});
