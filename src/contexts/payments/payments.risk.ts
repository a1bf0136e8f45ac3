// The risk gate a withdrawal passes after its amount is held and before any money leaves
// (research/risk-bonus.md §6, "flag-lock before a withdrawal executes"). It is a port: the default
// rules below stand in until the risk context exists, and a risk service plugs in the same way.
// The gate is synchronous (the request waits for it) within a time budget, and it fails safe: an
// error or a slow answer sends the withdrawal to review, never to payment.
import { setTimeout as sleep } from 'node:timers/promises';

export type RiskOutcome = 'approve' | 'review' | 'reject';

/** What the gate knows about a withdrawal; amounts in minor units of `currency`. */
export interface RiskContext {
  readonly withdrawalId: string;
  readonly playerId: string;
  readonly country: string;
  readonly amount: bigint;
  readonly currency: string;
  /** Earlier withdrawals of this player that were paid out. */
  readonly paidWithdrawals: number;
  /** Completed deposits since the player's previous withdrawal request (all of them if none). */
  readonly depositedSinceLastWithdrawal: bigint;
  /** Stakes placed since then (bets less rolled-back bets). */
  readonly stakedSinceLastWithdrawal: bigint;
}

export interface RiskDecision {
  readonly outcome: RiskOutcome;
  /** Machine-readable reasons, stored with the withdrawal for finance ("first_withdrawal", …). */
  readonly reasons: readonly string[];
}

export interface RiskGate {
  decide(context: RiskContext): RiskDecision | Promise<RiskDecision>;
}

export interface DefaultRiskRules {
  /** Per currency, minor units: a withdrawal above it goes to review. */
  readonly reviewAbove: ReadonlyMap<string, bigint>;
}

/**
 * The default rules, each sending the withdrawal to review (none rejects: in the UK a player may
 * always withdraw deposited funds, so suspicion means review and return-to-source, not refusal):
 * - the player's first withdrawal (nothing paid out before: a new payout destination);
 * - an amount above the per-currency threshold (the €1,000 transfer-of-funds line, MLR 2017);
 * - deposits since the last withdrawal that were not staked at least once (deposit-then-withdraw,
 *   research/risk-bonus.md §5).
 */
export function defaultRiskGate(rules: DefaultRiskRules): RiskGate {
  return {
    decide(context) {
      const reasons: string[] = [];
      if (context.paidWithdrawals === 0) reasons.push('first_withdrawal');
      const threshold = rules.reviewAbove.get(context.currency);
      if (threshold !== undefined && context.amount > threshold) reasons.push('amount_above_threshold');
      if (
        context.depositedSinceLastWithdrawal > 0n &&
        context.stakedSinceLastWithdrawal < context.depositedSinceLastWithdrawal
      ) {
        reasons.push('deposits_not_played');
      }
      return { outcome: reasons.length === 0 ? 'approve' : 'review', reasons };
    },
  };
}

/** How long a withdrawal request waits for the gate before it goes to review. */
export const riskBudgetMsDefault = 200;

/** Asks the gate within the budget; any error, a slow answer or a malformed one → review. */
export async function decideSafely(
  gate: RiskGate,
  context: RiskContext,
  budgetMs: number = riskBudgetMsDefault,
): Promise<RiskDecision> {
  const timeout = new AbortController();
  try {
    const answer = await Promise.race([
      Promise.resolve().then(() => gate.decide(context)),
      sleep(budgetMs, undefined, { signal: timeout.signal }).then(() => 'timeout' as const),
    ]);
    if (answer === 'timeout') return { outcome: 'review', reasons: ['risk_gate_timeout'] };
    if (answer.outcome !== 'approve' && answer.outcome !== 'reject' && answer.outcome !== 'review') {
      return { outcome: 'review', reasons: ['risk_gate_malformed'] };
    }
    return { outcome: answer.outcome, reasons: [...answer.reasons].map(String).slice(0, 16) };
  } catch {
    return { outcome: 'review', reasons: ['risk_gate_error'] };
  } finally {
    timeout.abort();
  }
}
