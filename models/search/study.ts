import { z } from 'zod';
import { BusyError, ValidationError, errorMessage } from '../../shared/errors.js';
import type { Pruner } from './pruner.js';
import { MedianPruner } from './pruner.js';
import type { Sampler } from './sampler.js';
import type { ParamsOf, SearchSpace } from './space.js';
import { defineSpace, parseParams } from './space.js';
import type { StudyHeader } from './study-log.js';
import { appendTrialToLog, formatStudyLog, studyHeader, writeStudyLog } from './study-log.js';
import { TpeSampler } from './tpe-sampler.js';
import type { Direction, Trial, TrialRecord, TrialState } from './trial.js';
import { TrialPruned, isBetter } from './trial.js';

/**
 * How much one `optimize` call may spend. No new trial starts once either
 * limit is used up; a trial already running is never cut short (an objective
 * that must stop in time can watch the clock itself, or report and prune).
 */
export const StudyBudgetSchema = z
  .object({
    /** Trials to run in this call. */
    trials: z.number().int().min(0).optional(),
    /** Wall time in seconds after which no trial is started. */
    seconds: z.number().positive().optional(),
  })
  .strict()
  .refine((b) => b.trials !== undefined || b.seconds !== undefined, 'give trials, seconds or both');
export type StudyBudget = z.infer<typeof StudyBudgetSchema>;

/** An objective: evaluates one parameter set, reporting intermediate values through `trial`. */
export type Objective<P> = (params: P, trial: Trial) => Promise<number> | number;

export interface StudyOptions<S extends SearchSpace> {
  space: S;
  /** Name recorded in the study log. Default `study`. */
  name?: string;
  /** Default `minimize`. */
  direction?: Direction;
  /** Default a `TpeSampler` with a fresh seed (recorded in the log). */
  sampler?: Sampler;
  /** Default a `MedianPruner`, as Optuna; it acts only on objectives that report. */
  pruner?: Pruner;
  /** Finished trials of an earlier run (e.g. `readStudyLog(...).trials`) to continue from. */
  history?: readonly TrialRecord[];
  /** When set, the study log is kept in this file: rewritten when `optimize` starts, one line appended per trial. */
  logPath?: string;
  /** Called with every finished trial, after it is recorded (e.g. to log it as a tracked run). */
  onTrialFinished?: (trial: TrialRecord<ParamsOf<S>>) => void | Promise<void>;
  /** Clock in milliseconds since the epoch; for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * An Optuna-style study: asks the sampler for parameters, runs the
 * objective, records every trial, and keeps going until the budget is spent.
 * Trials run one after another, so TPE always sees every earlier result.
 */
export class Study<S extends SearchSpace> {
  readonly name: string;
  readonly direction: Direction;
  readonly space: S;
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  private readonly records: TrialRecord<ParamsOf<S>>[] = [];
  private readonly complete: TrialRecord<ParamsOf<S>>[] = [];
  private readonly logPath: string | undefined;
  private readonly onTrialFinished: StudyOptions<S>['onTrialFinished'];
  private readonly now: () => number;
  private readonly createdAt: string;
  private running = false;

  constructor(options: StudyOptions<S>) {
    this.space = defineSpace(options.space);
    this.name = options.name ?? 'study';
    this.direction = options.direction ?? 'minimize';
    this.sampler = options.sampler ?? new TpeSampler();
    this.pruner = options.pruner ?? new MedianPruner();
    this.logPath = options.logPath;
    this.onTrialFinished = options.onTrialFinished;
    this.now = options.now ?? Date.now;
    this.createdAt = new Date(this.now()).toISOString();
    for (const [i, trial] of (options.history ?? []).entries()) {
      const params = parseParams(this.space, trial.params, `history[${i}].params`);
      this.record({ ...trial, params });
    }
  }

  /** Every finished trial, in the order they finished. */
  get trials(): readonly TrialRecord<ParamsOf<S>>[] {
    return this.records;
  }

  /** The complete trial with the best value (the earliest on ties); undefined before the first. */
  get bestTrial(): TrialRecord<ParamsOf<S>> | undefined {
    let best: TrialRecord<ParamsOf<S>> | undefined;
    for (const t of this.complete) if (!best || isBetter(this.direction, t.value!, best.value!)) best = t;
    return best;
  }

  header(): StudyHeader {
    const { name, direction, space, createdAt } = this;
    return studyHeader({
      name,
      direction,
      space,
      createdAt,
      sampler: { name: this.sampler.name, seed: this.sampler.seed },
    });
  }

  /** The whole log (header and every trial) as JSON lines, e.g. to store it as a run artifact. */
  formatLog(): string {
    return formatStudyLog(this.header(), this.records);
  }

  /** Writes the whole log (header and every trial) to `path`, atomically. */
  async writeLog(path: string): Promise<void> {
    await writeStudyLog(path, this.header(), this.records);
  }

  /** Runs trials until the budget is spent; returns the trials this call ran. */
  async optimize(
    objective: Objective<ParamsOf<S>>,
    budget: StudyBudget,
  ): Promise<TrialRecord<ParamsOf<S>>[]> {
    const limits = parseBudget(budget);
    if (this.running)
      throw new BusyError(`study ${this.name} is already optimizing; trials run one at a time`);
    this.running = true;
    try {
      if (this.logPath) await this.writeLog(this.logPath);
      const started = this.now();
      const ran: TrialRecord<ParamsOf<S>>[] = [];
      while (limits.trials === undefined || ran.length < limits.trials) {
        if (limits.seconds !== undefined && this.now() - started >= limits.seconds * 1000) break;
        const trial = await this.runTrial(objective);
        ran.push(trial);
        if (this.logPath) await appendTrialToLog(this.logPath, trial);
        await this.onTrialFinished?.(trial);
      }
      return ran;
    } finally {
      this.running = false;
    }
  }

  private async runTrial(objective: Objective<ParamsOf<S>>): Promise<TrialRecord<ParamsOf<S>>> {
    const number = this.records.reduce((max, t) => Math.max(max, t.number + 1), 0);
    const params = this.sampler.sample(this.space, { direction: this.direction, trials: this.records });
    const trial = new RunningTrial(number, (values) =>
      this.pruner.shouldPrune({
        direction: this.direction,
        intermediateValues: values,
        completeTrials: this.complete,
      }),
    );
    const startedAt = this.now();
    let state: TrialState;
    let value: number | null = null;
    let error: string | null = null;
    try {
      const result: unknown = await objective({ ...params }, trial);
      if (typeof result !== 'number' || Number.isNaN(result)) {
        // Optuna fails a trial whose objective returns NaN: it cannot be ranked.
        state = 'failed';
        error = `objective returned ${String(result)}, not a number`;
      } else {
        state = 'complete';
        value = result;
      }
    } catch (err) {
      state = err instanceof TrialPruned ? 'pruned' : 'failed';
      if (state === 'failed') error = errorMessage(err);
    }
    trial.close();
    return this.record({
      number,
      params,
      state,
      value,
      intermediateValues: [...trial.intermediateValues]
        .sort((a, b) => a[0] - b[0])
        .map(([step, v]) => ({ step, value: v })),
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Math.max(0, this.now() - startedAt),
      error,
    });
  }

  private record(trial: TrialRecord<ParamsOf<S>>): TrialRecord<ParamsOf<S>> {
    this.records.push(trial);
    if (trial.state === 'complete') this.complete.push(trial);
    return trial;
  }
}

/** The `Trial` an objective holds while it runs. */
class RunningTrial implements Trial {
  readonly number: number;
  readonly intermediateValues = new Map<number, number>();
  private readonly judge: (values: ReadonlyMap<number, number>) => boolean;
  private closed = false;

  constructor(number: number, judge: (values: ReadonlyMap<number, number>) => boolean) {
    this.number = number;
    this.judge = judge;
  }

  report(step: number, value: number): boolean {
    if (!Number.isSafeInteger(step) || step < 0)
      throw new RangeError(`step must be an integer >= 0, got ${step}`);
    if (typeof value !== 'number')
      throw new TypeError(`reported value must be a number, got ${typeof value}`);
    // Reports after the objective settled (a stray callback) would change a finished record.
    if (!this.closed && !this.intermediateValues.has(step)) this.intermediateValues.set(step, value);
    return this.shouldPrune();
  }

  shouldPrune(): boolean {
    return !this.closed && this.judge(this.intermediateValues);
  }

  close(): void {
    this.closed = true;
  }
}

function parseBudget(budget: StudyBudget): StudyBudget {
  const result = StudyBudgetSchema.safeParse(budget);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = ['budget', ...issue.path.map(String)].join('.');
  throw new ValidationError(`${path}: ${issue.message}`, { path, cause: result.error });
}
