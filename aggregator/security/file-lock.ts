import { open, readFile, rm, stat } from 'node:fs/promises';
import { CloudSenseError } from '../../shared/errors.js';

/** A lock older than this is left over from a crashed process (on another host?) and is broken, ms. */
const STALE_AFTER_MS = 30_000;
/** How long to wait for another process's lock before giving up, ms. */
const WAIT_MS = 15_000;
const RETRY_MS = 25;

/**
 * Runs `work` while holding `{path}.lock`, a file created exclusively, so
 * that the aggregator and a CLI command changing the same file one after the
 * other each see the other's change (read, modify, write) instead of
 * overwriting it. Readers need no lock: the file is replaced atomically.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(lock)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new CloudSenseError('LOCKED', `${lock} is held by another process; try again`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

/** A lock is stale when the process that wrote it is gone, or, when that cannot be told, when it is old. */
async function isStale(lock: string): Promise<boolean> {
  const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    }
  }
  const age = await stat(lock).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  );
  return age > STALE_AFTER_MS;
}
