/**
 * Asks the aggregator for a remediation lease before an enforced run
 * (`POST /api/v1/remediation/leases`), and gives it back afterwards. The
 * answer can only grant or refuse: no field of it reaches the command.
 * Anything but a well-formed grant (a refusal, a timeout, an unreachable
 * aggregator, a body that is not a lease) means "do not act".
 */
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { LeaseSchema, type Lease, type LeaseRequest } from '../../shared/wire/remediation.js';

/** Most bytes of an answer read; a lease is about 300. */
export const MAX_LEASE_RESPONSE_BYTES = 16 * 1024;

export type LeaseAnswer =
  | { granted: true; lease: Lease }
  | { granted: false; reason: 'fleet_cap'; detail: string }
  | { granted: false; reason: 'timeout' | 'unreachable' | 'unexpected_response'; detail: string };

export interface LeaseClientOptions {
  /** The aggregator's base URL, e.g. `http://aggregator:8080`. */
  url: string;
  timeoutMs: number;
  token?: string | undefined;
  log: Logger;
}

export class LeaseClient {
  constructor(private readonly options: LeaseClientOptions) {}

  private get leasesUrl(): string {
    return `${this.options.url}/api/v1/remediation/leases`;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    return headers;
  }

  /** `cancel` ends the wait early (the agent stops); it answers like a timeout. */
  async acquire(request: LeaseRequest, cancel?: AbortSignal): Promise<LeaseAnswer> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(this.leasesUrl, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify(request),
        signal: cancel ? AbortSignal.any([timeout, cancel]) : timeout,
      });
    } catch (err) {
      return unanswered(err, this.options.timeoutMs, this.leasesUrl);
    }
    let body: string;
    try {
      body = await readBounded(response, MAX_LEASE_RESPONSE_BYTES);
    } catch (err) {
      if (isTimeout(err)) return unanswered(err, this.options.timeoutMs, this.leasesUrl);
      return { granted: false, reason: 'unexpected_response', detail: errorMessage(err) };
    }
    if (response.status === 409) {
      return {
        granted: false,
        reason: 'fleet_cap',
        detail: messageOf(body) ?? 'the fleet’s lease cap is taken',
      };
    }
    if (response.status !== 201) {
      return {
        granted: false,
        reason: 'unexpected_response',
        detail: `HTTP ${response.status} from ${this.leasesUrl}${messageOf(body) ? `: ${messageOf(body)}` : ''}`,
      };
    }
    let lease: Lease;
    try {
      lease = LeaseSchema.parse(JSON.parse(body));
    } catch {
      return {
        granted: false,
        reason: 'unexpected_response',
        detail: `a 201 without a lease from ${this.leasesUrl}`,
      };
    }
    if (lease.hostId !== request.hostId || lease.playbook !== request.playbook) {
      return {
        granted: false,
        reason: 'unexpected_response',
        detail: 'the lease names another host or playbook',
      };
    }
    return { granted: true, lease };
  }

  /** Gives a lease back; a failure is logged only, since the lease expires by itself. */
  async release(leaseId: string): Promise<void> {
    const url = `${this.leasesUrl}/${encodeURIComponent(leaseId)}`;
    try {
      const response = await fetch(url, {
        method: 'DELETE',
        headers: this.headers(),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok && response.status !== 404) {
        this.options.log.warn(
          { leaseId, status: response.status },
          'lease not released; it expires by its TTL',
        );
      }
    } catch (err) {
      this.options.log.warn({ leaseId, err: errorMessage(err) }, 'lease not released; it expires by its TTL');
    }
  }
}

function unanswered(err: unknown, timeoutMs: number, url: string): LeaseAnswer {
  if (isTimeout(err)) {
    return { granted: false, reason: 'timeout', detail: `no answer from ${url} within ${timeoutMs} ms` };
  }
  const cause = (err as { cause?: unknown }).cause;
  return {
    granted: false,
    reason: 'unreachable',
    detail: `${url} unreachable: ${errorMessage(cause ?? err)}`,
  };
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** The response body as text, refusing more than `max` bytes. */
async function readBounded(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > max) {
      await response.body.cancel().catch(() => undefined);
      throw new Error(`an answer of more than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `error.message` of the aggregator's JSON error body, when it has one. */
function messageOf(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}
