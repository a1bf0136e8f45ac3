// SQL for the pam schema, and nothing else. Each function takes the Queryable it runs on, so the
// service decides what shares a transaction.
import type { Queryable } from '../../platform/db/index.ts';
import type { KycStatus, OperatorStatus, PlayerStatus, RgLimitKind, RgLimitPeriod } from './pam.contract.ts';

export interface PlayerRow {
  id: string;
  email: string;
  email_key: string;
  password_hash: string;
  first_name: string;
  last_name: string;
  date_of_birth: string;
  country: string;
  currency: string;
  operator_status: OperatorStatus;
  restriction: 'timed_out' | 'self_excluded' | null;
  restricted_until: Date | null;
  kyc_status: KycStatus;
  kyc_verification_id: string | null;
  reality_check_minutes: number | null;
  version: bigint;
  wallet_synced_version: bigint;
  created_at: Date;
}

const PLAYER_COLUMNS = `id::text, email, email_key, password_hash, first_name, last_name,
  to_char(date_of_birth, 'YYYY-MM-DD') as date_of_birth, country, currency, operator_status,
  restriction, restricted_until, kyc_status, kyc_verification_id::text, reality_check_minutes,
  version, wallet_synced_version, created_at`;

export function effectiveStatus(row: PlayerRow, now: Date): PlayerStatus {
  if (row.operator_status === 'closed') return 'closed';
  if (row.restriction && row.restricted_until && row.restricted_until > now) return row.restriction;
  return row.operator_status;
}

export async function playerById(q: Queryable, id: string, lock = false): Promise<PlayerRow | undefined> {
  const { rows } = await q.query<PlayerRow>(
    `select ${PLAYER_COLUMNS} from pam.players where id = $1${lock ? ' for update' : ''}`,
    [id],
  );
  return rows[0];
}

export async function playerByEmailKey(q: Queryable, emailKey: string): Promise<PlayerRow | undefined> {
  const { rows } = await q.query<PlayerRow>(
    `select ${PLAYER_COLUMNS} from pam.players where email_key = $1`,
    [emailKey],
  );
  return rows[0];
}

/** True when someone with this identity has a self-exclusion running at `now`. */
export async function identityExcluded(q: Queryable, identityKey: string, now: Date): Promise<boolean> {
  const { rows } = await q.query(
    `select 1 from pam.players where identity_key = $1 and restriction = 'self_excluded' and restricted_until > $2 limit 1`,
    [identityKey, now],
  );
  return rows.length > 0;
}

export interface NewPlayer {
  id: string;
  email: string;
  emailKey: string;
  passwordHash: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  identityKey: string;
  country: string;
  currency: string;
  now: Date;
  /** The wallet already has this version (accounts and policy were pushed before the insert). */
  walletSyncedVersion: bigint;
}

/** Inserts a player; false when the email is taken (nothing written). */
export async function insertPlayer(q: Queryable, p: NewPlayer): Promise<boolean> {
  const { rowCount } = await q.query(
    `insert into pam.players (id, email, email_key, password_hash, first_name, last_name, date_of_birth,
       identity_key, country, currency, wallet_synced_version, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11, $12, $12)
     on conflict (email_key) do nothing`,
    [
      p.id,
      p.email,
      p.emailKey,
      p.passwordHash,
      p.firstName,
      p.lastName,
      p.dateOfBirth,
      p.identityKey,
      p.country,
      p.currency,
      p.walletSyncedVersion,
      p.now,
    ],
  );
  return rowCount === 1;
}

export async function listPlayers(
  q: Queryable,
  page: { query?: string; limit: number; beforeId?: string },
): Promise<PlayerRow[]> {
  const pattern = page.query ? `%${page.query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const { rows } = await q.query<PlayerRow>(
    `select ${PLAYER_COLUMNS} from pam.players
     where ($1::text is null or email_key like $1 or lower(first_name || ' ' || last_name) like $1 or id::text like $1)
       and ($2::uuid is null or id < $2::uuid)
     order by id desc limit $3`,
    [pattern, page.beforeId ?? null, page.limit],
  );
  return rows;
}

export async function bumpVersion(q: Queryable, id: string, now: Date): Promise<bigint> {
  const { rows } = await q.query<{ version: bigint }>(
    `update pam.players set version = version + 1, updated_at = $2 where id = $1 returning version`,
    [id, now],
  );
  return rows[0]?.version ?? 0n;
}

export async function markWalletSynced(q: Queryable, id: string, version: bigint): Promise<void> {
  await q.query(
    `update pam.players set wallet_synced_version = $2 where id = $1 and wallet_synced_version < $2`,
    [id, version],
  );
}

export async function unsyncedPlayers(q: Queryable, limit: number): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `select id::text from pam.players where wallet_synced_version < version order by id limit $1`,
    [limit],
  );
  return rows.map((row) => row.id);
}

/** Ends restrictions whose time has come; returns the players concerned. */
export async function endRestrictions(q: Queryable, now: Date, limit: number): Promise<PlayerRow[]> {
  const { rows } = await q.query<PlayerRow>(
    `update pam.players set restriction = null, restricted_until = null, version = version + 1, updated_at = $1
     where id in (select id from pam.players where restricted_until <= $1 order by restricted_until limit $2
                  for update skip locked)
     returning ${PLAYER_COLUMNS}`,
    [now, limit],
  );
  return rows;
}

export async function setRestriction(
  q: Queryable,
  id: string,
  restriction: 'timed_out' | 'self_excluded',
  until: Date,
  now: Date,
): Promise<void> {
  await q.query(
    `update pam.players set restriction = $2, restricted_until = $3, version = version + 1, updated_at = $4 where id = $1`,
    [id, restriction, until, now],
  );
}

export async function setOperatorStatus(
  q: Queryable,
  id: string,
  status: OperatorStatus,
  now: Date,
): Promise<void> {
  await q.query(
    `update pam.players set operator_status = $2, version = version + 1, updated_at = $3 where id = $1`,
    [id, status, now],
  );
}

export async function setKycStatus(
  q: Queryable,
  id: string,
  status: KycStatus,
  verificationId: string | null | undefined,
  now: Date,
): Promise<void> {
  await q.query(
    `update pam.players set kyc_status = $2, kyc_verification_id = coalesce($3::uuid, kyc_verification_id),
       version = version + 1, updated_at = $4 where id = $1`,
    [id, status, verificationId ?? null, now],
  );
}

export async function setRealityCheck(
  q: Queryable,
  id: string,
  minutes: number | null,
  now: Date,
): Promise<void> {
  await q.query(`update pam.players set reality_check_minutes = $2, updated_at = $3 where id = $1`, [
    id,
    minutes,
    now,
  ]);
}

// ---- sessions ---------------------------------------------------------------------------------

export interface SessionRow {
  id: string;
  player_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
  ip: string | null;
  device_id: string | null;
  user_agent: string | null;
}

const SESSION_COLUMNS = `id::text, player_id::text, created_at, last_seen_at, expires_at, revoked_at, revoke_reason,
  ip, device_id, user_agent`;

export interface SessionSignals {
  ip: string | null;
  deviceId: string | null;
  userAgent: string | null;
}

export async function insertSession(
  q: Queryable,
  s: { id: string; playerId: string; refreshHash: string; now: Date; expiresAt: Date } & SessionSignals,
): Promise<void> {
  await q.query(
    `insert into pam.sessions (id, player_id, refresh_hash, created_at, last_seen_at, expires_at, ip, device_id, user_agent)
     values ($1, $2, $3, $4, $4, $5, $6, $7, $8)`,
    [s.id, s.playerId, s.refreshHash, s.now, s.expiresAt, s.ip, s.deviceId, s.userAgent],
  );
}

export async function sessionById(q: Queryable, id: string): Promise<SessionRow | undefined> {
  const { rows } = await q.query<SessionRow>(`select ${SESSION_COLUMNS} from pam.sessions where id = $1`, [
    id,
  ]);
  return rows[0];
}

export async function sessionByRefreshHash(q: Queryable, hash: string): Promise<SessionRow | undefined> {
  const { rows } = await q.query<SessionRow>(
    `select ${SESSION_COLUMNS} from pam.sessions where refresh_hash = $1 for update`,
    [hash],
  );
  return rows[0];
}

export async function sessionOfUsedToken(q: Queryable, hash: string): Promise<string | undefined> {
  const { rows } = await q.query<{ session_id: string }>(
    `select session_id::text from pam.refresh_tokens_used where hash = $1`,
    [hash],
  );
  return rows[0]?.session_id;
}

export async function rotateRefresh(
  q: Queryable,
  sessionId: string,
  oldHash: string,
  newHash: string,
  now: Date,
): Promise<void> {
  await q.query(`update pam.sessions set refresh_hash = $2, last_seen_at = $3 where id = $1`, [
    sessionId,
    newHash,
    now,
  ]);
  await q.query(
    `insert into pam.refresh_tokens_used (hash, session_id, used_at) values ($1, $2, $3) on conflict do nothing`,
    [oldHash, sessionId, now],
  );
}

export async function touchSession(q: Queryable, id: string, now: Date): Promise<void> {
  await q.query(`update pam.sessions set last_seen_at = $2 where id = $1 and last_seen_at < $2`, [id, now]);
}

export async function revokeSession(q: Queryable, id: string, reason: string, now: Date): Promise<void> {
  await q.query(
    `update pam.sessions set revoked_at = $3, revoke_reason = $2 where id = $1 and revoked_at is null`,
    [id, reason, now],
  );
}

export async function revokePlayerSessions(
  q: Queryable,
  playerId: string,
  reason: string,
  now: Date,
): Promise<number> {
  const { rowCount } = await q.query(
    `update pam.sessions set revoked_at = $3, revoke_reason = $2 where player_id = $1 and revoked_at is null`,
    [playerId, reason, now],
  );
  return rowCount;
}

export async function playerSessions(q: Queryable, playerId: string, limit: number): Promise<SessionRow[]> {
  const { rows } = await q.query<SessionRow>(
    `select ${SESSION_COLUMNS} from pam.sessions where player_id = $1 order by created_at desc limit $2`,
    [playerId, limit],
  );
  return rows;
}

// ---- login failures and signals ---------------------------------------------------------------

export async function lockedUntil(q: Queryable, emailKey: string): Promise<Date | null> {
  const { rows } = await q.query<{ locked_until: Date | null }>(
    `select locked_until from pam.login_failures where email_key = $1`,
    [emailKey],
  );
  return rows[0]?.locked_until ?? null;
}

/** Counts a failure in the window; locks the address when the count reaches `max`. */
export async function recordLoginFailure(
  q: Queryable,
  emailKey: string,
  now: Date,
  windowMs: number,
  max: number,
): Promise<boolean> {
  const windowStart = new Date(now.getTime() - windowMs);
  const lockUntil = new Date(now.getTime() + windowMs);
  const { rows } = await q.query<{ locked: boolean }>(
    `insert into pam.login_failures as f (email_key, failures, window_start, locked_until)
     values ($1, 1, $2, case when 1 >= $5 then $4::timestamptz end)
     on conflict (email_key) do update set
       failures = case when f.window_start <= $3 or f.locked_until is not null then 1 else f.failures + 1 end,
       window_start = case when f.window_start <= $3 or f.locked_until is not null then $2 else f.window_start end,
       locked_until = case
         when (case when f.window_start <= $3 or f.locked_until is not null then 1 else f.failures + 1 end) >= $5
         then $4::timestamptz end
     returning locked_until is not null as locked`,
    [emailKey, now, windowStart, lockUntil, max],
  );
  return rows[0]?.locked ?? false;
}

export async function clearLoginFailures(q: Queryable, emailKey: string): Promise<void> {
  await q.query(`delete from pam.login_failures where email_key = $1`, [emailKey]);
}

export async function insertSignal(
  q: Queryable,
  s: { id: string; playerId: string; kind: 'registration' | 'login'; at: Date } & SessionSignals,
): Promise<void> {
  await q.query(
    `insert into pam.signals (id, player_id, kind, ip, device_id, user_agent, at) values ($1, $2, $3, $4, $5, $6, $7)`,
    [s.id, s.playerId, s.kind, s.ip, s.deviceId, s.userAgent, s.at],
  );
}

// ---- KYC --------------------------------------------------------------------------------------

export interface KycRow {
  id: string;
  player_id: string;
  state: 'queued' | 'submitted' | 'verified' | 'rejected' | 'failed';
  provider_ref: string | null;
  attempts: number;
}

export async function insertKyc(q: Queryable, id: string, playerId: string, now: Date): Promise<void> {
  await q.query(
    `insert into pam.kyc_verifications (id, player_id, state, next_attempt_at, created_at, updated_at)
     values ($1, $2, 'queued', $3, $3, $3)`,
    [id, playerId, now],
  );
}

export async function dueKyc(q: Queryable, now: Date, limit: number): Promise<KycRow[]> {
  const { rows } = await q.query<KycRow>(
    `select id::text, player_id::text, state, provider_ref, attempts from pam.kyc_verifications
     where state = 'queued' and next_attempt_at <= $1 order by next_attempt_at limit $2`,
    [now, limit],
  );
  return rows;
}

export async function kycById(q: Queryable, id: string, lock = false): Promise<KycRow | undefined> {
  const { rows } = await q.query<KycRow>(
    `select id::text, player_id::text, state, provider_ref, attempts from pam.kyc_verifications where id = $1${lock ? ' for update' : ''}`,
    [id],
  );
  return rows[0];
}

export async function kycSubmitted(
  q: Queryable,
  id: string,
  providerRef: string,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `update pam.kyc_verifications set state = 'submitted', provider_ref = $2, attempts = attempts + 1, updated_at = $3
     where id = $1 and state = 'queued'`,
    [id, providerRef, now],
  );
  return rowCount === 1;
}

export async function kycRetryLater(
  q: Queryable,
  id: string,
  nextAt: Date,
  now: Date,
  give: boolean,
): Promise<void> {
  await q.query(
    `update pam.kyc_verifications set attempts = attempts + 1, next_attempt_at = $2, updated_at = $3,
       state = case when $4 then 'failed' else state end
     where id = $1 and state = 'queued'`,
    [id, nextAt, now, give],
  );
}

export async function kycResolved(
  q: Queryable,
  id: string,
  state: 'verified' | 'rejected',
  providerRef: string,
  reason: string | null,
  now: Date,
): Promise<void> {
  await q.query(
    `update pam.kyc_verifications set state = $2, provider_ref = $3, reason = $4, updated_at = $5 where id = $1`,
    [id, state, providerRef, reason, now],
  );
}

// ---- limits -----------------------------------------------------------------------------------

export interface LimitRow {
  kind: RgLimitKind;
  period: RgLimitPeriod;
  amount: bigint | null;
  pending_set: boolean;
  pending_amount: bigint | null;
  effective_at: Date | null;
}

export async function limitsOf(q: Queryable, playerId: string): Promise<LimitRow[]> {
  const { rows } = await q.query<LimitRow>(
    `select kind, period, amount, pending_set, pending_amount, effective_at from pam.limits
     where player_id = $1 order by kind, period`,
    [playerId],
  );
  return rows;
}

export async function upsertLimit(q: Queryable, playerId: string, row: LimitRow, now: Date): Promise<void> {
  await q.query(
    `insert into pam.limits (player_id, kind, period, amount, pending_set, pending_amount, effective_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (player_id, kind, period) do update set amount = excluded.amount, pending_set = excluded.pending_set,
       pending_amount = excluded.pending_amount, effective_at = excluded.effective_at, updated_at = excluded.updated_at`,
    [playerId, row.kind, row.period, row.amount, row.pending_set, row.pending_amount, row.effective_at, now],
  );
}
