// Proves the speed-of-play table (UK 2.5 s slots, 5 s other casino games; no minimum elsewhere), that unknown inputs are refused rather than unthrottled, and that autoplay and turbo are never offered.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gameTypes, minRoundIntervalMs, studioPlayFeatures } from '../games/index.ts';
import type { GameType, Jurisdiction } from '../games/index.ts';

describe('minRoundIntervalMs', () => {
  it('applies UK RTS 14D to slots and RTS 14G to other casino games', () => {
    assert.equal(minRoundIntervalMs('slot', 'UK'), 2_500);
    assert.equal(minRoundIntervalMs('dice', 'UK'), 5_000);
    assert.equal(minRoundIntervalMs('roulette', 'UK'), 5_000);
  });

  it('imposes no minimum in the default jurisdiction', () => {
    for (const game of gameTypes) assert.equal(minRoundIntervalMs(game, 'DEFAULT'), 0);
  });

  it('refuses an unknown jurisdiction or game instead of returning 0', () => {
    assert.throws(() => minRoundIntervalMs('slot', 'GB' as Jurisdiction), RangeError);
    assert.throws(() => minRoundIntervalMs('slot', 'toString' as Jurisdiction), RangeError);
    assert.throws(() => minRoundIntervalMs('poker' as GameType, 'UK'), RangeError);
  });
});

describe('play features', () => {
  it('never offers autoplay, turbo, quick spin or slam stop', () => {
    assert.deepEqual(studioPlayFeatures, {
      autoplay: false,
      turbo: false,
      quickSpin: false,
      slamStop: false,
    });
    assert.ok(Object.isFrozen(studioPlayFeatures));
  });
});
