/**
 * Writing an imported series into a telemetry store: what is stored already
 * (so an import never writes a time twice and never interleaves two sources
 * unasked), and the batched write itself.
 */
import { CloudSenseError, ValidationError } from '../../shared/errors.js';
import {
  SCHEMA_VERSION,
  TelemetryMessageSchema,
  attributesKey,
  type MetricPoint,
  IMPORTED_SEQ,
  type TelemetryMessage,
} from '../../shared/wire/telemetry.js';
import type { Series, TelemetryStore } from '../storage/telemetry-store.js';
import type { ImportSeries } from './csv-series.js';
import { resourceIdOf, type ImportTarget } from './import-target.js';

/**
 * Every imported sample carries IMPORTED_SEQ (0): an agent numbers its
 * messages from 1, so seq 0 marks a sample backfilled from another
 * monitoring system. De-duplication by (host, seq) leaves it alone.
 */
export { IMPORTED_SEQ };

/**
 * What to do with rows at new times inside the time range the store already
 * holds for the series: `refuse` the import, `skip` those rows, or `merge`
 * them in. Rows at times already stored are never written again, whatever
 * the mode.
 */
export const OVERLAP_MODES = ['refuse', 'skip', 'merge'] as const;
export type OverlapMode = (typeof OVERLAP_MODES)[number];

/** Points read per store query while looking for what is stored. */
const QUERY_PAGE = 200_000;

export interface ImportPlan {
  /** The samples to write, in time order. */
  timestampsMs: Float64Array;
  values: Float64Array;
  /** Rows left out because the series already has a sample at their time. */
  alreadyStored: number;
  /** Rows at new times inside the stored range (left out with `skip`, written with `merge`). */
  inside: number;
  /** The stored samples of the series within the import's time range, when there are any. */
  stored: { fromMs: number; toMs: number; points: number } | undefined;
}

/** The import would interleave with stored samples of the series; the message says which flag decides. */
export class OverlapError extends CloudSenseError {
  constructor(message: string) {
    super('IMPORT_OVERLAP', message, { permanent: true });
  }
}

/**
 * Compares a series with what the store holds for the same host and series
 * in the same time range. A stored series is the same when it has the same
 * metric and attributes, or when training would read both as the same
 * resource (the agent's `/var` with its device and type attributes, and an
 * import of `filesystem:/var`).
 */
export async function planImport(
  store: TelemetryStore,
  request: {
    hostId: string;
    target: ImportTarget;
    series: Pick<ImportSeries, 'timestampsMs' | 'values'>;
    mode: OverlapMode;
    /** Points per store query. Default 200,000. */
    pageSize?: number;
  },
): Promise<ImportPlan> {
  const { hostId, target, series, mode } = request;
  const { timestampsMs: ts, values } = series;
  const n = ts.length;
  if (n === 0) return { timestampsMs: ts, values, alreadyStored: 0, inside: 0, stored: undefined };
  const stored = await storedTimes(
    store,
    hostId,
    target,
    ts[0]!,
    ts[n - 1]! + 1,
    request.pageSize ?? QUERY_PAGE,
  );
  const m = stored.length;
  if (m === 0) return { timestampsMs: ts, values, alreadyStored: 0, inside: 0, stored: undefined };
  const first = stored[0]!;
  const last = stored[m - 1]!;
  const keepTs = new Float64Array(n);
  const keepValues = new Float64Array(n);
  let k = 0;
  let alreadyStored = 0;
  let inside = 0;
  for (let i = 0, j = 0; i < n; i++) {
    const t = ts[i]!;
    while (j < m && stored[j]! < t) j++;
    if (j < m && stored[j] === t) {
      alreadyStored++;
      continue;
    }
    if (t > first && t < last) {
      inside++;
      if (mode !== 'merge') continue;
    }
    keepTs[k] = t;
    keepValues[k] = values[i]!;
    k++;
  }
  const range = { fromMs: first, toMs: last, points: m };
  if (inside > 0 && mode === 'refuse') {
    throw new OverlapError(
      `${hostId} already has ${describeSeries(target)} from ${iso(first)} to ${iso(last)} ` +
        `(${m.toLocaleString('en')} samples in the time range of the import), and ${inside.toLocaleString('en')} ` +
        'rows of the import fall in between at other times: ' +
        'writing them would interleave two sources. --overlap skip imports only the rows outside that range ' +
        '(e.g. history from before the agent started); --overlap merge writes them too. Rows at times already ' +
        'stored are never written twice.',
    );
  }
  return {
    timestampsMs: keepTs.slice(0, k),
    values: keepValues.slice(0, k),
    alreadyStored,
    inside,
    stored: range,
  };
}

/** Times of the stored samples of the series in [from, to), increasing and unique. */
async function storedTimes(
  store: TelemetryStore,
  hostId: string,
  target: ImportTarget,
  from: number,
  to: number,
  pageSize: number,
): Promise<Float64Array> {
  const key = attributesKey(target.attributes);
  const same = (s: Series) =>
    attributesKey(s.attributes) === key ||
    (target.resourceId !== undefined && resourceIdOf(s.metric, s.unit, s.attributes) === target.resourceId);
  const times: number[] = [];
  let cursor = to;
  for (;;) {
    // A query returns the newest `limit` points of every series of the metric; page back in time.
    const page = await store.querySeries({
      hostId,
      metric: target.metric,
      from,
      to: cursor,
      limit: QUERY_PAGE,
    });
    let returned = 0;
    let oldest = Infinity;
    for (const s of page) {
      returned += s.points.length;
      const matches = same(s);
      for (const [t] of s.points) {
        if (t < oldest) oldest = t;
        if (matches) times.push(t);
      }
    }
    if (returned < pageSize) break;
    // The page was full, so the samples at its oldest time may be cut: read again up to and including it.
    if (oldest + 1 >= cursor) {
      throw new CloudSenseError(
        'STORE_QUERY_FAILED',
        `more than ${pageSize} samples of ${target.metric} at one instant for ${hostId}`,
      );
    }
    cursor = oldest + 1;
  }
  const sorted = Float64Array.from(times).sort();
  let k = 0;
  for (let i = 0; i < sorted.length; i++)
    if (i === 0 || sorted[i] !== sorted[k - 1]) sorted[k++] = sorted[i]!;
  return sorted.slice(0, k);
}

export interface WriteProgress {
  written: number;
  total: number;
  /** Time of the last sample written, Unix ms. */
  reachedMs: number;
}

export interface WriteOptions {
  /** An open store. */
  store: TelemetryStore;
  hostId: string;
  target: ImportTarget;
  timestampsMs: Float64Array;
  values: Float64Array;
  /** `intervalSeconds` of every message: the series' median spacing. */
  intervalSeconds: number;
  /** Samples (one telemetry message each) per store write. */
  batchRows: number;
  /** Stops after the batch in flight (Ctrl-C); the result says how far it got. */
  signal?: AbortSignal;
  onProgress?: (progress: WriteProgress) => void;
}

/**
 * Writes the samples as telemetry messages of one point each (a message is
 * one host's samples at one instant), `batchRows` per store write. Only one
 * batch of message objects exists at a time.
 */
export async function writeSeries(options: WriteOptions): Promise<{ written: number; completed: boolean }> {
  const { store, hostId, target, timestampsMs: ts, values, intervalSeconds, batchRows, signal } = options;
  const hasAttributes = Object.keys(target.attributes).length > 0;
  const message = (i: number): TelemetryMessage => {
    const point: MetricPoint = { name: target.metric, unit: target.unit, value: values[i]! };
    if (hasAttributes) point.attributes = target.attributes;
    return {
      schemaVersion: SCHEMA_VERSION,
      hostId,
      seq: IMPORTED_SEQ,
      timestamp: ts[i]!,
      intervalSeconds,
      metrics: [point],
    };
  };
  if (ts.length > 0) {
    const checked = TelemetryMessageSchema.safeParse(message(0));
    if (!checked.success) {
      throw new ValidationError(`not a valid telemetry message: ${checked.error.issues[0]?.message ?? ''}`);
    }
  }
  let written = 0;
  while (written < ts.length && !signal?.aborted) {
    const end = Math.min(ts.length, written + batchRows);
    const batch: TelemetryMessage[] = [];
    for (let i = written; i < end; i++) batch.push(message(i));
    await store.write(batch);
    written = end;
    options.onProgress?.({ written, total: ts.length, reachedMs: ts[end - 1]! });
    // DuckDB's appender completes without a turn of the event loop: yield one so Ctrl-C is seen between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { written, completed: written === ts.length };
}

/** `system.filesystem.utilization {system.filesystem.mountpoint=/var}`, for messages. */
export function describeSeries(target: Pick<ImportTarget, 'metric' | 'attributes'>): string {
  const pairs = Object.entries(target.attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  return pairs.length === 0 ? target.metric : `${target.metric} {${pairs.join(', ')}}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
