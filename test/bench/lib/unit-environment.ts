/**
 * The environment the agent's systemd unit gives it, so that benchmarks
 * measure the agent as it runs on a host.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UNIT = join(
  fileURLToPath(new URL('../../../', import.meta.url)),
  'deploy',
  'systemd',
  'cloudsense-agent.service',
);

/** The unit's `Environment=` settings but HOME (a bench gives each agent its own directories). */
export function unitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, name, value] of readFileSync(UNIT, 'utf8').matchAll(
    /^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm,
  )) {
    if (name !== 'HOME') env[name!] = value!;
  }
  return env;
}
