// Proves the exact-fraction helpers the RTP proofs and payouts rely on: lowest terms, exact arithmetic, floor-only payouts and half-up published percentages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  add,
  compare,
  div,
  equals,
  floorTimes,
  formatDecimal,
  formatPercent,
  mul,
  rational,
  sub,
} from '../games/index.ts';

describe('rational', () => {
  it('keeps fractions in lowest terms with a positive denominator', () => {
    assert.deepEqual(rational(6n, -4n), { num: -3n, den: 2n });
    assert.deepEqual(rational(0n, 7n), { num: 0n, den: 1n });
    assert.throws(() => rational(1n, 0n), RangeError);
    assert.ok(equals(add(rational(1n, 3n), rational(1n, 6n)), rational(1n, 2n)));
    assert.ok(equals(sub(rational(1n, 3n), rational(1n, 2n)), rational(-1n, 6n)));
    assert.ok(equals(mul(rational(2n, 3n), rational(9n, 4n)), rational(3n, 2n)));
    assert.ok(equals(div(rational(2n, 3n), rational(4n, 9n)), rational(3n, 2n)));
    assert.equal(compare(rational(36n, 37n), rational(99n, 100n)), -1);
    assert.equal(compare(rational(2n, 4n), rational(1n, 2n)), 0);
  });

  it('floors payouts and never rounds them up', () => {
    assert.equal(floorTimes(7n, rational(33n, 10n)), 23n);
    assert.equal(floorTimes(1n, rational(99n, 100n)), 0n);
    assert.equal(floorTimes(10n ** 18n, rational(2568n)), 2568n * 10n ** 18n);
    assert.throws(() => floorTimes(-1n, rational(1n)), RangeError);
  });

  it('formats published percentages half-up and displayed multipliers by floor', () => {
    assert.equal(formatPercent(rational(36n, 37n)), '97.2973');
    assert.equal(formatPercent(rational(99n, 100n)), '99.0000');
    assert.equal(formatPercent(rational(290_597_755n, 301_989_888n)), '96.2276');
    assert.equal(formatDecimal(rational(1n, 8n), 2), '0.13');
    assert.equal(formatDecimal(rational(1n, 8n), 2, 'floor'), '0.12');
    assert.equal(formatDecimal(rational(9_900n, 9_800n), 4, 'floor'), '1.0102');
    assert.equal(formatDecimal(rational(-1n, 8n), 2, 'floor'), '-0.13');
    assert.equal(formatDecimal(rational(-1n, 8n), 2), '-0.13');
    assert.equal(formatDecimal(rational(5n), 0), '5');
  });
});
