/**
 * Ed25519 keys, signatures and their text forms, over node:crypto. The rest
 * of the code signs and verifies through here.
 *
 * Text forms a key may take (files or configuration):
 * - PEM: PKCS#8 `PRIVATE KEY` / SPKI `PUBLIC KEY` (what `openssl genpkey
 *   -algorithm ed25519` writes, and what `cloudsense keys generate` writes);
 * - raw base64: the 32-byte key itself (for a public key, RFC 8032's encoded
 *   point; for a private key, the 32-byte seed), 44 base64 characters.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { ValidationError, errorMessage } from '../errors.js';

/** Bytes of a raw Ed25519 key (public key or private seed) and of a signature. */
export const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

// DER prefixes that wrap a raw 32-byte key into SPKI / PKCS#8 (RFC 8410, OID 1.3.101.112).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Exactly 32 bytes in standard base64. */
const RAW_KEY_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/** A key that signs (private) or verifies (public); opaque outside this module. */
export interface SigningKey {
  readonly type: 'private';
  readonly key: KeyObject;
}
export interface VerifyKey {
  readonly type: 'public';
  readonly key: KeyObject;
}

export interface SigningKeyPair {
  /** PKCS#8 PEM of the private key. */
  privateKeyPem: string;
  /** SPKI PEM of the public key. */
  publicKeyPem: string;
  /** The raw 32-byte public key, base64: the inline form for configuration. */
  publicKeyBase64: string;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyBase64: rawPublicKey({ type: 'public', key: publicKey }),
  };
}

/** True when `text` is a key written out (PEM or raw base64) rather than a path to a file holding one. */
export function isInlineKey(text: string): boolean {
  const t = text.trim();
  return t.startsWith('-----BEGIN ') || RAW_KEY_BASE64.test(t);
}

/** A private key from PEM (PKCS#8) or a raw base64 seed. */
export function parseSigningKey(text: string): SigningKey {
  const t = text.trim();
  try {
    const key = RAW_KEY_BASE64.test(t)
      ? createPrivateKey({
          key: Buffer.concat([PKCS8_PREFIX, Buffer.from(t, 'base64')]),
          format: 'der',
          type: 'pkcs8',
        })
      : createPrivateKey({ key: t, format: 'pem' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    return { type: 'private', key };
  } catch (err) {
    throw new ValidationError(`not an Ed25519 private key (PKCS#8 PEM or raw base64): ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** A public key from PEM (SPKI) or raw base64; a private key's PEM yields its public half. */
export function parseVerifyKey(text: string): VerifyKey {
  const t = text.trim();
  if (t.includes('PRIVATE KEY')) {
    // It would verify, but a private key has no business on the verifying side.
    throw new ValidationError('this is a private key; give the verifier the public key (model-signing.pub)');
  }
  try {
    const key = RAW_KEY_BASE64.test(t)
      ? createPublicKey({
          key: Buffer.concat([SPKI_PREFIX, Buffer.from(t, 'base64')]),
          format: 'der',
          type: 'spki',
        })
      : createPublicKey({ key: t, format: 'pem' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    return { type: 'public', key };
  } catch (err) {
    throw new ValidationError(`not an Ed25519 public key (SPKI PEM or raw base64): ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** The public half of a private key. */
export function verifyKeyOf(signingKey: SigningKey): VerifyKey {
  return { type: 'public', key: createPublicKey(signingKey.key) };
}

/** The raw 32-byte public key, base64. */
export function rawPublicKey(key: VerifyKey): string {
  const der = key.key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - ED25519_KEY_BYTES).toString('base64');
}

/** The 64-byte Ed25519 signature of `data`. */
export function signBytes(data: Uint8Array, key: SigningKey): Buffer {
  return sign(null, data, key.key);
}

/** True when `signature` is `key`'s Ed25519 signature of `data`; false for any malformed signature. */
export function verifyBytes(data: Uint8Array, signature: Uint8Array, key: VerifyKey): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, data, key.key, signature);
  } catch {
    return false;
  }
}
