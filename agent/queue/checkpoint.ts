import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';

/** File name of the checkpoint inside the queue directory. */
export const CHECKPOINT_FILE = 'checkpoint.json';

/**
 * What the queue must remember beyond its segments: how far the aggregator
 * has confirmed, and the highest sequence number ever assigned (segments
 * holding it may already be deleted, and a number must never be reused).
 */
export const CheckpointSchema = z.object({
  version: z.literal(1),
  confirmedSeq: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

/** The checkpoint in `dir`; undefined when there is none. Throws when it exists but is unreadable. */
export async function readCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, CHECKPOINT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return CheckpointSchema.parse(JSON.parse(text));
}

/**
 * Replaces the checkpoint atomically: a temporary file, flushed when `sync`,
 * renamed over the old one, and the directory flushed so the rename itself
 * survives a power cut. A crash leaves the old checkpoint or the new one.
 */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint, sync: boolean): Promise<void> {
  await writeFileAtomic(join(dir, CHECKPOINT_FILE), `${JSON.stringify(checkpoint)}\n`, { sync });
  if (sync) await syncDirectory(dir);
}

/** Flushes a directory's entries (created, renamed, deleted files) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
