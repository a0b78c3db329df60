/**
 * How often one playbook may act: at least `cooldownMs` after its last
 * action, and at most `maxPerHour` actions in any sliding hour. Actions are
 * runs, and in recommend and dry-run modes the runs that would have been,
 * so those modes show what enforce would do.
 */
export const HOUR_MS = 3_600_000;

/** What a budget remembers, to survive a restart: the last action and those of the last hour, Unix epoch ms. */
export interface BudgetHistory {
  last?: number | undefined;
  recent: number[];
}

export type BudgetRefusal = { reason: 'cooldown' | 'rate_limit'; retryAt: number; detail: string };

export class ActionBudget {
  /** Times of the actions of the last hour, oldest first, Unix epoch ms. */
  private readonly recent: number[] = [];
  private last: number | undefined;

  constructor(
    private readonly cooldownMs: number,
    private readonly maxPerHour: number,
    restored?: BudgetHistory,
  ) {
    if (restored) {
      this.last = restored.last;
      this.recent.push(...[...restored.recent].sort((a, b) => a - b));
    }
  }

  history(): BudgetHistory {
    return { ...(this.last !== undefined ? { last: this.last } : {}), recent: [...this.recent] };
  }

  /** Why the playbook may not act at `now`, and from when it may; undefined when it may. */
  refusal(now: number): BudgetRefusal | undefined {
    if (this.last !== undefined && now - this.last < this.cooldownMs) {
      const retryAt = this.last + this.cooldownMs;
      return {
        reason: 'cooldown',
        retryAt,
        detail: `in cooldown since its action at ${iso(this.last)}, until ${iso(retryAt)}`,
      };
    }
    this.forgetBefore(now - HOUR_MS);
    if (this.recent.length >= this.maxPerHour) {
      const retryAt = this.recent[0]! + HOUR_MS;
      return {
        reason: 'rate_limit',
        retryAt,
        detail: `${this.recent.length} actions in the last hour (at most ${this.maxPerHour}), next from ${iso(retryAt)}`,
      };
    }
    return undefined;
  }

  record(at: number): void {
    this.last = at;
    this.recent.push(at);
  }

  private forgetBefore(t: number): void {
    while (this.recent.length > 0 && this.recent[0]! <= t) this.recent.shift();
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
