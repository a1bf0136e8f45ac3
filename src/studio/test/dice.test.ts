// Proves dice pays exactly 99 % RTP for every target by enumerating every roll with exact fractions, that the max win and the documented figures match, and that bad bets are refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RandomSource } from '../fair/index.ts';
import {
  add,
  checkDiceBet,
  compare,
  diceGameId,
  diceMaxWinMultiplier,
  diceMultiplier,
  diceRollCount,
  diceRtp,
  diceRtpPercent,
  diceTargetMax,
  diceTargetMin,
  equals,
  formatPercent,
  formatRoll,
  int8Max,
  mul,
  playDice,
  rational,
  zero,
} from '../games/index.ts';
import type { Rational } from '../games/index.ts';

/** A source that answers the one draw dice makes with a chosen roll. */
function fixedRoll(roll: number): RandomSource {
  return {
    randomInt(n: number): number {
      assert.equal(n, diceRollCount, 'dice draws one roll of 10 000');
      return roll;
    },
  };
}

function docRow(gameId: string): string {
  const doc = readFileSync(new URL('../../../docs/studio-games.md', import.meta.url), 'utf8');
  const row = doc.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${gameId}\``));
  assert.ok(row !== undefined, `docs/studio-games.md has no summary row for ${gameId}`);
  return row;
}

describe('dice RTP, exactly', () => {
  it('is 99 % for every target, enumerating all 10 000 rolls on the exact multiplier', () => {
    let best: Rational = zero;
    for (let target = diceTargetMin; target <= diceTargetMax; target += 1) {
      const multiplier = diceMultiplier(target);
      let wins = 0n;
      for (let roll = 0; roll < diceRollCount; roll += 1) if (roll < target) wins += 1n;
      const rtp = mul(rational(wins, BigInt(diceRollCount)), multiplier);
      assert.ok(equals(rtp, diceRtp), `target ${target}: RTP ${rtp.num}/${rtp.den}`);
      if (compare(multiplier, best) > 0) best = multiplier;
    }
    assert.ok(equals(best, diceMaxWinMultiplier), 'max win is the best multiplier (target 1.00)');
    assert.ok(equals(diceMaxWinMultiplier, rational(99n)));
  });

  it('plays every roll as the model says: the game itself, all 10 000 rolls, for 100 targets', () => {
    const targets = [diceTargetMin, diceTargetMin + 1, 4_950, 5_000, 6_667, diceTargetMax - 1, diceTargetMax];
    for (let target = diceTargetMin + 97; target < diceTargetMax; target += 97) targets.push(target);
    for (const target of targets) {
      // A stake of T minor units makes every win exactly 9 900, so the sum has no flooring in it.
      const stake = BigInt(target);
      let returned: Rational = zero;
      for (let roll = 0; roll < diceRollCount; roll += 1) {
        const outcome = playDice(fixedRoll(roll), { stake, target });
        assert.equal(outcome.roll, roll);
        assert.equal(outcome.win, roll < target);
        assert.equal(outcome.payout, outcome.win ? 9_900n : 0n);
        returned = add(returned, rational(outcome.payout, stake * BigInt(diceRollCount)));
      }
      assert.ok(equals(returned, diceRtp), `target ${target}`);
    }
  });

  it('matches the published constants and docs/studio-games.md', () => {
    assert.equal(formatPercent(diceRtp), diceRtpPercent);
    assert.equal(diceRtpPercent, '99.0000');
    const row = docRow(diceGameId);
    assert.ok(row.includes(`${diceRtp.num}/${diceRtp.den}`), row);
    assert.ok(row.includes(`${diceRtpPercent} %`), row);
    assert.ok(row.includes(`${diceMaxWinMultiplier.num}×`), row);
  });
});

describe('dice rounds', () => {
  it('floors the exact payout to minor units', () => {
    // Under 30.00 pays 9 900 / 3 000 = 3.3×: 1 → 3, 10 → 33, 7 → 23 (23.1 floored).
    assert.equal(playDice(fixedRoll(0), { stake: 1n, target: 3_000 }).payout, 3n);
    assert.equal(playDice(fixedRoll(2_999), { stake: 10n, target: 3_000 }).payout, 33n);
    assert.equal(playDice(fixedRoll(42), { stake: 7n, target: 3_000 }).payout, 23n);
    assert.equal(playDice(fixedRoll(3_000), { stake: 10n, target: 3_000 }).payout, 0n, 'roll = target loses');
    assert.equal(playDice(fixedRoll(0), { stake: 100n, target: 100 }).payout, 9_900n, '99× at target 1.00');
  });

  it('describes the round for history', () => {
    const won = playDice(fixedRoll(4_217), { stake: 100n, target: 5_000 });
    assert.equal(won.description, 'rolled 42.17, needed under 50.00: win 1.9800× stake');
    const lost = playDice(fixedRoll(9_999), { stake: 100n, target: 3_000 });
    assert.equal(lost.description, 'rolled 99.99, needed under 30.00: no win');
    assert.equal(formatRoll(5), '0.05');
  });

  it('refuses bad targets and stakes before drawing', () => {
    const never: RandomSource = {
      randomInt(): number {
        throw new Error('must not draw');
      },
    };
    for (const target of [0, 99, 9_801, 10_000, 50.5, Number.NaN, '5000' as unknown as number]) {
      assert.equal(checkDiceBet({ stake: 1n, target }).ok, false, String(target));
      assert.throws(() => playDice(never, { stake: 1n, target }), RangeError);
    }
    for (const stake of [0n, -1n, 1 as unknown as bigint, int8Max / 99n + 1n]) {
      assert.equal(checkDiceBet({ stake, target: 5_000 }).ok, false, String(stake));
    }
    assert.equal(checkDiceBet({ stake: int8Max / 99n, target: 100 }).ok, true);
  });
});
