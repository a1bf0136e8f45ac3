// The back office's use cases: operator sign-in and accounts, and the operator's view of and
// hand on players (through pam) and money (through the wallet). Every write leaves an audit row
// with the values before and after (GLI-19 §2.9.5, §B.3.2): pam writes the rows for the player
// changes it makes; this context writes its own for operators and adjustments.
// Boundary outcomes (not found, conflict, bad input) throw AppError with the contract's code.
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { Config } from '../../platform/config/index.ts';
import type { Db } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { isExternalId, isUuid, uuidv7 } from '../../platform/ids/index.ts';
import { formatAmount, parseAmount } from '../../platform/money/index.ts';
import type { Currency } from '../../platform/money/index.ts';
import { auditPage, mergeAuditPages, recordAudit } from '../../platform/audit/index.ts';
import type { Jwks, PasswordHasher, TokenIssuer } from '../../platform/auth/index.ts';
import type { Logger } from '../../platform/telemetry/logger.ts';
import type { PamClient, Player, PlayerLimit } from '../pam/index.ts';
import type { GamesClient } from '../games/index.ts';
import type { PaymentsClient } from '../payments/index.ts';
import type { AccountRef, AuditReport, TransferRequest, WalletClient } from '../wallet/index.ts';
import type {
  AdjustmentBody,
  AuditItemJson,
  BalancesJson,
  LimitJson,
  Operator,
  OperatorRole,
  PlayerDetailJson,
  PlayerJson,
  UserJson,
} from './backoffice.contract.ts';
import { BackofficeRepository } from './backoffice.repository.ts';
import type { UserRow } from './backoffice.repository.ts';

export const backofficeSchema = 'backoffice';
/** Created when no admin exists and none is configured (embedded database only). */
export const defaultAdminEmail = 'admin@croupier.local';
/** Token claims: every back-office token says which audience it is for, and the role at sign-in. */
export const adminTokenIssuer = 'croupier';
export const adminTokenAudience = 'croupier-admin';

/** The system account every manual adjustment moves money from or to. */
const ADJUSTMENTS_ACCOUNT: AccountRef = { system: 'adjustments', ref: 'manual' };
/** Random bytes of a generated admin password: 24 base64url characters. */
const GENERATED_PASSWORD_BYTES = 18;
/** How long a sweep waits between deletions of spent failed-login rows. */
export const loginFailuresSweepMs = 10 * 60_000;

export type LoginResult =
  | { readonly ok: true; readonly accessToken: string; readonly expiresInSeconds: number }
  | { readonly ok: false; readonly code: 'INVALID_CREDENTIALS' }
  | { readonly ok: false; readonly code: 'ACCOUNT_LOCKED'; readonly retryAfterSeconds: number };

export interface BackofficeServiceOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Config;
  readonly logger: Logger;
  readonly pam: PamClient;
  readonly wallet: WalletClient;
  readonly tokens: TokenIssuer;
  readonly hasher: PasswordHasher;
  /** The games context: its audit rows join the merged log. */
  readonly games: Pick<GamesClient, 'auditLog'>;
  /** The payments context: its audit rows (withdrawal decisions) join the merged log. */
  readonly payments?: Pick<PaymentsClient, 'auditLog'>;
  /** Where a generated admin password is shown, once. Never the logger: secrets stay out of logs. */
  readonly print?: (text: string) => void;
}

/** One spelling per address: how emails are compared (and keyed for the login lock). */
export function emailKeyOf(email: string): string {
  return email.trim().toLowerCase();
}

/** Who an audit row names for an operator's write. */
export function actorOf(operator: Pick<Operator, 'id'>): string {
  return `operator:${operator.id}`;
}

function iso(date: Date): string {
  return date.toISOString();
}

function lockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

const FIRST_ADMIN_LOCK = lockKey('croupier.backoffice.first_admin');

export function userJson(user: UserRow): UserJson {
  return {
    userId: user.id,
    email: user.email,
    role: user.role,
    disabled: user.disabled,
    createdAt: iso(user.createdAt),
    disabledAt: user.disabledAt ? iso(user.disabledAt) : null,
    passwordChangedAt: iso(user.passwordChangedAt),
    lastLoginAt: user.lastLoginAt ? iso(user.lastLoginAt) : null,
    lastLoginIp: user.lastLoginIp,
  };
}

export function playerJson(player: Player): PlayerJson {
  return {
    playerId: player.playerId,
    email: player.email,
    firstName: player.firstName,
    lastName: player.lastName,
    dateOfBirth: player.dateOfBirth,
    country: player.country,
    currency: player.currency,
    status: player.status,
    operatorStatus: player.operatorStatus,
    restrictedUntil: player.restrictedUntil ? iso(player.restrictedUntil) : null,
    kycStatus: player.kycStatus,
    realityCheckMinutes: player.realityCheckMinutes,
    marketingAllowed: player.marketingAllowed,
    createdAt: iso(player.createdAt),
  };
}

function limitJson(limit: PlayerLimit, currency: Currency): LimitJson {
  const money = (amount: bigint | null): string | null =>
    amount === null ? null : formatAmount(amount, currency);
  return {
    kind: limit.kind,
    period: limit.period,
    amount: money(limit.amount),
    ...(limit.pending
      ? { pendingAmount: money(limit.pending.amount), effectiveAt: iso(limit.pending.effectiveAt) }
      : {}),
  };
}

export class BackofficeService {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #pam: PamClient;
  readonly #wallet: WalletClient;
  readonly #tokens: TokenIssuer;
  readonly #hasher: PasswordHasher;
  readonly #games: Pick<GamesClient, 'auditLog'>;
  readonly #payments: Pick<PaymentsClient, 'auditLog'> | undefined;
  readonly #print: (text: string) => void;
  readonly #repository = new BackofficeRepository(backofficeSchema);

  constructor(options: BackofficeServiceOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#pam = options.pam;
    this.#wallet = options.wallet;
    this.#tokens = options.tokens;
    this.#hasher = options.hasher;
    this.#games = options.games;
    this.#payments = options.payments;
    this.#print = options.print ?? ((text) => void process.stdout.write(text));
  }

  // ---- the first admin ----------------------------------------------------------------------

  /**
   * Creates the first admin when no enabled admin exists (contract §1): from
   * CROUPIER_ADMIN_EMAIL/CROUPIER_ADMIN_PASSWORD; on the embedded database without a password,
   * with a random one printed once to stdout; on PostgreSQL without one, only a warning (a
   * production database gets no account whose password went to a terminal). Safe when several
   * processes start at once: the check and the insert run under one advisory lock.
   */
  async ensureFirstAdmin(): Promise<void> {
    if (await this.#repository.hasEnabledAdmin(this.#db)) return;
    const { adminEmail, adminPassword } = this.#config;
    let password: string;
    let generated = false;
    if (adminPassword !== undefined) {
      password = adminPassword;
    } else if (this.#db.kind === 'pglite') {
      password = randomBytes(GENERATED_PASSWORD_BYTES).toString('base64url');
      generated = true;
    } else {
      this.#logger.warn(
        'no back-office admin exists: set CROUPIER_ADMIN_EMAIL and CROUPIER_ADMIN_PASSWORD and restart to create one',
      );
      return;
    }
    const email = adminEmail ?? defaultAdminEmail;
    // Hashed before the lock is taken: argon2 is slow on purpose, the lock should not be.
    const passwordHash = await this.#hasher.hash(password);
    const at = this.#clock.now();
    const userId = uuidv7(at.getTime());
    const outcome = await this.#db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1::bigint)', [FIRST_ADMIN_LOCK]);
      if (await this.#repository.hasEnabledAdmin(tx)) return 'exists' as const;
      const inserted = await this.#repository.insertUser(tx, {
        id: userId,
        email,
        emailKey: emailKeyOf(email),
        passwordHash,
        role: 'admin',
        at,
      });
      if (!inserted) return 'taken' as const;
      await recordAudit(tx, backofficeSchema, {
        at,
        actor: 'system:start',
        action: 'operator.created',
        target: `operator:${userId}`,
        before: null,
        after: { userId, email, role: 'admin' },
        reason: 'first admin, created at start because no admin existed',
      });
      return 'created' as const;
    });
    if (outcome === 'taken') {
      this.#logger.warn(
        { email },
        'no enabled back-office admin exists, and the configured admin address belongs to an operator who is not one: it is left as it is',
      );
      return;
    }
    if (outcome !== 'created') return;
    this.#logger.info({ email, userId }, 'created the first back-office admin');
    if (generated) {
      this.#print(
        `\ncroupier: created the first back-office admin\n` +
          `  email:    ${email}\n` +
          `  password: ${password}\n` +
          `  (shown only this once; set CROUPIER_ADMIN_EMAIL and CROUPIER_ADMIN_PASSWORD to choose your own)\n\n`,
      );
    }
  }

  // ---- sign-in -------------------------------------------------------------------------------

  /**
   * One answer for every wrong credential (GLI-19 §2.5.3): an unknown address costs the same
   * argon2 work as a known one, and failures are counted per address whether or not an operator
   * has it, so neither the timing nor the lock tells which addresses exist. A locked address
   * answers ACCOUNT_LOCKED, without looking at the password, until the lock runs out.
   */
  async login(input: { email: string; password: string; ip: string | null }): Promise<LoginResult> {
    const emailKey = emailKeyOf(input.email);
    const now = this.#clock.now();
    const failures = await this.#repository.loginFailures(this.#db, emailKey);
    if (failures?.lockedUntil && failures.lockedUntil > now) {
      return {
        ok: false,
        code: 'ACCOUNT_LOCKED',
        retryAfterSeconds: Math.max(1, Math.ceil((failures.lockedUntil.getTime() - now.getTime()) / 1000)),
      };
    }
    const user = await this.#repository.userByEmailKey(this.#db, emailKey);
    const matches = user
      ? await this.#hasher.verify(user.passwordHash, input.password)
      : await this.#hasher.verifyNothing(input.password);
    if (!user || !matches || user.disabled) {
      const windowMs = this.#config.loginLockMinutes * 60_000;
      const counted = await this.#repository.recordLoginFailure(this.#db, emailKey, now, {
        failuresMax: this.#config.loginFailuresMax,
        windowStart: new Date(now.getTime() - windowMs),
        lockUntil: new Date(now.getTime() + windowMs),
      });
      // GLI-19 §2.8.8: failed logins are significant events, with the address they came from.
      const locked = counted.lockedUntil !== null && counted.lockedUntil > now;
      this.#logger.warn({ ip: input.ip, locked }, 'back-office login failed');
      return { ok: false, code: 'INVALID_CREDENTIALS' };
    }
    if (failures) await this.#repository.clearLoginFailures(this.#db, emailKey);
    await this.#repository.recordLogin(this.#db, user.id, now, input.ip);
    if (this.#hasher.needsRehash(user.passwordHash)) {
      // Hashing parameters were raised since this hash was made: upgrade it while we have the password.
      await this.#repository.replaceHash(this.#db, user.id, await this.#hasher.hash(input.password));
    }
    const signed = this.#tokens.sign(user.id, { role: user.role });
    this.#logger.info({ userId: user.id, role: user.role, ip: input.ip }, 'back-office login');
    return { ok: true, accessToken: signed.token, expiresInSeconds: signed.expiresInSeconds };
  }

  /**
   * The operator a bearer token stands for, read from the database now: a demotion or a
   * disabled account takes effect on the next request, not when the token runs out. A token
   * signed before the operator's last password change is refused (changing a password ends the
   * sessions that used the old one).
   */
  async authenticate(token: string | undefined): Promise<Operator | undefined> {
    if (token === undefined) return undefined;
    const verified = await this.#tokens.verify(token);
    if (!verified.ok) return undefined;
    const { sub, iat } = verified.claims;
    if (!isUuid(sub)) return undefined;
    const user = await this.#repository.userById(this.#db, sub);
    if (!user || user.disabled) return undefined;
    if (iat < Math.floor(user.passwordChangedAt.getTime() / 1000)) return undefined;
    return { id: user.id, email: user.email, role: user.role };
  }

  /** The public half of the keys admin tokens are signed with. */
  jwks(): Jwks {
    return this.#tokens.jwks();
  }

  /** Deletes failed-login rows whose window and lock have both run out. */
  async pruneLoginFailures(): Promise<number> {
    const now = this.#clock.now();
    return this.#repository.pruneLoginFailures(
      this.#db,
      now,
      new Date(now.getTime() - this.#config.loginLockMinutes * 60_000),
    );
  }

  // ---- operators -------------------------------------------------------------------------------

  async createUser(
    actor: Operator,
    input: { email: string; password: string; role: OperatorRole; reason?: string | undefined },
  ): Promise<UserJson> {
    const passwordHash = await this.#hasher.hash(input.password);
    const at = this.#clock.now();
    const userId = uuidv7(at.getTime());
    const email = input.email.trim();
    return this.#db.transaction(async (tx) => {
      const inserted = await this.#repository.insertUser(tx, {
        id: userId,
        email,
        emailKey: emailKeyOf(email),
        passwordHash,
        role: input.role,
        at,
      });
      // Operators are staff and only admins create them: saying the address is taken is fine.
      if (!inserted) throw new AppError('CONFLICT', 'an operator with this email already exists');
      await recordAudit(tx, backofficeSchema, {
        at,
        actor: actorOf(actor),
        action: 'operator.created',
        target: `operator:${userId}`,
        before: null,
        // Never the password or its hash.
        after: { userId, email, role: input.role, disabled: false },
        reason: input.reason ?? null,
      });
      const user = await this.#repository.userById(tx, userId);
      if (!user) throw new Error('operator vanished inside its own transaction');
      return userJson(user);
    });
  }

  async listUsers(page: { limit: number; cursor?: string | undefined }): Promise<{
    items: UserJson[];
    nextCursor: string | null;
  }> {
    if (page.cursor !== undefined && !isUuid(page.cursor)) {
      throw new AppError('INVALID_REQUEST', 'bad cursor');
    }
    const rows = await this.#repository.listUsers(this.#db, {
      limit: page.limit + 1,
      ...(page.cursor !== undefined ? { afterId: page.cursor } : {}),
    });
    const items = rows.slice(0, page.limit).map(userJson);
    return { items, nextCursor: rows.length > page.limit ? (items.at(-1)?.userId ?? null) : null };
  }

  /**
   * Changes an operator's role, disabled flag or password. The last enabled admin cannot be
   * demoted or disabled (nobody could undo it); the check holds a lock on every enabled admin so
   * two admins demoting each other at once cannot both succeed.
   */
  async updateUser(
    actor: Operator,
    userId: string,
    input: {
      role?: OperatorRole | undefined;
      disabled?: boolean | undefined;
      password?: string | undefined;
      reason: string;
    },
  ): Promise<UserJson> {
    if (input.role === undefined && input.disabled === undefined && input.password === undefined) {
      throw new AppError('INVALID_REQUEST', 'give at least one of role, disabled, password');
    }
    const passwordHash = input.password === undefined ? null : await this.#hasher.hash(input.password);
    const at = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const admins = await this.#repository.lockEnabledAdmins(tx);
      const user = await this.#repository.userById(tx, userId, { forUpdate: true });
      if (!user) throw new AppError('NOT_FOUND', 'no such operator');
      const role = input.role ?? user.role;
      const disabled = input.disabled ?? user.disabled;
      const wasEnabledAdmin = user.role === 'admin' && !user.disabled;
      const staysEnabledAdmin = role === 'admin' && !disabled;
      if (wasEnabledAdmin && !staysEnabledAdmin && admins.length <= 1) {
        throw new AppError('CONFLICT', 'the last enabled admin cannot be demoted or disabled');
      }
      await this.#repository.updateUser(tx, userId, { role, disabled, passwordHash, at });
      await recordAudit(tx, backofficeSchema, {
        at,
        actor: actorOf(actor),
        action: 'operator.updated',
        target: `operator:${userId}`,
        before: { role: user.role, disabled: user.disabled },
        after: { role, disabled, ...(passwordHash !== null ? { passwordChanged: true } : {}) },
        reason: input.reason,
      });
      const updated = await this.#repository.userById(tx, userId);
      if (!updated) throw new Error('operator vanished inside its own transaction');
      return userJson(updated);
    });
  }

  // ---- players -----------------------------------------------------------------------------------

  async listPlayers(page: {
    query?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: PlayerJson[]; nextCursor: string | null }> {
    const query = page.query?.trim();
    const result = await this.#pam.listPlayers({
      limit: page.limit,
      ...(query ? { query } : {}),
      ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
    });
    return { items: result.items.map(playerJson), nextCursor: result.nextCursor };
  }

  async playerDetail(playerId: string): Promise<PlayerDetailJson> {
    const player = await this.#player(playerId);
    const currency = this.#currencyOf(player);
    const [accounts, limits] = await Promise.all([
      this.#wallet.playerBalances(player.playerId, currency.code),
      this.#pam.limits(player.playerId),
    ]);
    const cash = accounts.cash;
    const balances: BalancesJson = {
      cash: formatAmount(cash?.balance ?? 0n, currency),
      bonus: formatAmount(accounts.bonus?.balance ?? 0n, currency),
      // Held by requested withdrawals (pending credits) and paid ones not yet passed on.
      pendingWithdrawal: formatAmount(
        (accounts.withdrawal_hold?.balance ?? 0n) + (accounts.withdrawal_hold?.creditsPending ?? 0n),
        currency,
      ),
      withdrawable: formatAmount(cash && cash.available > 0n ? cash.available : 0n, currency),
    };
    return {
      ...playerJson(player),
      balances,
      limits: limits.map((limit) => limitJson(limit, currency)),
    };
  }

  /** pam records the audit row (before, after, actor, reason) in the transaction of the change. */
  async setKycStatus(
    actor: Operator,
    playerId: string,
    input: { status: Player['kycStatus']; reason: string },
  ): Promise<PlayerJson> {
    this.#checkPlayerId(playerId);
    const result = await this.#pam.setKycStatus(playerId, input.status, {
      actor: actorOf(actor),
      reason: input.reason,
    });
    if (!result.ok) throw new AppError(result.code, result.message);
    return playerJson(result.player);
  }

  async setOperatorStatus(
    actor: Operator,
    playerId: string,
    input: { status: Player['operatorStatus']; reason: string },
  ): Promise<PlayerJson> {
    this.#checkPlayerId(playerId);
    const result = await this.#pam.setOperatorStatus(playerId, input.status, {
      actor: actorOf(actor),
      reason: input.reason,
    });
    if (!result.ok) throw new AppError(result.code, result.message);
    return playerJson(result.player);
  }

  /**
   * A manual balance adjustment (GLI-19 §A.3.6: only authorised, auditable adjustments): one
   * ledger transfer between the player's cash and the `adjustments` system account, code
   * `adjustment`. The wallet's player policy (status, KYC, limits) guards bets only, so an
   * adjustment also reaches a blocked or self-excluded player, as a correction must.
   *
   * The record: the ledger transfer itself carries actor and reason in its metadata, and is
   * written atomically with the money. The audit row here is written after the wallet answered,
   * with the cash balance before and after taken from the transfer's own result (exact even
   * under concurrent play). A crash between the two leaves the ledger as the record; the audit
   * table is append-only, so no "pending" row is written first to be completed later.
   * A refused adjustment (insufficient funds, a reused key) moves no money and writes no row.
   *
   * With an idempotency key the transfer id is derived from (operator, key): the same key with
   * the same body returns the same transferId without moving money again (and without a second
   * audit row); the same key with another body is a 409 CONFLICT. A key keeps its first outcome,
   * refusals included: after an INSUFFICIENT_FUNDS, retry with a new key.
   */
  async adjust(
    actor: Operator,
    playerId: string,
    input: AdjustmentBody,
    idempotencyKey: string | undefined,
  ): Promise<{ transferId: string; replayed: boolean }> {
    if (idempotencyKey !== undefined && !isExternalId(idempotencyKey)) {
      throw new AppError(
        'INVALID_REQUEST',
        'idempotency-key must be 1–128 characters without control characters',
      );
    }
    const player = await this.#player(playerId);
    if (input.currency !== player.currency) {
      throw new AppError(
        'INVALID_REQUEST',
        `the player's currency is ${player.currency}, not ${input.currency}`,
      );
    }
    const currency = this.#currencyOf(player);
    const amount = parseAmount(input.amount, currency);
    if (!amount.ok) throw new AppError('INVALID_REQUEST', amount.message);
    const transferId =
      idempotencyKey === undefined
        ? `adjustment:${uuidv7(this.#clock.nowMs())}`
        : `adjustment:${actor.id}:${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex')}`;
    const cash: AccountRef = { player: player.playerId, kind: 'cash' };
    const credit = input.direction === 'credit';
    const request: TransferRequest = {
      type: 'transfer',
      id: transferId,
      debit: credit ? ADJUSTMENTS_ACCOUNT : cash,
      credit: credit ? cash : ADJUSTMENTS_ACCOUNT,
      amount: amount.minor,
      currency: currency.code,
      code: 'adjustment',
      // Nothing time-dependent here: a replay must be the same request, byte for byte.
      metadata: { actor: actorOf(actor), actorEmail: actor.email, reason: input.reason },
    };
    // Idempotent; a player registered before the wallet knew them still gets an account.
    await this.#wallet.openPlayerAccounts(player.playerId, currency.code);
    const [result] = await this.#wallet.execute([request]);
    if (!result) throw new Error('the wallet gave no result for a request');
    if (!result.ok) {
      switch (result.code) {
        case 'INSUFFICIENT_FUNDS':
          throw new AppError('INSUFFICIENT_FUNDS', 'the player has not enough cash for this debit');
        case 'ID_CONFLICT':
          throw new AppError('CONFLICT', 'this idempotency-key was used for another request');
        case 'INVALID_REQUEST':
          throw new AppError('INVALID_REQUEST', result.message);
        case 'OVERFLOW':
          throw new AppError('CONFLICT', 'the amount would overflow an account');
        default:
          // ACCOUNT_NOT_FOUND after opening, PLAYER_BLOCKED on a non-bet code…: a broken assumption.
          throw new Error(`wallet refused an adjustment: ${result.code} ${result.message}`);
      }
    }
    if (!result.replayed) {
      const after = credit ? result.credit : result.debit;
      const before = credit ? after.balance - amount.minor : after.balance + amount.minor;
      await recordAudit(this.#db, backofficeSchema, {
        at: this.#clock.now(),
        actor: actorOf(actor),
        action: 'player.adjustment',
        target: `player:${player.playerId}`,
        before: { cash: formatAmount(before, currency), currency: currency.code },
        after: {
          cash: formatAmount(after.balance, currency),
          currency: currency.code,
          direction: input.direction,
          amount: formatAmount(amount.minor, currency),
          transferId: result.id,
        },
        reason: input.reason,
      });
    }
    return { transferId: result.id, replayed: result.replayed };
  }

  // ---- audit and ledger ----------------------------------------------------------------------------

  /** Every context's audit rows with this one's, newest first; the cursor is the last id seen. */
  async auditLog(page: { limit: number; cursor?: string | undefined }): Promise<{
    items: AuditItemJson[];
    nextCursor: string | null;
  }> {
    if (page.cursor !== undefined && !isUuid(page.cursor))
      throw new AppError('INVALID_REQUEST', 'bad cursor');
    const read = { limit: page.limit, ...(page.cursor !== undefined ? { beforeId: page.cursor } : {}) };
    const [own, pam, games, payments] = await Promise.all([
      auditPage(this.#db, backofficeSchema, read),
      this.#pam.auditLog(read),
      this.#games.auditLog(read),
      this.#payments?.auditLog(read) ?? [],
    ]);
    const merged = mergeAuditPages([own, pam, games, payments], page.limit);
    return {
      items: merged.items.map((entry) => ({
        id: entry.id,
        at: iso(entry.at),
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        before: entry.before ?? null,
        after: entry.after ?? null,
        reason: entry.reason,
      })),
      nextCursor: merged.nextCursor,
    };
  }

  async ledgerCheck(): Promise<AuditReport> {
    return this.#wallet.audit();
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /** Player ids are UUIDs: anything else names no player (and is never sent on to pam). */
  #checkPlayerId(playerId: string): void {
    if (!isUuid(playerId.toLowerCase())) throw new AppError('NOT_FOUND', 'no such player');
  }

  async #player(playerId: string): Promise<Player> {
    this.#checkPlayerId(playerId);
    const player = await this.#pam.getPlayer(playerId);
    if (!player) throw new AppError('NOT_FOUND', 'no such player');
    return player;
  }

  #currencyOf(player: Player): Currency {
    const currency = this.#config.currencies.get(player.currency);
    // pam only registers players in configured currencies; one missing now was removed from config.
    if (!currency) throw new AppError('CONFLICT', `currency ${player.currency} is no longer configured`);
    return currency;
  }
}
