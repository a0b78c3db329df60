import { ValidationError, errorMessage } from '../../shared/errors.js';
import type { Artifact, MetricPoint, RunParamValue, RunRecord, RunStatus } from './run-record.js';
import { RUN_RECORD_VERSION, featureSchemaHash } from './run-record.js';
import type { ArtifactSource, RunDataset, RunHandle, RunStart } from './run-registry.js';

/** What an `ActiveRun` needs from storage; each registry implements it. */
export interface RunStore {
  writeRecord(record: RunRecord): Promise<void>;
  writeArtifact(runId: string, name: string, source: ArtifactSource): Promise<Artifact>;
}

/** A fresh `running` record for `start`. */
export function newRunRecord(runId: string, start: RunStart, startedAt: number): RunRecord {
  const record: RunRecord = {
    schemaVersion: RUN_RECORD_VERSION,
    runId,
    name: requireName(start.name, 'name'),
    kind: requireName(start.kind, 'kind'),
    parentRunId: start.parentRunId ?? null,
    status: 'running',
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: null,
    durationMs: null,
    error: null,
    params: {},
    metrics: {},
    metricHistory: {},
    dataRange: { from: null, to: null },
    rowCounts: {},
    featureSchemaHash: null,
    featureNames: [],
    tags: {},
    artifacts: [],
  };
  addParams(record, start.params ?? {});
  for (const [key, value] of Object.entries(start.tags ?? {})) record.tags[requireName(key, 'tag')] = value;
  if (start.dataset) applyDataset(record, start.dataset);
  return record;
}

/**
 * The storage-agnostic half of a `RunHandle`: checks and applies what is
 * logged to an in-memory record, and hands writes to the store one at a
 * time, in order, so a later write never lands under an earlier one.
 */
export class ActiveRun implements RunHandle {
  readonly runId: string;
  private readonly record: RunRecord;
  private readonly store: RunStore;
  private readonly now: () => number;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(record: RunRecord, store: RunStore, now: () => number) {
    this.runId = record.runId;
    this.record = record;
    this.store = store;
    this.now = now;
  }

  logParams(params: Record<string, RunParamValue>): void {
    this.assertRunning();
    addParams(this.record, params);
  }

  logMetric(name: string, value: number, step?: number): void {
    this.assertRunning();
    requireName(name, 'metric');
    if (typeof value !== 'number') throw new ValidationError(`metric ${name}: value must be a number`);
    const history = (this.record.metricHistory[name] ??= []);
    const at = step ?? (history.length === 0 ? 0 : history.at(-1)!.step + 1);
    if (!Number.isSafeInteger(at) || at < 0)
      throw new ValidationError(`metric ${name}: step must be an integer >= 0`);
    insertPoint(history, { step: at, value });
    this.record.metrics[name] = history.at(-1)!.value;
  }

  logMetrics(values: Record<string, number>, step?: number): void {
    for (const [name, value] of Object.entries(values)) this.logMetric(name, value, step);
  }

  setTag(key: string, value: string): void {
    this.assertRunning();
    this.record.tags[requireName(key, 'tag')] = String(value);
  }

  setDataset(dataset: RunDataset): void {
    this.assertRunning();
    applyDataset(this.record, dataset);
  }

  async logArtifact(name: string, source: ArtifactSource): Promise<Artifact> {
    this.assertRunning();
    const artifact = await this.serialised(() => this.store.writeArtifact(this.runId, name, source));
    const artifacts = this.record.artifacts.filter((a) => a.name !== artifact.name);
    this.record.artifacts = [...artifacts, artifact];
    await this.flush();
    return artifact;
  }

  async flush(): Promise<void> {
    const copy = this.snapshot();
    await this.serialised(() => this.store.writeRecord(copy));
  }

  async finish(status: Exclude<RunStatus, 'running'> = 'finished', error?: unknown): Promise<RunRecord> {
    if (this.record.status !== 'running') return this.snapshot();
    const finished = this.now();
    this.record.status = status;
    this.record.finishedAt = new Date(finished).toISOString();
    this.record.durationMs = Math.max(0, finished - Date.parse(this.record.startedAt));
    this.record.error = error === undefined ? null : errorMessage(error);
    await this.flush();
    return this.snapshot();
  }

  snapshot(): RunRecord {
    return structuredClone(this.record);
  }

  private serialised<T>(write: () => Promise<T>): Promise<T> {
    const next = this.writes.then(write);
    this.writes = next.catch(() => undefined); // one failed write must not block the ones after it
    return next;
  }

  private assertRunning(): void {
    if (this.record.status !== 'running') {
      throw new ValidationError(
        `run ${this.runId} is ${this.record.status}; nothing more can be logged to it`,
      );
    }
  }
}

function addParams(record: RunRecord, params: Record<string, RunParamValue>): void {
  for (const [key, value] of Object.entries(params)) {
    requireName(key, 'param');
    const ok =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok)
      throw new ValidationError(`param ${key}: must be a string, boolean or finite number`, {
        path: `params.${key}`,
      });
    record.params[key] = value;
  }
}

function applyDataset(record: RunRecord, dataset: RunDataset): void {
  if (dataset.dataRange) {
    for (const end of ['from', 'to'] as const) {
      const time = dataset.dataRange[end];
      if (time !== null && Number.isNaN(Date.parse(time))) {
        throw new ValidationError(`dataRange.${end}: not an ISO time: ${time}`, { path: `dataRange.${end}` });
      }
    }
    record.dataRange = {
      from: toIso(dataset.dataRange.from),
      to: toIso(dataset.dataRange.to),
    };
  }
  for (const [split, rows] of Object.entries(dataset.rowCounts ?? {})) {
    if (!Number.isSafeInteger(rows) || rows < 0)
      throw new ValidationError(`rowCounts.${split}: must be an integer >= 0`);
    record.rowCounts[split] = rows;
  }
  if (dataset.featureNames) {
    record.featureNames = [...dataset.featureNames];
    record.featureSchemaHash = featureSchemaHash(dataset.featureNames);
  }
  if (dataset.featureSchemaHash !== undefined) record.featureSchemaHash = dataset.featureSchemaHash;
}

/** Normalises to the `Z` form so stored times compare as strings. */
function toIso(time: string | null): string | null {
  return time === null ? null : new Date(time).toISOString();
}

/** Keeps one point per step, ascending by step; a repeated step replaces its value. */
function insertPoint(history: MetricPoint[], point: MetricPoint): void {
  let i = history.length;
  while (i > 0 && history[i - 1]!.step > point.step) i--;
  if (i > 0 && history[i - 1]!.step === point.step) history[i - 1] = point;
  else history.splice(i, 0, point);
}

function requireName(name: string, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
    throw new ValidationError(`${what} name must be 1..256 characters, got ${JSON.stringify(name)}`);
  }
  return name;
}
