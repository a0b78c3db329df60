/**
 * Recommendations in plain words: for a host's resource at risk, one
 * sentence a person on call can act on —
 * "web-01: /var will be full in about 3 h (between 2 h and 5 h), probability 0.93;
 *  suggested: run playbook clean-var, or free space under /var/log" —
 * with the figures it was made from. Pure functions, so the wording is unit-tested.
 */
import { parseResourceId, type Resource, type ResourceKind } from '../../shared/resources/resource-id.js';
import type { TimeToExhaustionBandWire } from '../../shared/wire/predictions.js';

/** What the agent would do (or did) about it: a playbook its own config defines, named by a remediation event. */
export interface PlaybookHint {
  playbook: string;
  /** The playbook's mode when it was last named: recommend, dry-run or enforce. */
  mode: string;
}

export interface RecommendationInput {
  hostId: string;
  /** Canonical resource id. */
  resource: string;
  probability: number;
  threshold: number;
  horizonS: number;
  ttBand?: TimeToExhaustionBandWire | undefined;
  playbook?: PlaybookHint | undefined;
}

export interface Recommendation {
  hostId: string;
  resource: string;
  kind: ResourceKind;
  probability: number;
  threshold: number;
  horizonS: number;
  ttBand: TimeToExhaustionBandWire | null;
  /** The suggested action alone: a playbook to run, else the kind's advice. */
  action: string;
  playbook: PlaybookHint | null;
  /** The whole sentence. */
  text: string;
}

/** Advice per kind when no playbook of the host names the resource. `{m}` is the mountpoint. */
const DEFAULT_ADVICE: Record<ResourceKind, string> = {
  cpu: 'find the processes using the CPU (top -o %CPU) and move or limit the load',
  memory: 'find what is growing (ps aux --sort=-rss | head) and restart it or add memory',
  swap: 'find what is swapping (smem -s swap, or ps) and free memory before swap runs out',
  filesystem: 'free space under {m} (logs, caches, old releases) or grow the filesystem',
  inodes: 'remove many small files under {m} (caches, sessions, mail queues) or grow the filesystem',
  fds: 'find the process holding file descriptors (ls /proc/*/fd | wc -l) and restart it or raise the limit',
};

/** What "exhausted" means for the kind, as a predicate of the sentence. */
const EXHAUSTED: Record<ResourceKind, string> = {
  cpu: 'will be saturated',
  memory: 'will run out',
  swap: 'will run out',
  filesystem: 'will be full',
  inodes: 'will run out of inodes',
  fds: 'will run out',
};

/** "CPU", "memory", "/var", "inodes on /home". */
export function resourceLabel(resource: Resource): string {
  switch (resource.kind) {
    case 'cpu':
      return 'CPU';
    case 'fds':
      return 'file descriptors';
    case 'filesystem':
      return resource.mountpoint;
    case 'inodes':
      return resource.mountpoint;
    default:
      return resource.kind;
  }
}

/**
 * A duration for people, rounded to what a band's precision supports:
 * "45 s", "20 min", "1.5 h" (half hours below 10 h), "14 h", "2 d".
 */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 10 * 3600) return `${Math.round(seconds / 1800) / 2} h`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/** The action: the playbook when one is named, with the kind's advice as the alternative. */
export function suggestedAction(resource: Resource, playbook: PlaybookHint | undefined): string {
  const mountpoint = 'mountpoint' in resource ? resource.mountpoint : '';
  const advice = DEFAULT_ADVICE[resource.kind].replace('{m}', mountpoint);
  return playbook ? `run playbook ${playbook.playbook}, or ${advice}` : advice;
}

export function recommend(input: RecommendationInput): Recommendation {
  const resource = parseResourceId(input.resource);
  const label = resourceLabel(resource);
  const when = input.ttBand
    ? `in about ${formatDuration(input.ttBand.p50S)} (between ${formatDuration(input.ttBand.p10S)} and ${formatDuration(input.ttBand.p90S)})`
    : `within ${formatDuration(input.horizonS)}`;
  const action = suggestedAction(resource, input.playbook);
  const text = `${input.hostId}: ${label} ${EXHAUSTED[resource.kind]} ${when}, probability ${input.probability.toFixed(2)}; suggested: ${action}`;
  return {
    hostId: input.hostId,
    resource: input.resource,
    kind: resource.kind,
    probability: input.probability,
    threshold: input.threshold,
    horizonS: input.horizonS,
    ttBand: input.ttBand ?? null,
    action,
    playbook: input.playbook ?? null,
    text,
  };
}
