// Proves European roulette returns exactly 36/37 on every bet by playing all 37 pockets for every possible bet, pays the standard odds, and accepts only real splits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RandomSource } from '../fair/index.ts';
import {
  checkRouletteRequest,
  equals,
  formatPercent,
  isAdjacentPair,
  playRoulette,
  pocketColor,
  rational,
  redNumbers,
  rouletteBetsMax,
  rouletteGameId,
  rouletteMaxWinMultiplier,
  roulettePocketCount,
  rouletteRtp,
  rouletteRtpPercent,
} from '../games/index.ts';
import type { RouletteBet } from '../games/index.ts';

function fixedPocket(pocket: number): RandomSource {
  return {
    randomInt(n: number): number {
      assert.equal(n, roulettePocketCount, 'the wheel is one draw of 37');
      return pocket;
    },
  };
}

function docRow(gameId: string): string {
  const doc = readFileSync(new URL('../../../docs/studio-games.md', import.meta.url), 'utf8');
  const row = doc.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${gameId}\``));
  assert.ok(row !== undefined, `docs/studio-games.md has no summary row for ${gameId}`);
  return row;
}

/** Every split on the layout, found by testing every pair of numbers. */
function allSplits(): [number, number][] {
  const splits: [number, number][] = [];
  for (let a = 0; a <= 36; a += 1)
    for (let b = a + 1; b <= 36; b += 1) if (isAdjacentPair(a, b)) splits.push([a, b]);
  return splits;
}

/** Every distinct bet a player can make, with a stake of 1. */
function everyBet(): RouletteBet[] {
  const bets: RouletteBet[] = [];
  for (let n = 0; n <= 36; n += 1) bets.push({ kind: 'straight', number: n, stake: 1n });
  for (const numbers of allSplits()) bets.push({ kind: 'split', numbers, stake: 1n });
  for (const kind of ['red', 'black', 'odd', 'even'] as const) bets.push({ kind, stake: 1n });
  for (const dozen of [1, 2, 3] as const) bets.push({ kind: 'dozen', dozen, stake: 1n });
  return bets;
}

describe('roulette RTP, exactly', () => {
  it('is 36/37 for each of the 104 possible bets, playing all 37 pockets', () => {
    const bets = everyBet();
    assert.equal(bets.length, 37 + 60 + 4 + 3);
    let maxMultiple = 0n;
    for (const bet of bets) {
      let returned = 0n;
      for (let pocket = 0; pocket < roulettePocketCount; pocket += 1) {
        const outcome = playRoulette(fixedPocket(pocket), { bets: [bet] });
        returned += outcome.payout;
        if (outcome.payout > maxMultiple) maxMultiple = outcome.payout;
      }
      const rtp = rational(returned, BigInt(roulettePocketCount) * bet.stake);
      assert.ok(
        equals(rtp, rouletteRtp),
        `${JSON.stringify(bet, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}: ${rtp.num}/${rtp.den}`,
      );
    }
    assert.ok(equals(rational(maxMultiple), rouletteMaxWinMultiplier), 'a straight pays 36× its stake');
  });

  it('is 36/37 for a spin carrying every bet at once (any mix of bets)', () => {
    const bets = everyBet().map((bet, i) => ({ ...bet, stake: BigInt(1 + (i % 5)) }));
    const stake = bets.reduce((sum, bet) => sum + bet.stake, 0n);
    let returned = 0n;
    for (let pocket = 0; pocket < roulettePocketCount; pocket += 1) {
      const outcome = playRoulette(fixedPocket(pocket), { bets });
      assert.equal(outcome.stake, stake);
      returned += outcome.payout;
      assert.ok(outcome.payout <= 36n * stake);
    }
    assert.ok(equals(rational(returned, 37n * stake), rouletteRtp));
  });

  it('matches the published constants and docs/studio-games.md', () => {
    assert.equal(formatPercent(rouletteRtp), rouletteRtpPercent);
    assert.equal(rouletteRtpPercent, '97.2973');
    const row = docRow(rouletteGameId);
    assert.ok(row.includes(`${rouletteRtp.num}/${rouletteRtp.den}`), row);
    assert.ok(row.includes(`${rouletteRtpPercent} %`), row);
    assert.ok(row.includes(`${rouletteMaxWinMultiplier.num}×`), row);
  });
});

describe('the table', () => {
  it('has the standard colours', () => {
    assert.equal(redNumbers.size, 18);
    assert.equal(pocketColor(0), 'green');
    assert.equal(pocketColor(1), 'red');
    assert.equal(pocketColor(2), 'black');
    assert.equal(pocketColor(10), 'black');
    assert.equal(pocketColor(11), 'black');
    assert.equal(pocketColor(19), 'red');
    assert.equal(pocketColor(36), 'red');
    const blacks = Array.from({ length: 36 }, (_, i) => i + 1).filter((n) => pocketColor(n) === 'black');
    assert.deepEqual(blacks, [2, 4, 6, 8, 10, 11, 13, 15, 17, 20, 22, 24, 26, 28, 29, 31, 33, 35]);
  });

  it('knows the 60 splits: 24 across, 33 down, and 0 with 1, 2 or 3', () => {
    const splits = allSplits();
    assert.equal(splits.length, 60);
    assert.equal(splits.filter(([a, b]) => a > 0 && b - a === 1).length, 24);
    assert.equal(splits.filter(([a, b]) => a > 0 && b - a === 3).length, 33);
    assert.deepEqual(
      splits.filter(([a]) => a === 0),
      [
        [0, 1],
        [0, 2],
        [0, 3],
      ],
    );
    for (const [a, b] of [
      [3, 4],
      [6, 7],
      [33, 34],
      [0, 4],
      [1, 5],
      [2, 2],
      [36, 37],
      [-1, 0],
    ] as const) {
      assert.equal(isAdjacentPair(a, b), false, `${a}-${b}`);
    }
    assert.ok(isAdjacentPair(5, 2) && isAdjacentPair(35, 36) && isAdjacentPair(33, 36));
  });
});

describe('roulette rounds', () => {
  it('pays the standard odds and loses outside bets on zero', () => {
    const bets: RouletteBet[] = [
      { kind: 'straight', number: 17, stake: 10n },
      { kind: 'split', numbers: [17, 20], stake: 10n },
      { kind: 'black', stake: 10n },
      { kind: 'odd', stake: 10n },
      { kind: 'dozen', dozen: 2, stake: 10n },
      { kind: 'red', stake: 10n },
    ];
    const outcome = playRoulette(fixedPocket(17), { bets });
    assert.deepEqual(
      outcome.results.map((r) => r.payout),
      [360n, 180n, 20n, 20n, 30n, 0n],
    );
    assert.equal(outcome.payout, 610n);
    assert.equal(outcome.stake, 60n);
    assert.equal(outcome.description, 'ball on 17 black, odd, dozen 2: 5 of 6 bets win');
    const zero = playRoulette(fixedPocket(0), { bets });
    assert.equal(zero.payout, 0n);
    assert.equal(zero.description, 'ball on 0 green: 0 of 6 bets win');
    assert.equal(
      playRoulette(fixedPocket(0), { bets: [{ kind: 'split', numbers: [0, 2], stake: 3n }] }).payout,
      54n,
    );
  });

  it('refuses malformed bets before drawing', () => {
    const bad: unknown[] = [
      { kind: 'split', numbers: [3, 4], stake: 1n },
      { kind: 'split', numbers: [1], stake: 1n },
      { kind: 'straight', number: 37, stake: 1n },
      { kind: 'straight', number: 1.5, stake: 1n },
      { kind: 'dozen', dozen: 4, stake: 1n },
      { kind: 'corner', numbers: [1, 2, 4, 5], stake: 1n },
      { kind: 'red', stake: 0n },
      { kind: 'red', stake: 5 },
      null,
    ];
    const never: RandomSource = {
      randomInt(): number {
        throw new Error('must not draw');
      },
    };
    for (const bet of bad) {
      const request = { bets: [bet as RouletteBet] };
      assert.equal(
        checkRouletteRequest(request).ok,
        false,
        JSON.stringify(bet, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      );
      assert.throws(() => playRoulette(never, request), RangeError);
    }
    assert.equal(checkRouletteRequest({ bets: [] }).ok, false);
    const many = Array.from({ length: rouletteBetsMax + 1 }, (): RouletteBet => ({ kind: 'red', stake: 1n }));
    assert.equal(checkRouletteRequest({ bets: many }).ok, false);
    assert.equal(checkRouletteRequest({ bets: many.slice(1) }).ok, true);
    const huge = (2n ** 63n - 1n) / 36n;
    assert.equal(checkRouletteRequest({ bets: [{ kind: 'red', stake: huge }] }).ok, true);
    assert.equal(
      checkRouletteRequest({
        bets: [
          { kind: 'red', stake: huge },
          { kind: 'black', stake: 1n },
        ],
      }).ok,
      false,
      'the total stake must keep the payout within int8',
    );
  });
});
