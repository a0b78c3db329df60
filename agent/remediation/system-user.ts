/**
 * The user a playbook's command runs as, looked up once when the
 * configuration is read: a name that does not resolve stops start-up
 * instead of failing on the first remediation, hours later.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** How long `getent` may take (a directory service behind NSS can be slow), ms. */
const GETENT_TIMEOUT_MS = 5000;

/**
 * The user's uid and primary gid, or undefined when no such user exists.
 * Asks `getent passwd` first, so users from LDAP or SSSD (NSS) resolve as
 * they do for login; falls back to /etc/passwd where getent is missing
 * (minimal containers).
 */
export function lookupSystemUser(name: string): SystemUser | undefined {
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['passwd', name], {
      encoding: 'utf8',
      timeout: GETENT_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).split('\n')[0];
  } catch (err) {
    // Exit status 2: getent ran and found no such user. Anything else: no getent, read the file.
    if ((err as { status?: number }).status === 2) return undefined;
    line = readPasswdLine(name);
  }
  return line ? parsePasswdLine(line, name) : undefined;
}

function readPasswdLine(name: string): string | undefined {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
  } catch {
    return undefined;
  }
}

/** `name:x:uid:gid:gecos:home:shell` → the user, when the line is that user's. */
export function parsePasswdLine(line: string, name: string): SystemUser | undefined {
  const [user, , uid, gid] = line.split(':');
  if (user !== name || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(gid ?? '')) return undefined;
  return { name, uid: Number(uid), gid: Number(gid) };
}
