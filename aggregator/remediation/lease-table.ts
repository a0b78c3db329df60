/**
 * The fleet's remediation leases: an agent holds one while it runs an
 * enforced playbook, and at most `maxConcurrent` are held at once, so a
 * fleet-wide cause (a full shared volume, a bad deploy) does not make every
 * host act together. Leases live in memory and end when released or when
 * their TTL runs out (an agent that died mid-run frees its slot by itself).
 * After an aggregator restart the table is empty: leases held then are not
 * counted until their holders ask again.
 */
import { randomUUID } from 'node:crypto';
import type { Lease, LeaseRequest } from '../../shared/wire/remediation.js';

interface HeldLease {
  leaseId: string;
  hostId: string;
  playbook: string;
  resource: string;
  grantedAt: number;
  expiresAt: number;
}

export type LeaseDecision =
  | { granted: true; lease: Lease; renewed: boolean }
  | { granted: false; active: Lease[]; retryAfterMs: number };

export interface LeaseTableOptions {
  maxConcurrent: number;
  now?: () => number;
}

export class LeaseTable {
  private readonly leases = new Map<string, HeldLease>();
  private readonly now: () => number;
  private counts = { granted: 0, denied: 0, released: 0, expired: 0 };

  constructor(private readonly options: LeaseTableOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Grants a lease when fewer than `maxConcurrent` are held. A host asking
   * again for a playbook it holds a lease for gets that lease back with the
   * new TTL (a retried request must not take a second slot).
   */
  acquire(request: LeaseRequest): LeaseDecision {
    const now = this.now();
    this.expire(now);
    const expiresAt = now + request.ttlSeconds * 1000;
    for (const held of this.leases.values()) {
      if (held.hostId === request.hostId && held.playbook === request.playbook) {
        held.expiresAt = expiresAt;
        held.resource = request.resource;
        this.counts.granted++;
        return { granted: true, lease: view(held), renewed: true };
      }
    }
    if (this.leases.size >= this.options.maxConcurrent) {
      this.counts.denied++;
      const soonest = Math.min(...[...this.leases.values()].map((l) => l.expiresAt));
      return { granted: false, active: this.list(), retryAfterMs: Math.max(0, soonest - now) };
    }
    const held: HeldLease = { leaseId: randomUUID(), ...pick(request), grantedAt: now, expiresAt };
    this.leases.set(held.leaseId, held);
    this.counts.granted++;
    return { granted: true, lease: view(held), renewed: false };
  }

  /** Ends a lease; the released lease, or undefined when there is none by that id (released or expired). */
  release(leaseId: string): Lease | undefined {
    this.expire(this.now());
    const held = this.leases.get(leaseId);
    if (!held) return undefined;
    this.leases.delete(leaseId);
    this.counts.released++;
    return view(held);
  }

  /** The leases held now, oldest first. */
  list(): Lease[] {
    this.expire(this.now());
    return [...this.leases.values()].sort((a, b) => a.grantedAt - b.grantedAt).map(view);
  }

  get maxConcurrent(): number {
    return this.options.maxConcurrent;
  }

  /** Leases granted (renewals included), denied for the cap, released, and expired unreleased, since start. */
  stats(): { held: number; granted: number; denied: number; released: number; expired: number } {
    this.expire(this.now());
    return { held: this.leases.size, ...this.counts };
  }

  private expire(now: number): void {
    for (const [id, held] of this.leases) {
      if (held.expiresAt <= now) {
        this.leases.delete(id);
        this.counts.expired++;
      }
    }
  }
}

function pick(request: LeaseRequest): Pick<HeldLease, 'hostId' | 'playbook' | 'resource'> {
  return { hostId: request.hostId, playbook: request.playbook, resource: request.resource };
}

function view(held: HeldLease): Lease {
  return {
    leaseId: held.leaseId,
    hostId: held.hostId,
    playbook: held.playbook,
    resource: held.resource,
    grantedAt: new Date(held.grantedAt).toISOString(),
    expiresAt: new Date(held.expiresAt).toISOString(),
  };
}
