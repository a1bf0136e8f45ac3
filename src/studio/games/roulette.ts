// European roulette: one zero, 37 equally likely pockets (docs/studio-games.md §4). A simulated
// wheel must behave like the real one (GLI-19 §4.6.2), so the pocket is one unbiased draw of
// randomInt(37) and the bets pay the standard odds: straight 35:1, split 17:1, red/black,
// odd/even 1:1, dozen 2:1. Zero loses every outside bet (no la partage, no en prison). Each bet
// type returns 36/37 of its stake on average, exactly, so any mix of bets has RTP 36/37.
import type { RandomSource } from '../fair/stream.ts';
import type { BetCheck, OutcomeBase } from './common.ts';
import { accepted, refused, stakeProblem } from './common.ts';
import type { Rational } from './rational.ts';
import { rational } from './rational.ts';

export const rouletteGameId = 'studio-roulette-european';
export const rouletteVersion = 1;

export const roulettePocketCount = 37;
/** Bets one spin may carry (bounds the work and the record of a round). */
export const rouletteBetsMax = 200;

export const rouletteRtp: Rational = rational(36n, 37n);
export const rouletteRtpPercent = '97.2973';
/** Largest payout as a multiple of the round's total stake: everything on one straight, 36×. */
export const rouletteMaxWinMultiplier: Rational = rational(36n);

/** The standard European red numbers; every other number from 1 to 36 is black. */
export const redNumbers: ReadonlySet<number> = new Set([
  1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36,
]);

export type RouletteBet =
  | { readonly kind: 'straight'; readonly number: number; readonly stake: bigint }
  | { readonly kind: 'split'; readonly numbers: readonly [number, number]; readonly stake: bigint }
  | { readonly kind: 'red' | 'black' | 'odd' | 'even'; readonly stake: bigint }
  | { readonly kind: 'dozen'; readonly dozen: 1 | 2 | 3; readonly stake: bigint };

export type RouletteBetKind = RouletteBet['kind'];

/** Winnings per unit staked ("35 to 1"); a winning bet also gets its stake back. */
export const roulettePayoutOdds: Readonly<Record<RouletteBetKind, number>> = Object.freeze({
  straight: 35,
  split: 17,
  red: 1,
  black: 1,
  odd: 1,
  even: 1,
  dozen: 2,
});

export interface RouletteRequest {
  readonly bets: readonly RouletteBet[];
}

export interface RouletteBetResult {
  readonly bet: RouletteBet;
  readonly win: boolean;
  /** stake × (odds + 1) on a win, else 0. */
  readonly payout: bigint;
}

export interface RouletteOutcome extends OutcomeBase {
  readonly game: 'roulette';
  /** 0 … 36. */
  readonly pocket: number;
  readonly color: 'green' | 'red' | 'black';
  readonly results: readonly RouletteBetResult[];
}

export function pocketColor(pocket: number): 'green' | 'red' | 'black' {
  if (pocket === 0) return 'green';
  return redNumbers.has(pocket) ? 'red' : 'black';
}

function isNumberOnTable(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 36;
}

/**
 * Two numbers share an edge on the standard layout: 1–36 sit in 12 rows of three (1 2 3,
 * 4 5 6, …), so neighbours are n, n+1 in the same row or n, n+3 in the same column; 0 borders
 * 1, 2 and 3.
 */
export function isAdjacentPair(a: number, b: number): boolean {
  if (!isNumberOnTable(a) || !isNumberOnTable(b) || a === b) return false;
  const low = Math.min(a, b);
  const high = Math.max(a, b);
  if (low === 0) return high <= 3;
  if (high - low === 3) return true;
  return high - low === 1 && low % 3 !== 0;
}

/** Does `bet` win when the ball lands in `pocket`? */
export function betWins(bet: RouletteBet, pocket: number): boolean {
  switch (bet.kind) {
    case 'straight':
      return pocket === bet.number;
    case 'split':
      return pocket === bet.numbers[0] || pocket === bet.numbers[1];
    case 'red':
      return pocketColor(pocket) === 'red';
    case 'black':
      return pocketColor(pocket) === 'black';
    case 'odd':
      return pocket !== 0 && pocket % 2 === 1;
    case 'even':
      return pocket !== 0 && pocket % 2 === 0;
    case 'dozen':
      return pocket !== 0 && Math.ceil(pocket / 12) === bet.dozen;
  }
}

function betProblem(bet: RouletteBet): string | undefined {
  // Runtime checks too: bets arrive from JSON and the types only describe the happy path.
  const kind: unknown = (bet as { kind?: unknown }).kind;
  switch (kind) {
    case 'straight':
      if (!isNumberOnTable((bet as { number?: unknown }).number)) return 'a straight bet needs a number 0–36';
      break;
    case 'split': {
      const numbers: unknown = (bet as { numbers?: unknown }).numbers;
      if (
        !Array.isArray(numbers) ||
        numbers.length !== 2 ||
        !isAdjacentPair(numbers[0] as number, numbers[1] as number)
      ) {
        return 'a split needs two numbers that are adjacent on the table layout';
      }
      break;
    }
    case 'red':
    case 'black':
    case 'odd':
    case 'even':
      break;
    case 'dozen': {
      const dozen: unknown = (bet as { dozen?: unknown }).dozen;
      if (dozen !== 1 && dozen !== 2 && dozen !== 3) return 'a dozen bet needs dozen 1, 2 or 3';
      break;
    }
    default:
      return 'unknown bet kind';
  }
  return stakeProblem(bet.stake, rouletteMaxWinMultiplier, 'each bet stake');
}

/** Sum of the stakes of a request (the round's stake). */
export function rouletteTotalStake(request: RouletteRequest): bigint {
  return request.bets.reduce((sum, bet) => sum + bet.stake, 0n);
}

export function checkRouletteRequest(request: RouletteRequest): BetCheck {
  const bets: unknown = request.bets;
  if (!Array.isArray(bets) || bets.length === 0) return refused('place at least one bet');
  if (bets.length > rouletteBetsMax) return refused(`at most ${rouletteBetsMax} bets per spin`);
  for (const [index, bet] of request.bets.entries()) {
    const problem = typeof bet === 'object' && bet !== null ? betProblem(bet) : 'a bet must be an object';
    if (problem !== undefined) return refused(`bet ${index + 1}: ${problem}`);
  }
  const totalProblem = stakeProblem(rouletteTotalStake(request), rouletteMaxWinMultiplier, 'total stake');
  return totalProblem === undefined ? accepted : refused(totalProblem);
}

/** What a bet returns for a pocket: stake × (odds + 1) when it wins, else 0. */
export function betPayout(bet: RouletteBet, pocket: number): bigint {
  return betWins(bet, pocket) ? bet.stake * BigInt(roulettePayoutOdds[bet.kind] + 1) : 0n;
}

function describePocket(pocket: number): string {
  if (pocket === 0) return '0 green';
  const parity = pocket % 2 === 1 ? 'odd' : 'even';
  return `${pocket} ${pocketColor(pocket)}, ${parity}, dozen ${Math.ceil(pocket / 12)}`;
}

/** Settles one spin: one draw of randomInt(37), then every bet against that pocket. */
export function playRoulette(source: RandomSource, request: RouletteRequest): RouletteOutcome {
  const check = checkRouletteRequest(request);
  if (!check.ok) throw new RangeError(check.reason);
  const pocket = source.randomInt(roulettePocketCount);
  const results = request.bets.map((bet) => {
    const payout = betPayout(bet, pocket);
    return { bet, win: payout > 0n, payout };
  });
  const payout = results.reduce((sum, result) => sum + result.payout, 0n);
  const winners = results.filter((result) => result.win).length;
  const description = `ball on ${describePocket(pocket)}: ${winners} of ${results.length} bets win`;
  return {
    game: 'roulette',
    stake: rouletteTotalStake(request),
    payout,
    description,
    pocket,
    color: pocketColor(pocket),
    results,
  };
}
