import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../aggregator/security/rate-limiter.js';

describe('per-client rate limit', () => {
  it('allows a burst, then the sustained rate, per client, and says when to retry', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('a'), { ok: true });
    const refused = limiter.take('a');
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.retryAfterMs, 500);
    assert.deepEqual(limiter.take('b'), { ok: true }, 'another client has its own bucket');
    now += 500;
    assert.deepEqual(limiter.take('a'), { ok: true });
    assert.equal(limiter.take('a').ok, false);
    now += 10_000;
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('a'), { ok: true }, 'refilled up to the burst');
    assert.equal(limiter.take('a').ok, false);
  });
});
