// What every studio game shares: how a bet is refused and how a stake is checked. Games take
// parsed bets from a server that also checks table limits; these checks are the games' own
// preconditions (a game must never draw randomness for a bet it will then refuse, and never
// produce a payout a ledger's int8 column could not hold).
import type { Rational } from './rational.ts';

export type BetCheck = { ok: true } | { ok: false; reason: string };

export const accepted: BetCheck = Object.freeze({ ok: true });

export function refused(reason: string): BetCheck {
  return { ok: false, reason };
}

/** The largest amount an int8 (PostgreSQL bigint) ledger column holds. */
export const int8Max = 2n ** 63n - 1n;

/**
 * Stake problem or undefined. `maxPayoutMultiplier` is the game's largest payout as a multiple
 * of stake: the stake is refused when even that payout would not fit int8.
 */
export function stakeProblem(
  stake: unknown,
  maxPayoutMultiplier: Rational,
  what = 'stake',
): string | undefined {
  if (typeof stake !== 'bigint') return `${what} must be a bigint amount in minor units`;
  if (stake <= 0n) return `${what} must be positive`;
  if (stake * maxPayoutMultiplier.num > int8Max * maxPayoutMultiplier.den) return `${what} is too large`;
  return undefined;
}

/** Every game outcome carries these; `payout` is what the player is credited (0 on a loss). */
export interface OutcomeBase {
  /** Total amount staked on the round, minor units. */
  readonly stake: bigint;
  /** Total credited to the player for the round (stakes of winning bets included), minor units. */
  readonly payout: bigint;
  /** One line for round history and game recall (GLI-19 §4.14). */
  readonly description: string;
}
