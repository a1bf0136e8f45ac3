// SQL for the backoffice schema only: operators and failed-login counters. Times come from the
// caller's clock (never SQL now()) so that tests can move them.
import type { Queryable } from '../../platform/db/index.ts';
import type { OperatorRole } from './backoffice.contract.ts';

export interface UserRow {
  readonly id: string;
  readonly email: string;
  readonly emailKey: string;
  readonly passwordHash: string;
  readonly role: OperatorRole;
  readonly disabled: boolean;
  readonly createdAt: Date;
  readonly disabledAt: Date | null;
  readonly passwordChangedAt: Date;
  readonly lastLoginAt: Date | null;
  readonly lastLoginIp: string | null;
}

interface RawUser {
  id: string;
  email: string;
  email_key: string;
  password_hash: string;
  role: OperatorRole;
  disabled: boolean;
  created_at: Date;
  disabled_at: Date | null;
  password_changed_at: Date;
  last_login_at: Date | null;
  last_login_ip: string | null;
}

const USER_COLUMNS = `id::text as id, email, email_key, password_hash, role, disabled, created_at, disabled_at,
  password_changed_at, last_login_at, last_login_ip`;

function toUser(row: RawUser): UserRow {
  return {
    id: row.id,
    email: row.email,
    emailKey: row.email_key,
    passwordHash: row.password_hash,
    role: row.role,
    disabled: row.disabled,
    createdAt: new Date(row.created_at),
    disabledAt: row.disabled_at === null ? null : new Date(row.disabled_at),
    passwordChangedAt: new Date(row.password_changed_at),
    lastLoginAt: row.last_login_at === null ? null : new Date(row.last_login_at),
    lastLoginIp: row.last_login_ip,
  };
}

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly emailKey: string;
  readonly passwordHash: string;
  readonly role: OperatorRole;
  readonly at: Date;
}

export interface LoginFailures {
  readonly failures: number;
  readonly lockedUntil: Date | null;
}

export class BackofficeRepository {
  readonly #schema: string;

  constructor(schema: string) {
    this.#schema = schema;
  }

  async userById(
    q: Queryable,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<UserRow | undefined> {
    const { rows } = await q.query<RawUser>(
      `select ${USER_COLUMNS} from ${this.#schema}.users where id = $1${options.forUpdate ? ' for update' : ''}`,
      [id],
    );
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async userByEmailKey(q: Queryable, emailKey: string): Promise<UserRow | undefined> {
    const { rows } = await q.query<RawUser>(
      `select ${USER_COLUMNS} from ${this.#schema}.users where email_key = $1`,
      [emailKey],
    );
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  /** Oldest first, after `afterId` (ids are UUIDv7, so id order is creation order). */
  async listUsers(q: Queryable, page: { limit: number; afterId?: string }): Promise<UserRow[]> {
    const { rows } = await q.query<RawUser>(
      `select ${USER_COLUMNS} from ${this.#schema}.users
        where ($1::uuid is null or id > $1::uuid) order by id limit $2`,
      [page.afterId ?? null, page.limit],
    );
    return rows.map(toUser);
  }

  /** Inserts the user; false when the address is taken (nothing written). */
  async insertUser(q: Queryable, user: NewUser): Promise<boolean> {
    const { rowCount } = await q.query(
      `insert into ${this.#schema}.users
         (id, email, email_key, password_hash, role, disabled, created_at, updated_at, password_changed_at)
       values ($1, $2, $3, $4, $5, false, $6, $6, $6)
       on conflict (email_key) do nothing`,
      [user.id, user.email, user.emailKey, user.passwordHash, user.role, user.at],
    );
    return rowCount === 1;
  }

  /** Locks every enabled admin (in id order, so concurrent callers queue) and returns their ids. */
  async lockEnabledAdmins(q: Queryable): Promise<string[]> {
    const { rows } = await q.query<{ id: string }>(
      `select id::text as id from ${this.#schema}.users where role = 'admin' and not disabled order by id for update`,
    );
    return rows.map((row) => row.id);
  }

  async hasEnabledAdmin(q: Queryable): Promise<boolean> {
    const { rows } = await q.query(
      `select 1 from ${this.#schema}.users where role = 'admin' and not disabled limit 1`,
    );
    return rows.length > 0;
  }

  async updateUser(
    q: Queryable,
    id: string,
    change: { role: OperatorRole; disabled: boolean; passwordHash: string | null; at: Date },
  ): Promise<void> {
    await q.query(
      `update ${this.#schema}.users set
         role = $2,
         disabled_at = case when $3 and not disabled then $5::timestamptz when $3 then disabled_at else null end,
         disabled = $3,
         password_hash = coalesce($4, password_hash),
         password_changed_at = case when $4::text is null then password_changed_at else $5::timestamptz end,
         updated_at = $5
       where id = $1`,
      [id, change.role, change.disabled, change.passwordHash, change.at],
    );
  }

  /** A new hash of the same password (stronger parameters): not a password change. */
  async replaceHash(q: Queryable, id: string, passwordHash: string): Promise<void> {
    await q.query(`update ${this.#schema}.users set password_hash = $2 where id = $1`, [id, passwordHash]);
  }

  async recordLogin(q: Queryable, id: string, at: Date, ip: string | null): Promise<void> {
    await q.query(`update ${this.#schema}.users set last_login_at = $2, last_login_ip = $3 where id = $1`, [
      id,
      at,
      ip,
    ]);
  }

  // ---- failed logins ---------------------------------------------------------------------------

  async loginFailures(q: Queryable, emailKey: string): Promise<LoginFailures | undefined> {
    const { rows } = await q.query<{ failures: number; locked_until: Date | null }>(
      `select failures, locked_until from ${this.#schema}.login_failures where email_key = $1`,
      [emailKey],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      failures: row.failures,
      lockedUntil: row.locked_until === null ? null : new Date(row.locked_until),
    };
  }

  /**
   * Counts one failure in one statement (concurrent failures for one address each count): a
   * window that started before `windowStart` begins again at this failure; the failure that
   * reaches `failuresMax` sets the lock until `lockUntil` and starts a fresh count for after it.
   */
  async recordLoginFailure(
    q: Queryable,
    emailKey: string,
    at: Date,
    rule: { failuresMax: number; windowStart: Date; lockUntil: Date },
  ): Promise<LoginFailures> {
    const next = 'case when f.window_start <= $3 then 1 else f.failures + 1 end';
    const { rows } = await q.query<{ failures: number; locked_until: Date | null }>(
      `insert into ${this.#schema}.login_failures as f (email_key, failures, window_start, locked_until)
       values ($1, case when 1 >= $4 then 0 else 1 end, $2, case when 1 >= $4 then $5::timestamptz end)
       on conflict (email_key) do update set
         failures = case when ${next} >= $4 then 0 else ${next} end,
         window_start = case when f.window_start <= $3 or ${next} >= $4 then $2 else f.window_start end,
         locked_until = case when ${next} >= $4 then $5::timestamptz else f.locked_until end
       returning f.failures, f.locked_until`,
      [emailKey, at, rule.windowStart, rule.failuresMax, rule.lockUntil],
    );
    const row = rows[0];
    return {
      failures: row?.failures ?? 0,
      lockedUntil: row?.locked_until ? new Date(row.locked_until) : null,
    };
  }

  async clearLoginFailures(q: Queryable, emailKey: string): Promise<void> {
    await q.query(`delete from ${this.#schema}.login_failures where email_key = $1`, [emailKey]);
  }

  /** Deletes rows whose window and lock have both run out (they would count as fresh anyway). */
  async pruneLoginFailures(q: Queryable, at: Date, windowStart: Date): Promise<number> {
    const { rowCount } = await q.query(
      `delete from ${this.#schema}.login_failures
        where window_start <= $2 and (locked_until is null or locked_until <= $1)`,
      [at, windowStart],
    );
    return rowCount;
  }
}
