import { RECORD } from './binning.js';

/**
 * goLeft[bin] of the split being applied (set by useGoLeft). A module
 * constant, not exported, so that V8 folds it into the loops (exported ones
 * live in cells and are loaded like any passed-in array, which costs the
 * registers these loops need).
 */
const GO_LEFT = new Uint8Array(256);
/** The record word holding the row index (RECORD.row), folded into the loops likewise. */
const ROW = 2;
if (RECORD.row !== ROW) throw new Error('partition.ts does not match the record layout in binning.ts');

/** Sets the goLeft[bin] table the following partitions on this thread use. */
export function useGoLeft(goLeft: Uint8Array): void {
  GO_LEFT.set(goLeft);
}

/*
 * Splitting a node's records: a stable partition of records [begin, end) of
 * one buffer into the same range of another, those whose bin of the split
 * feature has GO_LEFT[bin] = 1 first.
 *
 * Whole records move, not row indices, so that every node's records stay
 * contiguous and in row order: histogram passes then read memory in order.
 * Fetching a node's rows scattered over the table cost 30-45 ns per row
 * (cache and TLB misses), moving them costs 8. Counting the left rows first
 * lets the move write each record once, to its place, without a branch (a
 * split is a coin flip to the branch predictor; in place through a scratch
 * buffer it took 11 ns). Threads split the rows into chunks: all count, then
 * each moves its chunk to offsets that follow from the counts.
 */

/** Records in [begin, end) of `records` that go left. */
export function countLefts(
  records: Uint32Array,
  recordWords: number,
  begin: number,
  end: number,
  feature: number,
): number {
  const W = recordWords;
  const binShift = (feature & 3) * 8;
  let lefts = 0;
  for (let s = begin * W + RECORD.bins + (feature >> 2), stop = end * W; s < stop; s += W) {
    lefts += GO_LEFT[(records[s]! >>> binShift) & 255]!;
  }
  return lefts;
}

/**
 * Moves records [begin, end) of `src` to `dst`: those going left to
 * leftAt, leftAt + 1, ..., the others to rightAt, rightAt + 1, ... (record
 * indices). Few arrays on purpose: each one passed in costs registers the
 * loop needs.
 */
export function moveRecords(
  src: Uint32Array,
  dst: Uint32Array,
  recordWords: number,
  begin: number,
  end: number,
  feature: number,
  leftAt: number,
  rightAt: number,
): void {
  const W = recordWords;
  const binWord = RECORD.bins + (feature >> 2);
  const binShift = (feature & 3) * 8;
  let l = leftAt * W;
  let r = rightAt * W;
  if (W === 8) {
    // Up to 20 features: the copy unrolled.
    for (let s = begin * 8, stop = end * 8; s < stop; s += 8) {
      const left = GO_LEFT[(src[s + binWord]! >>> binShift) & 255]!;
      const d = r + ((l - r) & -left); // left ? l : r, without a branch
      dst[d] = src[s]!;
      dst[d + 1] = src[s + 1]!;
      dst[d + 2] = src[s + 2]!;
      dst[d + 3] = src[s + 3]!;
      dst[d + 4] = src[s + 4]!;
      dst[d + 5] = src[s + 5]!;
      dst[d + 6] = src[s + 6]!;
      dst[d + 7] = src[s + 7]!;
      l += left << 3;
      r += (1 - left) << 3;
    }
  } else {
    for (let s = begin * W, stop = end * W; s < stop; s += W) {
      const left = GO_LEFT[(src[s + binWord]! >>> binShift) & 255]!;
      const d = r + ((l - r) & -left);
      for (let j = 0; j < W; j++) dst[d + j] = src[s + j]!;
      l += left * W;
      r += (1 - left) * W;
    }
  }
}

/**
 * moveRecords for a split whose children will not split again: only their
 * row indices are needed, so those are written to rows[leftAt...] and
 * rows[rightAt...] instead of moving whole records.
 */
export function moveRows(
  src: Uint32Array,
  recordWords: number,
  begin: number,
  end: number,
  feature: number,
  leftAt: number,
  rightAt: number,
  rows: Uint32Array,
): void {
  const W = recordWords;
  const binWord = RECORD.bins + (feature >> 2);
  const binShift = (feature & 3) * 8;
  let l = leftAt;
  let r = rightAt;
  for (let s = begin * W, stop = end * W; s < stop; s += W) {
    const left = GO_LEFT[(src[s + binWord]! >>> binShift) & 255]!;
    rows[r + ((l - r) & -left)] = src[s + ROW]!;
    l += left;
    r += 1 - left;
  }
}

/** Copies the records of rows[0, count) (ascending) from `records` to dst[0, count): a bag. */
export function gatherRecords(
  records: Uint32Array,
  dst: Uint32Array,
  recordWords: number,
  rows: Uint32Array,
  count: number,
): void {
  const W = recordWords;
  for (let i = 0, d = 0; i < count; i++) {
    const s = rows[i]! * W;
    for (let j = 0; j < W; j++, d++) dst[d] = records[s + j]!;
  }
}

/** The row index of each record [begin, end) of `records`, into rows[begin, end). */
export function readRows(
  records: Uint32Array,
  recordWords: number,
  rows: Uint32Array,
  begin: number,
  end: number,
): void {
  for (let i = begin; i < end; i++) rows[i] = records[i * recordWords + ROW]!;
}
