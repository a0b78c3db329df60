import type { Artifact, DataRange, RunParamValue, RunRecord, RunStatus } from './run-record.js';

/**
 * Where runs are kept. Small on purpose, so the aggregator can hold one in
 * its data dir and serve it over REST whatever the storage is: files today
 * (`FileRunRegistry`), a table later.
 */
export interface RunRegistry {
  /** Creates a `running` run and stores it at once, so it is listed while it runs. */
  startRun(start: RunStart): Promise<RunHandle>;
  /** The run, or undefined when there is none with this id. */
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Runs matching `filter`, newest first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
}

export interface RunStart {
  name: string;
  /** e.g. `training`, `study`, `trial`. */
  kind: string;
  parentRunId?: string | null;
  params?: Record<string, RunParamValue>;
  tags?: Record<string, string>;
  dataset?: RunDataset;
}

/** What a run was trained or evaluated on. */
export interface RunDataset {
  dataRange?: DataRange;
  rowCounts?: Record<string, number>;
  featureNames?: readonly string[];
  /** Default when `featureNames` is given: `featureSchemaHash(featureNames)`. */
  featureSchemaHash?: string | null;
}

/** Bytes to store, or the path of a file to copy. */
export type ArtifactSource = Uint8Array | string;

/**
 * A run being recorded. Params, metrics and tags are buffered in memory and
 * reach storage on `flush()`, `logArtifact()` and `finish()` — a trainer
 * logging a loss per boosting round should not rewrite a file per round;
 * it flushes every so often if the run should be watchable live.
 */
export interface RunHandle {
  readonly runId: string;
  logParams(params: Record<string, RunParamValue>): void;
  /** Records `value` at `step` (default: one after the metric's last step, 0 for the first). */
  logMetric(name: string, value: number, step?: number): void;
  /** Several metrics at one step, e.g. `{ trainLoss, validLoss }` after a round. */
  logMetrics(values: Record<string, number>, step?: number): void;
  setTag(key: string, value: string): void;
  setDataset(dataset: RunDataset): void;
  /** Stores a file with the run; `name` is a relative '/'-separated path. Replaces an artifact of the same name. */
  logArtifact(name: string, source: ArtifactSource): Promise<Artifact>;
  /** Writes everything logged so far. */
  flush(): Promise<void>;
  /** Ends the run and writes it; calling it again returns the stored record unchanged. */
  finish(status?: Exclude<RunStatus, 'running'>, error?: unknown): Promise<RunRecord>;
  /** A copy of the record as it stands. */
  snapshot(): RunRecord;
}

export interface RunFilter {
  kind?: string;
  name?: string;
  status?: RunStatus;
  /** `null` selects top-level runs only. */
  parentRunId?: string | null;
  /** Every given tag must match. */
  tags?: Record<string, string>;
  /** At most this many runs (the newest). */
  limit?: number;
}

export function matchesFilter(run: RunRecord, filter: RunFilter): boolean {
  if (filter.kind !== undefined && run.kind !== filter.kind) return false;
  if (filter.name !== undefined && run.name !== filter.name) return false;
  if (filter.status !== undefined && run.status !== filter.status) return false;
  if (filter.parentRunId !== undefined && run.parentRunId !== filter.parentRunId) return false;
  for (const [key, value] of Object.entries(filter.tags ?? {})) if (run.tags[key] !== value) return false;
  return true;
}
