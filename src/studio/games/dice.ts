// Dice: roll under a target the player picks (docs/studio-games.md §3).
// The roll is a uniform integer 0…9 999 shown as 0.00…99.99; the player wins when the roll is
// below the target T (in hundredths, 1.00…98.00), so P(win) = T / 10 000 exactly. The payout
// multiplier is (1 − house edge) / P(win) = 9 900 / T with a 1 % edge, so every target has the
// same RTP of exactly 99 % on the exact multiplier; the payout is floor(stake × 9 900 / T).
import type { RandomSource } from '../fair/stream.ts';
import type { BetCheck, OutcomeBase } from './common.ts';
import { accepted, refused, stakeProblem } from './common.ts';
import type { Rational } from './rational.ts';
import { floorTimes, formatDecimal, rational, sub } from './rational.ts';

export const diceGameId = 'studio-dice';
export const diceVersion = 1;

/** Number of equally likely rolls: 0 … 9 999, displayed with two decimals. */
export const diceRollCount = 10_000;
export const diceHouseEdge: Rational = rational(1n, 100n);
/** Lowest and highest targets, in hundredths: win chance 1.00 % … 98.00 %. */
export const diceTargetMin = 100;
export const diceTargetMax = 9_800;

/** Theoretical RTP on exact multipliers, the same for every target; checked by enumeration in tests. */
export const diceRtp: Rational = rational(99n, 100n);
export const diceRtpPercent = '99.0000';
/** Largest payout as a multiple of stake: target 1.00 pays 99×. */
export const diceMaxWinMultiplier: Rational = rational(99n);

export interface DiceBet {
  /** Minor units. */
  readonly stake: bigint;
  /** Win when roll < target; hundredths, diceTargetMin … diceTargetMax (5000 = under 50.00). */
  readonly target: number;
}

export interface DiceOutcome extends OutcomeBase {
  readonly game: 'dice';
  readonly target: number;
  /** 0 … 9 999 (hundredths). */
  readonly roll: number;
  readonly win: boolean;
  /** Exact payout multiplier for this target (applies when win). */
  readonly multiplier: Rational;
}

/** (1 − edge) / (T / 10 000) = 9 900 / T for the 1 % edge. */
export function diceMultiplier(target: number): Rational {
  if (!Number.isInteger(target) || target < diceTargetMin || target > diceTargetMax) {
    throw new RangeError(`target must be an integer from ${diceTargetMin} to ${diceTargetMax}`);
  }
  const returned = sub(rational(1n), diceHouseEdge);
  return rational(returned.num * BigInt(diceRollCount), returned.den * BigInt(target));
}

export function checkDiceBet(bet: DiceBet): BetCheck {
  const target: unknown = bet.target;
  if (
    typeof target !== 'number' ||
    !Number.isInteger(target) ||
    target < diceTargetMin ||
    target > diceTargetMax
  ) {
    return refused(`target must be an integer from ${diceTargetMin} to ${diceTargetMax} (hundredths)`);
  }
  const problem = stakeProblem(bet.stake, diceMaxWinMultiplier);
  return problem === undefined ? accepted : refused(problem);
}

/** Hundredths as "42.17". */
export function formatRoll(hundredths: number): string {
  return formatDecimal(rational(BigInt(hundredths), 100n), 2);
}

/** Settles one dice round: one draw of randomInt(10 000). */
export function playDice(source: RandomSource, bet: DiceBet): DiceOutcome {
  const check = checkDiceBet(bet);
  if (!check.ok) throw new RangeError(check.reason);
  const multiplier = diceMultiplier(bet.target);
  const roll = source.randomInt(diceRollCount);
  const win = roll < bet.target;
  const payout = win ? floorTimes(bet.stake, multiplier) : 0n;
  const description =
    `rolled ${formatRoll(roll)}, needed under ${formatRoll(bet.target)}: ` +
    (win ? `win ${formatDecimal(multiplier, 4, 'floor')}× stake` : 'no win');
  return { game: 'dice', stake: bet.stake, target: bet.target, roll, win, multiplier, payout, description };
}
