import type { Objective } from '../search/study.js';
import type { ParamValues } from '../search/space.js';
import type { Trial } from '../search/trial.js';
import { TrialPruned } from '../search/trial.js';
import type { RunHandle, RunRegistry } from './run-registry.js';

/** An objective that also gets the trial's run, to log curves and artifacts of its own. */
export type TrackedObjective<P> = (params: P, trial: Trial, run: RunHandle) => Promise<number> | number;

export interface TrialTracking {
  /** The study's run; every trial becomes a child run of it. */
  parentRunId: string;
  /** Child run names; default `trial-<number>`. */
  name?: (trialNumber: number) => string;
  /** Metric name for reported intermediate values and the final value. Default `objective`. */
  metric?: string;
}

/**
 * Wraps an objective so each trial is recorded as a `trial` run under the
 * study's run: its params, every `trial.report` as a point of the metric's
 * curve, the final value, and how it ended (tag `trial.state`: complete,
 * pruned or failed). A pruned trial's run is `finished`: stopping it was
 * the search working, not the trial breaking.
 */
export function trackTrials<P extends ParamValues>(
  registry: RunRegistry,
  tracking: TrialTracking,
  objective: TrackedObjective<P>,
): Objective<P> {
  const metric = tracking.metric ?? 'objective';
  return async (params, trial) => {
    const run = await registry.startRun({
      name: tracking.name?.(trial.number) ?? `trial-${trial.number}`,
      kind: 'trial',
      parentRunId: tracking.parentRunId,
      params,
      tags: { 'trial.number': String(trial.number) },
    });
    const reporting: Trial = {
      number: trial.number,
      intermediateValues: trial.intermediateValues,
      shouldPrune: () => trial.shouldPrune(),
      report: (step, value) => {
        if (!trial.intermediateValues.has(step)) run.logMetric(metric, value, step);
        return trial.report(step, value);
      },
    };
    try {
      const value = await objective(params, reporting, run);
      // The study fails a NaN result; the run says the same.
      const ok = typeof value === 'number' && !Number.isNaN(value);
      run.setTag('trial.state', ok ? 'complete' : 'failed');
      if (ok) run.logMetrics({ [`${metric}.final`]: value });
      await run.finish(ok ? 'finished' : 'failed', ok ? undefined : `objective returned ${String(value)}`);
      return value;
    } catch (err) {
      const pruned = err instanceof TrialPruned;
      run.setTag('trial.state', pruned ? 'pruned' : 'failed');
      await run.finish(pruned ? 'finished' : 'failed', pruned ? undefined : err);
      throw err;
    }
  };
}
