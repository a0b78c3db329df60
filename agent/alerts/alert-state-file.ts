/**
 * The raised alerts of a host, kept in a small JSON file so that a restarted
 * agent neither raises an ongoing alert a second time nor leaves one that
 * ended while it was down unresolved. Replaced atomically (temporary file,
 * rename) on every raise and resolve; a missing or unreadable file means no
 * alerts are raised.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { ActiveAlert } from './alert-hysteresis.js';

const AlertStateSchema = z.object({
  version: z.literal(1),
  alerts: z.array(
    z.object({
      resource: z.string().min(1),
      raisedAt: z.number().int().positive(),
      probability: z.number().min(0).max(1),
      threshold: z.number().min(0).max(1),
    }),
  ),
});

export class AlertStateFile {
  /** Writes one at a time, in call order: the last call's state ends up on disk. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** The alerts saved by the previous run; none when there is no file or it cannot be read (logged). */
  async load(): Promise<ActiveAlert[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn(
          { path: this.path, err: errorMessage(err) },
          'cannot read the raised alerts; starting with none',
        );
      }
      return [];
    }
    try {
      return AlertStateSchema.parse(JSON.parse(text)).alerts;
    } catch (err) {
      this.log.warn(
        { path: this.path, err: errorMessage(err) },
        'raised alerts file is damaged; starting with none',
      );
      return [];
    }
  }

  /** Replaces the saved alerts; failures are logged, never thrown (alerts still go out). */
  save(alerts: readonly ActiveAlert[]): Promise<void> {
    const body = `${JSON.stringify({ version: 1, alerts })}\n`;
    this.chain = this.chain.then(() =>
      this.write(body).catch((err: unknown) =>
        this.log.warn({ path: this.path, err: errorMessage(err) }, 'cannot save the raised alerts'),
      ),
    );
    return this.chain;
  }

  private async write(body: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.tmp`;
    try {
      const file = await open(temp, 'w');
      try {
        await file.writeFile(body);
        await file.datasync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }
}
