/**
 * Event-level view of alerts: which exhaustion events an alert came before,
 * how long before, and how many alert episodes led to no event.
 *
 * An event is identified by its series and start time (row time + time to
 * exhaustion, rounded to the ms) over the rows labelled 1; rows of one event
 * all point at the same start. Its lead time is the largest time to
 * exhaustion among its alerted positive rows: how long before the start the
 * first alert inside the horizon came.
 */

/** The rows of one evaluation, as the lead-time pass reads them (parallel arrays). */
export interface EventRows {
  labels: ArrayLike<number>;
  seriesIndex: ArrayLike<number>;
  timestampsMs: ArrayLike<number>;
  timeToExhaustionS: ArrayLike<number>;
  numRows: number;
}

/** The distinct events of a set of rows, and which event each positive row precedes. */
export interface ExhaustionEventIndex {
  /** Event number of each row, 0..events-1; -1 for rows labelled 0 or without a finite time to exhaustion. */
  eventOfRow: Int32Array;
  events: number;
  /** Series (seriesIndex) of each event. */
  eventSeries: Uint32Array;
  /** Start of each event, Unix epoch ms. */
  eventStartMs: Float64Array;
}

/** Numbers the distinct events (series, start ms) the positive rows point at, in order of first row. */
export function indexExhaustionEvents(rows: EventRows): ExhaustionEventIndex {
  const n = rows.numRows;
  const { labels, seriesIndex, timestampsMs, timeToExhaustionS } = rows;
  const eventOfRow = new Int32Array(n).fill(-1);
  // series → start ms → event. Consecutive rows of one event skip the lookup:
  // the dataset keeps a series' rows together and in time order.
  const bySeries = new Map<number, Map<number, number>>();
  const series: number[] = [];
  const starts: number[] = [];
  let lastSeries = -1;
  let lastStart = NaN;
  let lastEvent = -1;
  for (let i = 0; i < n; i++) {
    if (labels[i] !== 1) continue;
    const tte = timeToExhaustionS[i]!;
    if (!Number.isFinite(tte)) continue;
    const s = seriesIndex[i]!;
    const start = Math.round(timestampsMs[i]! + tte * 1000);
    if (s !== lastSeries || start !== lastStart) {
      let eventByStart = bySeries.get(s);
      if (!eventByStart) bySeries.set(s, (eventByStart = new Map()));
      let event = eventByStart.get(start);
      if (event === undefined) {
        event = series.length;
        eventByStart.set(start, event);
        series.push(s);
        starts.push(start);
      }
      lastSeries = s;
      lastStart = start;
      lastEvent = event;
    }
    eventOfRow[i] = lastEvent;
  }
  return {
    eventOfRow,
    events: series.length,
    eventSeries: Uint32Array.from(series),
    eventStartMs: Float64Array.from(starts),
  };
}

/**
 * Lead time of each event under one contender's alerts, seconds; NaN where
 * no positive row of the event alerted (a missed event). One pass.
 */
export function eventLeadTimesS(
  index: ExhaustionEventIndex,
  timeToExhaustionS: ArrayLike<number>,
  alert: ArrayLike<number>,
): Float64Array {
  const lead = new Float64Array(index.events).fill(NaN);
  const { eventOfRow } = index;
  for (let i = 0; i < eventOfRow.length; i++) {
    const e = eventOfRow[i]!;
    if (e < 0 || alert[i] !== 1) continue;
    const tte = timeToExhaustionS[i]!;
    // `!(a <= b)` also replaces the NaN "missed" marker.
    if (!(tte <= lead[e]!)) lead[e] = tte;
  }
  return lead;
}

/** Linear-interpolated quantile (numpy's default) of ascending values; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Row order by series, then time. Null when the rows already are in that
 * order (series contiguous, time non-decreasing within each), as the dataset
 * builder lays them out; otherwise one sort, shared by every contender.
 */
export function seriesTimeOrder(
  rows: Pick<EventRows, 'seriesIndex' | 'timestampsMs' | 'numRows'>,
): Uint32Array | null {
  const { seriesIndex, timestampsMs, numRows: n } = rows;
  const seen = new Set<number>();
  let ordered = true;
  for (let i = 0; i < n && ordered; i++) {
    const s = seriesIndex[i]!;
    if (i > 0 && s === seriesIndex[i - 1]) {
      if (timestampsMs[i]! < timestampsMs[i - 1]!) ordered = false;
    } else if (seen.has(s)) ordered = false;
    else seen.add(s);
  }
  if (ordered) return null;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort(
    (a, b) => seriesIndex[a]! - seriesIndex[b]! || timestampsMs[a]! - timestampsMs[b]! || a - b,
  );
}

/** Alerts judged as an operator meets them: events warned of, and alert episodes that came to something. */
export interface EventPrecisionAtRecall {
  /** The highest score threshold at which alerts (score ≥ it) come before at least the target share of events. */
  threshold: number;
  /** Share of events with an alerted positive row at that threshold (≥ the target; ties can add more). */
  eventRecall: number;
  /** Alert episodes at that threshold (see alertEpisodes). */
  alertEpisodes: number;
  falseAlarmEpisodes: number;
  /** Share of those episodes that an exhaustion followed within the horizon; null without an episode. */
  precision: number | null;
}

/**
 * The event-level counterpart of precision at recall: lower the alert
 * threshold until alerts come before `targetRecall` of the events (an event
 * is warned of when any of its positive rows scores at or above the
 * threshold), then count the alert episodes and the share of them an
 * exhaustion followed. Null without events, or when fewer than the target
 * share of events ever get a score (NaN scores never alert).
 */
export function eventPrecisionAtRecall(
  index: ExhaustionEventIndex,
  order: Uint32Array | null,
  rows: EventRows,
  score: ArrayLike<number>,
  targetRecall: number,
): EventPrecisionAtRecall | null {
  if (index.events === 0) return null;
  const best = new Float64Array(index.events).fill(NaN);
  const { eventOfRow } = index;
  for (let i = 0; i < eventOfRow.length; i++) {
    const e = eventOfRow[i]!;
    const s = score[i]!;
    // NaN (no opinion) never raises an event's best score; `!(s <= best)` replaces the NaN start.
    if (e >= 0 && s === s && !(s <= best[e]!)) best[e] = s;
  }
  const scored = best.filter((s) => s === s).sort((a, b) => b - a);
  const needed = Math.max(1, Math.ceil(targetRecall * index.events - 1e-9));
  if (scored.length < needed) return null;
  const threshold = scored[needed - 1]!;
  let warned = 0;
  for (const s of scored) if (s >= threshold) warned++;
  const alert = new Uint8Array(rows.numRows);
  for (let i = 0; i < rows.numRows; i++) if (score[i]! >= threshold) alert[i] = 1;
  const { episodes, falseEpisodes } = alertEpisodes(order, rows, alert);
  return {
    threshold,
    eventRecall: warned / index.events,
    alertEpisodes: episodes,
    falseAlarmEpisodes: falseEpisodes,
    precision: episodes === 0 ? null : (episodes - falseEpisodes) / episodes,
  };
}

export interface AlertEpisodes {
  /** Runs of consecutive alerted rows of one series, none spanning an event start. */
  episodes: number;
  /** Episodes none of whose rows is labelled 1: alerts no event followed within the horizon. */
  falseEpisodes: number;
}

/**
 * Counts alert episodes: maximal runs of alerted rows that follow each other
 * in a series' time order. Rows the dataset left out do not split a run, but
 * an exhaustion start between two rows does (the event resolves what came
 * before it; an alert still up after it is a new episode). `order` is
 * seriesTimeOrder's result (null: row order).
 */
export function alertEpisodes(
  order: Uint32Array | null,
  rows: EventRows,
  alert: ArrayLike<number>,
): AlertEpisodes {
  const { labels, seriesIndex, timestampsMs, timeToExhaustionS, numRows: n } = rows;
  let episodes = 0;
  let falseEpisodes = 0;
  let open = false;
  let openHasPositive = false;
  let prevSeries = -1;
  // Next exhaustion start seen from the previous row, ms; NaN when censored.
  let prevEventStartMs = NaN;
  for (let k = 0; k < n; k++) {
    const i = order ? order[k]! : k;
    const s = seriesIndex[i]!;
    const t = timestampsMs[i]!;
    const continues = alert[i] === 1 && s === prevSeries && !(t >= prevEventStartMs);
    if (open && !continues) {
      if (!openHasPositive) falseEpisodes++;
      open = false;
    }
    prevSeries = s;
    prevEventStartMs = t + timeToExhaustionS[i]! * 1000;
    if (alert[i] !== 1) continue;
    if (!open) {
      episodes++;
      open = true;
      openHasPositive = false;
    }
    if (labels[i] === 1) openHasPositive = true;
  }
  if (open && !openHasPositive) falseEpisodes++;
  return { episodes, falseEpisodes };
}
