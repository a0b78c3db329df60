/**
 * Decides, each prediction cycle, whether a playbook acts, and audits every
 * decision as a `remediation` event.
 *
 * Per playbook: a resource it watches triggers it when its probability is
 * above `when.probabilityAbove` for `when.forCycles` cycles in a row (a
 * cycle without a forecast for it breaks the run). Once triggered, the
 * playbook's budget (cooldown, most actions per hour) is checked, then its
 * mode says what happens: `recommend` and `dry-run` emit what would run;
 * `enforce` asks the aggregator for a lease, runs the command only with one,
 * gives the lease back, and some cycles later judges whether the risk fell.
 *
 * While a trigger holds, one decision is made and then the playbook stays
 * quiet until that decision's time is up (the cooldown, the rate limit's
 * slot, the lease retry): a resource that stays high for hours produces a
 * handful of events, not one per cycle. When the trigger stops holding, the
 * next one is a new decision.
 */
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { parseResourceId } from '../../shared/resources/resource-id.js';
import { MAX_REMEDIATION_OUTPUT_LENGTH, type RemediationOutcome } from '../../shared/wire/events.js';
import type { RemediationMode } from '../../shared/wire/remediation.js';
import { ActionBudget, type BudgetHistory } from './action-budget.js';
import { startCommand, type CommandResult, type RunningCommand } from './command-runner.js';
import { LEASE_MARGIN_SECONDS, modeOf, playbookWatches, type Playbook } from './config.js';
import type { LeaseAnswer } from './lease-client.js';
import {
  remediationEvent,
  resourceInWords,
  runInWords,
  triggerInWords,
  type DecisionFields,
  type EventBuilder,
} from './remediation-events.js';

/** One resource's forecast in a cycle, as the engine needs it. */
export interface RiskReading {
  /** Canonical resource id. */
  resource: string;
  /** 0..1. */
  probability: number;
}

/** The lease side, as the engine uses it (LeaseClient in the agent, a fake in tests). */
export interface LeaseGate {
  acquire(
    request: { hostId: string; playbook: string; resource: string; ttlSeconds: number },
    cancel?: AbortSignal,
  ): Promise<LeaseAnswer>;
  release(leaseId: string): Promise<void>;
}

/** The command side: `startCommand` in the agent. */
export type CommandStarter = typeof startCommand;

/** The command's PATH: the system's directories only, never the agent's own environment. */
const COMMAND_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RemediationEngineOptions {
  hostId: string;
  /** `agent.remediation.mode`: the default and the ceiling of every playbook's mode. */
  mode: RemediationMode;
  playbooks: readonly Playbook[];
  leases: LeaseGate;
  /** After a refused or unanswered lease, the playbook is considered again this much later, ms. */
  leaseRetryMs: number;
  /** Queues an event (the agent's disk queue); called in decision order. */
  emit: (build: EventBuilder) => Promise<void>;
  log: Logger;
  startCommand?: CommandStarter;
  now?: () => number;
  /** Each playbook's past actions, from the previous run (ActionHistoryFile.load). */
  restored?: ReadonlyMap<string, BudgetHistory>;
  /** Told every playbook's actions after each new one (ActionHistoryFile.save). */
  onActed?: (history: Map<string, BudgetHistory>) => Promise<void>;
}

interface OutcomeWatch {
  resource: string;
  executedAt: number;
  cyclesLeft: number;
  lastProbability: number | undefined;
}

interface PlaybookState {
  readonly playbook: Playbook;
  readonly mode: RemediationMode;
  readonly budget: ActionBudget;
  /** Cycles in a row above the trigger level, per watched resource. */
  readonly streaks: Map<string, number>;
  /** No new decision before this time while the trigger keeps holding, Unix epoch ms. */
  quietUntil: number;
  /** A lease request or a command is under way. */
  busy: boolean;
  watch: OutcomeWatch | undefined;
}

export class RemediationEngine {
  private readonly states: PlaybookState[];
  private readonly now: () => number;
  private readonly start: CommandStarter;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly running = new Set<RunningCommand>();
  private readonly stopping = new AbortController();
  private emitChain: Promise<void> = Promise.resolve();

  constructor(private readonly options: RemediationEngineOptions) {
    this.now = options.now ?? Date.now;
    this.start = options.startCommand ?? startCommand;
    this.states = options.playbooks
      .map((playbook) => ({
        playbook,
        mode: modeOf(options.mode, playbook),
        budget: new ActionBudget(
          playbook.cooldown,
          playbook.maxRunsPerHour,
          options.restored?.get(playbook.name),
        ),
        streaks: new Map<string, number>(),
        quietUntil: 0,
        busy: false,
        watch: undefined,
      }))
      .filter((s) => s.mode !== 'off');
  }

  /** Playbooks that are evaluated (mode not off). */
  get activePlaybooks(): number {
    return this.states.length;
  }

  /** One cycle's forecasts, made at `atMs`. Decisions that need the network or a command go on in the background. */
  observe(readings: readonly RiskReading[], atMs: number): void {
    if (this.stopping.signal.aborted) return;
    for (const state of this.states) {
      const mine = readings.filter((r) => playbookWatches(state.playbook, r.resource));
      this.advanceWatch(state, mine, atMs);
      const triggered = this.advanceStreaks(state, mine);
      if (!triggered) {
        state.quietUntil = 0; // the episode is over: the next trigger is a new decision
        continue;
      }
      if (state.busy || atMs < state.quietUntil) continue;
      this.decide(state, triggered, atMs);
    }
  }

  /** Resolves once the decisions under way (leases, commands) are done and their events queued. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.emitChain;
  }

  /**
   * Stops deciding, kills running commands (their `executed` events say so)
   * and waits for every decision under way to be audited. Safe to call twice.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const command of this.running) command.kill();
    await this.settled();
  }

  /** Updates the streaks; returns the reading that triggers the playbook (the highest), if one does. */
  private advanceStreaks(state: PlaybookState, mine: readonly RiskReading[]): RiskReading | undefined {
    const { probabilityAbove, forCycles } = state.playbook.when;
    const seen = new Set<string>();
    let best: RiskReading | undefined;
    for (const reading of mine) {
      seen.add(reading.resource);
      if (!(reading.probability > probabilityAbove)) {
        state.streaks.delete(reading.resource);
        continue;
      }
      const streak = (state.streaks.get(reading.resource) ?? 0) + 1;
      state.streaks.set(reading.resource, streak);
      if (streak >= forCycles && (!best || reading.probability > best.probability)) best = reading;
    }
    for (const resource of state.streaks.keys()) if (!seen.has(resource)) state.streaks.delete(resource);
    return best;
  }

  private decide(state: PlaybookState, reading: RiskReading, atMs: number): void {
    const { playbook, mode } = state;
    const trigger = triggerInWords(playbook, reading.resource, reading.probability);
    const refusal = state.budget.refusal(atMs);
    if (refusal) {
      state.quietUntil = refusal.retryAt;
      this.audit(state, {
        timestamp: atMs,
        decision: 'skipped',
        resource: reading.resource,
        probability: reading.probability,
        reason: refusal.reason,
        retryAt: refusal.retryAt,
        detail: `${trigger}; playbook "${playbook.name}" not run: ${refusal.detail}`,
      });
      return;
    }
    if (mode === 'recommend' || mode === 'dry-run') {
      this.acted(state, atMs);
      state.quietUntil = atMs + playbook.cooldown;
      const detail =
        mode === 'recommend'
          ? `${trigger}; playbook "${playbook.name}" would run ${runInWords(playbook)} (mode recommend: nothing was run)`
          : `${trigger}; dry run of playbook "${playbook.name}": would run ${runInWords(playbook)}, not executed`;
      this.options.log.info(
        { playbook: playbook.name, resource: reading.resource, probability: reading.probability, mode },
        detail,
      );
      this.audit(state, {
        timestamp: atMs,
        decision: mode === 'recommend' ? 'recommended' : 'dry_run',
        resource: reading.resource,
        probability: reading.probability,
        command: [...playbook.run],
        detail,
      });
      return;
    }
    state.busy = true;
    const job = this.enforce(state, reading, trigger)
      .catch((err: unknown) =>
        this.options.log.error({ playbook: playbook.name, err: errorMessage(err) }, 'remediation failed'),
      )
      .finally(() => {
        state.busy = false;
        this.inFlight.delete(job);
      });
    this.inFlight.add(job);
  }

  /** Lease, run, release, then watch the outcome. */
  private async enforce(state: PlaybookState, reading: RiskReading, trigger: string): Promise<void> {
    const { playbook } = state;
    const { hostId, leaseRetryMs, log } = this.options;
    const answer = await this.options.leases.acquire(
      {
        hostId,
        playbook: playbook.name,
        resource: reading.resource,
        ttlSeconds: Math.ceil(playbook.timeout / 1000) + LEASE_MARGIN_SECONDS,
      },
      this.stopping.signal,
    );
    if (!answer.granted) {
      const decidedAt = this.now();
      const retryAt = decidedAt + leaseRetryMs;
      state.quietUntil = retryAt;
      const why = this.stopping.signal.aborted ? 'the agent is stopping' : answer.detail;
      const detail =
        answer.reason === 'fleet_cap'
          ? `${trigger}; playbook "${playbook.name}" not run: the aggregator refused a lease (${why}); next try from ${new Date(retryAt).toISOString()}`
          : `${trigger}; playbook "${playbook.name}" not run: no lease without an answer from the aggregator (${why}); next try from ${new Date(retryAt).toISOString()}`;
      log.warn({ playbook: playbook.name, resource: reading.resource, reason: answer.reason }, detail);
      this.audit(state, {
        timestamp: decidedAt,
        decision: answer.reason === 'fleet_cap' ? 'lease_denied' : 'lease_unanswered',
        resource: reading.resource,
        probability: reading.probability,
        reason: answer.reason,
        retryAt,
        detail,
      });
      return;
    }
    const { leaseId } = answer.lease;
    try {
      if (this.stopping.signal.aborted) {
        log.info({ playbook: playbook.name, leaseId }, 'lease granted as the agent stops; not run');
        return;
      }
      await this.run(state, reading, trigger, leaseId);
    } finally {
      await this.options.leases.release(leaseId);
    }
  }

  private async run(
    state: PlaybookState,
    reading: RiskReading,
    trigger: string,
    leaseId: string,
  ): Promise<void> {
    const { playbook } = state;
    const startedAt = this.now();
    this.acted(state, startedAt);
    state.quietUntil = startedAt + playbook.cooldown;
    // A run inside the previous one's outcome window (a cooldown shorter than it) ends that watch first.
    if (state.watch) this.judge(state, state.watch, startedAt);
    this.options.log.info(
      { playbook: playbook.name, resource: reading.resource, leaseId, command: playbook.run },
      `${trigger}; running playbook "${playbook.name}": ${runInWords(playbook)}`,
    );
    let result: CommandResult;
    let command: RunningCommand | undefined;
    try {
      command = this.start({
        argv: playbook.run,
        timeoutMs: playbook.timeout,
        uid: playbook.user?.uid,
        gid: playbook.user?.gid,
        env: commandEnv(this.options.hostId, playbook, reading),
        maxOutputChars: MAX_REMEDIATION_OUTPUT_LENGTH,
      });
      this.running.add(command);
      result = await command.result;
    } catch (err) {
      const detail = `${trigger}; playbook "${playbook.name}" could not start ${runInWords(playbook)}: ${errorMessage(err)}`;
      this.options.log.error({ playbook: playbook.name }, detail);
      this.audit(state, {
        timestamp: this.now(),
        decision: 'failed',
        resource: reading.resource,
        probability: reading.probability,
        reason: 'spawn_error',
        command: [...playbook.run],
        leaseId,
        detail,
      });
      return;
    } finally {
      if (command) this.running.delete(command);
    }
    const executedAt = this.now();
    const detail = `${trigger}; playbook "${playbook.name}" ran ${runInWords(playbook)}: ${resultInWords(result, playbook, this.stopping.signal.aborted)}`;
    this.options.log[result.exitCode === 0 ? 'info' : 'warn'](
      {
        playbook: playbook.name,
        exitCode: result.exitCode,
        durationMs: result.durationMs,
        timedOut: result.timedOut,
      },
      detail,
    );
    this.audit(state, {
      timestamp: executedAt,
      decision: 'executed',
      resource: reading.resource,
      probability: reading.probability,
      command: [...playbook.run],
      leaseId,
      exitCode: result.exitCode,
      ...(result.signal ? { signal: result.signal } : {}),
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      stdout: result.stdout,
      stderr: result.stderr,
      detail,
    });
    state.watch = {
      resource: reading.resource,
      executedAt,
      cyclesLeft: playbook.outcomeCycles,
      lastProbability: undefined,
    };
  }

  /** Counts a cycle of an outcome watch; at its end, the verdict. */
  private advanceWatch(state: PlaybookState, mine: readonly RiskReading[], atMs: number): void {
    const watch = state.watch;
    if (!watch || atMs <= watch.executedAt) return;
    const reading = mine.find((r) => r.resource === watch.resource);
    if (reading) watch.lastProbability = reading.probability;
    if (--watch.cyclesLeft > 0) return;
    this.judge(state, watch, atMs);
  }

  /** The outcome of a run: the last probability seen since, against the trigger level. */
  private judge(state: PlaybookState, watch: OutcomeWatch, atMs: number): void {
    state.watch = undefined;
    const cycles = state.playbook.outcomeCycles - watch.cyclesLeft;
    const { playbook } = state;
    const level = playbook.when.probabilityAbove;
    const p = watch.lastProbability;
    const outcome: RemediationOutcome =
      p === undefined ? 'no_forecast' : p > level ? 'risk_persists' : 'risk_fell';
    const after = `${cycles} cycle${cycles === 1 ? '' : 's'} after playbook "${playbook.name}" ran`;
    const where = resourceInWords(watch.resource);
    const detail =
      p === undefined
        ? `${after}: no forecast for ${where} since, so the outcome is unknown`
        : p > level
          ? `${after}: ${where} exhaustion probability still ${p.toFixed(3)}, above ${level.toFixed(3)}: the risk persists`
          : `${after}: ${where} exhaustion probability ${p.toFixed(3)}, at or below ${level.toFixed(3)}: the risk fell`;
    this.options.log.info({ playbook: playbook.name, resource: watch.resource, outcome }, detail);
    this.audit(state, {
      timestamp: atMs,
      decision: 'outcome',
      resource: watch.resource,
      ...(p !== undefined ? { probability: p } : {}),
      outcome,
      executedAt: watch.executedAt,
      detail,
    });
  }

  /** Counts an action against the playbook's budget, and keeps the history for the next start. */
  private acted(state: PlaybookState, at: number): void {
    state.budget.record(at);
    const onActed = this.options.onActed;
    if (!onActed) return;
    const history = new Map(this.states.map((s) => [s.playbook.name, s.budget.history()]));
    const save = onActed(history).finally(() => this.inFlight.delete(save));
    this.inFlight.add(save);
  }

  /** Queues the event after the ones before it; a queue failure is logged, the engine goes on. */
  private audit(state: PlaybookState, fields: DecisionFields): void {
    const build = remediationEvent(this.options.hostId, state.playbook, state.mode, fields);
    this.emitChain = this.emitChain
      .then(() => this.options.emit(build))
      .catch((err: unknown) =>
        this.options.log.error(
          { playbook: state.playbook.name, decision: fields.decision, err: errorMessage(err) },
          'remediation event not queued; the decision is in this log only',
        ),
      );
  }
}

function resultInWords(result: CommandResult, playbook: Playbook, stopping: boolean): string {
  const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
  if (result.timedOut) return `killed after its timeout of ${playbook.timeout / 1000} s`;
  if (result.exitCode === null) {
    return `ended by ${result.signal ?? 'a signal'} after ${seconds}${stopping ? ' (the agent stopped)' : ''}`;
  }
  return `exit status ${result.exitCode} after ${seconds}`;
}

/**
 * The command's whole environment: a fixed PATH and what the agent knows of
 * the trigger, from its own forecasts. Nothing of the agent's environment
 * (credentials, tokens) is passed on.
 */
function commandEnv(hostId: string, playbook: Playbook, reading: RiskReading): Record<string, string> {
  const env: Record<string, string> = {
    PATH: COMMAND_PATH,
    LANG: 'C.UTF-8',
    CLOUDSENSE_HOST_ID: hostId,
    CLOUDSENSE_PLAYBOOK: playbook.name,
    CLOUDSENSE_RESOURCE: reading.resource,
    CLOUDSENSE_PROBABILITY: reading.probability.toFixed(6),
  };
  try {
    const parsed = parseResourceId(reading.resource);
    if ('mountpoint' in parsed) env.CLOUDSENSE_MOUNTPOINT = parsed.mountpoint;
  } catch {
    // Resource ids reach here canonical; nothing to add otherwise.
  }
  if (playbook.user) env.USER = env.LOGNAME = playbook.user.name;
  return env;
}
