/**
 * The fleet models an agent has adopted, kept in its data dir
 * (`{dataDir}/fleet-models/{hostId}/`) so a restarted agent starts with them
 * instead of the bundled ones, even before it reaches the broker. Each is
 * kept as the signed message it came in (`<key>.model.json`), and checked
 * again like a new one when it is read back, so a file changed on disk is
 * refused, not loaded. A model that was rolled back leaves its SHA-256 in
 * `<key>.rolled-back.json`, so the same model, still retained on the broker,
 * is not adopted again after a restart. A model that came on the host's own
 * model topic (a canary) is kept as `<key>.host-model.json` instead, so a
 * restarted agent knows it still follows its per-host topic; saving one
 * origin removes the other's file. Files are replaced atomically
 * (temporary file, fsync, rename).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';
import { Sha256HexSchema } from '../../shared/wire/models.js';

const MODEL_SUFFIX = '.model.json';
const HOST_MODEL_SUFFIX = '.host-model.json';
const ROLLED_BACK_SUFFIX = '.rolled-back.json';
/** Keys longer than this (resource ids of long mountpoints) are named by their hash: file names stop at 255 bytes. */
const MAX_PLAIN_NAME = 120;

const RolledBackSchema = z.object({ sha256: Sha256HexSchema, at: z.number() });

/** Which topic a model came on: the fleet's `models/{key}` or the host's own `hosts/{id}/models/{key}`. */
export type ModelOrigin = 'fleet' | 'host';

export interface SavedModel {
  file: string;
  /** The signed message, as it was received. */
  payload: Buffer;
  origin: ModelOrigin;
}

export class FleetModelStore {
  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Every saved model; unreadable files are logged and skipped. */
  async list(): Promise<SavedModel[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const saved: SavedModel[] = [];
    for (const name of names.sort()) {
      const origin = name.endsWith(HOST_MODEL_SUFFIX)
        ? 'host'
        : name.endsWith(MODEL_SUFFIX)
          ? 'fleet'
          : undefined;
      if (!origin) continue;
      const file = join(this.dir, name);
      try {
        saved.push({ file, payload: await readFile(file), origin });
      } catch (err) {
        this.log.warn({ file, err: errorMessage(err) }, 'cannot read a saved fleet model; skipped');
      }
    }
    return saved;
  }

  /** Keeps `payload` as the model of `key`, replacing the one before (of either origin). */
  async save(key: string, payload: Uint8Array, origin: ModelOrigin = 'fleet'): Promise<void> {
    const [own, other] =
      origin === 'host' ? [HOST_MODEL_SUFFIX, MODEL_SUFFIX] : [MODEL_SUFFIX, HOST_MODEL_SUFFIX];
    await this.write(this.pathOf(key, own), payload);
    await rm(this.pathOf(key, other), { force: true });
  }

  /** Remembers that the model of `key` with this SHA-256 was rolled back. */
  async markRolledBack(key: string, sha256: string): Promise<void> {
    await this.write(this.pathOf(key, ROLLED_BACK_SUFFIX), JSON.stringify({ sha256, at: Date.now() }));
  }

  /** The SHA-256 of the last model of `key` that was rolled back, if any. */
  async rolledBack(key: string): Promise<string | undefined> {
    try {
      const text = await readFile(this.pathOf(key, ROLLED_BACK_SUFFIX), 'utf8');
      return RolledBackSchema.parse(JSON.parse(text)).sha256;
    } catch {
      return undefined;
    }
  }

  private pathOf(key: string, suffix: string): string {
    const name = key.length <= MAX_PLAIN_NAME ? key : createHash('sha256').update(key).digest('hex');
    return join(this.dir, `${name}${suffix}`);
  }

  private async write(path: string, data: string | Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(path, data, { mode: 0o644 });
  }
}
