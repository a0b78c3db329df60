/**
 * A seeded pseudo-random generator for everything in `models/` that must be
 * reproducible: hyperparameter sampling, and (for the trainer) bagging and
 * feature subsampling. Equal seeds give equal streams on every platform,
 * because only 32-bit integer arithmetic is used.
 *
 * The core is xoshiro128** (Blackman & Vigna, 2018): 128 bits of state,
 * period 2^128 − 1, passes BigCrush, and is fast in JavaScript with
 * `Math.imul`. Seeds are expanded into the state with a murmur3-style mixer,
 * so nearby seeds (0, 1, 2, …) give unrelated streams.
 */
export class SeededRandom {
  // Four 32-bit state words; never all zero (that state is a fixed point).
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` is any safe integer (negative and > 2^32 included); non-integers are truncated. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    const whole = Math.trunc(seed);
    const lo = whole >>> 0;
    const hi = Math.floor(whole / 2 ** 32) >>> 0;
    let x = mix32(lo ^ mix32((hi + GOLDEN_GAMMA) | 0));
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + GOLDEN_GAMMA) | 0;
      words.push(mix32(x));
    }
    [this.s0, this.s1, this.s2, this.s3] = nonZeroState(words);
  }

  /** A generator that continues from a saved `state()`, e.g. to resume a checkpointed run. */
  static fromState(state: readonly number[]): SeededRandom {
    if (state.length !== 4) throw new RangeError(`state must have 4 words, got ${state.length}`);
    const random = new SeededRandom(0);
    [random.s0, random.s1, random.s2, random.s3] = nonZeroState(state.map((w) => w >>> 0));
    return random;
  }

  /** The four state words; `fromState` of them continues the same stream. */
  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** The next 32 random bits as an unsigned integer, 0 ≤ n < 2^32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with all 53 mantissa bits random (two 32-bit draws). */
  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67_108_864 + low) / 9_007_199_254_740_992; // (high·2^26 + low) / 2^53
  }

  /** A uniform double in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /**
   * A uniform integer in [low, high], both inclusive. Unbiased (rejection
   * sampling) for ranges up to 2^32 values; wider ranges use a 53-bit double.
   */
  int(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high < low) {
      throw new RangeError(`int() needs safe integers low <= high, got ${low}..${high}`);
    }
    const range = high - low + 1;
    if (range > 2 ** 32) return low + Math.floor(this.next() * range);
    // Largest multiple of `range` below 2^32: draws at or above it would favour small values.
    const limit = 2 ** 32 - (2 ** 32 % range);
    let draw = this.nextUint32();
    while (draw >= limit) draw = this.nextUint32();
    return low + (draw % range);
  }

  /** True with probability `p` (clamped to 0..1). */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** A standard normal draw (Box–Muller; one uniform pair per draw, nothing cached). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1], so the log is finite
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /**
   * `k` distinct indices from 0..n−1, ascending — a bag of rows or a subset of
   * features. Selection sampling (Knuth's algorithm S): one pass, O(n) time,
   * no extra memory beyond the result, and ascending order keeps row access
   * sequential for the trainer.
   */
  sampleIndices(n: number, k: number): Uint32Array {
    if (!Number.isInteger(n) || !Number.isInteger(k) || k < 0 || k > n) {
      throw new RangeError(`sampleIndices needs integers 0 <= k <= n, got n=${n} k=${k}`);
    }
    const picked = new Uint32Array(k);
    let filled = 0;
    for (let i = 0; i < n && filled < k; i++) {
      if ((n - i) * this.next() < k - filled) picked[filled++] = i;
    }
    return picked;
  }

  /**
   * An independent child generator, e.g. one per trial or per boosting
   * round, so that drawing more numbers in one consumer does not shift
   * another's stream. Advances this generator by four draws.
   */
  split(): SeededRandom {
    const child = new SeededRandom(0);
    const words = [0, 0, 0, 0].map(() => mix32(this.nextUint32() ^ SPLIT_SALT));
    [child.s0, child.s1, child.s2, child.s3] = nonZeroState(words);
    return child;
  }
}

/** 2^32 / φ, the Weyl increment of splitmix. */
const GOLDEN_GAMMA = 0x9e3779b9;
/** Keeps a child's state from being a plain function of the parent's outputs. */
const SPLIT_SALT = 0x5851f42d;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function nonZeroState(words: readonly number[]): [number, number, number, number] {
  const [a = 0, b = 0, c = 0, d = 0] = words;
  return (a | b | c | d) === 0 ? [GOLDEN_GAMMA, 0, 0, 0] : [a, b, c, d];
}
