import type { Logger } from '../../shared/log.js';

/**
 * Problems that would otherwise repeat every cycle (a mount statfs refuses,
 * a file that is missing here) are logged once per key, and once more when
 * they clear, so a broken mount cannot flood the log.
 */
export class CollectionProblems {
  private readonly active = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Logs at `level` unless `key` is already reported. */
  report(
    key: string,
    level: 'debug' | 'info' | 'warn',
    fields: Record<string, unknown>,
    message: string,
  ): void {
    if (this.active.has(key)) return;
    this.active.add(key);
    this.log[level](fields, message);
  }

  /** `key` works again: say so if it was reported, and report it anew next time. */
  clear(key: string, fields: Record<string, unknown> = {}): void {
    if (this.active.delete(key)) this.log.info({ ...fields, problem: key }, 'collection problem cleared');
  }

  has(key: string): boolean {
    return this.active.has(key);
  }
}
