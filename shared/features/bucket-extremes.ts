/**
 * The maximum (or minimum) over a sliding range of bucket indices: a
 * monotonic deque with one entry per bucket at most, so it never holds more
 * than the window has buckets, however many samples land in each.
 *
 * Entries are (bucket index, sign · value) with strictly decreasing values
 * from head to tail; the head is the extreme of the range. Each bucket
 * enters and leaves once, so push is O(1) amortised. Typed arrays in a ring
 * because this runs on every sample of every series.
 */
export class BucketExtremes {
  private readonly keys: Float64Array;
  private readonly values: Float64Array;
  private readonly capacity: number;
  /** Sequence numbers of head and one past the tail; slot = seq % capacity. */
  private head = 0;
  private tail = 0;

  /**
   * @param capacity the most buckets a window can span at once
   * @param sign 1 for the maximum, -1 for the minimum
   */
  constructor(
    capacity: number,
    private readonly sign: 1 | -1,
  ) {
    this.capacity = capacity;
    this.keys = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  /** Adds a value in bucket `k`; `k` never decreases from one call to the next. */
  push(k: number, value: number): void {
    const x = this.sign * value;
    if (this.tail > this.head) {
      const last = (this.tail - 1) % this.capacity;
      if (this.keys[last] === k) {
        if (x <= this.values[last]!) return;
        this.tail--;
      }
    }
    while (this.tail > this.head && this.values[(this.tail - 1) % this.capacity]! <= x) this.tail--;
    if (this.tail - this.head === this.capacity) throw new RangeError('BucketExtremes: capacity exceeded');
    const slot = this.tail % this.capacity;
    this.keys[slot] = k;
    this.values[slot] = x;
    this.tail++;
  }

  /** Drops buckets older than `kLo`. */
  expire(kLo: number): void {
    while (this.tail > this.head && this.keys[this.head % this.capacity]! < kLo) this.head++;
  }

  /** The extreme over buckets ≥ `kLo`, without changing state; NaN when there are none. */
  peek(kLo: number): number {
    for (let seq = this.head; seq < this.tail; seq++) {
      const slot = seq % this.capacity;
      if (this.keys[slot]! >= kLo) return this.sign * this.values[slot]!;
    }
    return NaN;
  }
}
