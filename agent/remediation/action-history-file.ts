/**
 * When each playbook last acted, kept in a small JSON file
 * (`{dataDir}/remediation/{hostId}.json`) so that a restarted agent keeps
 * its cooldowns and hourly caps: an agent in a restart loop must not run a
 * playbook once per start. Replaced atomically on every action; a missing
 * file means no history, a damaged one is logged and read as none.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../shared/errors.js';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';
import type { Logger } from '../../shared/log.js';
import type { BudgetHistory } from './action-budget.js';

const HistorySchema = z.object({
  version: z.literal(1),
  playbooks: z.record(
    z.string(),
    z.object({
      last: z.number().int().positive().optional(),
      recent: z.array(z.number().int().positive()).max(1000),
    }),
  ),
});

export class ActionHistoryFile {
  /** Writes one at a time, in call order: the last call's history ends up on disk. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** The history the previous run saved, by playbook name; read once at start, synchronously. */
  load(): Map<string, BudgetHistory> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn({ path: this.path, err: errorMessage(err) }, 'cannot read the remediation history');
      }
      return new Map();
    }
    try {
      return new Map(Object.entries(HistorySchema.parse(JSON.parse(text)).playbooks));
    } catch (err) {
      this.log.warn(
        { path: this.path, err: errorMessage(err) },
        'remediation history file is damaged; cooldowns start afresh',
      );
      return new Map();
    }
  }

  save(history: Map<string, BudgetHistory>): Promise<void> {
    const text = `${JSON.stringify({ version: 1, playbooks: Object.fromEntries(history) })}\n`;
    const write = this.chain.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFileAtomic(this.path, text);
    });
    this.chain = write.catch((err: unknown) =>
      this.log.error(
        { path: this.path, err: errorMessage(err) },
        'remediation history not saved; a restart would forget the cooldowns',
      ),
    );
    return this.chain;
  }

  /** Makes sure the directory can be created before the first action needs it. */
  prepare(): void {
    mkdirSync(dirname(this.path), { recursive: true });
  }
}
