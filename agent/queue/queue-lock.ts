import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BusyError } from '../../shared/errors.js';

const LOCK_FILE = 'LOCK';
/** Lock files this process holds, so a second open in the same process is refused too. */
const held = new Set<string>();

/**
 * One process per queue directory: a `LOCK` file holding the owner's pid,
 * created exclusively. A lock left by a process that no longer exists (a
 * crash, SIGKILL) is taken over. The pid check cannot tell a recycled pid
 * from the original owner; then the operator is told which pid to look at.
 */
export async function lockQueueDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) throw new BusyError(`the telemetry queue ${dir} is already open in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      held.add(path);
      return async () => {
        held.delete(path);
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      throw new BusyError(
        `the telemetry queue ${dir} is in use by process ${owner}; stop that agent, ` +
          'or give this one its own data dir or host id',
      );
    }
    // Stale: the owner is gone (a crash), or it was this process before a restart that reused the pid.
    await rm(path, { force: true });
  }
  throw new BusyError(`could not lock the telemetry queue ${dir}: another process keeps creating ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
