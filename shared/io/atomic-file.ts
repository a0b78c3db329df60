import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * Replaces `path` with `data` so that a reader (or a restart after a crash)
 * sees either the old file or the new one, never a torn mix: the bytes go to
 * a temporary file in the same directory, are flushed to disk (unless
 * `sync` is false: then a power cut may lose the new content, never tear
 * it), and the file is renamed over the target (rename is atomic within one
 * file system). The parent directory must exist.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { sync?: boolean; mode?: number } = {},
): Promise<void> {
  const temp = temporaryPathFor(path);
  try {
    const file = await open(temp, 'wx', options.mode ?? 0o666);
    try {
      await file.writeFile(data);
      if (options.sync ?? true) await file.datasync();
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
