// Proves the slot's published RTP and max win exactly, by running the game's own evaluator over all 24^5 reel-stop combinations (cross-checked by an independent per-line model), and that a round plays the way that proof assumes.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RandomSource } from '../fair/index.ts';
import {
  add,
  checkSlotBet,
  equals,
  evaluateLine,
  evaluateSlotStops,
  formatPercent,
  int8Max,
  mul,
  one,
  playSlot,
  rational,
  slotFreeSpinMultiplier,
  slotFreeSpinsAwarded,
  slotFreeSpinsRetrigger,
  slotGameId,
  slotLineCount,
  slotMaxWinMultiplier,
  slotPaylines,
  slotReels,
  slotRowCount,
  slotRtp,
  slotRtpPercent,
  slotScatterPays,
  zero,
} from '../games/index.ts';
import type { Rational, SlotSymbol } from '../games/index.ts';

function docRow(gameId: string): string {
  const doc = readFileSync(new URL('../../../docs/studio-games.md', import.meta.url), 'utf8');
  const row = doc.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${gameId}\``));
  assert.ok(row !== undefined, `docs/studio-games.md has no summary row for ${gameId}`);
  return row;
}

/** Answers draws from a queue of reel stops, checking each draw is over the right strip. */
function scriptedStops(spins: readonly (readonly number[])[]): RandomSource & { readonly draws: number } {
  const queue = spins.flat();
  let draws = 0;
  return {
    get draws() {
      return draws;
    },
    randomInt(n: number): number {
      const reel = draws % slotReels.length;
      assert.equal(n, slotReels[reel]!.length, `draw ${draws} must be a stop on reel ${reel + 1}`);
      const stop = queue[draws];
      assert.ok(stop !== undefined, 'the game drew more than scripted');
      draws += 1;
      return stop;
    },
  };
}

interface Enumeration {
  combos: bigint;
  /** Sum of spin units (line + scatter, no multiplier) over all combinations. */
  unitSum: bigint;
  triggers: bigint;
  maxUnits: number;
  maxUnitsStops: number[];
  maxTriggerUnits: number;
  maxTriggerStops: number[];
  maxPlainUnits: number;
}

/** Every stop combination through the production evaluator (about 8 million spins). */
function enumerate(): Enumeration {
  const lengths = slotReels.map((strip) => strip.length);
  const result: Enumeration = {
    combos: 0n,
    unitSum: 0n,
    triggers: 0n,
    maxUnits: -1,
    maxUnitsStops: [],
    maxTriggerUnits: -1,
    maxTriggerStops: [],
    maxPlainUnits: -1,
  };
  const stops = [0, 0, 0, 0, 0];
  for (stops[0] = 0; stops[0] < lengths[0]!; stops[0] += 1) {
    for (stops[1] = 0; stops[1] < lengths[1]!; stops[1] += 1) {
      for (stops[2] = 0; stops[2] < lengths[2]!; stops[2] += 1) {
        // Sums within a block stay far below 2^53, so add them as numbers and carry in bigint.
        let units = 0;
        let triggers = 0;
        let combos = 0;
        for (stops[3] = 0; stops[3] < lengths[3]!; stops[3] += 1) {
          for (stops[4] = 0; stops[4] < lengths[4]!; stops[4] += 1) {
            const spin = evaluateSlotStops(stops);
            combos += 1;
            units += spin.units;
            if (spin.units > result.maxUnits) {
              result.maxUnits = spin.units;
              result.maxUnitsStops = [...stops];
            }
            if (spin.scatterTrigger) {
              triggers += 1;
              if (spin.units > result.maxTriggerUnits) {
                result.maxTriggerUnits = spin.units;
                result.maxTriggerStops = [...stops];
              }
            } else if (spin.units > result.maxPlainUnits) {
              result.maxPlainUnits = spin.units;
            }
          }
        }
        result.combos += BigInt(combos);
        result.unitSum += BigInt(units);
        result.triggers += BigInt(triggers);
      }
    }
  }
  return result;
}

let full: Enumeration;

describe('slot RTP and max win, exactly', () => {
  before(() => {
    full = enumerate();
  });

  it('RTP = E[spin] × (1 + P(trigger) × 10 free spins × 2), over all 24^5 stop combinations', () => {
    assert.equal(full.combos, BigInt(slotReels.reduce((product, strip) => product * strip.length, 1)));
    // Per spin, in multiples of the stake (units are line bets, 10 to the stake).
    const spinReturn = rational(full.unitSum, full.combos * BigInt(slotLineCount));
    const trigger = rational(full.triggers, full.combos);
    // Free spins are independent spins on the same reels, so each is worth spinReturn × 2;
    // they never retrigger, so exactly 10 follow a trigger.
    assert.equal(slotFreeSpinsRetrigger, false);
    const featureSpins = rational(BigInt(slotFreeSpinsAwarded * slotFreeSpinMultiplier));
    const rtp = mul(spinReturn, add(one, mul(trigger, featureSpins)));
    assert.ok(equals(rtp, slotRtp), `computed ${rtp.num}/${rtp.den} = ${formatPercent(rtp, 6)} %`);
    assert.equal(formatPercent(rtp), slotRtpPercent);
    // The split the doc quotes: base game and free-spin feature, and the trigger odds.
    assert.equal(formatPercent(spinReturn), '72.8421');
    assert.equal(formatPercent(mul(spinReturn, mul(trigger, featureSpins))), '23.3856');
    assert.ok(equals(trigger, rational(263n, 16_384n)));
  });

  it('max win = best triggering spin + 10 × 2 × best spin, and it is reachable', () => {
    const featureMax = full.maxTriggerUnits + slotFreeSpinsAwarded * slotFreeSpinMultiplier * full.maxUnits;
    const maxUnits = Math.max(full.maxPlainUnits, featureMax);
    assert.ok(equals(rational(BigInt(maxUnits), BigInt(slotLineCount)), slotMaxWinMultiplier));
    assert.equal(full.maxTriggerUnits, 520);
    assert.equal(full.maxUnits, 1_258);
    // Play it: the best triggering base spin, then the best spin ten times.
    const script = [full.maxTriggerStops, ...Array.from({ length: 10 }, () => full.maxUnitsStops)];
    const source = scriptedStops(script);
    const outcome = playSlot(source, { stake: 100n });
    assert.equal(source.draws, 55);
    assert.equal(outcome.payout, 256_800n);
    assert.ok(equals(outcome.multiplier, slotMaxWinMultiplier));
  });

  it('agrees with an independent per-line model built from symbol frequencies', () => {
    // Each reel's symbol on any row is uniform over its strip, independently of other reels, so
    // every payline has the same distribution: sum over symbol 5-tuples of product × line pay.
    const frequencies = slotReels.map((strip) => {
      const counts = new Map<SlotSymbol, bigint>();
      for (const symbol of strip) counts.set(symbol, (counts.get(symbol) ?? 0n) + 1n);
      return [...counts.entries()].map(([symbol, count]) => ({
        symbol,
        p: rational(count, BigInt(strip.length)),
      }));
    });
    let lineValue: Rational = zero;
    const walk = (reel: number, symbols: SlotSymbol[], p: Rational): void => {
      if (reel === slotReels.length) {
        const win = evaluateLine(symbols);
        if (win !== undefined) lineValue = add(lineValue, mul(p, rational(BigInt(win.units))));
        return;
      }
      for (const { symbol, p: q } of frequencies[reel]!) walk(reel + 1, [...symbols, symbol], mul(p, q));
    };
    walk(0, [], one);
    // Scatters: one per strip, so reel r shows one with probability 3 / length, independently.
    let scatterDistribution: Rational[] = [one];
    for (const strip of slotReels) {
      const q = rational(
        BigInt(slotRowCount * strip.filter((s) => s === 'SCATTER').length),
        BigInt(strip.length),
      );
      const next: Rational[] = scatterDistribution.map(() => zero).concat([zero]);
      scatterDistribution.forEach((p, k) => {
        next[k] = add(next[k]!, mul(p, add(one, rational(-q.num, q.den))));
        next[k + 1] = add(next[k + 1]!, mul(p, q));
      });
      scatterDistribution = next;
    }
    let scatterValue: Rational = zero;
    let trigger: Rational = zero;
    for (let k = 3; k <= 5; k += 1) {
      scatterValue = add(
        scatterValue,
        mul(scatterDistribution[k]!, rational(BigInt(slotScatterPays[k - 3]!))),
      );
      trigger = add(trigger, scatterDistribution[k]!);
    }
    const spinReturn = add(
      mul(lineValue, rational(BigInt(slotPaylines.length), BigInt(slotLineCount))),
      scatterValue,
    );
    const rtp = mul(
      spinReturn,
      add(one, mul(trigger, rational(BigInt(slotFreeSpinsAwarded * slotFreeSpinMultiplier)))),
    );
    assert.ok(equals(rtp, slotRtp));
    assert.ok(equals(trigger, rational(full.triggers, full.combos)));
  });

  it('matches the published constants and docs/studio-games.md', () => {
    const row = docRow(slotGameId);
    assert.ok(row.includes(`${slotRtp.num}/${slotRtp.den}`), row);
    assert.ok(row.includes(`${slotRtpPercent} %`), row);
    assert.ok(row.includes(`${slotMaxWinMultiplier.num}×`), row);
    assert.equal(slotMaxWinMultiplier.den, 1n);
  });
});

describe('slot tables', () => {
  it('has five short strips with one SCATTER each and ten distinct 3-row paylines', () => {
    assert.equal(slotReels.length, 5);
    for (const strip of slotReels) {
      assert.ok(strip.length <= 32);
      assert.equal(strip.filter((s) => s === 'SCATTER').length, 1, 'never two SCATTERs on one reel');
    }
    assert.equal(slotPaylines.length, slotLineCount);
    assert.equal(new Set(slotPaylines.map((line) => line.join(''))).size, slotLineCount);
    for (const line of slotPaylines) {
      assert.equal(line.length, 5);
      for (const row of line) assert.ok(row >= 0 && row < slotRowCount);
    }
  });

  it('evaluates a line: runs from reel 1, WILD substitutes and pays on its own, SCATTER breaks', () => {
    const W = 'WILD';
    const S = 'SCATTER';
    const cases: [SlotSymbol[], string | undefined][] = [
      [[W, W, W, W, W], 'WILD 5 1000'],
      [[W, W, W, 'SEVEN', 'SEVEN'], 'SEVEN 5 500'],
      [[W, W, W, 'CHERRY', 'ORANGE'], 'WILD 3 50'],
      [[W, W, W, W, S], 'WILD 4 250'],
      [['SEVEN', W, 'SEVEN', 'BAR', 'BAR'], 'SEVEN 3 25'],
      [['BELL', 'BELL', W, W, 'PLUM'], 'BELL 4 30'],
      [['CHERRY', 'CHERRY', S, 'CHERRY', 'CHERRY'], undefined],
      [[S, S, S, 'BAR', 'BAR'], undefined],
      [[W, W, S, 'BAR', 'BAR'], undefined],
      [['PLUM', 'PLUM', 'ORANGE', 'PLUM', 'PLUM'], undefined],
    ];
    for (const [symbols, expected] of cases) {
      const win = evaluateLine(symbols);
      assert.equal(
        win === undefined ? undefined : `${win.symbol} ${win.count} ${win.units}`,
        expected,
        symbols.join(' '),
      );
    }
  });
});

describe('slot rounds', () => {
  const noTrigger = [0, 0, 0, 0, 0];

  it('draws one uniform stop per reel and pays floor(stake × units / 10)', () => {
    const spin = evaluateSlotStops(noTrigger);
    assert.equal(spin.scatterTrigger, false);
    for (const stake of [1n, 7n, 10n, 1_000n]) {
      const source = scriptedStops([noTrigger]);
      const outcome = playSlot(source, { stake });
      assert.equal(source.draws, 5);
      assert.equal(outcome.spins.length, 1);
      assert.equal(outcome.totalUnits, spin.units);
      assert.equal(outcome.payout, (stake * BigInt(spin.units)) / 10n);
    }
    assert.deepEqual(
      spin.window[0],
      slotReels.map((strip) => strip[0]),
    );
    assert.deepEqual(
      spin.window[2],
      slotReels.map((strip) => strip[2]),
    );
  });

  it('plays 10 free spins at ×2 after 3+ SCATTERs, on the same reels, with no retrigger', () => {
    const trigger = full.maxTriggerStops;
    assert.ok(evaluateSlotStops(trigger).scatterTrigger);
    // The free spins themselves land on triggering stops: they pay but add no spins.
    const script = [trigger, ...Array.from({ length: 10 }, () => trigger)];
    const source = scriptedStops(script);
    const outcome = playSlot(source, { stake: 10n });
    assert.equal(source.draws, 55, 'exactly 10 free spins, none added');
    assert.equal(outcome.freeSpinsAwarded, 10);
    assert.deepEqual(
      outcome.spins.map((s) => `${s.kind}×${s.multiplier}`),
      ['base×1', ...Array.from({ length: 10 }, () => 'free×2')],
    );
    const units = evaluateSlotStops(trigger).units;
    assert.equal(outcome.totalUnits, units + 2 * 10 * units);
    assert.equal(outcome.payout, BigInt(outcome.totalUnits));
    assert.match(outcome.description, /5 SCATTER → 10 free spins at ×2/);
  });

  it('refuses bad stakes before drawing', () => {
    const never: RandomSource = {
      randomInt(): number {
        throw new Error('must not draw');
      },
    };
    for (const stake of [0n, -5n, 10 as unknown as bigint, int8Max / 2568n + 1n]) {
      assert.equal(checkSlotBet({ stake }).ok, false, String(stake));
      assert.throws(() => playSlot(never, { stake }), RangeError);
    }
    assert.equal(checkSlotBet({ stake: int8Max / 2568n }).ok, true);
  });
});
