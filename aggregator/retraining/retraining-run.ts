/**
 * The loop's record of one retrain in the run registry: a run of kind
 * `retraining` beside the challenger's own training run, holding the
 * comparison on the hold-out, the decision and the drift reference the
 * serving model is later checked against.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileRunRegistry, RunRegistry } from '../../models/tracking/index.js';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import type { ResolvedModel } from '../registry/model-catalog.js';
import type { RetrainingSettings } from './config.js';
import { type DriftReference, DriftReferenceSchema } from './drift-statistics.js';
import type { RetrainOutcome } from './retrain-job.js';
import type { RetrainTrigger } from './retraining-log.js';

/** Run kind of the loop's records in the run registry. */
export const RETRAINING_RUN_KIND = 'retraining';
/** Artifacts of a retraining run. */
export const COMPARISON_ARTIFACT = 'comparison.json';
export const DRIFT_REFERENCE_ARTIFACT = 'drift-reference.json';

/** Records the `retraining` run: parameters, the comparison's figures, the decision, the drift reference. */
export async function recordRetrainingRun(
  registry: RunRegistry,
  settings: RetrainingSettings,
  key: string,
  trigger: RetrainTrigger,
  champion: ResolvedModel | undefined,
  outcome: Extract<RetrainOutcome, { status: 'trained' }>,
  decision: { promote: boolean; reason: string },
): Promise<string> {
  const run = await registry.startRun({
    name: `retraining ${key}`,
    kind: RETRAINING_RUN_KIND,
    params: {
      trigger,
      searchTrials: settings.search.trials,
      searchBudgetS: settings.search.budget / 1000,
      threads: settings.threads,
      holdoutFraction: settings.holdoutFraction,
      minPrAucGain: settings.promotion.minPrAucGain,
      maxRecallLoss: settings.promotion.maxRecallLoss,
    },
    tags: {
      resource: key,
      trigger,
      decision: decision.promote ? 'promoted' : 'rejected',
      reason: decision.reason,
      challengerRunId: outcome.challenger.runId,
      champion: champion ? (champion.runId ?? champion.source) : 'none',
    },
    dataset: {
      dataRange: {
        from: new Date(outcome.history.fromMs).toISOString(),
        to: new Date(outcome.history.toMs).toISOString(),
      },
      rowCounts: { holdout: outcome.holdout.rows },
      featureNames: FEATURE_SCHEMA.names,
      featureSchemaHash: FEATURE_SCHEMA.hash,
    },
  });
  const metrics: Record<string, number> = {
    holdout_positives: outcome.holdout.positives,
    holdout_events: outcome.holdout.events,
    seconds: outcome.seconds,
  };
  const put = (
    prefix: string,
    c: { prAuc: number | null; rocAuc: number | null; recall: number | null; precision: number | null },
  ) => {
    for (const [name, value] of Object.entries({
      pr_auc: c.prAuc,
      roc_auc: c.rocAuc,
      recall: c.recall,
      precision: c.precision,
    })) {
      if (value !== null) metrics[`${prefix}_${name}`] = value;
    }
  };
  put('challenger', outcome.challengerEvaluation);
  if (outcome.championEvaluation) put('champion', outcome.championEvaluation);
  for (const rule of outcome.rules) put(`rule_${rule.name}`, rule);
  run.logMetrics(metrics);
  const comparison = {
    resource: key,
    trigger,
    decision,
    holdout: {
      ...outcome.holdout,
      from: new Date(outcome.holdout.fromMs).toISOString(),
      to: new Date(outcome.holdout.untilMs).toISOString(),
    },
    challenger: {
      runId: outcome.challenger.runId,
      validation: outcome.challenger.validation,
      holdout: outcome.challengerEvaluation,
    },
    champion: {
      source: champion?.source ?? 'none',
      runId: champion?.runId,
      holdout: outcome.championEvaluation,
      error: outcome.championError,
    },
    rules: outcome.rules,
    promotionRule: settings.promotion,
  };
  const encode = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  await run.logArtifact(COMPARISON_ARTIFACT, encode(comparison));
  await run.logArtifact(DRIFT_REFERENCE_ARTIFACT, encode(outcome.reference));
  const record = await run.finish('finished');
  return record.runId;
}

/** The drift reference saved by the retraining run that promoted `runId`, when it fits this build's features. */
export async function loadDriftReference(
  registry: FileRunRegistry,
  runId: string,
): Promise<DriftReference | undefined> {
  const [run] = await registry.listRuns({
    kind: RETRAINING_RUN_KIND,
    tags: { challengerRunId: runId },
    limit: 1,
  });
  const artifact = run?.artifacts.find((a) => a.name === DRIFT_REFERENCE_ARTIFACT);
  if (!run || !artifact) return undefined;
  const text = await readFile(join(registry.rootDir, run.runId, artifact.path), 'utf8');
  const parsed = DriftReferenceSchema.safeParse(JSON.parse(text));
  return parsed.success && parsed.data.featureSchemaHash === FEATURE_SCHEMA.hash ? parsed.data : undefined;
}
