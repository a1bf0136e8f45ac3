// pam's use cases: registration, login and sessions, KYC, responsible-gambling limits and
// restrictions, and the operator writes the back office makes. What the wallet's debit path must
// enforce (status, KYC, loss and wager limits) is pushed to the wallet before a call returns, so
// every later bet obeys it; a version number per player lets a sweeper finish any push that a
// crash or a wallet outage interrupted.
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import type { Config } from '../../platform/config/index.ts';
import type { Db, Queryable } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { hasControlCharacter, isUuid, uuidv7 } from '../../platform/ids/index.ts';
import { writeEvents } from '../../platform/outbox/index.ts';
import type { PasswordHasher, TokenIssuer } from '../../platform/auth/index.ts';
import { verifySignedRequest } from '../../platform/auth/index.ts';
import { auditPage, recordAudit } from '../../platform/audit/index.ts';
import { RateLimiter, rateLimitedError, scaledRule } from '../../platform/http/rate-limit.ts';
import type { RateRule } from '../../platform/http/rate-limit.ts';
import type { Logger } from '../../platform/telemetry/logger.ts';
import type { LimitChange, PlaySummary, WalletClient } from '../wallet/index.ts';
import type {
  AuditEntry,
  KycStatus,
  OperatorAction,
  OperatorStatus,
  OperatorWriteResult,
  PamClient,
  Player,
  PlayerLimit,
  PlayerPage,
  RgLimitKind,
  RgLimitPeriod,
} from './pam.contract.ts';
import * as repo from './pam.repository.ts';
import type { LimitRow, PlayerRow, SessionRow, SessionSignals } from './pam.repository.ts';
import type { KycProvider } from './pam.kyc.ts';

export const SCHEMA = 'pam';
export const playerAudience = 'croupier-player';
export const tokenIssuerName = 'croupier';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A raised or removed limit waits this long (UK RTS 12D, AGCO 2.24, GLI-19 §A.3.7). */
export const LIMIT_COOLING_OFF_MS = DAY_MS;
/** last_seen_at is written at most this often per session: activity, not a write per request. */
const SESSION_TOUCH_MS = 60_000;
const SWEEP_BATCH = 100;
const KYC_ATTEMPTS_MAX = 20;
const KYC_BACKOFF_MAX_MS = 10 * 60_000;

export const timeOutDurations = {
  '24h': DAY_MS,
  '7d': 7 * DAY_MS,
  '30d': 30 * DAY_MS,
  '42d': 42 * DAY_MS,
} as const;
export type TimeOutDuration = keyof typeof timeOutDurations;
export const selfExclusionMonths = { '6m': 6, '1y': 12, '5y': 60 } as const;
export type SelfExclusionDuration = keyof typeof selfExclusionMonths;

// Per-IP rules scale with CROUPIER_RATE_LIMIT_SCALE; per-account rules never do (contract §1).
const ipRules = {
  register: { name: 'register-ip', limit: 20, windowMs: HOUR_MS },
  login: { name: 'login-ip', limit: 30, windowMs: 60_000 },
  refresh: { name: 'refresh-ip', limit: 60, windowMs: 60_000 },
} as const satisfies Record<string, RateRule>;
const accountRules = {
  register: { name: 'register-account', limit: 5, windowMs: HOUR_MS },
  login: { name: 'login-account', limit: 30, windowMs: 15 * 60_000 },
  refresh: { name: 'refresh-account', limit: 30, windowMs: 60_000 },
} as const satisfies Record<string, RateRule>;

export interface Registration {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  country: string;
  currency: string;
  deviceId?: string;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresInSeconds: number;
}

export interface Principal {
  playerId: string;
  sessionId: string;
  sessionStartedAt: Date;
}

export interface SessionInfo {
  sessionId: string;
  startedAt: Date;
  elapsedSeconds: number;
  realityCheckMinutes: number | null;
  nextRealityCheckAt: Date | null;
  play: PlaySummary;
  currency: string;
}

export interface PamServiceOptions {
  db: Db;
  clock: Clock;
  config: Config;
  logger: Logger;
  wallet: WalletClient;
  tokens: TokenIssuer;
  passwords: PasswordHasher;
  kyc: { provider: KycProvider; webhookSecret: string } | undefined;
  publicUrl: () => string | undefined;
  kickOutbox: () => void;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;

function invalid(message: string): AppError {
  return new AppError('INVALID_REQUEST', message);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCMonth(result.getUTCMonth() + months);
  // 31 August + 6 months is 3 March in JavaScript; an exclusion ends on the last day instead.
  if (result.getUTCDate() < day) result.setUTCDate(0);
  return result;
}

/** Full years between a YYYY-MM-DD birth date and `now` (UTC). */
export function ageOn(dateOfBirth: string, now: Date): number {
  const [y, m, d] = dateOfBirth.split('-').map(Number) as [number, number, number];
  let age = now.getUTCFullYear() - y;
  const month = now.getUTCMonth() + 1;
  if (month < m || (month === m && now.getUTCDate() < d)) age -= 1;
  return age;
}

function validDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

function checkName(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 100 || hasControlCharacter(trimmed)) {
    throw invalid(`${field} must be 1 to 100 characters without control characters`);
  }
  return trimmed;
}

/** The limit as in force at `now`: a pending change whose time has come has replaced it. */
export function limitAt(row: LimitRow, now: Date): PlayerLimit {
  if (row.pending_set && row.effective_at && row.effective_at <= now) {
    return { kind: row.kind, period: row.period, amount: row.pending_amount };
  }
  if (row.pending_set && row.effective_at) {
    return {
      kind: row.kind,
      period: row.period,
      amount: row.amount,
      pending: { amount: row.pending_amount, effectiveAt: row.effective_at },
    };
  }
  return { kind: row.kind, period: row.period, amount: row.amount };
}

export class PamService implements PamClient {
  readonly #o: PamServiceOptions;
  readonly #limiter: RateLimiter;
  /** One wallet push per player at a time in this process (versions order them across processes). */
  readonly #syncing = new Map<string, Promise<void>>();
  /** The KYC queue pass under way, if any: kicks while one runs do not start a second. */
  #kycRunning: Promise<void> | undefined;

  constructor(options: PamServiceOptions) {
    this.#o = options;
    this.#limiter = new RateLimiter({ clock: options.clock });
  }

  #now(): Date {
    return this.#o.clock.now();
  }

  #limit(rule: RateRule, key: string, perIp: boolean): void {
    const effective = perIp ? scaledRule(rule, this.#o.config.rateLimitScale) : rule;
    const hit = this.#limiter.hit(effective, key);
    if (!hit.allowed) throw rateLimitedError(hit.retryAfterSeconds);
  }

  #toPlayer(row: PlayerRow, now: Date): Player {
    const status = repo.effectiveStatus(row, now);
    const restricted = row.restriction && row.restricted_until && row.restricted_until > now;
    return {
      playerId: row.id,
      email: row.email,
      firstName: row.first_name,
      lastName: row.last_name,
      dateOfBirth: row.date_of_birth,
      country: row.country,
      currency: row.currency,
      status,
      operatorStatus: row.operator_status,
      restrictedUntil: restricted ? row.restricted_until : null,
      kycStatus: row.kyc_status,
      realityCheckMinutes: row.reality_check_minutes,
      marketingAllowed: status !== 'self_excluded' && status !== 'closed',
      createdAt: row.created_at,
    };
  }

  async #event(q: Queryable, type: string, payload: Record<string, unknown>): Promise<void> {
    await writeEvents(q, SCHEMA, [{ subject: `pam.${type}`, payload }]);
  }

  // ---- registration -----------------------------------------------------------------------------

  async register(
    input: Registration,
    signals: SessionSignals,
  ): Promise<{ playerId: string; status: 'active' }> {
    const { config } = this.#o;
    const email = input.email.trim();
    const emailKey = normalizeEmail(email);
    this.#limit(ipRules.register, signals.ip ?? '-', true);
    if (email.length > 254 || !EMAIL_RE.test(email)) throw invalid('email is not a valid address');
    this.#limit(accountRules.register, emailKey, false);
    if (input.password.length < 10) throw invalid('password must be at least 10 characters');
    if (input.password.length > 256) throw invalid('password must be at most 256 characters');
    const firstName = checkName('firstName', input.firstName);
    const lastName = checkName('lastName', input.lastName);
    if (!validDate(input.dateOfBirth)) throw invalid('dateOfBirth must be a date YYYY-MM-DD');
    const minimumAge = config.countries.get(input.country);
    if (minimumAge === undefined) throw invalid(`country '${input.country}' is not supported`);
    if (!config.currencies.get(input.currency))
      throw invalid(`currency '${input.currency}' is not supported`);
    const now = this.#now();
    const age = ageOn(input.dateOfBirth, now);
    if (age < minimumAge)
      throw invalid(`players in ${input.country} must be at least ${minimumAge} years old`);
    if (age > 120) throw invalid('dateOfBirth is not plausible');
    if (
      input.deviceId !== undefined &&
      (input.deviceId.length > 128 || hasControlCharacter(input.deviceId))
    ) {
      throw invalid('deviceId must be at most 128 characters without control characters');
    }

    // Hashing first, whatever follows: a taken address must cost as much time as a free one.
    const passwordHash = await this.#o.passwords.hash(input.password);
    const identityKey = `${firstName.toLowerCase()}|${lastName.toLowerCase()}|${input.dateOfBirth}`;
    const playerId = uuidv7(now.getTime());
    // A taken address answers exactly like a new one (contract §2: no enumeration), creating
    // nothing; the owner of the address would be told by email in a full deployment.
    const taken = { playerId, status: 'active' as const };
    if (await repo.playerByEmailKey(this.#o.db, emailKey)) return taken;
    if (await repo.identityExcluded(this.#o.db, identityKey, now)) {
      throw new AppError('PLAYER_BLOCKED', 'registration is not possible while a self-exclusion is in force');
    }

    // The wallet first: accounts and a fail-closed policy (KYC not verified) exist before the
    // player does, so a crash in between leaves only empty accounts, never a player without them.
    await this.#o.wallet.openPlayerAccounts(playerId, input.currency);
    await this.#o.wallet.setPolicy(playerId, { status: 'active', kycVerified: false, version: 1n });

    const kycId = uuidv7(now.getTime());
    const inserted = await this.#o.db.transaction(async (tx) => {
      const ok = await repo.insertPlayer(tx, {
        id: playerId,
        email,
        emailKey,
        passwordHash,
        firstName,
        lastName,
        dateOfBirth: input.dateOfBirth,
        identityKey,
        country: input.country,
        currency: input.currency,
        now,
        walletSyncedVersion: 1n,
      });
      if (!ok) return false;
      await repo.insertSignal(tx, { id: uuidv7(), playerId, kind: 'registration', at: now, ...signals });
      await repo.insertKyc(tx, kycId, playerId, now);
      await this.#event(tx, 'player.registered', {
        playerId,
        country: input.country,
        currency: input.currency,
        ip: signals.ip,
        deviceId: signals.deviceId,
        at: now.toISOString(),
      });
      return true;
    });
    if (!inserted) return taken; // lost a race for the same address
    this.#o.kickOutbox();
    this.kickKyc();
    return { playerId, status: 'active' };
  }

  // ---- login, sessions ----------------------------------------------------------------------

  async login(
    input: { email: string; password: string; deviceId?: string },
    signals: SessionSignals,
  ): Promise<Tokens> {
    const { config, db } = this.#o;
    const emailKey = normalizeEmail(input.email);
    this.#limit(ipRules.login, signals.ip ?? '-', true);
    this.#limit(accountRules.login, emailKey, false);
    const now = this.#now();
    const locked = await repo.lockedUntil(db, emailKey);
    if (locked && locked > now) {
      throw new AppError('ACCOUNT_LOCKED', 'too many failed logins: the account is locked for a while');
    }
    const row = emailKey.length <= 254 ? await repo.playerByEmailKey(db, emailKey) : undefined;
    const valid = row
      ? await this.#o.passwords.verify(row.password_hash, input.password)
      : await this.#o.passwords.verifyNothing(input.password);
    if (!row || !valid) {
      await repo.recordLoginFailure(
        db,
        emailKey,
        now,
        config.loginLockMinutes * 60_000,
        config.loginFailuresMax,
      );
      throw new AppError('INVALID_CREDENTIALS', 'email or password is wrong');
    }
    await repo.clearLoginFailures(db, emailKey);
    if (repo.effectiveStatus(row, now) === 'closed') {
      throw new AppError('PLAYER_BLOCKED', 'the account is closed');
    }
    const refreshToken = randomBytes(32).toString('base64url');
    const sessionId = uuidv7(now.getTime());
    await db.transaction(async (tx) => {
      await repo.insertSession(tx, {
        id: sessionId,
        playerId: row.id,
        refreshHash: sha256(refreshToken),
        now,
        expiresAt: new Date(now.getTime() + config.sessionLifetimeDays * DAY_MS),
        ...signals,
      });
      await repo.insertSignal(tx, { id: uuidv7(), playerId: row.id, kind: 'login', at: now, ...signals });
      await this.#event(tx, 'player.logged_in', {
        playerId: row.id,
        sessionId,
        ip: signals.ip,
        deviceId: signals.deviceId,
        at: now.toISOString(),
      });
    });
    this.#o.kickOutbox();
    return this.#tokens(row.id, sessionId, refreshToken);
  }

  #tokens(playerId: string, sessionId: string, refreshToken: string): Tokens {
    const signed = this.#o.tokens.sign(playerId, { sid: sessionId });
    return { accessToken: signed.token, refreshToken, expiresInSeconds: signed.expiresInSeconds };
  }

  #sessionProblem(session: SessionRow, now: Date): string | undefined {
    if (session.revoked_at) return 'revoked';
    if (session.expires_at <= now) return 'expired';
    if (now.getTime() - session.last_seen_at.getTime() > this.#o.config.sessionIdleMinutes * 60_000)
      return 'idle';
    return undefined;
  }

  async refresh(refreshToken: string, signals: SessionSignals): Promise<Tokens> {
    this.#limit(ipRules.refresh, signals.ip ?? '-', true);
    if (refreshToken.length === 0 || refreshToken.length > 256) {
      throw new AppError('UNAUTHORIZED', 'the refresh token is not valid');
    }
    const hash = sha256(refreshToken);
    this.#limit(accountRules.refresh, hash, false);
    const now = this.#now();
    const next = randomBytes(32).toString('base64url');
    // Decided inside the transaction, thrown after it: a revocation must commit, not roll back.
    const outcome = await this.#o.db.transaction(async (tx) => {
      const session = await repo.sessionByRefreshHash(tx, hash);
      if (!session) {
        const reused = await repo.sessionOfUsedToken(tx, hash);
        // A replaced token presented again: it leaked, or its successor did. End the family.
        if (reused) await repo.revokeSession(tx, reused, 'refresh_token_reuse', now);
        return { ok: false as const };
      }
      const problem = this.#sessionProblem(session, now);
      const player = await repo.playerById(tx, session.player_id);
      if (problem || !player || repo.effectiveStatus(player, now) === 'closed') {
        await repo.revokeSession(tx, session.id, problem ?? 'closed', now);
        return { ok: false as const };
      }
      await repo.rotateRefresh(tx, session.id, hash, sha256(next), now);
      return { ok: true as const, playerId: session.player_id, sessionId: session.id };
    });
    if (!outcome.ok) throw new AppError('UNAUTHORIZED', 'the refresh token is not valid');
    return this.#tokens(outcome.playerId, outcome.sessionId, next);
  }

  /** Verifies an access token and its session (revoked, idle or expired sessions are refused). */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = authorization ? /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(authorization) : null;
    if (!match) throw new AppError('UNAUTHORIZED', 'a bearer access token is required');
    const verified = await this.#o.tokens.verify(match[1] as string);
    if (!verified.ok) throw new AppError('UNAUTHORIZED', 'the access token is not valid');
    const sessionId = verified.claims['sid'];
    if (typeof sessionId !== 'string') throw new AppError('UNAUTHORIZED', 'the access token is not valid');
    const now = this.#now();
    const session = await repo.sessionById(this.#o.db, sessionId);
    if (!session || session.player_id !== verified.claims.sub) {
      throw new AppError('UNAUTHORIZED', 'the session has ended');
    }
    const problem = this.#sessionProblem(session, now);
    if (problem) {
      if (problem === 'idle') await repo.revokeSession(this.#o.db, session.id, 'idle', now);
      throw new AppError(
        'UNAUTHORIZED',
        problem === 'idle' ? 'the session timed out: log in again' : 'the session has ended',
      );
    }
    if (now.getTime() - session.last_seen_at.getTime() >= SESSION_TOUCH_MS) {
      await repo.touchSession(this.#o.db, session.id, now);
    }
    return { playerId: session.player_id, sessionId: session.id, sessionStartedAt: session.created_at };
  }

  async logout(principal: Principal): Promise<void> {
    await repo.revokeSession(this.#o.db, principal.sessionId, 'logout', this.#now());
  }

  async sessions(playerId: string): Promise<SessionRow[]> {
    return repo.playerSessions(this.#o.db, playerId, 50);
  }

  /** Ends one of the player's own sessions; false when it is not theirs (the caller answers 404). */
  async endSession(playerId: string, sessionId: string): Promise<boolean> {
    if (!isUuid(sessionId.toLowerCase())) return false;
    const session = await repo.sessionById(this.#o.db, sessionId);
    if (!session || session.player_id !== playerId) return false;
    await repo.revokeSession(this.#o.db, sessionId, 'ended_by_player', this.#now());
    return true;
  }

  async sessionInfo(principal: Principal): Promise<SessionInfo> {
    const row = await this.#mustPlayer(principal.playerId);
    const now = this.#now();
    const play = await this.#o.wallet.playSince(row.id, row.currency, principal.sessionStartedAt);
    const elapsedMs = Math.max(0, now.getTime() - principal.sessionStartedAt.getTime());
    let nextRealityCheckAt: Date | null = null;
    if (row.reality_check_minutes) {
      const intervalMs = row.reality_check_minutes * 60_000;
      nextRealityCheckAt = new Date(
        principal.sessionStartedAt.getTime() + (Math.floor(elapsedMs / intervalMs) + 1) * intervalMs,
      );
    }
    return {
      sessionId: principal.sessionId,
      startedAt: principal.sessionStartedAt,
      elapsedSeconds: Math.floor(elapsedMs / 1000),
      realityCheckMinutes: row.reality_check_minutes,
      nextRealityCheckAt,
      play,
      currency: row.currency,
    };
  }

  async #mustPlayer(playerId: string): Promise<PlayerRow> {
    const row = await repo.playerById(this.#o.db, playerId);
    if (!row) throw new AppError('NOT_FOUND', 'no such player');
    return row;
  }

  async me(playerId: string): Promise<Player> {
    return this.#toPlayer(await this.#mustPlayer(playerId), this.#now());
  }

  // ---- responsible gambling -----------------------------------------------------------------

  async limits(playerId: string): Promise<PlayerLimit[]> {
    const now = this.#now();
    return (await repo.limitsOf(this.#o.db, playerId)).map((row) => limitAt(row, now));
  }

  async setLimit(
    playerId: string,
    kind: RgLimitKind,
    period: RgLimitPeriod,
    amount: bigint | null,
  ): Promise<PlayerLimit> {
    const now = this.#now();
    const result = await this.#o.db.transaction(async (tx) => {
      const player = await repo.playerById(tx, playerId, true);
      if (!player) throw new AppError('NOT_FOUND', 'no such player');
      const existing = (await repo.limitsOf(tx, playerId)).find(
        (l) => l.kind === kind && l.period === period,
      );
      const current = existing ? limitAt(existing, now).amount : null;
      let row: LimitRow;
      if (amount !== null && (current === null || amount <= current)) {
        // Tighter (or a first limit): in force at once, and it cancels any raise still waiting.
        row = { kind, period, amount, pending_set: false, pending_amount: null, effective_at: null };
      } else if (amount === null && current === null) {
        row = { kind, period, amount: null, pending_set: false, pending_amount: null, effective_at: null };
      } else {
        // Looser: only after the cooling-off period, counted from this request.
        row = {
          kind,
          period,
          amount: current,
          pending_set: true,
          pending_amount: amount,
          effective_at: new Date(now.getTime() + LIMIT_COOLING_OFF_MS),
        };
      }
      await repo.upsertLimit(tx, playerId, row, now);
      const version = kind === 'deposit' ? undefined : await repo.bumpVersion(tx, playerId, now);
      await this.#event(tx, 'limit.changed', {
        playerId,
        kind,
        period,
        amount: row.amount?.toString() ?? null,
        pendingAmount: row.pending_set ? (row.pending_amount?.toString() ?? null) : undefined,
        effectiveAt: row.effective_at?.toISOString(),
        at: now.toISOString(),
      });
      return { row, version };
    });
    this.#o.kickOutbox();
    if (result.version !== undefined) await this.syncWallet(playerId);
    return limitAt(result.row, now);
  }

  async timeOut(playerId: string, duration: TimeOutDuration): Promise<Player> {
    const now = this.#now();
    return this.#restrict(playerId, 'timed_out', new Date(now.getTime() + timeOutDurations[duration]), now);
  }

  async selfExclude(playerId: string, duration: SelfExclusionDuration): Promise<Player> {
    const now = this.#now();
    return this.#restrict(playerId, 'self_excluded', addMonths(now, selfExclusionMonths[duration]), now);
  }

  async #restrict(
    playerId: string,
    restriction: 'timed_out' | 'self_excluded',
    until: Date,
    now: Date,
  ): Promise<Player> {
    const row = await this.#o.db.transaction(async (tx) => {
      const player = await repo.playerById(tx, playerId, true);
      if (!player) throw new AppError('NOT_FOUND', 'no such player');
      const running = player.restriction && player.restricted_until && player.restricted_until > now;
      // A restriction is never shortened or softened: a time-out cannot end a self-exclusion early,
      // and a second request keeps whichever end is later.
      if (running && player.restriction === 'self_excluded' && restriction === 'timed_out') {
        throw new AppError('CONFLICT', 'a self-exclusion is already in force');
      }
      const end =
        running && player.restriction === restriction && player.restricted_until! > until
          ? player.restricted_until!
          : until;
      await repo.setRestriction(tx, playerId, restriction, end, now);
      if (restriction === 'self_excluded') {
        // Self-exclusion ends every session at once (the player may log in again to withdraw).
        await repo.revokePlayerSessions(tx, playerId, 'self_exclusion', now);
      }
      const before = repo.effectiveStatus(player, now);
      await this.#event(tx, 'player.status_changed', {
        playerId,
        before,
        after: restriction,
        until: end.toISOString(),
        marketingAllowed: restriction !== 'self_excluded',
        at: now.toISOString(),
      });
      return (await repo.playerById(tx, playerId))!;
    });
    this.#o.kickOutbox();
    await this.syncWallet(playerId);
    return this.#toPlayer(row, now);
  }

  async setRealityCheck(playerId: string, minutes: number | null): Promise<Player> {
    const now = this.#now();
    await repo.setRealityCheck(this.#o.db, playerId, minutes, now);
    return this.me(playerId);
  }

  // ---- the wallet's copy of the player's policy -----------------------------------------------

  /**
   * Pushes status, KYC and loss/wager limits to the wallet and records the version it now has.
   * Calls for one player run one after another in this process; across processes the wallet
   * ignores a policy older than the one it has.
   */
  async syncWallet(playerId: string): Promise<void> {
    const previous = this.#syncing.get(playerId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#push(playerId));
    this.#syncing.set(playerId, run);
    try {
      await run;
    } finally {
      if (this.#syncing.get(playerId) === run) this.#syncing.delete(playerId);
    }
  }

  async #push(playerId: string): Promise<void> {
    const { db, wallet } = this.#o;
    const row = await repo.playerById(db, playerId);
    if (!row) return;
    const now = this.#now();
    // No openPlayerAccounts here: registration opens the accounts before the player row exists.
    await wallet.setPolicy(row.id, {
      status: repo.effectiveStatus(row, now),
      kycVerified: row.kyc_status === 'verified',
      version: row.version,
    });
    const changes: LimitChange[] = [];
    for (const limit of (await repo.limitsOf(db, playerId)).map((l) => limitAt(l, now))) {
      if (limit.kind === 'deposit') continue;
      changes.push({ kind: limit.kind, period: limit.period, amount: limit.amount, effectiveAt: now });
      if (limit.pending) {
        changes.push({
          kind: limit.kind,
          period: limit.period,
          amount: limit.pending.amount,
          effectiveAt: limit.pending.effectiveAt,
        });
      }
    }
    await wallet.setLimits(row.id, changes);
    await repo.markWalletSynced(db, row.id, row.version);
  }

  /**
   * Background work, run every second: ends restrictions whose time has come, finishes wallet
   * pushes that did not complete, and submits queued KYC checks.
   */
  async sweep(): Promise<void> {
    const now = this.#now();
    const ended = await this.#o.db.transaction(async (tx) => {
      const rows = await repo.endRestrictions(tx, now, SWEEP_BATCH);
      for (const row of rows) {
        await this.#event(tx, 'player.status_changed', {
          playerId: row.id,
          before: 'restricted',
          after: repo.effectiveStatus(row, now),
          at: now.toISOString(),
        });
      }
      return rows;
    });
    if (ended.length > 0) this.#o.kickOutbox();
    for (const id of await repo.unsyncedPlayers(this.#o.db, SWEEP_BATCH)) {
      try {
        await this.syncWallet(id);
      } catch (error) {
        this.#o.logger.warn({ err: error, playerId: id }, 'wallet policy push failed; retrying later');
      }
    }
    await this.runKycQueue();
  }

  // ---- KYC ----------------------------------------------------------------------------------

  /** Starts a pass over the KYC queue unless one is running. */
  kickKyc(): void {
    if (this.#kycRunning) return;
    this.#kycRunning = this.runKycQueue()
      .catch((error: unknown) => this.#o.logger.warn({ err: error }, 'KYC queue pass failed'))
      .finally(() => {
        this.#kycRunning = undefined;
      });
  }

  async runKycQueue(): Promise<void> {
    const kyc = this.#o.kyc;
    const base = this.#o.publicUrl();
    if (!kyc || !base) return; // no provider, or no address to be called back on yet
    const { db } = this.#o;
    for (const item of await repo.dueKyc(db, this.#now(), 20)) {
      const player = await repo.playerById(db, item.player_id);
      if (!player) continue;
      const now = this.#now();
      try {
        const accepted = await kyc.provider.submit({
          reference: item.id,
          firstName: player.first_name,
          lastName: player.last_name,
          dateOfBirth: player.date_of_birth,
          country: player.country,
          callbackUrl: new URL('/webhooks/kyc', base).toString(),
        });
        await db.transaction(async (tx) => {
          if (!(await repo.kycSubmitted(tx, item.id, accepted.verificationId, now))) return;
          const locked = await repo.playerById(tx, player.id, true);
          if (locked && (locked.kyc_status === 'unverified' || locked.kyc_status === 'rejected')) {
            await repo.setKycStatus(tx, player.id, 'pending', item.id, now);
            await this.#kycEvent(tx, player.id, locked.kyc_status, 'pending', 'submitted', now);
          }
        });
        this.#o.kickOutbox();
      } catch (error) {
        const delayMs = Math.min(KYC_BACKOFF_MAX_MS, 1000 * 2 ** Math.min(item.attempts, 10));
        const giveUp = item.attempts + 1 >= KYC_ATTEMPTS_MAX;
        await repo.kycRetryLater(db, item.id, new Date(now.getTime() + delayMs), now, giveUp);
        this.#o.logger.warn({ err: error, verificationId: item.id, giveUp }, 'KYC submission failed');
      }
    }
  }

  async #kycEvent(
    q: Queryable,
    playerId: string,
    before: KycStatus,
    after: KycStatus,
    reason: string,
    now: Date,
  ) {
    await this.#event(q, 'player.kyc_changed', { playerId, before, after, reason, at: now.toISOString() });
  }

  /** The provider's signed callback. Answers whether it was accepted (signature) — duplicates are fine. */
  async kycWebhook(
    headers: { timestamp: string | undefined; signature: string | undefined },
    rawBody: Buffer,
    body: { verificationId: string; reference: string; status: string; reason?: string },
  ): Promise<void> {
    const kyc = this.#o.kyc;
    if (!kyc) throw new AppError('INVALID_SIGNATURE', 'no KYC provider is configured');
    const check = verifySignedRequest({
      secret: kyc.webhookSecret,
      timestampHeader: headers.timestamp,
      signatureHeader: headers.signature,
      rawBody,
      nowMs: this.#o.clock.nowMs(),
    });
    if (!check.ok) throw new AppError('INVALID_SIGNATURE', 'the webhook signature is not valid');
    if (body.status !== 'verified' && body.status !== 'rejected') return; // still pending: nothing to do
    const outcome: 'verified' | 'rejected' = body.status;
    const now = this.#now();
    const changed = await this.#o.db.transaction(async (tx) => {
      const item = isUuid(body.reference) ? await repo.kycById(tx, body.reference, true) : undefined;
      // Unknown, stale (another provider id) or already resolved: acknowledged, ignored. A fast
      // provider may call back before our record of its acceptance commits: still queued then.
      if (!item || (item.state !== 'submitted' && item.state !== 'queued')) return undefined;
      if (item.provider_ref !== null && item.provider_ref !== body.verificationId) return undefined;
      await repo.kycResolved(tx, item.id, outcome, body.verificationId, body.reason ?? null, now);
      const player = await repo.playerById(tx, item.player_id, true);
      // An operator's decision in the meantime (verified or rejected by hand) stands.
      if (!player || (player.kyc_status !== 'pending' && player.kyc_status !== 'unverified'))
        return undefined;
      if (player.kyc_verification_id !== null && player.kyc_verification_id !== item.id) return undefined;
      await repo.setKycStatus(tx, player.id, outcome, item.id, now);
      await this.#kycEvent(tx, player.id, player.kyc_status, outcome, body.reason ?? 'provider', now);
      await recordAudit(tx, SCHEMA, {
        at: now,
        actor: `kyc:${kyc.provider.name}`,
        action: 'player.kyc',
        target: `player:${player.id}`,
        before: { kycStatus: player.kyc_status },
        after: { kycStatus: outcome },
        reason: body.reason ?? null,
      });
      return player.id;
    });
    if (changed) {
      this.#o.kickOutbox();
      await this.syncWallet(changed);
    }
  }

  // ---- operator writes (PamClient) ----------------------------------------------------------

  async getPlayer(playerId: string): Promise<Player | undefined> {
    if (!isUuid(playerId.toLowerCase())) return undefined;
    const row = await repo.playerById(this.#o.db, playerId);
    return row ? this.#toPlayer(row, this.#now()) : undefined;
  }

  async listPlayers(page: { query?: string; limit: number; cursor?: string }): Promise<PlayerPage> {
    if (page.cursor !== undefined && !isUuid(page.cursor.toLowerCase())) throw invalid('bad cursor');
    const limit = Math.max(1, Math.min(100, page.limit));
    const rows = await repo.listPlayers(this.#o.db, {
      limit: limit + 1,
      ...(page.query ? { query: page.query } : {}),
      ...(page.cursor ? { beforeId: page.cursor } : {}),
    });
    const now = this.#now();
    const items = rows.slice(0, limit).map((row) => this.#toPlayer(row, now));
    return { items, nextCursor: rows.length > limit ? (items.at(-1)?.playerId ?? null) : null };
  }

  async setKycStatus(
    playerId: string,
    status: KycStatus,
    action: OperatorAction,
  ): Promise<OperatorWriteResult> {
    return this.#operatorWrite(playerId, action, 'player.kyc', async (tx, player, now) => {
      await repo.setKycStatus(tx, playerId, status, undefined, now);
      await this.#kycEvent(tx, playerId, player.kyc_status, status, 'operator', now);
      return { before: { kycStatus: player.kyc_status }, after: { kycStatus: status } };
    });
  }

  async setOperatorStatus(
    playerId: string,
    status: OperatorStatus,
    action: OperatorAction,
  ): Promise<OperatorWriteResult> {
    return this.#operatorWrite(playerId, action, 'player.status', async (tx, player, now) => {
      if (player.operator_status === 'closed' && status !== 'closed') {
        return { conflict: 'a closed account is not reopened' };
      }
      await repo.setOperatorStatus(tx, playerId, status, now);
      if (status === 'closed' || status === 'locked') {
        await repo.revokePlayerSessions(tx, playerId, `operator_${status}`, now);
      }
      const before = repo.effectiveStatus(player, now);
      const after = repo.effectiveStatus({ ...player, operator_status: status }, now);
      await this.#event(tx, 'player.status_changed', {
        playerId,
        before,
        after,
        operatorStatus: status,
        at: now.toISOString(),
      });
      return {
        before: { status: before, operatorStatus: player.operator_status },
        after: { status: after, operatorStatus: status },
      };
    });
  }

  async #operatorWrite(
    playerId: string,
    action: OperatorAction,
    name: string,
    work: (
      tx: Queryable,
      player: PlayerRow,
      now: Date,
    ) => Promise<{ before: unknown; after: unknown } | { conflict: string }>,
  ): Promise<OperatorWriteResult> {
    if (!isUuid(playerId.toLowerCase())) return { ok: false, code: 'NOT_FOUND', message: 'no such player' };
    const now = this.#now();
    const result = await this.#o.db.transaction(async (tx) => {
      const player = await repo.playerById(tx, playerId, true);
      if (!player) return { ok: false as const, code: 'NOT_FOUND' as const, message: 'no such player' };
      const done = await work(tx, player, now);
      if ('conflict' in done)
        return { ok: false as const, code: 'CONFLICT' as const, message: done.conflict };
      await repo.bumpVersion(tx, playerId, now);
      // The audit row commits with the change or not at all (GLI-19 §B.3.2).
      await recordAudit(tx, SCHEMA, {
        at: now,
        actor: action.actor,
        action: name,
        target: `player:${playerId}`,
        before: done.before,
        after: done.after,
        reason: action.reason,
      });
      return { ok: true as const, row: (await repo.playerById(tx, playerId))! };
    });
    if (!result.ok) return result;
    this.#o.kickOutbox();
    await this.syncWallet(playerId);
    return { ok: true, player: this.#toPlayer(result.row, now) };
  }

  async auditLog(page: { limit: number; beforeId?: string }): Promise<AuditEntry[]> {
    return auditPage(this.#o.db, SCHEMA, page);
  }
}
