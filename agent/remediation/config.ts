/**
 * `agent.remediation`: the playbooks this host may run when a forecast
 * stays high, and how far each may go (docs/remediation.md). Everything a
 * command is comes from here; nothing from the network can add or change
 * one.
 */
import { accessSync, constants } from 'node:fs';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { DurationSchema, formatDuration } from '../../shared/config/duration.js';
import { ResourceIdSchema, isResourceKind } from '../../shared/resources/resource-id.js';
import { MAX_COMMAND_ARGS, MAX_COMMAND_ARG_LENGTH } from '../../shared/wire/events.js';
import {
  MAX_LEASE_TTL_SECONDS,
  PlaybookNameSchema,
  REMEDIATION_MODES,
  type RemediationMode,
} from '../../shared/wire/remediation.js';
import { lookupSystemUser } from './system-user.js';

/**
 * The default mode: `recommend`. A playbook says what it would do in an
 * event and nothing runs until the operator raises the mode on purpose.
 */
export const DEFAULT_REMEDIATION_MODE: RemediationMode = 'recommend';
/** Longest wait for the aggregator's answer to a lease request, ms (5 s); no answer, no action. */
export const DEFAULT_LEASE_TIMEOUT_MS = 5000;
/** After a refused or unanswered lease, the playbook is considered again this much later, ms (1 min). */
export const DEFAULT_LEASE_RETRY_MS = 60_000;
/** Cycles in a row above the trigger level before a playbook fires. 3: a 30 s spike at 10 s intervals does not act. */
export const DEFAULT_FOR_CYCLES = 3;
/** Longest a command may run before its process group is killed, ms (5 min). */
export const DEFAULT_PLAYBOOK_TIMEOUT_MS = 5 * 60_000;
/**
 * Least time between two actions of one playbook, ms (15 min): the model's
 * shortest feature window is 5 minutes, so a run's effect needs a few
 * minutes to show in the forecast before a second run would be justified.
 */
export const DEFAULT_COOLDOWN_MS = 15 * 60_000;
/** Most actions of one playbook in any hour. 2: with the 15 min cooldown, a third try waits for the hour. */
export const DEFAULT_MAX_RUNS_PER_HOUR = 2;
/** Cycles after a run before the outcome is judged. 6: one minute at the default 10 s interval. */
export const DEFAULT_OUTCOME_CYCLES = 6;
/** Most playbooks on one host. */
export const MAX_PLAYBOOKS = 64;
/** The lease outlives the command's timeout by this much, s: time to kill it and release the lease. */
export const LEASE_MARGIN_SECONDS = 30;

const Cycles = z.number().int('a whole number of cycles').min(1).max(100);

const HttpUrlSchema = z
  .string()
  .refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), {
    message: 'an http:// or https:// URL of the aggregator, e.g. http://aggregator:8080',
  });

/** A resource kind (`memory`, `filesystem`: every resource of that kind) or one resource id (`filesystem:/var`). */
const PlaybookResourceSchema = z.string().transform((text, ctx) => {
  if (isResourceKind(text)) return text;
  const parsed = ResourceIdSchema.safeParse(text);
  if (parsed.success) return parsed.data;
  ctx.addIssue({
    code: 'custom',
    message: `a resource kind (cpu, memory, swap, fds, filesystem, inodes) or a resource id such as filesystem:/var; ${parsed.error.issues[0]?.message ?? ''}`,
  });
  return z.NEVER;
});

/** The command as an argv array: the program by absolute path, then its arguments. No shell reads it. */
const CommandSchema = z
  .array(z.string().min(1, 'an empty argument').max(MAX_COMMAND_ARG_LENGTH))
  .min(1, 'the command needs at least the program')
  .max(MAX_COMMAND_ARGS)
  .superRefine((argv, ctx) => {
    const program = argv[0]!;
    if (!isAbsolute(program)) {
      ctx.addIssue({
        code: 'custom',
        path: [0],
        message: `the program must be an absolute path (no PATH lookup), e.g. /usr/bin/${program}`,
      });
      return;
    }
    try {
      accessSync(program, constants.X_OK);
    } catch {
      ctx.addIssue({ code: 'custom', path: [0], message: `${program} does not exist or is not executable` });
    }
  });

/** A user name, resolved to uid and gid when the configuration is read. */
const UserSchema = z
  .string()
  .min(1)
  .max(64)
  .transform((name, ctx) => {
    const user = lookupSystemUser(name);
    if (!user) {
      ctx.addIssue({ code: 'custom', message: `no such user "${name}" on this host` });
      return z.NEVER;
    }
    return user;
  });

export const PlaybookSchema = z
  .object({
    /** Names the playbook in events, logs and leases. */
    name: PlaybookNameSchema,
    /** What it watches: a resource kind (every resource of it) or a resource id (`filesystem:/var`). */
    resource: PlaybookResourceSchema,
    /** This playbook's mode; at most `agent.remediation.mode`, which is also the default. */
    mode: z.enum(REMEDIATION_MODES).optional(),
    when: z
      .object({
        /** Trigger level: the probability must be above it, 0..1. */
        probabilityAbove: z.number().min(0).lt(1, 'below 1, or the playbook could never fire'),
        /** Cycles in a row above the level, 1..100. Default 3. */
        forCycles: Cycles.default(DEFAULT_FOR_CYCLES),
      })
      .strict(),
    /** The command: a fixed argv array, program by absolute path. Never a shell string. */
    run: CommandSchema,
    /** Longest the command may run before its process group is killed; 1s..6h. Default 5m. */
    timeout: DurationSchema.refine((ms) => ms >= 1000 && ms <= 6 * 3_600_000, {
      message: 'between 1s and 6h',
    }).prefault('5m'),
    /** Run the command as this user (its uid and primary gid). Default: the agent's own user. */
    user: UserSchema.optional(),
    /** Least time between two actions of this playbook; 0s..7d. Default 15m. */
    cooldown: DurationSchema.refine((ms) => ms <= 7 * 86_400_000, { message: 'at most 7d' }).prefault('15m'),
    /** Most actions of this playbook in any hour, 1..60. Default 2. */
    maxRunsPerHour: z.number().int().min(1).max(60).default(DEFAULT_MAX_RUNS_PER_HOUR),
    /** Cycles after a run before its outcome is judged, 1..100. Default 6. */
    outcomeCycles: Cycles.default(DEFAULT_OUTCOME_CYCLES),
  })
  .strict();
export type Playbook = z.infer<typeof PlaybookSchema>;

const MODE_RANK: Record<RemediationMode, number> = { off: 0, recommend: 1, 'dry-run': 2, enforce: 3 };

export const RemediationSectionSchema = z
  .object({
    /**
     * The most any playbook on this host may do, and the mode of playbooks
     * that name none: off | recommend | dry-run | enforce. Default recommend.
     */
    mode: z.enum(REMEDIATION_MODES).default(DEFAULT_REMEDIATION_MODE),
    /** The fleet-wide lease asked for before every enforced run. */
    lease: z
      .object({
        /** The aggregator's HTTP URL. Default `http://{http.host}:{http.port}`. */
        url: HttpUrlSchema.optional(),
        /** Longest wait for an answer; 100ms..1m. Default 5s. */
        timeout: DurationSchema.refine((ms) => ms >= 100 && ms <= 60_000, {
          message: 'between 100ms and 1m',
        }).prefault('5s'),
        /** Bearer token sent with lease requests, for an aggregator that asks for one. */
        token: z.string().min(1).optional(),
        /** After a refused or unanswered lease, wait this long before trying again; 1s..1h. Default 1m. */
        retryAfter: DurationSchema.refine((ms) => ms >= 1000 && ms <= 3_600_000, {
          message: 'between 1s and 1h',
        }).prefault('1m'),
      })
      .strict()
      .prefault({}),
    /** What to do when a forecast stays high. Default none. */
    playbooks: z.array(PlaybookSchema).max(MAX_PLAYBOOKS).default([]),
  })
  .strict()
  .superRefine((section, ctx) => {
    const seen = new Set<string>();
    for (const [i, playbook] of section.playbooks.entries()) {
      if (seen.has(playbook.name)) {
        ctx.addIssue({ code: 'custom', path: ['playbooks', i, 'name'], message: `"${playbook.name}" twice` });
      }
      seen.add(playbook.name);
      const mode = modeOf(section.mode, playbook);
      if (playbook.mode !== undefined && MODE_RANK[playbook.mode] > MODE_RANK[section.mode]) {
        ctx.addIssue({
          code: 'custom',
          path: ['playbooks', i, 'mode'],
          message: `${playbook.mode} goes beyond agent.remediation.mode (${section.mode}); raise that to allow it`,
        });
      }
      const ttl = Math.ceil(playbook.timeout / 1000) + LEASE_MARGIN_SECONDS;
      if (mode === 'enforce' && ttl > MAX_LEASE_TTL_SECONDS) {
        ctx.addIssue({
          code: 'custom',
          path: ['playbooks', i, 'timeout'],
          message: `at most ${formatDuration((MAX_LEASE_TTL_SECONDS - LEASE_MARGIN_SECONDS) * 1000)} for an enforced playbook (its lease holds the timeout plus ${LEASE_MARGIN_SECONDS} s)`,
        });
      }
      const uid = process.getuid?.();
      if (
        mode === 'enforce' &&
        playbook.user &&
        uid !== undefined &&
        uid !== 0 &&
        uid !== playbook.user.uid
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['playbooks', i, 'user'],
          message: `running as ${playbook.user.name} needs the agent to run as root (it runs as uid ${uid})`,
        });
      }
    }
  })
  .prefault({});
export type RemediationSection = z.infer<typeof RemediationSectionSchema>;

/** A playbook's effective mode: its own, or the section's. */
export function modeOf(sectionMode: RemediationMode, playbook: Pick<Playbook, 'mode'>): RemediationMode {
  return playbook.mode ?? sectionMode;
}

/** True when `resource` (a canonical id) is one the playbook watches. */
export function playbookWatches(playbook: Pick<Playbook, 'resource'>, resource: string): boolean {
  if (playbook.resource === resource) return true;
  const colon = resource.indexOf(':');
  return colon > 0 && resource.slice(0, colon) === playbook.resource;
}

/**
 * The aggregator's URL for lease requests: `agent.remediation.lease.url`, or
 * `http://{http.host}:{http.port}` (a wildcard listen address means this
 * machine).
 */
export function leaseUrlOf(config: {
  http: { host: string; port: number };
  agent: { remediation: RemediationSection };
}): string {
  const configured = config.agent.remediation.lease.url;
  if (configured) return configured.replace(/\/+$/, '');
  const { host, port } = config.http;
  const connectTo = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${connectTo.includes(':') ? `[${connectTo}]` : connectTo}:${port}`;
}
