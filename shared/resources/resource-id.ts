/**
 * Resource ids: the names of the things CloudSense forecasts, as they appear
 * on the command line, in the REST API, in MQTT topics and in config keys.
 *
 *   cpu | memory | swap | fds | filesystem:<mountpoint> | inodes:<mountpoint>
 *
 * A mountpoint is percent-encoded so that an id is always one MQTT topic
 * level, one config key and one shell word: every UTF-8 byte outside
 * `A-Z a-z 0-9 _ -` becomes `%XX` (upper-case hex). `/` → `%2F` (topic level
 * separator), `+`/`#` (wildcards), `.` (the config loader's path separator),
 * spaces and `%` itself are therefore never bare. `/var/lib/docker` →
 * `filesystem:%2Fvar%2Flib%2Fdocker`; `/` → `filesystem:%2F`.
 *
 * The encoded form is canonical: one resource has exactly one id, and
 * `formatResourceId` always produces it. `parseResourceId` also accepts the
 * raw form people type (`filesystem:/var/lib/docker`, recognised by the `/`
 * right after the colon, which the encoded form never has) and reads it as
 * that mountpoint.
 */
import { z } from 'zod';
import { ValidationError, errorMessage } from '../errors.js';

/** Every resource kind, in a fixed order: the feature `resource.kind` is the index in this list. */
export const RESOURCE_KINDS = ['cpu', 'memory', 'swap', 'filesystem', 'inodes', 'fds'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Kinds with one resource per mounted filesystem. */
export const MOUNTPOINT_KINDS = ['filesystem', 'inodes'] as const;
export type MountpointKind = (typeof MOUNTPOINT_KINDS)[number];
export type HostWideKind = Exclude<ResourceKind, MountpointKind>;

export type Resource = { kind: HostWideKind } | { kind: MountpointKind; mountpoint: string };

/**
 * Longest mountpoint accepted, in UTF-16 code units: telemetry attribute
 * values are capped at 256 (shared/wire/telemetry.ts), so no longer one can
 * reach us.
 */
export const MAX_MOUNTPOINT_LENGTH = 256;
/**
 * Longest resource id: the longest kind prefix plus a mountpoint whose every
 * code unit encodes to three UTF-8 bytes of three characters each.
 */
export const MAX_RESOURCE_ID_LENGTH = 'filesystem:'.length + MAX_MOUNTPOINT_LENGTH * 9;

const KIND_SET: ReadonlySet<string> = new Set(RESOURCE_KINDS);
const MOUNTPOINT_KIND_SET: ReadonlySet<string> = new Set(MOUNTPOINT_KINDS);
const ENCODED_PATTERN = /^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isResourceKind(text: string): text is ResourceKind {
  return KIND_SET.has(text);
}

export function isMountpointKind(kind: ResourceKind): kind is MountpointKind {
  return MOUNTPOINT_KIND_SET.has(kind);
}

/** Why a mountpoint cannot be part of a resource id, or undefined when it can. */
export function mountpointProblem(mountpoint: string): string | undefined {
  if (mountpoint.length === 0) return 'mountpoint is empty';
  if (mountpoint.length > MAX_MOUNTPOINT_LENGTH) return `mountpoint longer than ${MAX_MOUNTPOINT_LENGTH}`;
  if (mountpoint.includes('\0')) return 'mountpoint contains a NUL character';
  if (LONE_SURROGATE.test(mountpoint)) return 'mountpoint is not valid Unicode';
  return undefined;
}

/** Percent-encodes a mountpoint for a resource id (see the file comment). */
export function encodeMountpoint(mountpoint: string): string {
  const problem = mountpointProblem(mountpoint);
  if (problem) throw new ValidationError(problem, { path: 'mountpoint' });
  // encodeURIComponent leaves `! ' ( ) * . ~` bare; this encoding does not.
  return encodeURIComponent(mountpoint).replace(
    /[!'()*.~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The mountpoint of an encoded id part; throws unless `encoded` is in canonical form. */
export function decodeMountpoint(encoded: string): string {
  if (!ENCODED_PATTERN.test(encoded)) {
    throw new ValidationError(
      'encoded mountpoint: only A-Z a-z 0-9 _ - and %XX (upper-case hex) escapes; "/" is %2F',
      { path: 'mountpoint' },
    );
  }
  let mountpoint: string;
  try {
    mountpoint = decodeURIComponent(encoded);
  } catch (err) {
    throw new ValidationError('encoded mountpoint: %XX escapes are not valid UTF-8', {
      path: 'mountpoint',
      cause: err,
    });
  }
  const problem = mountpointProblem(mountpoint);
  if (problem) throw new ValidationError(problem, { path: 'mountpoint' });
  if (encodeMountpoint(mountpoint) !== encoded) {
    throw new ValidationError(
      `encoded mountpoint is not canonical: write ${encodeMountpoint(mountpoint)} (escape exactly the bytes outside A-Z a-z 0-9 _ -)`,
      { path: 'mountpoint' },
    );
  }
  return mountpoint;
}

/** The canonical id of a resource. */
export function formatResourceId(resource: Resource): string {
  if (resource.kind === 'filesystem' || resource.kind === 'inodes') {
    return `${resource.kind}:${encodeMountpoint(resource.mountpoint)}`;
  }
  return resource.kind;
}

/**
 * Parses a resource id in canonical or raw form (see the file comment).
 * Throws a ValidationError that says what a valid id looks like.
 */
export function parseResourceId(id: string): Resource {
  if (id.length > MAX_RESOURCE_ID_LENGTH) {
    throw new ValidationError(`resource id longer than ${MAX_RESOURCE_ID_LENGTH} characters`);
  }
  const colon = id.indexOf(':');
  const kind = colon < 0 ? id : id.slice(0, colon);
  if (!isResourceKind(kind)) {
    throw new ValidationError(
      `unknown resource "${id.slice(0, 64)}": expected one of cpu, memory, swap, fds, filesystem:<mountpoint>, inodes:<mountpoint>`,
    );
  }
  if (!isMountpointKind(kind)) {
    if (colon >= 0) throw new ValidationError(`resource "${kind}" takes no ":<mountpoint>" part`);
    return { kind };
  }
  if (colon < 0) throw new ValidationError(`resource "${kind}" needs a mountpoint: ${kind}:<mountpoint>`);
  const rest = id.slice(colon + 1);
  if (rest.startsWith('/')) {
    const problem = mountpointProblem(rest);
    if (problem) throw new ValidationError(problem, { path: 'mountpoint' });
    return { kind, mountpoint: rest };
  }
  return { kind, mountpoint: decodeMountpoint(rest) };
}

/** The canonical form of an id given in either form; throws like `parseResourceId`. */
export function canonicalResourceId(id: string): string {
  return formatResourceId(parseResourceId(id));
}

/** True when `id` is a resource id in canonical form. */
export function isCanonicalResourceId(id: string): boolean {
  try {
    return canonicalResourceId(id) === id;
  } catch {
    return false;
  }
}

/** A resource id in either form, validated and turned into its canonical form. */
export const ResourceIdSchema = z
  .string()
  .max(MAX_RESOURCE_ID_LENGTH)
  .transform((id, ctx) => {
    try {
      return canonicalResourceId(id);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: errorMessage(err) });
      return z.NEVER;
    }
  });
