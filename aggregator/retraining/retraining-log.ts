/**
 * The loop's own records in the data dir, one JSON object a line, appended:
 * `retraining/promotions.jsonl` (every retrain's decision: promoted,
 * rejected with the reason, skipped, failed; and rollbacks) and
 * `retraining/drift-checks.jsonl` (every drift check's figures). Append-only
 * lines survive a crash mid-write as one torn last line, which is skipped
 * on reading.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PromotedModel } from './promoted-model.js';

export const RETRAINING_DIR = 'retraining';
export const PROMOTIONS_FILE = 'promotions.jsonl';
export const DRIFT_CHECKS_FILE = 'drift-checks.jsonl';

export type RetrainTrigger = 'schedule' | 'drift' | 'manual';

/** One line of promotions.jsonl. */
export interface PromotionRecord {
  /** ISO 8601. */
  time: string;
  resource: string;
  trigger: RetrainTrigger | 'rollback';
  decision: 'promoted' | 'rejected' | 'skipped' | 'failed' | 'rolled_back';
  reason: string;
  /** The `retraining` run holding the comparison, when a challenger was trained. */
  retrainingRunId?: string;
  challengerRunId?: string;
  /** The model serving before: a trained run, or the bundled baseline. */
  champion?: { source: 'trained' | 'bundled' | 'none'; runId?: string };
  /** The model now serving, after a promotion or a rollback. */
  model?: PromotedModel;
  /** The catalog entry it replaced (what a rollback puts back); absent when the bundled model served. */
  previous?: ReplacedEntry;
}

/** A catalog entry (aggregator/registry/model-catalog.ts) as a record keeps it; paths relative to the data dir. */
export interface ReplacedEntry {
  runId: string;
  path: string;
  sha256: string;
  band?: { p10: string; p50: string; p90: string };
}

/** One line of drift-checks.jsonl. */
export interface DriftCheckRecord {
  time: string;
  resource: string;
  /** The serving model's run (its training_run_id). */
  modelRunId: string | undefined;
  /** The live window checked, ISO 8601 (its end is the newest stored sample). */
  window: { from: string; to: string };
  features:
    { rows: number; shifted: string[]; top: Array<{ name: string; psi: number }> } | { skipped: string };
  performance: {
    matured: number;
    positives: number;
    alerts: number;
    precision: number | null;
    recall: number | null;
    validation: { precision: number; recall: number } | undefined;
    notes: string[];
  };
  drifted: boolean;
  reasons: string[];
}

export class JsonLinesLog<T> {
  constructor(readonly file: string) {}

  async append(entry: T): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(entry)}\n`);
  }

  /** The entries, oldest first; the newest `limit` when given. */
  async read(limit?: number): Promise<T[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: T[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        // A torn last line from a crash mid-append.
      }
    }
    return limit === undefined ? out : out.slice(-limit);
  }
}

export function promotionsLog(dataDir: string): JsonLinesLog<PromotionRecord> {
  return new JsonLinesLog(join(dataDir, RETRAINING_DIR, PROMOTIONS_FILE));
}

export function driftChecksLog(dataDir: string): JsonLinesLog<DriftCheckRecord> {
  return new JsonLinesLog(join(dataDir, RETRAINING_DIR, DRIFT_CHECKS_FILE));
}
