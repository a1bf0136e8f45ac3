// The seamless-wallet engine: every rule of contract §3 for bets, wins and rollbacks, decided and
// written in ONE database transaction together with the wallet transfers they cause — the
// permanent idempotency record (with the answer given), round state, tombstones and the money
// commit or roll back as a unit, so a crash or a retry can never leave money moved without its
// record, or a record without its money.
//
// Throughput comes from the wallet's own recipe: concurrent calls are gathered into one batch
// (one transaction, set-based SQL, one wallet execution for the whole batch). A batch never holds
// two calls about the same (provider, player) or the same transaction id, so every call in it is
// decided from the state at the batch's start plus its own effect; calls that clash wait for the
// next batch. Across processes, a transaction-scoped advisory lock per (provider, player) makes
// the same guarantee, and unique keys turn any remaining race (two nodes creating one round or
// one transaction id) into a retry of the whole batch, which then sees the winner's row.
import { createHash } from 'node:crypto';
import { assert, AssertionFailure } from '../../platform/assert.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db, Queryable, Write } from '../../platform/db/index.ts';
import { readAll, transactionRetryingConflicts, writeAll } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids/index.ts';
import { eventsStatement } from '../../platform/outbox/index.ts';
import type { NewEvent } from '../../platform/outbox/index.ts';
import type { Logger } from '../../platform/telemetry/logger.ts';
import { playerAccountKey } from '../wallet/index.ts';
import type { PlayerWalletView, TransferResult, WalletLedger, WalletRequest } from '../wallet/index.ts';
import type {
  BalanceOp,
  BusinessCode,
  MoneyOp,
  ProviderOutcome,
  RollbackOp,
  WinOp,
  BetOp,
} from './games.contract.ts';
import * as repo from './games.repository.ts';
import type { RoundRow, TombstoneRow, TransactionRow } from './games.repository.ts';

export const gamesSchema = 'games';

export interface EngineOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly wallet: WalletLedger;
  readonly logger: Logger;
  /** Calls per batch (one transaction). Default 500 (each may write two outbox events). */
  readonly batchSizeMax?: number;
  /** Batches committing at once. PGlite: 1; PostgreSQL: default 2. */
  readonly batchesInFlightMax?: number;
  /** Calls waiting before new ones are refused with 503. Default 20 000. */
  readonly queueDepthMax?: number;
  /** Wakes the outbox relay after a commit wrote events. */
  readonly kickOutbox?: () => void;
}

const BATCH_RETRIES_MAX = 4;

/** SHA-256 of a session token (what the sessions table keys on). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** The wallet transfer id of a provider transaction: fixed, so the wallet de-duplicates it too. */
export function walletTransferId(providerId: string, transactionId: string): string {
  return `g:${createHash('sha256').update(repo.pairKey(providerId, transactionId), 'utf8').digest('base64url')}`;
}

/** The request's identity: its kind and every field but the session token (a retry may refresh it). */
export function opHash(op: MoneyOp): string {
  const fields: Record<string, string> = {
    kind: op.kind,
    playerId: op.playerId,
    gameId: op.gameId,
    roundId: op.roundId,
    roundClosed: String(op.roundClosed),
  };
  if (op.kind === 'rollback') fields['referenceTransactionId'] = op.referenceTransactionId;
  else {
    fields['amount'] = op.amount === undefined ? '?' : op.amount.toString();
    fields['currency'] = op.currency;
    if (op.kind === 'win' && op.betTransactionId !== undefined)
      fields['betTransactionId'] = op.betTransactionId;
  }
  return createHash('sha256').update(JSON.stringify(fields), 'utf8').digest('base64url');
}

interface Job {
  readonly op: MoneyOp;
  readonly keys: readonly string[];
  resolve(outcome: ProviderOutcome): void;
  reject(error: unknown): void;
}

function conflictKeys(op: MoneyOp): string[] {
  const keys = [
    `p:${repo.pairKey(op.providerId, op.playerId)}`,
    `t:${repo.pairKey(op.providerId, op.transactionId)}`,
  ];
  if (op.kind === 'rollback') keys.push(`t:${repo.pairKey(op.providerId, op.referenceTransactionId)}`);
  if (op.kind === 'win' && op.betTransactionId !== undefined)
    keys.push(`t:${repo.pairKey(op.providerId, op.betTransactionId)}`);
  return keys;
}

/** The state a batch reads once, after its locks. */
interface BatchState {
  now: Date;
  transactions: Map<string, TransactionRow>;
  tombstones: Map<string, TombstoneRow>;
  roundsByKey: Map<string, RoundRow>;
  roundsById: Map<string, RoundRow>;
  catalogue: Map<string, repo.CatalogueEntry>;
  gamingEnabled: boolean;
  sessions: Map<string, repo.SessionRow>;
  players: Map<string, PlayerWalletView>;
}

/** What one call leads to, before the wallet has spoken. */
type Plan =
  | { type: 'replay'; outcome: ProviderOutcome }
  | { type: 'answer'; code: BusinessCode; message: string; record: boolean; round: RoundRow | undefined }
  | {
      type: 'apply';
      /** The wallet request, when money moves (not for a zero win or an empty rollback). */
      request: WalletRequest | undefined;
      round: RoundRow | undefined;
      newRound: boolean;
      /** The transaction a rollback cancels. */
      reference: TransactionRow | undefined;
      /** A rollback of an id never seen: leaves a tombstone. */
      tombstone: boolean;
      currency: string;
    };

export class ProviderWalletEngine {
  readonly #o: EngineOptions;
  readonly #batchSizeMax: number;
  readonly #batchesInFlightMax: number;
  readonly #queueDepthMax: number;
  readonly #queue: Job[] = [];
  #inFlight = 0;
  #pumpScheduled = false;

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#batchSizeMax = options.batchSizeMax ?? 500;
    this.#batchesInFlightMax = options.batchesInFlightMax ?? (options.db.kind === 'pglite' ? 1 : 2);
    this.#queueDepthMax = options.queueDepthMax ?? 20_000;
    assert(this.#batchSizeMax >= 1 && this.#batchSizeMax <= 500, 'batchSizeMax is 1..500');
  }

  /** A balance call: read-only, so it needs no batch. */
  async balance(op: BalanceOp): Promise<ProviderOutcome> {
    const now = this.#o.clock.now();
    const session = (await repo.sessionsByHash(this.#o.db, [tokenHash(op.sessionToken)]))
      .values()
      .next().value;
    const view = (await this.#o.wallet.playersInTransaction(this.#o.db, [op.playerId])).get(op.playerId);
    const known = playable(view, op.currency) ?? anyPlayable(view);
    const refuse = (code: BusinessCode, message: string): ProviderOutcome => ({
      ok: false,
      code,
      message,
      ...(known ? { balance: known.balance, currency: known.currency } : {}),
    });
    if (!session || session.player_id !== op.playerId || session.provider_id !== op.providerId) {
      return refuse('INVALID_SESSION', 'the session token is not known for this player and provider');
    }
    if (session.expires_at.getTime() <= now.getTime())
      return refuse('SESSION_EXPIRED', 'the session has expired');
    if (op.currency !== session.currency)
      return refuse('WRONG_CURRENCY', `the player plays in ${session.currency}`);
    const own = playable(view, op.currency);
    if (!own) return refuse('INVALID_SESSION', 'the player has no account in this currency');
    return { ok: true, balance: own.balance, currency: own.currency };
  }

  /** A bet, win or rollback: decided and applied in a batch. */
  submit(op: MoneyOp): Promise<ProviderOutcome> {
    if (this.#queue.length >= this.#queueDepthMax) {
      return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'the provider wallet is overloaded; retry'));
    }
    return new Promise<ProviderOutcome>((resolve, reject) => {
      this.#queue.push({ op, keys: conflictKeys(op), resolve, reject });
      this.#pump();
    });
  }

  /** Batches start on the next turn of the event loop: whatever arrived in this one shares it. */
  #pump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#startBatches();
    });
  }

  #startBatches(): void {
    while (this.#inFlight < this.#batchesInFlightMax && this.#queue.length > 0) {
      const taken: Job[] = [];
      const keys = new Set<string>();
      const waiting: Job[] = [];
      for (const job of this.#queue) {
        if (taken.length < this.#batchSizeMax && job.keys.every((key) => !keys.has(key))) {
          taken.push(job);
          for (const key of job.keys) keys.add(key);
        } else {
          waiting.push(job);
        }
      }
      this.#queue.splice(0, this.#queue.length, ...waiting);
      this.#inFlight++;
      void this.#runBatch(taken).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #runBatch(jobs: Job[]): Promise<void> {
    try {
      const outcomes = await this.#withRetries(jobs.map((job) => job.op));
      jobs.forEach((job, index) => job.resolve(outcomes[index]!));
    } catch (error) {
      if (error instanceof AssertionFailure) {
        for (const job of jobs) job.reject(error);
        this.#o.logger.fatal({ err: error }, 'provider wallet invariant broken; stopping the process');
        this.#o.logger.flush();
        setImmediate(() => {
          throw error;
        });
        return;
      }
      if (jobs.length === 1) {
        this.#o.logger.error({ err: error }, 'provider wallet call failed');
        jobs[0]!.reject(error);
        return;
      }
      // One bad call must not fail its neighbours: run each alone, so only its own caller sees it.
      this.#o.logger.warn(
        { err: error, calls: jobs.length },
        'provider wallet batch failed; running its calls alone',
      );
      await Promise.all(jobs.map((job) => this.#runBatch([job])));
    }
  }

  async #withRetries(ops: MoneyOp[]): Promise<ProviderOutcome[]> {
    const { outcomes, events } = await transactionRetryingConflicts(
      this.#o.db,
      BATCH_RETRIES_MAX,
      (tx) => this.#execute(tx, ops),
      (attempt) => this.#o.logger.debug({ attempt }, 'provider wallet batch raced another writer; retrying'),
    );
    if (events > 0) this.#o.kickOutbox?.();
    return outcomes;
  }

  async #execute(tx: Queryable, ops: MoneyOp[]): Promise<{ outcomes: ProviderOutcome[]; events: number }> {
    const now = this.#o.clock.now();
    const txPairs: [string, string][] = [];
    const roundKeys: [string, string, string, string][] = [];
    const references: [string, string][] = [];
    for (const op of ops) {
      txPairs.push([op.providerId, op.transactionId]);
      roundKeys.push([op.providerId, op.playerId, op.gameId, op.roundId]);
      if (op.kind === 'rollback') {
        txPairs.push([op.providerId, op.referenceTransactionId]);
        references.push([op.providerId, op.referenceTransactionId]);
      }
      if (op.kind === 'win' && op.betTransactionId !== undefined)
        txPairs.push([op.providerId, op.betTransactionId]);
    }
    const bets = ops.filter((op): op is BetOp => op.kind === 'bet');
    // One round trip: the players' locks first, then everything read under them (each statement
    // of the pipeline runs after the one before it has finished), so no other batch decides about
    // these players now. Rounds are locked by key and through the transactions rollbacks name.
    const [, transactions, tombstones, rounds, catalogue, gamingEnabled, sessions, players] = await readAll(
      tx,
      [
        repo.playersLockRead(ops.map((op) => repo.playerLockKey(op.providerId, op.playerId))),
        repo.transactionsRead(txPairs),
        repo.tombstonesRead(txPairs),
        repo.roundsLockRead(roundKeys, references),
        repo.catalogueRead(bets.map((op) => op.gameId)),
        bets.length > 0 ? repo.gamingEnabledRead() : { value: true },
        repo.sessionsRead(bets.map((op) => tokenHash(op.sessionToken))),
        this.#o.wallet.playersRead(ops.map((op) => op.playerId)),
      ] as const,
    );
    const state: BatchState = {
      now,
      transactions,
      tombstones,
      roundsByKey: new Map(
        rounds.map((round) => [
          repo.roundKey(round.provider_id, round.player_id, round.game_id, round.provider_round_id),
          round,
        ]),
      ),
      roundsById: new Map(rounds.map((round) => [round.round_id, round])),
      catalogue,
      gamingEnabled,
      sessions,
      players,
    };

    const plans = ops.map((op) => this.#plan(op, state));
    const walletRequests: WalletRequest[] = [];
    const walletIndex = new Map<number, number>();
    /** For each wallet request, the call it serves. */
    const walletOwner: MoneyOp[] = [];
    plans.forEach((plan, index) => {
      if (plan.type === 'apply' && plan.request) {
        walletIndex.set(index, walletRequests.length);
        walletRequests.push(plan.request);
        walletOwner.push(ops[index]!);
      }
    });
    const walletResults =
      walletRequests.length > 0 ? await this.#o.wallet.executeInTransaction(tx, walletRequests) : [];
    // Balances after: the batch holds one call per player, so a player's balances are those read
    // above, with the cash account as the wallet left it when a transfer of theirs went through
    // (no second read: every round trip here is time all callers of the batch wait).
    const after = new Map<string, PlayerWalletView>();
    for (const [playerId, view] of state.players) {
      after.set(playerId, {
        policy: view.policy,
        balances: new Map([...view.balances].map(([currency, entry]) => [currency, { ...entry }])),
      });
    }
    walletResults.forEach((result, at) => {
      if (!result.ok) return;
      const op = walletOwner[at]!;
      for (const side of [result.debit, result.credit]) {
        const entry = after.get(op.playerId)?.balances.get(side.currency);
        if (entry && side.key === playerAccountKey(op.playerId, 'cash', side.currency))
          entry.cash = side.available;
      }
    });

    const records: TransactionRow[] = [];
    const newRounds = new Map<string, RoundRow>();
    const changedRounds = new Map<string, RoundRow>();
    const tombstoneRows: TombstoneRow[] = [];
    const marks: { providerId: string; transactionId: string; rollbackId: string }[] = [];
    const events: NewEvent[] = [];
    const outcomes: ProviderOutcome[] = [];

    ops.forEach((op, index) => {
      const plan = plans[index]!;
      const view = after.get(op.playerId);
      const currency = op.kind === 'rollback' ? undefined : op.currency;
      const known = (currency ? playable(view, currency) : undefined) ?? anyPlayable(view);
      const record = (
        outcome: 'ok' | 'refused',
        code: string | null,
        extra: Partial<TransactionRow>,
      ): TransactionRow => {
        const row: TransactionRow = {
          provider_id: op.providerId,
          transaction_id: op.transactionId,
          kind: op.kind,
          request_hash: opHash(op),
          player_id: op.playerId,
          game_id: op.gameId,
          provider_round_id: op.roundId,
          round_id: null,
          platform_transaction_id: uuidv7(now.getTime()),
          amount: op.kind === 'rollback' ? 0n : (op.amount ?? 0n),
          currency: op.kind === 'rollback' ? null : op.currency,
          outcome,
          code,
          reference_transaction_id:
            op.kind === 'rollback'
              ? op.referenceTransactionId
              : op.kind === 'win'
                ? (op.betTransactionId ?? null)
                : null,
          wallet_transfer_id: null,
          rolled_back_by: null,
          balance: known?.balance ?? null,
          balance_currency: known?.currency ?? null,
          created_at: now,
          ...extra,
        };
        records.push(row);
        return row;
      };

      if (plan.type === 'replay') {
        outcomes.push(plan.outcome);
        return;
      }
      if (plan.type === 'answer') {
        if (plan.record) record('refused', plan.code, { round_id: plan.round?.round_id ?? null });
        outcomes.push(refusal(plan.code, plan.message, known));
        return;
      }
      let result: TransferResult | undefined;
      const at = walletIndex.get(index);
      if (at !== undefined) {
        result = walletResults[at];
        assert(result !== undefined, 'the wallet answers every request');
        if (!result.ok) {
          const code = walletRefusal(result.code);
          record('refused', code, { round_id: plan.round?.round_id ?? null });
          outcomes.push(refusal(code, result.message, known));
          return;
        }
      }
      // Applied: its record, its round, and what it cancels.
      const round = plan.round ? { ...(changedRounds.get(plan.round.round_id) ?? plan.round) } : undefined;
      const row = record('ok', null, {
        round_id: round?.round_id ?? null,
        wallet_transfer_id: result?.ok ? result.id : null,
        currency: plan.currency,
      });
      if (round) {
        round.last_activity_at = now;
        if (op.kind === 'bet') {
          round.total_bet += op.amount!;
          round.bets += 1n;
          round.live_bets += 1n;
        } else if (op.kind === 'win') {
          round.total_win += op.amount!;
        } else if (plan.reference && plan.reference.outcome === 'ok') {
          if (plan.reference.kind === 'bet') {
            round.total_bet -= plan.reference.amount;
            round.live_bets -= 1n;
          } else if (plan.reference.kind === 'win') {
            round.total_win -= plan.reference.amount;
          }
        }
        if (op.roundClosed && round.status === 'open') {
          round.status = 'closed';
          round.closed_at = now;
          round.closed_by = 'provider';
          events.push({
            subject: 'games.round.closed',
            payload: roundEvent(round),
          });
        }
        if (plan.newRound) newRounds.set(round.round_id, round);
        else changedRounds.set(round.round_id, round);
      }
      if (plan.reference) {
        marks.push({
          providerId: op.providerId,
          transactionId: plan.reference.transaction_id,
          rollbackId: op.transactionId,
        });
      }
      if (plan.tombstone && op.kind === 'rollback') {
        tombstoneRows.push({
          provider_id: op.providerId,
          transaction_id: op.referenceTransactionId,
          rollback_transaction_id: op.transactionId,
          player_id: op.playerId,
          created_at: now,
        });
      }
      events.push({
        subject: `games.${op.kind === 'bet' ? 'bet.placed' : op.kind === 'win' ? 'win.paid' : 'transaction.rolled_back'}`,
        payload: {
          providerId: op.providerId,
          playerId: op.playerId,
          gameId: op.gameId,
          roundId: round?.round_id ?? null,
          transactionId: op.transactionId,
          platformTransactionId: row.platform_transaction_id,
          amount: (op.kind === 'rollback' ? (plan.reference?.amount ?? 0n) : op.amount!).toString(),
          currency: plan.currency,
          ...(op.kind === 'rollback' ? { referenceTransactionId: op.referenceTransactionId } : {}),
        },
      });
      assert(row.balance !== null && row.balance_currency !== null, 'an applied call has a known player');
      outcomes.push({
        ok: true,
        balance: row.balance,
        currency: row.balance_currency,
        transactionId: op.transactionId,
        platformTransactionId: row.platform_transaction_id,
      });
    });

    // One round trip for every write of the batch.
    await writeAll(tx, [
      repo.insertRoundsWrite([...newRounds.values()]),
      repo.updateRoundsWrite([...changedRounds.values()]),
      repo.insertTransactionsWrite(records),
      repo.markRolledBackWrite(marks),
      repo.insertTombstonesWrite(tombstoneRows),
      eventsWrite(events),
    ]);
    return { outcomes, events: events.length };
  }

  /** Decides one call from the batch's state: the contract's checks, in the contract's order. */
  #plan(op: MoneyOp, state: BatchState): Plan {
    const existing = state.transactions.get(repo.pairKey(op.providerId, op.transactionId));
    if (existing) {
      if (existing.request_hash !== opHash(op)) {
        return {
          type: 'answer',
          code: 'DUPLICATE_TRANSACTION',
          message: 'this transactionId was used for another request',
          record: false,
          round: undefined,
        };
      }
      return { type: 'replay', outcome: storedOutcome(existing) };
    }
    switch (op.kind) {
      case 'bet':
        return this.#planBet(op, state);
      case 'win':
        return this.#planWin(op, state);
      case 'rollback':
        return this.#planRollback(op, state);
    }
  }

  #planBet(op: BetOp, state: BatchState): Plan {
    const answer = (code: BusinessCode, message: string, round?: RoundRow): Plan => ({
      type: 'answer',
      code,
      message,
      record: true,
      round,
    });
    if (state.tombstones.has(repo.pairKey(op.providerId, op.transactionId))) {
      return answer('TRANSACTION_ROLLED_BACK', 'this transaction was rolled back before it arrived');
    }
    const game = state.catalogue.get(op.gameId);
    if (!game || game.providerId !== op.providerId)
      return answer('UNKNOWN_GAME', 'no such game for this provider');
    if (!game.gameEnabled || !game.providerEnabled || !state.gamingEnabled) {
      return answer('GAME_DISABLED', 'the game is disabled');
    }
    const session = state.sessions.get(tokenHash(op.sessionToken));
    if (
      !session ||
      session.player_id !== op.playerId ||
      session.provider_id !== op.providerId ||
      session.game_id !== op.gameId
    ) {
      return answer('INVALID_SESSION', 'the session token is not bound to this player, provider and game');
    }
    if (session.expires_at.getTime() <= state.now.getTime())
      return answer('SESSION_EXPIRED', 'the session has expired');
    if (op.currency !== session.currency || op.amount === undefined) {
      return answer('WRONG_CURRENCY', `the player plays in ${session.currency}`);
    }
    const policy = state.players.get(op.playerId)?.policy;
    if (!policy || policy.status !== 'active' || !policy.kycVerified) {
      return answer('PLAYER_BLOCKED', 'the player may not play');
    }
    const existingRound = state.roundsByKey.get(
      repo.roundKey(op.providerId, op.playerId, op.gameId, op.roundId),
    );
    if (existingRound?.status === 'closed')
      return answer('ROUND_CLOSED', 'the round is closed', existingRound);
    const round: RoundRow = existingRound ?? {
      round_id: uuidv7(state.now.getTime()),
      provider_id: op.providerId,
      player_id: op.playerId,
      game_id: op.gameId,
      provider_round_id: op.roundId,
      currency: op.currency,
      status: 'open',
      total_bet: 0n,
      total_win: 0n,
      bets: 0n,
      live_bets: 0n,
      opened_at: state.now,
      last_activity_at: state.now,
      closed_at: null,
      closed_by: null,
    };
    return {
      type: 'apply',
      request: {
        type: 'transfer',
        id: walletTransferId(op.providerId, op.transactionId),
        debit: { player: op.playerId, kind: 'cash' },
        credit: { system: 'game_revenue', ref: op.providerId },
        amount: op.amount,
        currency: op.currency,
        code: 'bet',
        metadata: moneyMetadata(op, round.round_id),
      },
      round,
      newRound: !existingRound,
      reference: undefined,
      tombstone: false,
      currency: op.currency,
    };
  }

  #planWin(op: WinOp, state: BatchState): Plan {
    const answer = (code: BusinessCode, message: string, round?: RoundRow): Plan => ({
      type: 'answer',
      code,
      message,
      record: true,
      round,
    });
    if (state.tombstones.has(repo.pairKey(op.providerId, op.transactionId))) {
      return answer('TRANSACTION_ROLLED_BACK', 'this transaction was rolled back before it arrived');
    }
    const round = state.roundsByKey.get(repo.roundKey(op.providerId, op.playerId, op.gameId, op.roundId));
    if (!round || round.bets === 0n) {
      return answer('TRANSACTION_NOT_FOUND', 'no bet of this provider, player and game in this round');
    }
    if (op.currency !== round.currency || op.amount === undefined) {
      return answer('WRONG_CURRENCY', `the round is in ${round.currency}`, round);
    }
    if (op.betTransactionId !== undefined) {
      const bet = state.transactions.get(repo.pairKey(op.providerId, op.betTransactionId));
      if (!bet || bet.kind !== 'bet' || bet.outcome !== 'ok' || bet.round_id !== round.round_id) {
        return answer('TRANSACTION_NOT_FOUND', 'betTransactionId is not a bet of this round', round);
      }
      if (bet.rolled_back_by !== null)
        return answer('TRANSACTION_ROLLED_BACK', 'the bet was rolled back', round);
    } else if (round.live_bets === 0n) {
      return answer('TRANSACTION_ROLLED_BACK', "the round's bets were rolled back", round);
    }
    return {
      type: 'apply',
      request:
        op.amount > 0n
          ? {
              type: 'transfer',
              id: walletTransferId(op.providerId, op.transactionId),
              debit: { system: 'game_revenue', ref: op.providerId },
              credit: { player: op.playerId, kind: 'cash' },
              amount: op.amount,
              currency: op.currency,
              code: 'win',
              metadata: moneyMetadata(op, round.round_id),
            }
          : undefined,
      round,
      newRound: false,
      reference: undefined,
      tombstone: false,
      currency: op.currency,
    };
  }

  #planRollback(op: RollbackOp, state: BatchState): Plan {
    const answer = (code: BusinessCode, message: string, round?: RoundRow): Plan => ({
      type: 'answer',
      code,
      message,
      record: true,
      round,
    });
    const reference = state.transactions.get(repo.pairKey(op.providerId, op.referenceTransactionId));
    const view = state.players.get(op.playerId);
    // Rolled back before it arrived (its late arrival was refused and recorded): still rolled back.
    if (state.tombstones.has(repo.pairKey(op.providerId, op.referenceTransactionId))) {
      return answer('TRANSACTION_ROLLED_BACK', 'this transaction was already rolled back');
    }
    if (!reference) {
      const known = anyPlayable(view);
      if (!known) {
        return {
          type: 'answer',
          code: 'TRANSACTION_NOT_FOUND',
          message: 'unknown player',
          record: false,
          round: undefined,
        };
      }
      // Never seen: accepted and remembered, so the late original moves no money.
      const round = state.roundsByKey.get(repo.roundKey(op.providerId, op.playerId, op.gameId, op.roundId));
      return {
        type: 'apply',
        request: undefined,
        round,
        newRound: false,
        reference: undefined,
        tombstone: true,
        currency: round?.currency ?? known.currency,
      };
    }
    const round = reference.round_id ? state.roundsById.get(reference.round_id) : undefined;
    if (reference.player_id !== op.playerId || reference.kind === 'rollback') {
      return answer('TRANSACTION_NOT_FOUND', 'the referenced transaction is not a bet or win of this player');
    }
    if (reference.rolled_back_by !== null) {
      return answer('TRANSACTION_ROLLED_BACK', 'this transaction was already rolled back', round);
    }
    const currency = reference.currency ?? anyPlayable(view)?.currency;
    assert(currency !== undefined, 'a recorded bet or win names its currency');
    return {
      type: 'apply',
      request:
        reference.outcome === 'ok' && reference.wallet_transfer_id !== null
          ? {
              type: 'reverse',
              id: walletTransferId(op.providerId, op.transactionId),
              transferId: reference.wallet_transfer_id,
              code: 'rollback',
              metadata: moneyMetadata(op, round?.round_id ?? ''),
            }
          : undefined,
      round,
      newRound: false,
      reference,
      tombstone: false,
      currency,
    };
  }
}

function moneyMetadata(op: MoneyOp, roundId: string): Record<string, string> {
  return {
    providerId: op.providerId,
    gameId: op.gameId,
    roundId,
    providerRoundId: op.roundId,
    transactionId: op.transactionId,
  };
}

function playable(
  view: PlayerWalletView | undefined,
  currency: string,
): { balance: bigint; currency: string } | undefined {
  const balances = view?.balances.get(currency);
  return balances ? { balance: balances.cash + balances.bonus, currency } : undefined;
}

function anyPlayable(view: PlayerWalletView | undefined): { balance: bigint; currency: string } | undefined {
  const first = view?.balances.keys().next().value;
  return first === undefined ? undefined : playable(view, first);
}

function refusal(
  code: BusinessCode | 'INVALID_REQUEST',
  message: string,
  known: { balance: bigint; currency: string } | undefined,
): ProviderOutcome {
  return { ok: false, code, message, ...(known ? { balance: known.balance, currency: known.currency } : {}) };
}

function storedOutcome(row: TransactionRow): ProviderOutcome {
  if (row.outcome === 'refused') {
    return {
      ok: false,
      code: row.code as BusinessCode,
      message: 'answered earlier under this transactionId',
      ...(row.balance !== null && row.balance_currency !== null
        ? { balance: row.balance, currency: row.balance_currency }
        : {}),
    };
  }
  assert(row.balance !== null && row.balance_currency !== null, 'an applied call stored its balance');
  return {
    ok: true,
    balance: row.balance,
    currency: row.balance_currency,
    transactionId: row.transaction_id,
    platformTransactionId: row.platform_transaction_id,
  };
}

/** The wallet's refusals a provider call can meet, in the contract's words. */
function walletRefusal(code: string): BusinessCode | 'INVALID_REQUEST' {
  switch (code) {
    case 'INSUFFICIENT_FUNDS':
      return 'INSUFFICIENT_FUNDS';
    case 'LIMIT_EXCEEDED':
      return 'LIMIT_EXCEEDED';
    case 'PLAYER_BLOCKED':
      return 'PLAYER_BLOCKED';
    case 'ALREADY_REVERSED':
      return 'TRANSACTION_ROLLED_BACK';
    case 'ACCOUNT_NOT_FOUND':
      // The player has no account in this currency: nothing of theirs can move.
      return 'WRONG_CURRENCY';
    case 'OVERFLOW':
      // An amount no account could hold: the request, not the platform, is wrong.
      return 'INVALID_REQUEST';
    default:
      throw new AssertionFailure(`the wallet refused a provider call with ${code}`);
  }
}

function roundEvent(round: RoundRow): Record<string, string | null> {
  return {
    roundId: round.round_id,
    providerId: round.provider_id,
    providerRoundId: round.provider_round_id,
    playerId: round.player_id,
    gameId: round.game_id,
    currency: round.currency,
    totalBet: round.total_bet.toString(),
    totalWin: round.total_win.toString(),
    closedBy: round.closed_by,
  };
}

/** The batch's outbox events as one of its writes. */
function eventsWrite(events: readonly NewEvent[]): Write | undefined {
  const { statement } = eventsStatement(gamesSchema, events);
  return statement ? { statement } : undefined;
}
