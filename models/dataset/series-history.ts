/**
 * Stored series in the columnar shape `replaySeries` takes, and the cut at a
 * time-based hold-out boundary.
 */
import { ValidationError } from '../../shared/errors.js';
import { SIDE_COLUMNS, type SeriesHistory } from '../../shared/features/replay.js';

/** Throws a ValidationError unless every column is as long as the timestamps. */
export function checkHistoryShape(history: SeriesHistory, path = 'history'): void {
  const n = history.timestampsMs.length;
  for (const key of ['values', ...SIDE_COLUMNS] as const) {
    const column = history[key];
    if (column && column.length !== n) {
      throw new ValidationError(`${key} has ${column.length} entries for ${n} timestamps`, {
        path: `${path}.${key}`,
      });
    }
  }
}

/**
 * The samples strictly before `untilMs`, every column cut alike, in their
 * stored order. A sample without a finite timestamp has no place in time
 * and is left out. Features and labels built from the result cannot see
 * anything at or after `untilMs`.
 */
export function historyBefore(history: SeriesHistory, untilMs: number): SeriesHistory {
  checkHistoryShape(history);
  const { timestampsMs: ts } = history;
  const kept = new Uint32Array(ts.length);
  let n = 0;
  for (let i = 0; i < ts.length; i++) if (ts[i]! < untilMs) kept[n++] = i;
  if (n === ts.length) return history;
  const pick = (column: ArrayLike<number>) => {
    const out = new Float64Array(n);
    for (let j = 0; j < n; j++) out[j] = column[kept[j]!]!;
    return out;
  };
  const cut: SeriesHistory = { timestampsMs: pick(ts), values: pick(history.values) };
  for (const key of SIDE_COLUMNS) {
    const column = history[key];
    if (column) cut[key] = pick(column);
  }
  return cut;
}

/** A series from the telemetry store's `[time ms, value]` points (`Series.points`, oldest first). */
export function historyFromPoints(points: ReadonlyArray<readonly [number, number]>): SeriesHistory {
  const timestampsMs = new Float64Array(points.length);
  const values = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) {
    timestampsMs[i] = points[i]![0];
    values[i] = points[i]![1];
  }
  return { timestampsMs, values };
}
