/**
 * How the agent logs in to the broker: `agent.username` / `agent.password`
 * when configured, else the credentials its enrolment stored in the data
 * dir; and the CA that signed the broker's certificate (`agent.tls.ca`)
 * for mqtts. Enrolment itself (`cloudsense agent --enroll TOKEN
 * --aggregator URL`) trades a one-time token for those credentials over the
 * aggregator's REST API (docs/security.md).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { agentCredentialsFileOf, type AgentConfig } from '../config.js';

/** How long the enrolment request may take, ms. */
const ENROL_TIMEOUT_MS = 30_000;
/** The largest enrolment response read, bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const StoredCredentialsSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  enrolledAt: z.string().optional(),
  aggregator: z.string().optional(),
});
export type StoredCredentials = z.infer<typeof StoredCredentialsSchema>;

export interface BrokerLogin {
  username?: string | undefined;
  password?: string | undefined;
  /** PEM CA certificate(s) that the broker's certificate must chain to. */
  ca?: Buffer | undefined;
}

/** The login and CA the agent connects with; reads the files once, at start. */
export function brokerLoginOf(config: AgentConfig): BrokerLogin {
  const ca =
    config.agent.tls.ca === undefined ? undefined : readConfigured(config.agent.tls.ca, 'agent.tls.ca');
  if (config.agent.username !== undefined) {
    return { username: config.agent.username, password: config.agent.password, ca };
  }
  const stored = readStoredCredentials(agentCredentialsFileOf(config));
  return { username: stored?.username, password: stored?.password, ca };
}

/** The enrolment's stored credentials, undefined when the agent has not enrolled. */
export function readStoredCredentials(path: string): StoredCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CloudSenseError('CREDENTIALS_UNREADABLE', `cannot read ${path}: ${errorMessage(err)}`, {
      cause: err,
      permanent: true,
    });
  }
  const parsed = StoredCredentialsSchema.safeParse(safeJson(text));
  if (!parsed.success) {
    throw new CloudSenseError(
      'CREDENTIALS_INVALID',
      `${path} is not an agent credentials file; enrol again`,
      {
        permanent: true,
      },
    );
  }
  return parsed.data;
}

/**
 * Enrols this host with the aggregator at `aggregatorUrl` and stores the
 * MQTT credentials it returns (mode 0600) where `brokerLoginOf` finds them.
 */
export async function enrolAgent(
  config: AgentConfig,
  aggregatorUrl: string,
  token: string,
): Promise<{ path: string; username: string }> {
  const ca =
    config.agent.tls.ca === undefined ? undefined : readConfigured(config.agent.tls.ca, 'agent.tls.ca');
  const url = new URL('/api/v1/enroll', aggregatorUrl);
  const { status, body } = await postJson(url, { token, hostId: config.agent.hostId }, ca);
  if (status !== 200) {
    const message =
      (body as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${status}`;
    throw new CloudSenseError('ENROLMENT_FAILED', `${url.origin} refused the enrolment: ${message}`, {
      permanent: status >= 400 && status < 500,
    });
  }
  const issued = StoredCredentialsSchema.safeParse(body);
  if (!issued.success) {
    throw new CloudSenseError('ENROLMENT_FAILED', `${url.origin} answered the enrolment with no credentials`);
  }
  const path = agentCredentialsFileOf(config);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const stored: StoredCredentials = {
    username: issued.data.username,
    password: issued.data.password,
    enrolledAt: new Date().toISOString(),
    aggregator: url.origin,
  };
  await writeFileAtomic(path, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  return { path, username: stored.username };
}

function postJson(
  url: URL,
  payload: unknown,
  ca: Buffer | undefined,
): Promise<{ status: number; body: unknown }> {
  const data = Buffer.from(JSON.stringify(payload));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': data.length },
        timeout: ENROL_TIMEOUT_MS,
        ...(ca ? { ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('response too large'));
          else chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: safeJson(Buffer.concat(chunks).toString('utf8')) }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ENROL_TIMEOUT_MS} ms`)));
    req.on('error', (err) =>
      reject(
        new CloudSenseError('ENROLMENT_FAILED', `cannot reach ${url.origin}: ${errorMessage(err)}`, {
          cause: err,
        }),
      ),
    );
    req.end(data);
  });
}

function readConfigured(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CloudSenseError('TLS_FILE_UNREADABLE', `cannot read ${setting} ${path}: ${errorMessage(err)}`, {
      cause: err,
      permanent: true,
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
