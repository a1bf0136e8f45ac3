// The payments context's use cases: deposits through a provider's hosted page, withdrawals held
// at request time and released only through the risk gate or finance, provider webhooks applied
// exactly once and monotonically, failover between providers, the sweeps that finish what a crash
// or a lost webhook left open, and reconciliation against the providers' settlement reports.
//
// Money moves only through the wallet, with transfer ids derived from the payment id, and every
// status change commits in the SAME transaction as its transfer (the wallet runs as a library on
// this database, ARCHITECTURE.md §2 rule 6 as in games): the payment row is locked first, the
// wallet locks its accounts after it. Calls to providers never run inside a transaction.
import secureJson from 'secure-json-parse';
import { auditPage, recordAudit } from '../../platform/audit/index.ts';
import type { AuditEntry } from '../../platform/audit/index.ts';
import { verifySignedRequest } from '../../platform/auth/index.ts';
import type { Clock } from '../../platform/clock.ts';
import { transactionRetryingConflicts } from '../../platform/db/index.ts';
import type { Db, Queryable } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { hasControlCharacter, isUuid, uuidv7 } from '../../platform/ids/index.ts';
import { formatAmount, parseAmount } from '../../platform/money/index.ts';
import type { Currency, CurrencyTable } from '../../platform/money/index.ts';
import { writeEvents } from '../../platform/outbox/index.ts';
import type { NewEvent } from '../../platform/outbox/index.ts';
import type { Logger } from '../../platform/telemetry/logger.ts';
import type { PamClient, Player } from '../pam/index.ts';
import type { AccountRef, WalletLedger, WalletRequest } from '../wallet/index.ts';
import type {
  CasePage,
  DepositStatus,
  PaymentPage,
  PaymentsAction,
  PaymentsClient,
  PaymentStatus,
  PaymentView,
  ReconcileReport,
  WithdrawalStatus,
} from './payments.contract.ts';
import { finalStatuses } from './payments.contract.ts';
import * as repo from './payments.repository.ts';
import type { PaymentRow } from './payments.repository.ts';
import { decideSafely } from './payments.risk.ts';
import type { RiskDecision, RiskGate } from './payments.risk.ts';
import type { PspGateway, PspRouter, PspSettlementItem } from './payments.routing.ts';

export const paymentsSchema = 'payments';

export interface PaymentsServiceOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pam: PamClient;
  readonly wallet: WalletLedger;
  readonly currencies: CurrencyTable;
  readonly router: PspRouter;
  readonly risk: RiskGate;
  readonly riskBudgetMs?: number;
  readonly publicUrl: () => string | undefined;
  readonly kickOutbox: () => void;
}

/** A webhook event (or a polled state) as the service applies it. */
export interface PspEvent {
  readonly eventId: string;
  readonly type: 'payment' | 'payout';
  /** The provider's id of the payment or payout. */
  readonly pspRef: string;
  /** Our payment id. */
  readonly reference: string;
  readonly status: string;
  readonly amount: string;
  readonly currency: string;
  readonly reason?: string | undefined;
}

export type EventOutcome = 'applied' | 'ignored' | 'flagged' | 'duplicate';
type TransitionOutcome = Exclude<EventOutcome, 'duplicate'>;

const TX_ATTEMPTS_MAX = 5;
const SWEEP_BATCH_MAX = 100;
/** A withdrawal the risk gate never decided (a crash in between) goes to review after this. */
const UNDECIDED_REQUEST_MS = 60_000;
/** An approved withdrawal whose payout could not be sent is tried again after this. */
const PAYOUT_RETRY_MS = 30_000;
/** A deposit no provider accepted (a crash between insert and call) is ended after this. */
const UNROUTED_DEPOSIT_MS = 10 * 60_000;
/** A payment with no word from its provider for this long is asked about (a lost webhook). */
const SILENT_PAYMENT_MS = 45 * 60_000;
/** A settlement report is read this much wider than the window: the two clocks differ. */
const SETTLEMENT_MARGIN_MS = 10 * 60_000;
/** Rolling windows of deposit limits (contract §2). */
const PERIOD_MS = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const;
const NAME_LENGTH_MAX = 100;

/** A payment as first recorded: not routed, not decided, not finished. */
function newPayment(
  now: Date,
  fields: Pick<PaymentRow, 'id' | 'kind' | 'player_id' | 'amount' | 'currency' | 'method' | 'status'> &
    Partial<Pick<PaymentRow, 'holder_name' | 'account'>>,
): PaymentRow {
  return {
    psp: null,
    psp_ref: null,
    psp_status: null,
    redirect_url: null,
    holder_name: null,
    account: null,
    risk_outcome: null,
    risk_reasons: [],
    failure_reason: null,
    created_at: now,
    updated_at: now,
    finished_at: null,
    ...fields,
  };
}

/** How names compare: Unicode-normalised, case-folded, white space collapsed. */
export function normalizeName(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLocaleLowerCase('en');
}

function isFinal(status: PaymentStatus): boolean {
  return finalStatuses.includes(status);
}

function holdId(withdrawalId: string): string {
  return `withdrawal:${withdrawalId}:hold`;
}

export class PaymentsService implements PaymentsClient {
  readonly #o: PaymentsServiceOptions;

  constructor(options: PaymentsServiceOptions) {
    this.#o = options;
  }

  get router(): PspRouter {
    return this.#o.router;
  }

  // ---- helpers --------------------------------------------------------------------------------

  #currency(code: string): Currency {
    const currency = this.#o.currencies.get(code);
    if (!currency) throw new AppError('INVALID_REQUEST', `currency ${code} is not supported`);
    return currency;
  }

  #amount(text: string, currency: Currency): bigint {
    const parsed = parseAmount(text, currency);
    if (!parsed.ok) throw new AppError('INVALID_REQUEST', `amount: ${parsed.message}`);
    return parsed.minor;
  }

  #format(minor: bigint, code: string): string {
    return formatAmount(minor, this.#currency(code));
  }

  #callbackUrl(psp: string): string {
    const base = this.#o.publicUrl();
    // Without an address the provider can reach, no payment can be told how it ended.
    if (!base) throw new AppError('SERVICE_UNAVAILABLE', 'payments are not reachable yet; try again');
    return `${base.replace(/\/+$/, '')}/webhooks/payments/${encodeURIComponent(psp)}`;
  }

  /** One transaction, run again on a unique-key race or a deadlock (the wallet's rule). */
  #transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return transactionRetryingConflicts(this.#o.db, TX_ATTEMPTS_MAX, work);
  }

  /** Transfers that must succeed (the payment row's state says they are due). */
  async #move(tx: Queryable, requests: readonly WalletRequest[]): Promise<void> {
    const results = await this.#o.wallet.executeInTransaction(tx, requests);
    for (const result of results) {
      // A refusal here means our records and the ledger disagree: roll back, and let the retry
      // (webhook redelivery, sweep) meet a person's attention through the logs.
      if (!result.ok) throw new Error(`wallet refused ${result.id}: ${result.code} (${result.message})`);
    }
  }

  #event(row: PaymentRow, name: string, extra: Record<string, unknown> = {}): NewEvent {
    return {
      subject: `payments.${row.kind}.${name}`,
      payload: {
        paymentId: row.id,
        kind: row.kind,
        playerId: row.player_id,
        amount: row.amount.toString(),
        currency: row.currency,
        status: row.status,
        psp: row.psp,
        ...extra,
      },
    };
  }

  /** Writes a payment's new state and the event that announces it, in the caller's transaction. */
  async #record(
    tx: Queryable,
    after: PaymentRow,
    name: string,
    extra?: Record<string, unknown>,
  ): Promise<void> {
    await repo.updatePayment(tx, after);
    await this.#emit(tx, [this.#event(after, name, extra)]);
  }

  async #emit(tx: Queryable, events: readonly NewEvent[]): Promise<void> {
    await writeEvents(tx, paymentsSchema, events);
  }

  async #player(playerId: string): Promise<Player> {
    const player = await this.#o.pam.getPlayer(playerId);
    if (!player) throw new AppError('UNAUTHORIZED', 'the player does not exist');
    return player;
  }

  #checkMethod(method: string): void {
    if (hasControlCharacter(method)) throw new AppError('INVALID_REQUEST', 'method is not valid');
  }

  // ---- deposits -------------------------------------------------------------------------------

  /**
   * Starts a deposit: checks the player and the deposit limits, records it as pending, and has
   * the best available provider create the payment; the player finishes at the redirect URL.
   */
  async deposit(
    playerId: string,
    input: { amount: string; currency: string; method: string },
  ): Promise<{ depositId: string; status: DepositStatus; redirectUrl: string }> {
    const player = await this.#player(playerId);
    if (player.status !== 'active') throw new AppError('PLAYER_BLOCKED', 'the player may not deposit now');
    if (player.kycStatus !== 'verified')
      throw new AppError('KYC_REQUIRED', 'verify your identity to deposit');
    if (input.currency !== player.currency) {
      throw new AppError('INVALID_REQUEST', `deposits are in the account's currency (${player.currency})`);
    }
    this.#checkMethod(input.method);
    const currency = this.#currency(input.currency);
    const amount = this.#amount(input.amount, currency);
    const route = { method: input.method, currency: currency.code, country: player.country, amount };
    const candidates = this.#o.router.candidates(route);
    if (candidates.length === 0) {
      throw new AppError(
        'INVALID_REQUEST',
        `no payment provider takes ${input.method} in ${currency.code} here`,
      );
    }
    // Without a public URL no provider could tell us how the payment ended: refuse before recording.
    this.#callbackUrl(candidates[0]!.name);
    const limits = (await this.#o.pam.limits(playerId)).filter(
      (limit) => limit.kind === 'deposit' && limit.amount !== null,
    );
    const now = this.#o.clock.now();
    const id = uuidv7(now.getTime());
    const row = newPayment(now, {
      id,
      kind: 'deposit',
      player_id: playerId,
      amount,
      currency: currency.code,
      method: input.method,
      status: 'pending',
    });
    await this.#transaction(async (tx) => {
      // One deposit decision per player at a time: two at once cannot both fit under a limit.
      await repo.lockPlayer(tx, playerId);
      for (const limit of limits) {
        const since = new Date(now.getTime() - PERIOD_MS[limit.period]);
        const gross = await repo.grossDepositsSince(tx, playerId, since);
        if (gross + amount > (limit.amount ?? 0n)) {
          throw new AppError(
            'LIMIT_EXCEEDED',
            `this deposit would exceed your ${limit.period} deposit limit`,
          );
        }
      }
      await repo.insertPayment(tx, row);
    });

    const tried: string[] = [];
    for (const gateway of candidates) {
      if (!gateway.available()) continue;
      const created = await gateway.createPayment({
        reference: id,
        amount: formatAmount(amount, currency),
        currency: currency.code,
        country: player.country,
        callbackUrl: this.#callbackUrl(gateway.name),
        returnUrl: `${(this.#o.publicUrl() ?? '').replace(/\/+$/, '')}/`,
      });
      if (!created.ok) {
        // Any failure may fail over: a payment another provider may have created is never shown
        // to the player, so it can only expire there (and its webhooks are ignored here).
        tried.push(`${gateway.name}: ${created.failure} ${created.detail}`);
        this.#o.logger.warn(
          { psp: gateway.name, depositId: id, failure: created.failure },
          'deposit failover',
        );
        continue;
      }
      const redirectUrl = created.value.redirectUrl;
      await this.#transaction(async (tx) => {
        const locked = await repo.paymentById(tx, id, { lock: true });
        if (!locked || locked.status !== 'pending' || locked.psp !== null) return;
        const after: PaymentRow = {
          ...locked,
          psp: gateway.name,
          psp_ref: created.value.paymentId,
          redirect_url: redirectUrl,
          updated_at: this.#o.clock.now(),
        };
        await this.#record(tx, after, 'created');
      });
      this.#o.kickOutbox();
      return { depositId: id, status: 'pending', redirectUrl };
    }
    await this.#finish(id, ['pending'], 'declined', 'provider_unavailable');
    this.#o.logger.warn({ depositId: id, tried }, 'no payment provider available for a deposit');
    throw new AppError('PROVIDER_UNAVAILABLE', 'no payment provider is available; try again later');
  }

  /** Ends a payment that moved no money (no provider, never routed). */
  async #finish(
    id: string,
    from: readonly PaymentStatus[],
    status: 'declined' | 'expired',
    reason: string,
  ): Promise<void> {
    await this.#transaction(async (tx) => {
      const row = await repo.paymentById(tx, id, { lock: true });
      if (!row || !from.includes(row.status)) return;
      const now = this.#o.clock.now();
      const after: PaymentRow = { ...row, status, failure_reason: reason, updated_at: now, finished_at: now };
      await this.#record(tx, after, status, { reason });
    });
    this.#o.kickOutbox();
  }

  // ---- withdrawals ----------------------------------------------------------------------------

  /**
   * Requests a withdrawal: the amount leaves the player's available cash at once (a pending
   * transfer to the withdrawal hold, committed with the request), then the risk gate decides:
   * pay it, send it to finance, or release it. The player cannot cancel it (RTS 14B).
   */
  async requestWithdrawal(
    playerId: string,
    input: {
      amount: string;
      currency: string;
      destination: { method: string; holderName: string; account: string };
    },
  ): Promise<{ withdrawalId: string; status: WithdrawalStatus }> {
    const player = await this.#player(playerId);
    // Contract §2: every status but closed may withdraw, once verified.
    if (player.status === 'closed') throw new AppError('PLAYER_BLOCKED', 'the account is closed');
    if (player.kycStatus !== 'verified') {
      throw new AppError('KYC_REQUIRED', 'verify your identity to withdraw');
    }
    if (input.currency !== player.currency) {
      throw new AppError('INVALID_REQUEST', `withdrawals are in the account's currency (${player.currency})`);
    }
    const { method, holderName, account } = input.destination;
    this.#checkMethod(method);
    if (hasControlCharacter(holderName) || hasControlCharacter(account) || account.trim().length === 0) {
      throw new AppError('INVALID_REQUEST', 'destination is not valid');
    }
    // Payouts go only to an account in the player's own name (GLI-19 §2.5.6d; no P2P transfers).
    if (normalizeName(holderName) !== normalizeName(`${player.firstName} ${player.lastName}`)) {
      throw new AppError('INVALID_REQUEST', "holderName must be the account holder's verified name");
    }
    const currency = this.#currency(input.currency);
    const amount = this.#amount(input.amount, currency);
    const route = { method, currency: currency.code, country: player.country, amount };
    if (this.#o.router.candidates(route).length === 0) {
      throw new AppError(
        'INVALID_REQUEST',
        `no payment provider pays out ${method} in ${currency.code} here`,
      );
    }
    const now = this.#o.clock.now();
    const id = uuidv7(now.getTime());
    const row = newPayment(now, {
      id,
      kind: 'withdrawal',
      player_id: playerId,
      amount,
      currency: currency.code,
      method,
      status: 'requested',
      holder_name: holderName.trim().slice(0, NAME_LENGTH_MAX),
      account: account.trim(),
    });
    await this.#transaction(async (tx) => {
      await repo.insertPayment(tx, row);
      const [hold] = await this.#o.wallet.executeInTransaction(tx, [
        {
          type: 'transfer',
          id: holdId(id),
          debit: { player: playerId, kind: 'cash' },
          credit: { player: playerId, kind: 'withdrawal_hold' },
          amount,
          currency: currency.code,
          code: 'withdrawal',
          // No timeout: a hold must never lapse while finance reviews or a provider pays.
          pending: {},
          metadata: { withdrawalId: id },
        },
      ]);
      if (!hold?.ok) {
        // Thrown inside the transaction: the request row (and the wallet's refusal) roll back.
        if (hold?.code === 'INSUFFICIENT_FUNDS' || hold?.code === 'ACCOUNT_NOT_FOUND') {
          throw new AppError('INSUFFICIENT_FUNDS', 'the available balance is too low for this withdrawal');
        }
        throw new Error(`withdrawal hold refused: ${hold?.code ?? 'no result'}`);
      }
      await this.#emit(tx, [this.#event(row, 'requested')]);
    });
    this.#o.kickOutbox();

    const decision = await this.#riskDecision(row, player);
    const status = await this.#applyDecision(id, decision);
    if (status === 'approved') await this.#sendPayoutSafely(id);
    const after = await repo.paymentById(this.#o.db, id);
    return { withdrawalId: id, status: (after?.status ?? status) as WithdrawalStatus };
  }

  async #riskDecision(row: PaymentRow, player: Player): Promise<RiskDecision> {
    try {
      const history = await repo.withdrawalHistory(this.#o.db, row.player_id, row.currency, row.id);
      const since = history.lastWithdrawalAt ?? new Date(0);
      const play = await this.#o.wallet.playSince(row.player_id, row.currency, since);
      return await decideSafely(
        this.#o.risk,
        {
          withdrawalId: row.id,
          playerId: row.player_id,
          country: player.country,
          amount: row.amount,
          currency: row.currency,
          paidWithdrawals: history.paidWithdrawals,
          depositedSinceLastWithdrawal: history.depositedSince,
          stakedSinceLastWithdrawal: play.staked,
        },
        this.#o.riskBudgetMs,
      );
    } catch (error) {
      // Fail safe: what the gate could not judge, a person does.
      this.#o.logger.warn({ err: error, withdrawalId: row.id }, 'risk context unavailable');
      return { outcome: 'review', reasons: ['risk_context_unavailable'] };
    }
  }

  /** requested → approved | in_review | rejected (the hold released). */
  async #applyDecision(id: string, decision: RiskDecision): Promise<PaymentStatus> {
    const status = await this.#transaction(async (tx) => {
      const row = await repo.paymentById(tx, id, { lock: true });
      if (!row) throw new Error(`withdrawal ${id} vanished`);
      if (row.status !== 'requested') return row.status;
      const now = this.#o.clock.now();
      const next: WithdrawalStatus =
        decision.outcome === 'approve'
          ? 'approved'
          : decision.outcome === 'reject'
            ? 'rejected'
            : 'in_review';
      const after: PaymentRow = {
        ...row,
        status: next,
        risk_outcome: decision.outcome,
        risk_reasons: [...decision.reasons],
        failure_reason: next === 'rejected' ? 'risk_rejected' : null,
        updated_at: now,
        finished_at: next === 'rejected' ? now : null,
      };
      if (next === 'rejected') await this.#release(tx, row);
      await this.#record(tx, after, next, { reasons: decision.reasons });
      return next;
    });
    this.#o.kickOutbox();
    return status;
  }

  /** Voids the hold: the amount is the player's to use again. */
  async #release(tx: Queryable, row: PaymentRow): Promise<void> {
    await this.#move(tx, [
      {
        type: 'void',
        id: `withdrawal:${row.id}:void`,
        pendingId: holdId(row.id),
        metadata: { withdrawalId: row.id },
      },
    ]);
  }

  async #sendPayoutSafely(id: string): Promise<void> {
    try {
      await this.sendPayout(id);
    } catch (error) {
      // The withdrawal stays approved and held; the sweep sends it again.
      this.#o.logger.error({ err: error, withdrawalId: id }, 'payout not sent');
    }
  }

  /**
   * Sends an approved withdrawal to a provider. Once a payout request may have reached one
   * provider, it stays with that provider (retried there under the same reference, which the
   * provider de-duplicates): another provider could pay it a second time. Only providers that
   * certainly never received it (open breaker) are passed over.
   */
  async sendPayout(id: string): Promise<void> {
    let row = await repo.paymentById(this.#o.db, id);
    if (!row || row.kind !== 'withdrawal' || row.status !== 'approved') return;
    const currency = this.#currency(row.currency);
    const player = await this.#o.pam.getPlayer(row.player_id);
    const pinned = row.psp === null ? undefined : this.#o.router.get(row.psp);
    const candidates: PspGateway[] = pinned
      ? [pinned]
      : row.psp === null
        ? this.#o.router.candidates({
            method: row.method,
            currency: row.currency,
            country: player?.country ?? '',
            amount: row.amount,
          })
        : [];
    for (const gateway of candidates) {
      if (!pinned) {
        if (!gateway.available()) continue;
        const pin = await this.#transaction(async (tx) => {
          const locked = await repo.paymentById(tx, id, { lock: true });
          if (!locked || locked.status !== 'approved' || locked.psp !== null) return undefined;
          const after: PaymentRow = { ...locked, psp: gateway.name, updated_at: this.#o.clock.now() };
          await repo.updatePayment(tx, after);
          return after;
        });
        if (!pin) return; // another node got there first
        row = pin;
      }
      const sent = await gateway.createPayout({
        reference: id,
        amount: formatAmount(row.amount, currency),
        currency: row.currency,
        holderName: row.holder_name ?? '',
        account: row.account ?? '',
        callbackUrl: this.#callbackUrl(gateway.name),
      });
      if (sent.ok) {
        await this.#transaction(async (tx) => {
          const locked = await repo.paymentById(tx, id, { lock: true });
          if (!locked || locked.status !== 'approved') return; // its webhook came first
          const after: PaymentRow = {
            ...locked,
            status: 'processing',
            psp_ref: sent.value.payoutId,
            psp_status: sent.value.status,
            updated_at: this.#o.clock.now(),
          };
          await this.#record(tx, after, 'processing');
        });
        this.#o.kickOutbox();
        return;
      }
      if (sent.failure === 'refused') {
        // The provider answered that it will not pay this (a 4xx): it did nothing, so the money
        // goes back to the player rather than being held for a payout that cannot happen.
        await this.#failWithdrawal(id, `provider_refused: ${sent.detail}`);
        return;
      }
      this.#o.logger.warn(
        { withdrawalId: id, psp: gateway.name, failure: sent.failure, detail: sent.detail },
        'payout not accepted yet; will retry',
      );
      return;
    }
  }

  async #failWithdrawal(id: string, reason: string): Promise<void> {
    await this.#transaction(async (tx) => {
      const row = await repo.paymentById(tx, id, { lock: true });
      if (!row || (row.status !== 'approved' && row.status !== 'processing')) return;
      const now = this.#o.clock.now();
      await this.#release(tx, row);
      const after: PaymentRow = {
        ...row,
        status: 'failed',
        failure_reason: reason,
        updated_at: now,
        finished_at: now,
      };
      await this.#record(tx, after, 'failed', { reason });
    });
    this.#o.kickOutbox();
  }

  // ---- the back office (PaymentsClient) ---------------------------------------------------------

  async listWithdrawals(filter: {
    status?: WithdrawalStatus | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<PaymentPage> {
    if (filter.cursor !== undefined && !isUuid(filter.cursor))
      throw new AppError('INVALID_REQUEST', 'bad cursor');
    const limit = Math.max(1, Math.min(100, filter.limit));
    const rows = await repo.withdrawalsPage(this.#o.db, {
      status: filter.status,
      beforeId: filter.cursor,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit).map(repo.toView);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }

  async approveWithdrawal(withdrawalId: string, action: PaymentsAction): Promise<PaymentView> {
    await this.#decide(withdrawalId, action, 'approved');
    await this.#sendPayoutSafely(withdrawalId);
    return this.#view(withdrawalId);
  }

  async rejectWithdrawal(withdrawalId: string, action: PaymentsAction): Promise<PaymentView> {
    await this.#decide(withdrawalId, action, 'rejected');
    return this.#view(withdrawalId);
  }

  async #view(id: string): Promise<PaymentView> {
    const row = await repo.paymentById(this.#o.db, id);
    if (!row) throw new AppError('NOT_FOUND', 'no such withdrawal');
    return repo.toView(row);
  }

  /** Finance's decision on a withdrawal in review, audited in the same transaction. */
  async #decide(id: string, action: PaymentsAction, next: 'approved' | 'rejected'): Promise<void> {
    if (!isUuid(id)) throw new AppError('NOT_FOUND', 'no such withdrawal');
    await this.#transaction(async (tx) => {
      const row = await repo.paymentById(tx, id, { lock: true });
      if (!row || row.kind !== 'withdrawal') throw new AppError('NOT_FOUND', 'no such withdrawal');
      if (row.status !== 'in_review') {
        throw new AppError('CONFLICT', `the withdrawal is ${row.status}, not in review`);
      }
      const now = this.#o.clock.now();
      const after: PaymentRow = {
        ...row,
        status: next,
        failure_reason: next === 'rejected' ? 'rejected_by_operator' : null,
        updated_at: now,
        finished_at: next === 'rejected' ? now : null,
      };
      if (next === 'rejected') await this.#release(tx, row);
      await repo.updatePayment(tx, after);
      await recordAudit(tx, paymentsSchema, {
        at: now,
        actor: action.actor,
        action: next === 'approved' ? 'withdrawal.approved' : 'withdrawal.rejected',
        target: `withdrawal:${id}`,
        before: {
          status: row.status,
          amount: this.#format(row.amount, row.currency),
          currency: row.currency,
        },
        after: { status: next, amount: this.#format(row.amount, row.currency), currency: row.currency },
        reason: action.reason,
      });
      await this.#emit(tx, [this.#event(after, next, { actor: action.actor })]);
    });
    this.#o.kickOutbox();
  }

  async listCases(page: { limit: number; cursor?: string | undefined }): Promise<CasePage> {
    if (page.cursor !== undefined && !isUuid(page.cursor))
      throw new AppError('INVALID_REQUEST', 'bad cursor');
    const limit = Math.max(1, Math.min(100, page.limit));
    const rows = await repo.casesPage(this.#o.db, { beforeId: page.cursor, limit: limit + 1 });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }

  async auditLog(page: { limit: number; beforeId?: string }): Promise<AuditEntry[]> {
    return auditPage(this.#o.db, paymentsSchema, page);
  }

  // ---- the player's own payments ----------------------------------------------------------------

  /** The player's payment; another player's is as absent as one that never existed. */
  async playerPayment(playerId: string, id: string): Promise<PaymentView> {
    const row = isUuid(id) ? await repo.paymentById(this.#o.db, id) : undefined;
    if (!row || row.player_id !== playerId) throw new AppError('NOT_FOUND', 'no such payment');
    return repo.toView(row);
  }

  // ---- webhooks -------------------------------------------------------------------------------

  /**
   * A provider's webhook: the signature is checked on the exact bytes with that provider's
   * secret before anything is parsed or read; then the event is applied once.
   */
  async webhook(
    psp: string,
    headers: { timestamp: string | undefined; signature: string | undefined },
    rawBody: Buffer,
  ): Promise<EventOutcome> {
    const gateway = this.#o.router.get(psp);
    const check = gateway
      ? verifySignedRequest({
          secret: gateway.config.webhookSecret,
          timestampHeader: headers.timestamp,
          signatureHeader: headers.signature,
          rawBody,
          nowMs: this.#o.clock.nowMs(),
        })
      : undefined;
    // An unknown provider answers exactly like a forged signature.
    if (!check?.ok) throw new AppError('INVALID_SIGNATURE', 'the webhook signature is not valid');
    let body: unknown;
    try {
      body = secureJson.parse(rawBody.toString('utf8'), undefined, {
        protoAction: 'error',
        constructorAction: 'error',
      });
    } catch {
      throw new AppError('INVALID_REQUEST', 'malformed JSON body');
    }
    return this.applyEvent(psp, parseEvent(body));
  }

  /**
   * Applies a provider event at most once (its id is recorded with the change), under the
   * payment's row lock, moving statuses only forward.
   */
  async applyEvent(psp: string, event: PspEvent): Promise<EventOutcome> {
    const paymentId = isUuid(event.reference) ? event.reference : null;
    const outcome = await this.#transaction(async (tx): Promise<EventOutcome> => {
      const row = paymentId ? await repo.paymentById(tx, paymentId, { lock: true }) : undefined;
      const now = this.#o.clock.now();
      const fresh = await repo.recordWebhookEvent(tx, {
        psp,
        eventId: event.eventId,
        paymentId: row?.id ?? null,
        type: event.type,
        status: event.status,
        outcome: 'ignored',
        receivedAt: now,
      });
      if (!fresh) return 'duplicate';
      const applied = await this.#transition(tx, psp, row, event, now);
      if (applied !== 'ignored') await repo.setWebhookOutcome(tx, psp, event.eventId, applied);
      return applied;
    });
    if (outcome === 'applied' || outcome === 'flagged') this.#o.kickOutbox();
    return outcome;
  }

  async #transition(
    tx: Queryable,
    psp: string,
    row: PaymentRow | undefined,
    event: PspEvent,
    now: Date,
  ): Promise<TransitionOutcome> {
    const expectedKind = event.type === 'payment' ? 'deposit' : 'withdrawal';
    if (!row || row.kind !== expectedKind || row.psp !== psp) {
      // Unknown, or a payment another provider handles (a failed-over deposit's abandoned twin).
      this.#o.logger.info({ psp, reference: event.reference, status: event.status }, 'webhook ignored');
      return 'ignored';
    }
    if (row.psp_ref !== null && row.psp_ref !== event.pspRef) {
      return this.#raiseCase(tx, psp, row, 'webhook_mismatch', { field: 'id', reported: event.pspRef }, now);
    }
    const currency = this.#o.currencies.get(event.currency);
    const amount = currency ? parseAmount(event.amount, currency) : undefined;
    if (event.currency !== row.currency || !amount?.ok || amount.minor !== row.amount) {
      return this.#raiseCase(
        tx,
        psp,
        row,
        'webhook_mismatch',
        { reportedAmount: event.amount, reportedCurrency: event.currency, status: event.status },
        now,
      );
    }
    const base: PaymentRow = { ...row, psp_ref: event.pspRef, psp_status: event.status, updated_at: now };
    return row.kind === 'deposit'
      ? this.#depositTransition(tx, row, base, event, now)
      : this.#withdrawalTransition(tx, row, base, event, now);
  }

  async #depositTransition(
    tx: Queryable,
    row: PaymentRow,
    base: PaymentRow,
    event: PspEvent,
    now: Date,
  ): Promise<TransitionOutcome> {
    const psp = row.psp ?? '';
    switch (event.status) {
      case 'processing':
        if (row.status !== 'pending') return 'ignored';
        await repo.updatePayment(tx, base);
        return 'applied';
      case 'completed': {
        if (row.status === 'completed') return 'ignored';
        if (row.status !== 'pending') {
          return this.#raiseCase(
            tx,
            psp,
            row,
            'status_conflict',
            { ours: row.status, reported: 'completed' },
            now,
          );
        }
        // The PSP owes us the money (its clearing account goes below zero until it settles).
        await this.#move(tx, [
          {
            type: 'transfer',
            id: `deposit:${row.id}`,
            debit: { system: 'psp_clearing', ref: psp },
            credit: { player: row.player_id, kind: 'cash' },
            amount: row.amount,
            currency: row.currency,
            code: 'deposit',
            metadata: { depositId: row.id, psp, pspRef: event.pspRef },
          },
        ]);
        const after: PaymentRow = { ...base, status: 'completed', finished_at: now };
        await this.#record(tx, after, 'completed');
        return 'applied';
      }
      case 'declined':
      case 'expired': {
        if (row.status === 'completed') {
          return this.#raiseCase(
            tx,
            psp,
            row,
            'status_conflict',
            { ours: row.status, reported: event.status },
            now,
          );
        }
        if (row.status !== 'pending') return 'ignored';
        const after: PaymentRow = {
          ...base,
          status: event.status,
          failure_reason: event.reason ?? event.status,
          finished_at: now,
        };
        await this.#record(tx, after, event.status, { reason: after.failure_reason });
        return 'applied';
      }
      default:
        return 'ignored';
    }
  }

  async #withdrawalTransition(
    tx: Queryable,
    row: PaymentRow,
    base: PaymentRow,
    event: PspEvent,
    now: Date,
  ): Promise<TransitionOutcome> {
    const psp = row.psp ?? '';
    const sent = row.status === 'approved' || row.status === 'processing';
    switch (event.status) {
      case 'processing': {
        if (row.status !== 'approved') return 'ignored';
        const after: PaymentRow = { ...base, status: 'processing' };
        await this.#record(tx, after, 'processing');
        return 'applied';
      }
      case 'paid': {
        if (row.status === 'paid') return 'ignored';
        if (!sent) {
          // Paid although we never sent it, or after it failed or was rejected: money is out
          // that the ledger says is not. A person must look.
          return this.#raiseCase(
            tx,
            psp,
            row,
            'status_conflict',
            { ours: row.status, reported: 'paid' },
            now,
          );
        }
        const clearing: AccountRef = { system: 'psp_clearing', ref: psp };
        const hold: AccountRef = { player: row.player_id, kind: 'withdrawal_hold' };
        await this.#move(tx, [
          {
            type: 'post',
            id: `withdrawal:${row.id}:post`,
            pendingId: holdId(row.id),
            linked: true,
            metadata: { withdrawalId: row.id },
          },
          {
            type: 'transfer',
            id: `withdrawal:${row.id}:payout`,
            debit: hold,
            credit: clearing,
            amount: row.amount,
            currency: row.currency,
            code: 'withdrawal',
            metadata: { withdrawalId: row.id, psp, pspRef: event.pspRef },
          },
        ]);
        const after: PaymentRow = { ...base, status: 'paid', finished_at: now };
        await this.#record(tx, after, 'paid');
        return 'applied';
      }
      case 'failed': {
        if (row.status === 'paid') {
          return this.#raiseCase(
            tx,
            psp,
            row,
            'status_conflict',
            { ours: row.status, reported: 'failed' },
            now,
          );
        }
        if (!sent) return 'ignored';
        await this.#release(tx, row);
        const after: PaymentRow = {
          ...base,
          status: 'failed',
          failure_reason: event.reason ?? 'failed',
          finished_at: now,
        };
        await this.#record(tx, after, 'failed', { reason: after.failure_reason });
        return 'applied';
      }
      default:
        return 'ignored';
    }
  }

  async #raiseCase(
    tx: Queryable,
    psp: string,
    row: PaymentRow,
    kind: string,
    detail: Record<string, unknown>,
    now: Date,
  ): Promise<TransitionOutcome> {
    await this.#insertCase(tx, psp, row, kind, detail, now);
    return 'flagged';
  }

  /** Raises a case once per (provider, reference, kind); true when this call raised it. */
  async #insertCase(
    tx: Queryable,
    psp: string,
    row: PaymentRow | undefined,
    kind: string,
    detail: Record<string, unknown>,
    now: Date,
    reference: string = row?.id ?? '',
  ): Promise<boolean> {
    const raised = await repo.insertCase(tx, {
      id: uuidv7(now.getTime()),
      psp,
      reference,
      kind,
      paymentId: row?.id ?? null,
      detail,
      createdAt: now,
    });
    if (raised) {
      this.#o.logger.warn({ psp, reference, kind, detail }, 'payments case raised');
      await this.#emit(tx, [
        { subject: 'payments.case.raised', payload: { psp, reference, kind, paymentId: row?.id ?? null } },
      ]);
    }
    return raised;
  }

  // ---- sweeps ---------------------------------------------------------------------------------

  /**
   * Finishes what a crash or a lost webhook left open. Every step is a guarded transition under
   * the row lock, so all nodes may sweep at once.
   */
  async sweep(): Promise<void> {
    const db = this.#o.db;
    const nowMs = this.#o.clock.nowMs();
    // A request whose risk decision never landed: a person decides (fail safe).
    for (const id of await repo.staleIds(
      db,
      'withdrawal',
      ['requested'],
      new Date(nowMs - UNDECIDED_REQUEST_MS),
      SWEEP_BATCH_MAX,
    )) {
      await this.#applyDecision(id, { outcome: 'review', reasons: ['risk_decision_missing'] });
    }
    // Approved, but no provider has accepted the payout yet.
    for (const id of await repo.staleIds(
      db,
      'withdrawal',
      ['approved'],
      new Date(nowMs - PAYOUT_RETRY_MS),
      SWEEP_BATCH_MAX,
    )) {
      await this.#sendPayoutSafely(id);
    }
    // A deposit no provider accepted (a crash between the record and the call) ends; one a provider
    // has and that went quiet is asked about, as is a payout that went quiet.
    for (const id of await repo.staleIds(
      db,
      'deposit',
      ['pending'],
      new Date(nowMs - UNROUTED_DEPOSIT_MS),
      SWEEP_BATCH_MAX,
    )) {
      const row = await repo.paymentById(db, id);
      if (!row) continue;
      if (row.psp === null) await this.#finish(id, ['pending'], 'expired', 'not_routed');
      else if (row.updated_at.getTime() < nowMs - SILENT_PAYMENT_MS) await this.#poll(row);
    }
    for (const id of await repo.staleIds(
      db,
      'withdrawal',
      ['processing'],
      new Date(nowMs - SILENT_PAYMENT_MS),
      SWEEP_BATCH_MAX,
    )) {
      const row = await repo.paymentById(db, id);
      if (row) await this.#poll(row);
    }
  }

  /** Asks the provider how a quiet payment stands, and applies the answer like a webhook. */
  async #poll(row: PaymentRow): Promise<void> {
    const gateway = row.psp === null ? undefined : this.#o.router.get(row.psp);
    if (!gateway || row.psp_ref === null) return;
    const state = await gateway.state(row.kind === 'deposit' ? 'payments' : 'payouts', row.psp_ref);
    if (!state.ok) return;
    const outcome = await this.applyEvent(gateway.name, {
      // The same state polled twice is one event.
      eventId: `poll:${state.value.id}:${state.value.status}`,
      type: row.kind === 'deposit' ? 'payment' : 'payout',
      pspRef: state.value.id,
      reference: state.value.reference,
      status: state.value.status,
      amount: state.value.amount,
      currency: state.value.currency,
      reason: state.value.reason,
    });
    // Still open there: ask again only after another quiet period.
    if (outcome !== 'applied') await repo.touch(this.#o.db, row.id, this.#o.clock.now());
  }

  /** Probes every provider's health through its breaker (a recovered one closes it). */
  async checkProviders(): Promise<void> {
    await Promise.all(this.#o.router.all().map((gateway) => gateway.health()));
  }

  // ---- reconciliation -------------------------------------------------------------------------

  /**
   * Compares a provider's settlement report for [from, to) with our completed deposits and paid
   * withdrawals there. Each match moves its amount between the provider's clearing account and
   * the bank (so clearing returns to zero for settled flows); each missing, unknown or
   * different item raises a case (once). Safe to run again over the same or overlapping windows.
   */
  async reconcile(psp: string, from: Date, to: Date): Promise<ReconcileReport> {
    const gateway = this.#o.router.get(psp);
    if (!gateway) throw new AppError('NOT_FOUND', `no payment provider ${psp}`);
    if (!(from.getTime() < to.getTime())) throw new AppError('INVALID_REQUEST', 'from must be before to');
    const report = await gateway.settlements(
      new Date(from.getTime() - SETTLEMENT_MARGIN_MS),
      new Date(to.getTime() + SETTLEMENT_MARGIN_MS),
    );
    if (!report.ok) {
      throw new AppError('PROVIDER_UNAVAILABLE', `settlement report of ${psp} unavailable: ${report.detail}`);
    }
    let settled = 0;
    let casesRaised = 0;
    const reported = new Set<string>();
    for (const item of report.value) {
      reported.add(item.reference);
      const result = await this.#reconcileItem(psp, item, from, to);
      if (result === 'settled') settled += 1;
      if (result === 'case') casesRaised += 1;
    }
    const ours = await repo.unsettledFinished(this.#o.db, psp, from, to);
    for (const row of ours) {
      if (reported.has(row.id)) continue;
      const detail = {
        amount: this.#format(row.amount, row.currency),
        currency: row.currency,
        status: row.status,
      };
      const raised = await this.#transaction((tx) =>
        this.#insertCase(tx, psp, row, 'missing_from_report', detail, this.#o.clock.now()),
      );
      if (raised) casesRaised += 1;
    }
    if (casesRaised > 0 || settled > 0) this.#o.kickOutbox();
    return { psp, from, to, reported: report.value.length, settled, casesRaised };
  }

  async #reconcileItem(
    psp: string,
    item: PspSettlementItem,
    from: Date,
    to: Date,
  ): Promise<'settled' | 'case' | 'skip'> {
    const settledAt = new Date(item.settledAt);
    const inWindow = settledAt.getTime() >= from.getTime() && settledAt.getTime() < to.getTime();
    const paymentId = isUuid(item.reference) ? item.reference : null;
    return this.#transaction(async (tx) => {
      const now = this.#o.clock.now();
      const row = paymentId ? await repo.paymentById(tx, paymentId, { lock: true }) : undefined;
      const kind = item.type === 'deposit' ? 'deposit' : 'withdrawal';
      const raise = async (caseKind: string, detail: Record<string, unknown>) => {
        const facts = {
          itemId: item.id,
          type: item.type,
          amount: item.amount,
          currency: item.currency,
          ...detail,
        };
        const raised = await this.#insertCase(tx, psp, row, caseKind, facts, now, item.reference);
        return raised ? ('case' as const) : ('skip' as const);
      };
      if (!row || row.kind !== kind || row.psp !== psp) {
        // Outside the window it belongs to the neighbouring run, which will raise it.
        return inWindow ? raise('unexpected_item', {}) : 'skip';
      }
      const success = row.kind === 'deposit' ? 'completed' : 'paid';
      if (row.status !== success) {
        // Not final here yet: the webhook is on its way, and a later run settles it.
        if (!isFinal(row.status)) return 'skip';
        return raise('status_mismatch', { ours: row.status });
      }
      const currency = this.#o.currencies.get(item.currency);
      const amount = currency ? parseAmount(item.amount, currency) : undefined;
      if (item.currency !== row.currency || !amount?.ok || amount.minor !== row.amount) {
        return raise('amount_mismatch', { ours: this.#format(row.amount, row.currency) });
      }
      const transferId = `settlement:${psp}:${item.id}`;
      const fresh = await repo.insertSettlement(tx, {
        psp,
        itemId: item.id,
        paymentId: row.id,
        type: item.type,
        amount: row.amount,
        currency: row.currency,
        settledAt: Number.isNaN(settledAt.getTime()) ? now : settledAt,
        transferId,
        reconciledAt: now,
      });
      if (!fresh) return 'skip';
      const clearing: AccountRef = { system: 'psp_clearing', ref: psp };
      const bank: AccountRef = { system: 'house', ref: 'bank' };
      // A deposit's money arrives at the bank from the provider; a payout's leaves the bank to it.
      await this.#move(tx, [
        {
          type: 'transfer',
          id: transferId,
          debit: row.kind === 'deposit' ? bank : clearing,
          credit: row.kind === 'deposit' ? clearing : bank,
          amount: row.amount,
          currency: row.currency,
          code: 'transfer',
          metadata: { psp, settlementItemId: item.id, paymentId: row.id },
        },
      ]);
      return 'settled';
    });
  }
}

/** A webhook body, checked field by field (after its signature was). */
export function parseEvent(body: unknown): PspEvent {
  const bad = (field: string): never => {
    throw new AppError('INVALID_REQUEST', `webhook: ${field} is missing or malformed`);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('body');
  const record = body as Record<string, unknown>;
  const field = (name: string, max = 128): string => {
    const value = record[name];
    if (typeof value !== 'string' || value.length === 0 || value.length > max || hasControlCharacter(value)) {
      return bad(name);
    }
    return value;
  };
  const type = record['type'];
  if (type !== 'payment' && type !== 'payout') return bad('type');
  const reason = record['reason'];
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 128)) return bad('reason');
  return {
    eventId: field('eventId'),
    type,
    pspRef: field('id'),
    reference: field('reference'),
    status: field('status', 32),
    amount: field('amount', 40),
    currency: field('currency', 16),
    ...(typeof reason === 'string' ? { reason } : {}),
  };
}
