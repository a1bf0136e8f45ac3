// Proves the rate limiter admits `limit` requests per window per key, refuses the next with a truthful retry-after, recovers with time, stays within its memory bound, and that scaling turns rules off or up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.ts';
import { AppError } from '../../errors.ts';
import { toErrorResponse } from '../app.ts';
import { RateLimiter, rateLimitedError, scaledRule } from '../rate-limit.ts';
import type { RateRule } from '../rate-limit.ts';

const login: RateRule = { name: 'login', limit: 5, windowMs: 60_000 };

function hits(limiter: RateLimiter, rule: RateRule, key: string, count: number): boolean[] {
  return Array.from({ length: count }, () => limiter.hit(rule, key).allowed);
}

describe('RateLimiter', () => {
  it('admits limit hits, then refuses with a retry-after that is exactly when the next one is admitted', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    const remaining = Array.from({ length: 5 }, () => limiter.hit(login, '10.0.0.1').remaining);
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const refused = limiter.hit(login, '10.0.0.1');
    assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 12, remaining: 0 });

    clock.advance(11_999);
    assert.equal(limiter.hit(login, '10.0.0.1').allowed, false, 'not before retry-after');
    clock.advance(1);
    assert.equal(limiter.hit(login, '10.0.0.1').allowed, true, 'at retry-after');
    assert.equal(limiter.hit(login, '10.0.0.1').allowed, false);
  });

  it('does not let refused hits push the next chance further away', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    hits(limiter, login, 'k', 5);
    for (let i = 0; i < 100; i++) limiter.hit(login, 'k');
    clock.advance(12_000);
    assert.equal(limiter.hit(login, 'k').allowed, true);
  });

  it('gives the whole allowance back after a quiet window', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    assert.deepEqual(hits(limiter, login, 'k', 6), [true, true, true, true, true, false]);
    clock.advance(60_000);
    assert.deepEqual(hits(limiter, login, 'k', 6), [true, true, true, true, true, false]);
  });

  it('holds a long steady stream to limit per window, plus the one initial burst', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    const rule: RateRule = { name: 'api', limit: 7, windowMs: 1_000 };
    let admitted = 0;
    for (let ms = 0; ms < 100_000; ms += 10) {
      if (limiter.hit(rule, 'k').allowed) admitted += 1;
      clock.advance(10);
    }
    // 100 windows: the first burst plus the steady rate, never more.
    assert.ok(admitted <= 7 * 100 + 7, `admitted ${admitted}`);
    assert.ok(admitted >= 7 * 100, `admitted ${admitted}`);
  });

  it('keeps keys and rules independent', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    hits(limiter, login, 'a', 5);
    assert.equal(limiter.hit(login, 'a').allowed, false);
    assert.equal(limiter.hit(login, 'b').allowed, true);
    assert.equal(limiter.hit({ ...login, name: 'register' }, 'a').allowed, true);
  });

  it('forgets the least recently seen key beyond keysMax', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock, keysMax: 3 });
    hits(limiter, login, 'old', 5);
    hits(limiter, login, 'recent', 5);
    assert.equal(limiter.hit(login, 'old').allowed, false); // seen again: now the most recent
    for (const key of ['x', 'y', 'z', 'w']) {
      limiter.hit(login, key);
      assert.ok(limiter.size <= 3);
    }
    assert.equal(limiter.size, 3);
    assert.equal(limiter.hit(login, 'recent').allowed, true, 'evicted, so forgotten');
    for (let i = 0; i < 1_000; i++) limiter.hit(login, `key-${i}`);
    assert.equal(limiter.size, 3);
  });

  it('bounds the memory of a long key', () => {
    const limiter = new RateLimiter({ clock: new ManualClock() });
    const long = 'k'.repeat(100_000);
    hits(limiter, login, long, 5);
    assert.equal(limiter.hit(login, long).allowed, false);
    assert.equal(limiter.hit(login, `${long}!`).allowed, true);
  });

  it('treats limit 0 and Infinity as off', () => {
    const limiter = new RateLimiter({ clock: new ManualClock() });
    for (const limit of [0, Number.POSITIVE_INFINITY]) {
      const rule = { ...login, limit };
      assert.ok(hits(limiter, rule, 'k', 1_000).every(Boolean));
    }
    assert.equal(limiter.size, 0);
  });
});

describe('scaledRule', () => {
  it('turns a rule off at scale 0 and doubles it at scale 2', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ clock });
    const off = scaledRule(login, 0);
    assert.equal(off.limit, 0);
    assert.ok(hits(limiter, off, 'k', 100).every(Boolean));

    const doubled = scaledRule(login, 2);
    assert.deepEqual(doubled, { name: 'login', limit: 10, windowMs: 60_000 });
    const answers = hits(limiter, doubled, 'k2', 11);
    assert.deepEqual(answers, [...Array<boolean>(10).fill(true), false]);
  });

  it('rounds fractions down but never to zero', () => {
    assert.equal(scaledRule({ ...login, limit: 1 }, 0.1).limit, 1);
    assert.equal(scaledRule(login, 1.5).limit, 7);
    assert.equal(scaledRule({ ...login, limit: 0 }, 2).limit, 0);
    assert.throws(() => scaledRule(login, -1));
    assert.throws(() => scaledRule(login, Number.NaN));
  });
});

describe('rateLimitedError', () => {
  it('is a RATE_LIMITED AppError that answers 429 and carries the retry-after', () => {
    const error = rateLimitedError(12);
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'RATE_LIMITED');
    assert.equal(error.retryAfterSeconds, 12);
    assert.deepEqual(toErrorResponse(error), [
      429,
      { status: 'ERROR', code: 'RATE_LIMITED', message: 'too many requests' },
    ]);
  });
});
