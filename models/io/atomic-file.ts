import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * Replaces `path` with `data` so that a reader (or a restart after a crash)
 * sees either the old file or the new one, never a torn mix: the bytes go to
 * a temporary file in the same directory, are flushed to disk, and the file
 * is renamed over the target (rename is atomic within one file system).
 * The parent directory must exist.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = temporaryPathFor(path);
  try {
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(data);
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** A unique sibling path for a temporary file; `.tmp` marks leftovers of a crash as safe to delete. */
export function temporaryPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}
