// The wallet's contract with other contexts: account references, transfer requests, results and
// the client interface. Amounts are bigint minor units; the HTTP layer converts at the edge.
import type { Queryable, Read } from '../../platform/db/index.ts';

export const playerAccountKinds = ['cash', 'bonus', 'withdrawal_hold'] as const;
export type PlayerAccountKind = (typeof playerAccountKinds)[number];

export const systemAccountKinds = [
  'game_revenue',
  'psp_clearing',
  'bonus_cost',
  'adjustments',
  'house',
] as const;
export type SystemAccountKind = (typeof systemAccountKinds)[number];

/** A player's own account, or a system account (unguarded: it may go below zero). */
export type AccountRef =
  | { readonly player: string; readonly kind: PlayerAccountKind }
  | { readonly system: SystemAccountKind; readonly ref: string };

export const transferCodes = [
  'bet',
  'win',
  'rollback',
  'deposit',
  'withdrawal',
  'bonus',
  'bonus_conversion',
  'adjustment',
  'transfer',
] as const;
export type TransferCode = (typeof transferCodes)[number];

/** What a transfer is about: round, game, provider, payment, actor, reason… (strings, bounded). */
export type TransferMetadata = Readonly<Record<string, string>>;

export const metadataKeysMax = 16;
export const metadataValueLengthMax = 512;
export const transferIdLengthMax = 256;
export const pendingTimeoutSecondsMax = 90 * 24 * 3600;

interface RequestBase {
  /** Caller-chosen, unique forever: the idempotency key. */
  readonly id: string;
  /** Chains this request with the next one: the chain succeeds or fails as a unit. */
  readonly linked?: boolean;
  readonly metadata?: TransferMetadata;
}

/** Moves `amount` from `debit` to `credit` now, or reserves it when `pending` is given. */
export interface TransferRequest extends RequestBase {
  readonly type: 'transfer';
  readonly debit: AccountRef;
  readonly credit: AccountRef;
  readonly amount: bigint;
  readonly currency: string;
  readonly code: TransferCode;
  /** Two-phase: reserve now, post or void later; expires after timeoutSeconds (if given). */
  readonly pending?: { readonly timeoutSeconds?: number };
}

/** Posts a pending transfer: all of it, or `amount` of it with the rest released. */
export interface PostRequest extends RequestBase {
  readonly type: 'post';
  readonly pendingId: string;
  readonly amount?: bigint;
}

/** Releases a pending transfer. */
export interface VoidRequest extends RequestBase {
  readonly type: 'void';
  readonly pendingId: string;
}

/**
 * Moves a posted transfer's amount back, at most once. A reversal may take a guarded account
 * below zero (within its overdraft limit): a rolled-back win must succeed even when the player
 * has spent the money; the negative balance then blocks every ordinary debit until covered.
 */
export interface ReverseRequest extends RequestBase {
  readonly type: 'reverse';
  readonly transferId: string;
  readonly code?: TransferCode;
}

export type WalletRequest = TransferRequest | PostRequest | VoidRequest | ReverseRequest;

export type TransferKind = 'single' | 'pending' | 'post' | 'void' | 'expire' | 'reversal';

/** An account's counters, and what follows from them. */
export interface AccountBalance {
  readonly accountId: bigint;
  readonly key: string;
  readonly currency: string;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
  /** creditsPosted − debitsPosted. */
  readonly balance: bigint;
  /** balance − debitsPending: what ordinary debits may still take. */
  readonly available: bigint;
  /** Transfers that touched the account so far. */
  readonly version: bigint;
}

export interface TransferRecord {
  readonly id: string;
  readonly seq: bigint;
  readonly kind: TransferKind;
  readonly code: TransferCode;
  readonly debitAccountId: bigint;
  readonly creditAccountId: bigint;
  readonly amount: bigint;
  readonly currency: string;
  readonly pendingId: string | null;
  readonly reversesId: string | null;
  readonly timeoutAt: Date | null;
  readonly metadata: TransferMetadata;
  readonly createdAt: Date;
}

export const refusalCodes = [
  'ACCOUNT_NOT_FOUND',
  'INSUFFICIENT_FUNDS',
  'PLAYER_BLOCKED',
  'LIMIT_EXCEEDED',
  'OVERFLOW',
  'PENDING_NOT_FOUND',
  'PENDING_ALREADY_POSTED',
  'PENDING_ALREADY_VOIDED',
  'PENDING_EXPIRED',
  'POST_EXCEEDS_PENDING',
  'TRANSFER_NOT_FOUND',
  'NOT_REVERSIBLE',
  'ALREADY_REVERSED',
  'LINKED_FAILED',
] as const;
/** Refusals decided by the ledger's state; the id keeps its refusal forever. */
export type RefusalCode = (typeof refusalCodes)[number];

/** Refusals of the request itself; nothing is recorded and the id stays unused. */
export type InvalidCode = 'INVALID_REQUEST' | 'ID_CONFLICT';

export type TransferResult =
  | {
      readonly id: string;
      readonly ok: true;
      /** True when this id had already been executed: the original result, balances then. */
      readonly replayed: boolean;
      readonly transfer: TransferRecord;
      /** The debit and credit accounts right after this transfer. */
      readonly debit: AccountBalance;
      readonly credit: AccountBalance;
    }
  | {
      readonly id: string;
      readonly ok: false;
      readonly code: RefusalCode | InvalidCode;
      readonly replayed: boolean;
      readonly message: string;
    };

export type PlayerStatus = 'active' | 'timed_out' | 'self_excluded' | 'locked' | 'suspended' | 'closed';
export type LimitKind = 'loss' | 'wager';
export type LimitPeriod = 'day' | 'week' | 'month';

export interface PlayerPolicy {
  readonly status: PlayerStatus;
  readonly kycVerified: boolean;
  /**
   * The sender's version of this player: a push older than the one stored is ignored, so
   * concurrent or retried pushes cannot bring back a stale status. Unversioned pushes use 0.
   */
  readonly version?: bigint;
}

export interface LimitChange {
  readonly kind: LimitKind;
  readonly period: LimitPeriod;
  /** Minor units in the player's currency; null removes the limit. */
  readonly amount: bigint | null;
  /** When it takes effect: now when omitted (lowering), later for a raise or removal. */
  readonly effectiveAt?: Date;
}

export interface PlaySummary {
  /** Bets placed, less bets rolled back. */
  readonly staked: bigint;
  /** Wins paid, less wins rolled back. */
  readonly won: bigint;
  /** won − staked: the player's position from play. */
  readonly net: bigint;
}

export interface StatementEntry {
  readonly transferId: string;
  readonly kind: TransferKind;
  readonly code: TransferCode;
  /** Signed change to this account's posted balance (+ credit, − debit); 0 for reservations. */
  readonly amount: bigint;
  /** Signed change to what this account may spend (includes reservations). */
  readonly availableChange: bigint;
  readonly balanceAfter: bigint;
  readonly availableAfter: bigint;
  readonly version: bigint;
  readonly metadata: TransferMetadata;
  readonly createdAt: Date;
}

export interface StatementPage {
  readonly items: StatementEntry[];
  /** Pass back to get older entries; null at the start of history. */
  readonly nextCursor: string | null;
}

export interface AuditCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly checks: AuditCheck[];
}

/** The wallet as other contexts see it (in-process now, over NATS later). */
export interface WalletClient {
  /** Executes requests; linked ones as chains. One result per request, in order. */
  execute(requests: readonly WalletRequest[]): Promise<TransferResult[]>;
  /** Opens a player's cash, bonus and withdrawal-hold accounts in a currency (idempotent). */
  openPlayerAccounts(playerId: string, currency: string): Promise<void>;
  /** Current balances of a player's accounts in a currency (absent when not opened). */
  playerBalances(
    playerId: string,
    currency: string,
  ): Promise<Partial<Record<PlayerAccountKind, AccountBalance>>>;
  balance(ref: AccountRef, currency: string): Promise<AccountBalance | undefined>;
  /** The account's counters right after the last transfer at or before `at`. */
  balanceAt(ref: AccountRef, currency: string, at: Date): Promise<AccountBalance | undefined>;
  statement(
    ref: AccountRef,
    currency: string,
    page: { limit: number; cursor?: string },
  ): Promise<StatementPage>;
  /**
   * A player's game play in a currency since `since` (cash and bonus accounts): stakes, wins and
   * their net (wins − stakes, rollbacks included), e.g. for a reality check's net position.
   */
  playSince(playerId: string, currency: string, since: Date): Promise<PlaySummary>;
  setPolicy(playerId: string, policy: PlayerPolicy): Promise<void>;
  setLimits(playerId: string, changes: readonly LimitChange[]): Promise<void>;
  /** Releases pending transfers whose timeout has passed; returns how many. */
  expirePending(): Promise<number>;
  audit(): Promise<AuditReport>;
}

/** A player's play balances (available cash and bonus per currency) and policy, as of a read. */
export interface PlayerWalletView {
  policy: { status: PlayerStatus; kycVerified: boolean } | undefined;
  balances: Map<string, { cash: bigint; bonus: bigint }>;
}

/**
 * The wallet as a library on the caller's database: everything the client does, plus execution
 * inside the caller's own transaction. The games context uses it so that a provider call's
 * records (idempotency, rounds, tombstones) and its transfers commit together, or not at all.
 */
export interface WalletLedger extends WalletClient {
  executeInTransaction(tx: Queryable, requests: readonly WalletRequest[]): Promise<TransferResult[]>;
  playersInTransaction(tx: Queryable, playerIds: readonly string[]): Promise<Map<string, PlayerWalletView>>;
  /** The same as a read that can share a pipeline with the caller's other reads. */
  playersRead(playerIds: readonly string[]): Read<Map<string, PlayerWalletView>>;
}
