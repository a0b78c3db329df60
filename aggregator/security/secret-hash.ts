/**
 * One-way storage of secrets (agent passwords, API and enrolment tokens):
 * scrypt with a random salt per secret, compared in constant time. Every
 * secret CloudSense issues is 32 random bytes, so scrypt's cost is a second
 * line of defence for a leaked credentials file, not the only one.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost: N = 2^14, r = 8, p = 1 (16 MiB, tens of ms): the parameters RFC 7914 suggests for interactive logins. */
const SCRYPT: ScryptOptions = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** A stored secret: base64url salt and scrypt output. */
export interface SecretHash {
  salt: string;
  hash: string;
}

/** A fresh random secret, base64url (43 characters for 32 bytes). */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt);
  return { salt: salt.toString('base64url'), hash: key.toString('base64url') };
}

/** True when `secret` hashes to `stored`; the comparison takes the same time whatever the bytes. */
export async function verifySecret(secret: string, stored: SecretHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64url');
  if (expected.length !== KEY_BYTES) return false;
  const actual = await derive(secret, Buffer.from(stored.salt, 'base64url'));
  return timingSafeEqual(actual, expected);
}

function derive(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_BYTES, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
  );
}
