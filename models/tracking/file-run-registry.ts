import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../../shared/errors.js';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';
import { stringifyJson } from '../io/json-number.js';
import { ActiveRun, newRunRecord } from './active-run.js';
import type { RunStore } from './active-run.js';
import { writeArtifactFile } from './artifact-file.js';
import { RUN_ID_PATTERN, newRunId } from './run-id.js';
import type { Artifact, RunRecord } from './run-record.js';
import { RunRecordSchema } from './run-record.js';
import type { ArtifactSource, RunFilter, RunHandle, RunRegistry, RunStart } from './run-registry.js';
import { matchesFilter } from './run-registry.js';

/** The record's file inside each run directory. */
export const RUN_FILE = 'run.json';

/**
 * Runs as directories: `<rootDir>/<runId>/run.json` plus the run's artifact
 * files. Every write of run.json replaces it atomically (temp file + rename),
 * so readers — the REST API in another process — never see half a record.
 * Listing reads every run.json; fine for the hundreds of runs a fleet's
 * retraining produces, an index would be the next step beyond that.
 */
export class FileRunRegistry implements RunRegistry {
  readonly rootDir: string;
  private readonly now: () => number;
  private readonly store: RunStore;

  /** `now`: clock in milliseconds since the epoch, for tests. */
  constructor(rootDir: string, options: { now?: () => number } = {}) {
    this.rootDir = rootDir;
    this.now = options.now ?? Date.now;
    this.store = {
      writeRecord: (record: RunRecord) => this.writeRecord(record),
      writeArtifact: (runId: string, name: string, source: ArtifactSource): Promise<Artifact> =>
        writeArtifactFile(join(this.rootDir, runId), name, source),
    };
  }

  async startRun(start: RunStart): Promise<RunHandle> {
    if (start.parentRunId != null && !RUN_ID_PATTERN.test(start.parentRunId)) {
      throw new ValidationError(`parentRunId is not a run id: ${start.parentRunId}`, { path: 'parentRunId' });
    }
    const startedAt = this.now();
    const record = newRunRecord(newRunId(startedAt), start, startedAt);
    await mkdir(join(this.rootDir, record.runId), { recursive: true });
    await this.writeRecord(record);
    return new ActiveRun(record, this.store, this.now);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    // The id becomes a path: anything but a well-formed id cannot name a run.
    if (!RUN_ID_PATTERN.test(runId)) return undefined;
    const path = join(this.rootDir, runId, RUN_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return parseRunFile(text, path);
  }

  /**
   * Newest first. A directory whose run.json is missing (a run being created)
   * or unreadable is left out rather than failing the whole listing;
   * `getRun` on it reports the problem.
   */
  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.rootDir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const ids = names
      .filter((n) => RUN_ID_PATTERN.test(n))
      .sort()
      .reverse();
    const runs: RunRecord[] = [];
    for (const id of ids) {
      if (filter.limit !== undefined && runs.length >= filter.limit) break;
      const run = await this.getRun(id).catch(() => undefined);
      if (run && matchesFilter(run, filter)) runs.push(run);
    }
    return runs;
  }

  private async writeRecord(record: RunRecord): Promise<void> {
    await writeFileAtomic(join(this.rootDir, record.runId, RUN_FILE), `${stringifyJson(record, 2)}\n`);
  }
}

function parseRunFile(text: string, path: string): RunRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${path}: not JSON`, { path, cause: err });
  }
  const result = RunRecordSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = [path, ...issue.path.map(String)].join('.');
  throw new ValidationError(`${where}: ${issue.message}`, { path: where, cause: result.error });
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
