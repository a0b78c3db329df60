import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../models/random.js';

const draws = (random: SeededRandom, n: number) => Array.from({ length: n }, () => random.nextUint32());

describe('seeded random', () => {
  it('is xoshiro128** (reference outputs for state 1, 2, 3, 4)', () => {
    assert.deepEqual(draws(SeededRandom.fromState([1, 2, 3, 4]), 4), [11520, 0, 5927040, 70819200]);
  });

  it('repeats a stream for equal seeds and differs for neighbouring ones', () => {
    assert.deepEqual(draws(new SeededRandom(42), 100), draws(new SeededRandom(42), 100));
    assert.notDeepEqual(draws(new SeededRandom(0), 8), draws(new SeededRandom(1), 8));
    assert.notDeepEqual(draws(new SeededRandom(-1), 8), draws(new SeededRandom(2 ** 32 - 1), 8));
    assert.notDeepEqual(draws(new SeededRandom(2 ** 40), 8), draws(new SeededRandom(0), 8));
  });

  it('resumes from a saved state', () => {
    const random = new SeededRandom(7);
    draws(random, 10);
    const resumed = SeededRandom.fromState(random.state());
    assert.deepEqual(draws(resumed, 20), draws(random, 20));
  });

  it('splits into deterministic children that do not repeat the parent', () => {
    const a = new SeededRandom(3);
    const b = new SeededRandom(3);
    const childA = a.split();
    const childB = b.split();
    assert.deepEqual(draws(childA, 10), draws(childB, 10));
    assert.notDeepEqual(draws(a.split(), 10), draws(a, 10));
  });

  it('draws doubles in [0, 1) and integers within inclusive bounds, evenly', () => {
    const random = new SeededRandom(11);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) {
      const u = random.next();
      assert.ok(u >= 0 && u < 1);
      const k = random.int(-2, 3);
      counts[k + 2]!++;
    }
    // Each face expects 10 000; 5 σ is about 450.
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 450, `counts ${counts}`);
    assert.throws(() => random.int(3, 2), RangeError);
  });

  it('samples k distinct ascending indices, each equally likely', () => {
    const random = new SeededRandom(5);
    const hits = new Array<number>(10).fill(0);
    for (let i = 0; i < 5_000; i++) {
      const picked = random.sampleIndices(10, 3);
      assert.equal(picked.length, 3);
      for (let j = 1; j < picked.length; j++) assert.ok(picked[j]! > picked[j - 1]!);
      for (const p of picked) hits[p]!++;
    }
    // 1 500 expected per index.
    for (const h of hits) assert.ok(Math.abs(h - 1_500) < 200, `hits ${hits}`);
    assert.deepEqual([...random.sampleIndices(4, 4)], [0, 1, 2, 3]);
  });

  it('shuffles into a permutation and draws normals with mean 0 and variance 1', () => {
    const random = new SeededRandom(9);
    const items = Array.from({ length: 50 }, (_, i) => i);
    assert.deepEqual(
      [...random.shuffle([...items])].sort((a, b) => a - b),
      items,
    );
    let sum = 0;
    let squares = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const z = random.normal();
      sum += z;
      squares += z * z;
    }
    assert.ok(Math.abs(sum / n) < 0.05);
    assert.ok(Math.abs(squares / n - 1) < 0.05);
  });
});
