/**
 * The aggregator's credentials, in one file in the data dir
 * (`credentials.json`, mode 0600): each enrolled agent's MQTT secret, the
 * REST API's bearer tokens with their roles, and the pending one-time
 * enrolment tokens. Only scrypt hashes are stored; a secret is shown once,
 * when it is issued.
 *
 * The running aggregator and the `cloudsense enroll` / `tokens` commands
 * share the file: every change is a read-modify-write under a lock file,
 * written atomically, and every check re-reads the file when it changed on
 * disk, so a token created by the CLI works at once without a restart.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { HOST_ID_PATTERN } from '../../shared/wire/topics.js';
import { withFileLock } from './file-lock.js';
import { hashSecret, newSecret, verifySecret, type SecretHash } from './secret-hash.js';

/** File name of the credentials inside the data dir. */
export const CREDENTIALS_FILE = 'credentials.json';

/** REST roles, each allowed what the ones before it are: read < operate < admin. */
export const API_ROLES = ['read', 'operate', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export function roleAllows(held: ApiRole, needed: ApiRole): boolean {
  return API_ROLES.indexOf(held) >= API_ROLES.indexOf(needed);
}

/** The MQTT user name of an agent: `host:{hostId}`. */
export function agentUsername(hostId: string): string {
  return `host:${hostId}`;
}

/** The host id of an agent user name, or undefined for any other name. */
export function hostIdOfUsername(username: string): string | undefined {
  if (!username.startsWith('host:')) return undefined;
  const id = username.slice('host:'.length);
  return HOST_ID_PATTERN.test(id) ? id : undefined;
}

const API_TOKEN_PREFIX = 'csa';
const ENROLMENT_TOKEN_PREFIX = 'cse';

const HashShape = { salt: z.string(), hash: z.string() };
const CredentialsFileSchema = z.object({
  version: z.literal(1),
  agents: z.record(z.string(), z.object({ ...HashShape, createdAt: z.number() })),
  tokens: z.array(
    z.object({
      id: z.string(),
      role: z.enum(API_ROLES),
      name: z.string().optional(),
      createdAt: z.number(),
      ...HashShape,
    }),
  ),
  enrolments: z.array(
    z.object({
      id: z.string(),
      hostId: z.string().optional(),
      createdAt: z.number(),
      expiresAt: z.number(),
      ...HashShape,
    }),
  ),
});
type CredentialsFile = z.infer<typeof CredentialsFileSchema>;

const emptyFile = (): CredentialsFile => ({ version: 1, agents: {}, tokens: [], enrolments: [] });

/** A refused enrolment or credential change; `reason` is for the caller's status code. */
export class EnrolmentRefusedError extends CloudSenseError {
  constructor(
    readonly reason: 'invalid' | 'host',
    message: string,
  ) {
    super('ENROLMENT_REFUSED', message, { permanent: true });
  }
}

export interface ApiTokenInfo {
  id: string;
  role: ApiRole;
  name?: string | undefined;
  createdAt: number;
}

export interface IssuedCredentials {
  username: string;
  password: string;
}

export class CredentialStore {
  private cached: CredentialsFile = emptyFile();
  /** Identity of the file version `cached` came from: mtime, size and inode. */
  private cachedStamp = '';
  /**
   * SHA-256 of secrets that passed scrypt, keyed by the record they matched
   * and that record's hash, so a client sending the same valid secret again
   * costs a hash, not 16 MiB of scrypt. A changed or removed record misses.
   */
  private readonly verified = new Map<string, Buffer>();

  constructor(readonly path: string) {}

  /** Creates a bearer token for the REST API; the token is returned once and stored hashed. */
  async createApiToken(role: ApiRole, name?: string): Promise<{ id: string; token: string }> {
    const id = randomBytes(6).toString('hex');
    const secret = newSecret();
    const stored = await hashSecret(secret);
    await this.update((file) => {
      file.tokens.push({ id, role, ...(name ? { name } : {}), createdAt: Date.now(), ...stored });
    });
    return { id, token: `${API_TOKEN_PREFIX}.${id}.${secret}` };
  }

  /**
   * Creates a token that replaces every earlier one of the same name: how a
   * process that issues itself a token on each start keeps one, not one per start.
   */
  async replaceApiToken(role: ApiRole, name: string): Promise<{ id: string; token: string }> {
    const id = randomBytes(6).toString('hex');
    const secret = newSecret();
    const stored = await hashSecret(secret);
    await this.update((file) => {
      file.tokens = file.tokens.filter((t) => t.name !== name);
      file.tokens.push({ id, role, name, createdAt: Date.now(), ...stored });
    });
    return { id, token: `${API_TOKEN_PREFIX}.${id}.${secret}` };
  }

  async listApiTokens(): Promise<ApiTokenInfo[]> {
    const file = await this.current();
    return file.tokens.map(({ id, role, name, createdAt }) => ({ id, role, name, createdAt }));
  }

  /** Removes a token; false when there was none with that id. */
  async revokeApiToken(id: string): Promise<boolean> {
    let found = false;
    await this.update((file) => {
      found = file.tokens.some((t) => t.id === id);
      file.tokens = file.tokens.filter((t) => t.id !== id);
    });
    return found;
  }

  /** The role of a valid bearer token, undefined for anything else. */
  async verifyApiToken(token: string): Promise<ApiTokenInfo | undefined> {
    const parts = parseToken(token, API_TOKEN_PREFIX);
    if (!parts) return undefined;
    const record = (await this.current()).tokens.find((t) => t.id === parts.id);
    if (!record) return undefined;
    if (!(await this.check(`token:${record.id}`, parts.secret, record))) return undefined;
    return { id: record.id, role: record.role, name: record.name, createdAt: record.createdAt };
  }

  /** Creates a one-time enrolment token, optionally for one host id only, valid for `ttlMs`. */
  async createEnrolmentToken(options: {
    ttlMs: number;
    hostId?: string | undefined;
  }): Promise<{ id: string; token: string; expiresAt: number }> {
    const id = randomBytes(6).toString('hex');
    const secret = newSecret();
    const stored = await hashSecret(secret);
    const now = Date.now();
    const expiresAt = now + options.ttlMs;
    await this.update((file) => {
      file.enrolments.push({
        id,
        ...(options.hostId ? { hostId: options.hostId } : {}),
        createdAt: now,
        expiresAt,
        ...stored,
      });
    });
    return { id, token: `${ENROLMENT_TOKEN_PREFIX}.${id}.${secret}`, expiresAt };
  }

  /**
   * Trades a valid, unexpired enrolment token for the host's MQTT
   * credentials, and spends the token: a second use is refused. A host that
   * enrols again gets a new password; the old one stops working.
   */
  async redeemEnrolmentToken(token: string, hostId: string): Promise<IssuedCredentials> {
    const parts = parseToken(token, ENROLMENT_TOKEN_PREFIX);
    if (!parts) throw new EnrolmentRefusedError('invalid', 'not an enrolment token');
    if (!HOST_ID_PATTERN.test(hostId)) throw new EnrolmentRefusedError('host', `invalid host id "${hostId}"`);
    const password = newSecret();
    const stored = await hashSecret(password);
    await this.update(async (file) => {
      const record = file.enrolments.find((e) => e.id === parts.id);
      const valid =
        record !== undefined && record.expiresAt > Date.now() && (await verifySecret(parts.secret, record));
      if (!valid) {
        throw new EnrolmentRefusedError('invalid', 'the enrolment token is unknown, used or expired');
      }
      if (record.hostId !== undefined && record.hostId !== hostId) {
        throw new EnrolmentRefusedError('host', `the enrolment token is for host "${record.hostId}" only`);
      }
      file.enrolments = file.enrolments.filter((e) => e.id !== record.id);
      file.agents[hostId] = { ...stored, createdAt: Date.now() };
    });
    return { username: agentUsername(hostId), password };
  }

  /** Issues (or replaces) a host's credentials directly: for the agent that `cloudsense up` runs beside the aggregator. */
  async issueAgentCredentials(hostId: string): Promise<IssuedCredentials> {
    const password = newSecret();
    const stored = await hashSecret(password);
    await this.update((file) => {
      file.agents[hostId] = { ...stored, createdAt: Date.now() };
    });
    return { username: agentUsername(hostId), password };
  }

  async verifyAgent(hostId: string, password: string): Promise<boolean> {
    const record = (await this.current()).agents[hostId];
    return record !== undefined && (await this.check(`agent:${hostId}`, password, record));
  }

  /** The stored credentials, re-read when the file changed on disk; empty when there is no file. */
  private async current(): Promise<CredentialsFile> {
    let stamp: string;
    try {
      const s = await stat(this.path);
      stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      stamp = 'none';
    }
    if (stamp === this.cachedStamp) return this.cached;
    this.cached = stamp === 'none' ? emptyFile() : await this.read();
    this.cachedStamp = stamp;
    return this.cached;
  }

  private async read(): Promise<CredentialsFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyFile();
      throw err;
    }
    try {
      return CredentialsFileSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new CloudSenseError(
        'CREDENTIALS_INVALID',
        `${this.path} is not a valid credentials file: ${errorMessage(err)}`,
        {
          cause: err,
          permanent: true,
        },
      );
    }
  }

  /** Read-modify-write under the lock file; expired enrolment tokens are dropped on the way. */
  private async update(change: (file: CredentialsFile) => void | Promise<void>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await withFileLock(this.path, async () => {
      const file = await this.read();
      await change(file);
      const now = Date.now();
      file.enrolments = file.enrolments.filter((e) => e.expiresAt > now);
      await writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      this.cachedStamp = '';
    });
  }

  private async check(key: string, secret: string, stored: SecretHash): Promise<boolean> {
    const cacheKey = `${key}:${stored.hash}`;
    const digest = createHash('sha256').update(secret).digest();
    const known = this.verified.get(cacheKey);
    if (known) return timingSafeEqual(known, digest);
    if (!(await verifySecret(secret, stored))) return false;
    this.verified.set(cacheKey, digest);
    return true;
  }
}

/** `prefix.id.secret` → its parts; undefined for anything else. */
function parseToken(token: string, prefix: string): { id: string; secret: string } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== prefix) return undefined;
  const [, id, secret] = parts as [string, string, string];
  if (!/^[0-9a-f]{12}$/.test(id) || !/^[A-Za-z0-9_-]{16,128}$/.test(secret)) return undefined;
  return { id, secret };
}
