// SQL for the wallet schema only. A batch costs a constant number of statements whatever its
// size: arrays in, unnest() inside, one statement per table.
import type { Db, Queryable, Read, Transaction } from '../../platform/db/index.ts';
import { rowsRead } from '../../platform/db/index.ts';
import { assert } from '../../platform/assert.ts';
import type {
  AccountState,
  Counters,
  LimitInForce,
  PlayWindow,
  PriorOutcome,
  StoredTransfer,
  BatchOutput,
} from './wallet.ledger.ts';
import { windowStartMs } from './wallet.ledger.ts';
import type {
  AuditCheck,
  LimitChange,
  PlayerPolicy,
  PlayerStatus,
  RefusalCode,
  StatementEntry,
  TransferCode,
  TransferKind,
  TransferMetadata,
} from './wallet.contract.ts';

export interface AccountSpec {
  key: string;
  ownerType: 'player' | 'system';
  ownerId: string;
  kind: string;
  currency: string;
  guarded: boolean;
  overdraftLimit: bigint;
}

const COUNTER_COLUMNS = 'debits_posted, credits_posted, debits_pending, credits_pending, version';
const ACCOUNT_COLUMNS = `id, key, currency, owner_type, owner_id, kind, guarded, overdraft_limit, ${COUNTER_COLUMNS}`;
type CounterColumn = 'debits_posted' | 'credits_posted' | 'debits_pending' | 'credits_pending' | 'version';

interface AccountRow {
  id: bigint;
  key: string;
  currency: string;
  owner_type: 'player' | 'system';
  owner_id: string;
  kind: string;
  guarded: boolean;
  overdraft_limit: bigint;
  debits_posted: bigint;
  credits_posted: bigint;
  debits_pending: bigint;
  credits_pending: bigint;
  version: bigint;
}

/**
 * Accounts a batch locked: their state (for those whose facts were cached), the ids still to read
 * in full, and where each row version is (its ctid). The row is ours until commit, so that place
 * holds until the batch's own update, which finds the rows there instead of through the index.
 */
export interface LockedAccounts {
  locked: Map<bigint, AccountState>;
  unknown: bigint[];
  places: Map<bigint, string>;
}

/** A batch's bettors: policy (if set) and limits in force (if any). Play windows are read apart. */
export interface BettorFacts {
  policies: Map<string, { status: string; kycVerified: boolean }>;
  limits: Map<string, LimitInForce[]>;
}

function toAccount(row: AccountRow): AccountState {
  return {
    id: row.id,
    key: row.key,
    currency: row.currency,
    ownerType: row.owner_type,
    ownerId: row.owner_id,
    kind: row.kind,
    guarded: row.guarded,
    overdraftLimit: row.overdraft_limit,
    debitsPosted: row.debits_posted,
    creditsPosted: row.credits_posted,
    debitsPending: row.debits_pending,
    creditsPending: row.credits_pending,
    version: row.version,
  };
}

const TRANSFER_COLUMNS = `seq, id, kind, code, debit_account_id, credit_account_id, amount, currency, pending_id,
  reverses_id, allow_overdraft, timeout_at, metadata, request_hash, created_at,
  dr_version, dr_debits_posted, dr_credits_posted, dr_debits_pending, dr_credits_pending,
  cr_version, cr_debits_posted, cr_credits_posted, cr_debits_pending, cr_credits_pending`;

interface TransferRow {
  seq: bigint;
  id: string;
  kind: TransferKind;
  code: TransferCode;
  debit_account_id: bigint;
  credit_account_id: bigint;
  amount: bigint;
  currency: string;
  pending_id: string | null;
  reverses_id: string | null;
  allow_overdraft: boolean;
  timeout_at: Date | null;
  metadata: TransferMetadata;
  request_hash: string;
  created_at: Date;
  dr_version: bigint;
  dr_debits_posted: bigint;
  dr_credits_posted: bigint;
  dr_debits_pending: bigint;
  dr_credits_pending: bigint;
  cr_version: bigint;
  cr_debits_posted: bigint;
  cr_credits_posted: bigint;
  cr_debits_pending: bigint;
  cr_credits_pending: bigint;
}

function toTransfer(row: TransferRow): StoredTransfer {
  return {
    id: row.id,
    seq: row.seq,
    kind: row.kind,
    code: row.code,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amount: row.amount,
    currency: row.currency,
    pendingId: row.pending_id,
    reversesId: row.reverses_id,
    allowOverdraft: row.allow_overdraft,
    timeoutAt: row.timeout_at,
    metadata: row.metadata,
    requestHash: row.request_hash,
    createdAt: row.created_at,
    debitAfter: {
      version: row.dr_version,
      debitsPosted: row.dr_debits_posted,
      creditsPosted: row.dr_credits_posted,
      debitsPending: row.dr_debits_pending,
      creditsPending: row.dr_credits_pending,
    },
    creditAfter: {
      version: row.cr_version,
      debitsPosted: row.cr_debits_posted,
      creditsPosted: row.cr_credits_posted,
      debitsPending: row.cr_debits_pending,
      creditsPending: row.cr_credits_pending,
    },
  };
}

/** A player's policy and one of their play accounts (cash or bonus), as playersRead returns them. */
export interface PlayerRow {
  playerId: string;
  policy: { status: PlayerStatus; kycVerified: boolean } | undefined;
  account: { kind: string; currency: string; available: bigint } | undefined;
}

export class WalletRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Accounts by key, read now (outside any transaction). */
  async accountsByKey(keys: readonly string[]): Promise<AccountState[]> {
    return (await this.accountsIn(this.#db, 'key', keys)).accounts;
  }

  /**
   * Accounts by key or id through `q`, and which of them `q`'s transaction has neither created nor
   * changed (`shared`; all of them outside a transaction). Inside a batch `q` must be its
   * transaction (PGlite has one connection). The shared ones were committed by others, and since
   * accounts are never deleted their facts may be cached whatever becomes of this transaction. One
   * that it created may still roll back with it. (xmin is the transaction that wrote the row version; the
   * wallet's callers use no savepoints, whose rows would carry a subtransaction's id.)
   */
  async accountsIn(
    q: Queryable,
    by: 'key' | 'id',
    values: readonly (string | bigint)[],
  ): Promise<{ accounts: AccountState[]; shared: Set<bigint> }> {
    if (values.length === 0) return { accounts: [], shared: new Set() };
    const { rows } = await q.query<AccountRow & { shared: boolean }>(
      `select ${ACCOUNT_COLUMNS},
              xmin::text is distinct from (pg_current_xact_id_if_assigned()::text::int8 % 4294967296)::text as shared
         from wallet.accounts where ${by === 'key' ? 'key = any($1::text[])' : 'id = any($1::int8[])'}`,
      [values],
    );
    return {
      accounts: rows.map(toAccount),
      shared: new Set(rows.filter((row) => row.shared).map((row) => row.id)),
    };
  }

  /**
   * Each asked player with their policy (if any) and their cash and bonus accounts in every
   * currency, available = balance − pending debits: one row per account, or one bare row.
   */
  playersRead(playerIds: readonly string[]): Read<PlayerRow[]> {
    if (playerIds.length === 0) return { value: [] };
    type Row = {
      player_id: string;
      status: PlayerStatus | null;
      kyc_verified: boolean | null;
      kind: string | null;
      currency: string | null;
      available: bigint | null;
    };
    return rowsRead(
      {
        text: `select p.id as player_id, pol.status, pol.kyc_verified, a.kind, a.currency,
              a.credits_posted - a.debits_posted - a.debits_pending as available
         from unnest($1::text[]) as p(id)
         left join wallet.policies pol on pol.player_id = p.id
         left join wallet.accounts a
           on a.owner_type = 'player' and a.owner_id = p.id and a.kind in ('cash', 'bonus')`,
        params: [playerIds],
      },
      (rows: Row[]) =>
        rows.map((row) => ({
          playerId: row.player_id,
          policy:
            row.status === null ? undefined : { status: row.status, kycVerified: row.kyc_verified === true },
          account:
            row.kind === null || row.currency === null || row.available === null
              ? undefined
              : { kind: row.kind, currency: row.currency, available: row.available },
        })),
    );
  }

  /** Creates the accounts that do not exist yet (concurrent creators are harmless). */
  async createAccounts(unsorted: readonly AccountSpec[], q: Queryable = this.#db): Promise<void> {
    if (unsorted.length === 0) return;
    // In key order, so that two creators of the same accounts wait for each other in the same
    // order (never in a cycle: no deadlock).
    const specs = [...unsorted].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    await q.query(
      `insert into wallet.accounts (key, owner_type, owner_id, kind, currency, guarded, overdraft_limit)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::int8[])
       on conflict (key) do nothing`,
      [
        specs.map((s) => s.key),
        specs.map((s) => s.ownerType),
        specs.map((s) => s.ownerId),
        specs.map((s) => s.kind),
        specs.map((s) => s.currency),
        specs.map((s) => s.guarded),
        specs.map((s) => s.overdraftLimit),
      ],
    );
  }

  /**
   * Locks accounts in one global order (ascending id) so that no two batches, in any number of
   * processes, can wait on each other in a cycle: no deadlocks, ever. Only the counters are read
   * under the lock; an account's other facts never change, so those of `known` accounts come
   * from the caller's cache, and the ids of the rest come back in `unknown` (to read with
   * accountsIn: these rows are then ours until commit, so their counters are the same).
   * PGlite is one connection, taken by one transaction at a time (and one process: its data
   * folder is locked): nothing can change the rows between this read and the batch's update, so
   * there it reads without row locks, which would only cost a write to every row.
   */
  lockRead(ids: readonly bigint[], known: (id: bigint) => AccountState | undefined): Read<LockedAccounts> {
    const sorted = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return rowsRead(
      {
        text: `select id, ctid::text as ctid, ${COUNTER_COLUMNS} from wallet.accounts where id = any($1::int8[]) order by id${this.#db.kind === 'pglite' ? '' : ' for update'}`,
        params: [sorted],
      },
      (rows: (Pick<AccountRow, 'id' | CounterColumn> & { ctid: string })[]) => {
        const locked = new Map<bigint, AccountState>();
        const unknown: bigint[] = [];
        const places = new Map<bigint, string>();
        for (const row of rows) {
          places.set(row.id, row.ctid);
          const facts = known(row.id);
          if (facts === undefined) unknown.push(row.id);
          // A literal rather than spreads: this runs for every account of every batch.
          else
            locked.set(row.id, {
              id: facts.id,
              key: facts.key,
              currency: facts.currency,
              ownerType: facts.ownerType,
              ownerId: facts.ownerId,
              kind: facts.kind,
              guarded: facts.guarded,
              overdraftLimit: facts.overdraftLimit,
              debitsPosted: row.debits_posted,
              creditsPosted: row.credits_posted,
              debitsPending: row.debits_pending,
              creditsPending: row.credits_pending,
              version: row.version,
            });
        }
        return { locked, unknown, places };
      },
    );
  }

  async transfersById(q: Queryable, ids: readonly string[]): Promise<Map<string, StoredTransfer>> {
    if (ids.length === 0) return new Map();
    const { rows } = await q.query<TransferRow>(
      `select ${TRANSFER_COLUMNS} from wallet.transfers where id = any($1::text[])`,
      [ids],
    );
    return new Map(rows.map((row) => [row.id, toTransfer(row)]));
  }

  /**
   * The stored transfer or refusal under each id, in one statement (most ids have neither). Each
   * lookup is a LATERAL subquery with LIMIT 1, which the planner cannot flatten into a join: the
   * statement's cached generic plan (made for an array of unknown size, often while the tables
   * were small) was a hash join over a sequential scan of all refusals, on every batch.
   */
  priorRead(ids: readonly string[]): Read<Map<string, PriorOutcome>> {
    if (ids.length === 0) return { value: new Map() };
    type PriorRow = Partial<TransferRow> & {
      asked: string;
      refusal_hash: string | null;
      refusal_code: RefusalCode | null;
      refused_at: Date | null;
    };
    return rowsRead(
      {
        text: `select u.id as asked, t.*, r.request_hash as refusal_hash, r.code as refusal_code,
              r.created_at as refused_at
         from unnest($1::text[]) as u(id)
         left join lateral (select ${TRANSFER_COLUMNS} from wallet.transfers where id = u.id limit 1) t on true
         left join lateral (select request_hash, code, created_at from wallet.refusals where id = u.id limit 1) r on true
        where t.id is not null or r.code is not null`,
        params: [ids],
      },
      (rows: PriorRow[]) => {
        const prior = new Map<string, PriorOutcome>();
        for (const row of rows) {
          if (row.seq !== null && row.seq !== undefined) {
            prior.set(row.asked, { type: 'transfer', transfer: toTransfer(row as TransferRow) });
          } else if (row.refusal_code !== null) {
            prior.set(row.asked, {
              type: 'refusal',
              refusal: {
                id: row.asked,
                requestHash: row.refusal_hash!,
                code: row.refusal_code,
                createdAt: row.refused_at!,
              },
            });
          }
        }
        return prior;
      },
    );
  }

  /** How each of these pending transfers was resolved, if it was. */
  resolutionsRead(pendingIds: readonly string[]): Read<Map<string, TransferKind>> {
    if (pendingIds.length === 0) return { value: new Map() };
    return rowsRead(
      {
        text: 'select pending_id, kind from wallet.transfers where pending_id = any($1::text[])',
        params: [pendingIds],
      },
      (rows: { pending_id: string; kind: TransferKind }[]) =>
        new Map(rows.map((row) => [row.pending_id, row.kind])),
    );
  }

  /** Which of these transfers were reversed. */
  reversedRead(ids: readonly string[]): Read<Set<string>> {
    if (ids.length === 0) return { value: new Set() };
    return rowsRead(
      {
        text: 'select reverses_id from wallet.transfers where reverses_id = any($1::text[])',
        params: [ids],
      },
      (rows: { reverses_id: string }[]) => new Set(rows.map((row) => row.reverses_id)),
    );
  }

  /**
   * What the debit path needs of each bettor: their policy and the limits in force at `now`, in
   * one statement. The play windows of the bettors with a limit are a second read (playWindows).
   */
  bettorRead(bettors: readonly string[], now: Date): Read<BettorFacts> {
    if (bettors.length === 0) return { value: { policies: new Map(), limits: new Map() } };
    type BettorRow = {
      player_id: string;
      status: string | null;
      kyc_verified: boolean | null;
      limits: string[] | null;
    };
    return rowsRead(
      {
        text: `select p.id as player_id, pol.status, pol.kyc_verified, l.limits
         from unnest($1::text[]) as p(id)
         left join wallet.policies pol on pol.player_id = p.id
         cross join lateral (
           select array_agg(f.kind || ' ' || f.period || ' ' || f.amount) as limits
             from (select distinct on (kind, period) kind, period, amount
                     from wallet.limits where player_id = p.id and effective_at <= $2
                    order by kind, period, effective_at desc) f
            where f.amount is not null) l`,
        params: [[...new Set(bettors)], now],
      },
      (rows: BettorRow[]) => {
        const facts: BettorFacts = { policies: new Map(), limits: new Map() };
        for (const row of rows) {
          if (row.status !== null)
            facts.policies.set(row.player_id, { status: row.status, kycVerified: row.kyc_verified === true });
          if (row.limits === null) continue;
          facts.limits.set(
            row.player_id,
            row.limits.map((limit) => {
              const [kind, period, amount] = limit.split(' ');
              return {
                kind: kind as LimitInForce['kind'],
                period: period as LimitInForce['period'],
                amount: BigInt(amount!),
              };
            }),
          );
        }
        return facts;
      },
    );
  }

  /**
   * Each player's stakes and wins in the day, week and month windows ending at `now` (one index
   * range scan per player: with `player_id = any($1)` the planner chose a sequential scan of
   * play_hours once it held a few thousand rows).
   */
  async playWindows(
    q: Queryable,
    players: readonly string[],
    now: Date,
  ): Promise<Map<string, Record<'day' | 'week' | 'month', PlayWindow>>> {
    const found = new Map<string, Record<'day' | 'week' | 'month', PlayWindow>>();
    if (players.length === 0) return found;
    // Numeric sums, read as text: exact whatever their size.
    const windows = await q.query<Record<string, string> & { player_id: string }>(
      `select p.id as player_id, w.*
         from unnest($1::text[]) as p(id) cross join lateral (
           select coalesce(sum(wagered) filter (where hour > $2), 0)::text as wagered_day,
                  coalesce(sum(won) filter (where hour > $2), 0)::text as won_day,
                  coalesce(sum(wagered) filter (where hour > $3), 0)::text as wagered_week,
                  coalesce(sum(won) filter (where hour > $3), 0)::text as won_week,
                  coalesce(sum(wagered), 0)::text as wagered_month,
                  coalesce(sum(won), 0)::text as won_month
             from wallet.play_hours h where h.player_id = p.id and h.hour > $4) w`,
      [
        players,
        new Date(windowStartMs(now, 'day')),
        new Date(windowStartMs(now, 'week')),
        new Date(windowStartMs(now, 'month')),
      ],
    );
    const sum = (row: Record<string, string>, column: string): bigint => BigInt(row[column]!);
    for (const row of windows.rows) {
      found.set(row.player_id, {
        day: { wagered: sum(row, 'wagered_day'), won: sum(row, 'won_day') },
        week: { wagered: sum(row, 'wagered_week'), won: sum(row, 'won_week') },
        month: { wagered: sum(row, 'wagered_month'), won: sum(row, 'won_month') },
      });
    }
    return found;
  }

  /**
   * Writes a batch's outcome in one statement, whatever the batch size: transfers, account
   * counters, refusals and play hours, each from arrays through unnest() in a data-modifying
   * WITH (the four write different tables, so sharing one snapshot changes nothing). One round
   * trip instead of four: on a server every trip is a write and a wake-up on both sides. Play
   * hours are written only for players with a limit row: only their play windows are ever read,
   * and the upsert was a sixth of the statement (a player's first limit fills theirs). With
   * `commit` (the batch's own transaction) the commit goes out with it, so the statement checks
   * its own pair assertion (every account row updated) before that commit can happen.
   */
  async writeBatch(
    tx: Queryable,
    output: BatchOutput,
    places: ReadonlyMap<bigint, string>,
    commit: Transaction | undefined,
  ): Promise<bigint[]> {
    const { transfers, accounts, refusals, playHours: hours } = output;
    const col = <T>(pick: (t: StoredTransfer) => T): T[] => transfers.map(pick);
    const after = (side: 'debitAfter' | 'creditAfter', field: keyof Counters): bigint[] =>
      col((t) => t[side][field]);
    const run = commit ? commit.commitWith : tx.query;
    const { rows } = await run<{ ok: boolean; seqs: string | null }>(
      `with t as (
         insert into wallet.transfers (id, kind, code, debit_account_id, credit_account_id, amount, currency,
           pending_id, reverses_id, allow_overdraft, timeout_at, metadata, request_hash, created_at,
           dr_version, dr_debits_posted, dr_credits_posted, dr_debits_pending, dr_credits_pending,
           cr_version, cr_debits_posted, cr_credits_posted, cr_debits_pending, cr_credits_pending)
         select u.id, u.kind, u.code, u.dr, u.cr, u.amount, u.currency, u.pending_id, u.reverses_id, u.overdraft,
           u.timeout_at, u.metadata::jsonb, u.hash, $14, u.drv, u.drdp, u.drcp, u.drdn, u.drcn, u.crv, u.crdp, u.crcp, u.crdn, u.crcn
         from unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::text[], $8::text[],
           $9::text[], $10::bool[], $11::timestamptz[], $12::text[], $13::text[],
           $15::int8[], $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], $21::int8[], $22::int8[], $23::int8[], $24::int8[])
           with ordinality as u(id, kind, code, dr, cr, amount, currency, pending_id, reverses_id, overdraft, timeout_at, metadata, hash,
             drv, drdp, drcp, drdn, drcn, crv, crdp, crcp, crdn, crcn, position)
         order by u.position
         returning id, seq
       ), a as (
         update wallet.accounts a set debits_posted = u.dp, credits_posted = u.cp, debits_pending = u.dn,
           credits_pending = u.cn, version = u.v
         from unnest($25::int8[], $39::tid[], $26::int8[], $27::int8[], $28::int8[], $29::int8[], $30::int8[]) as u(id, place, dp, cp, dn, cn, v)
         where a.ctid = u.place and a.id = u.id
         returning 1
       ), r as (
         insert into wallet.refusals (id, request_hash, code, created_at)
         select u.id, u.hash, u.code, $14 from unnest($31::text[], $32::text[], $33::text[]) as u(id, hash, code)
       ), h as (
         insert into wallet.play_hours as p (player_id, hour, wagered, won)
         select u.* from unnest($34::text[], $35::timestamptz[], $36::numeric[], $37::numeric[]) as u(player_id, hour, wagered, won)
          where exists (select 1 from wallet.limits l where l.player_id = u.player_id)
         on conflict (player_id, hour) do update set wagered = p.wagered + excluded.wagered, won = p.won + excluded.won
       )
       select wallet.assert((select count(*) from a) = $38::int8, 'an account of the batch vanished') as ok,
              (select string_agg(seq::text, ',' order by seq) from t) as seqs`,
      [
        col((t) => t.id),
        col((t) => t.kind),
        col((t) => t.code),
        col((t) => t.debitAccountId),
        col((t) => t.creditAccountId),
        col((t) => t.amount),
        col((t) => t.currency),
        col((t) => t.pendingId),
        col((t) => t.reversesId),
        col((t) => t.allowOverdraft),
        col((t) => t.timeoutAt),
        col((t) => JSON.stringify(t.metadata)),
        col((t) => t.requestHash),
        output.now,
        after('debitAfter', 'version'),
        after('debitAfter', 'debitsPosted'),
        after('debitAfter', 'creditsPosted'),
        after('debitAfter', 'debitsPending'),
        after('debitAfter', 'creditsPending'),
        after('creditAfter', 'version'),
        after('creditAfter', 'debitsPosted'),
        after('creditAfter', 'creditsPosted'),
        after('creditAfter', 'debitsPending'),
        after('creditAfter', 'creditsPending'),
        accounts.map((a) => a.id),
        accounts.map((a) => a.debitsPosted),
        accounts.map((a) => a.creditsPosted),
        accounts.map((a) => a.debitsPending),
        accounts.map((a) => a.creditsPending),
        accounts.map((a) => a.version),
        refusals.map((r) => r.id),
        refusals.map((r) => r.requestHash),
        refusals.map((r) => r.code),
        hours.map((h) => h.playerId),
        hours.map((h) => new Date(h.hourMs)),
        hours.map((h) => h.wagered),
        hours.map((h) => h.won),
        accounts.length,
        accounts.map((a) => {
          const place = places.get(a.id);
          assert(place !== undefined, `account ${a.id} of the batch was locked`);
          return place;
        }),
      ],
    );
    // The sequence numbers come back as one text, ascending, not as a row per transfer: the
    // driver's work is per row and per field (a message, an event, a string each). Ascending is
    // the transfers' order: the insert reads unnest() WITH ORDINALITY, which the planner knows to
    // be in position order, and takes each row's identity as it goes.
    const seqs = rows[0]?.seqs?.split(',') ?? [];
    assert(rows[0]?.ok === true, 'the batch write checked its accounts');
    assert(seqs.length === transfers.length, 'every written transfer has a sequence number');
    return seqs.map((seq) => BigInt(seq));
  }

  async setPolicy(playerId: string, policy: PlayerPolicy): Promise<void> {
    await this.#db.query(
      `insert into wallet.policies (player_id, status, kyc_verified, source_version, updated_at)
       values ($1, $2, $3, $4, now())
       on conflict (player_id) do update
         set status = excluded.status, kyc_verified = excluded.kyc_verified,
             source_version = excluded.source_version, updated_at = now()
         where wallet.policies.source_version <= excluded.source_version`,
      [playerId, policy.status, policy.kycVerified, policy.version ?? 0n],
    );
  }

  async addLimits(playerId: string, changes: readonly LimitChange[], now: Date): Promise<void> {
    if (changes.length === 0) return;
    // One row per (kind, period, instant): a later change in the list replaces an earlier one for
    // the same instant, as if applied one by one. (One INSERT … ON CONFLICT may not touch a row
    // twice; without this, two changes of a limit at the same instant failed the whole call.)
    const rows = new Map<string, { kind: string; period: string; at: Date; amount: bigint | null }>();
    for (const c of changes) {
      const at = c.effectiveAt ?? now;
      rows.set(`${c.kind}:${c.period}:${at.getTime()}`, {
        kind: c.kind,
        period: c.period,
        at,
        amount: c.amount,
      });
    }
    const unique = [...rows.values()];
    await this.#db.transaction(async (tx) => {
      // Play hours are kept only for players with a limit row (see writeBatch). A player's first
      // limit fills their play hours of the month window from their transfers, under the locks
      // of their accounts (taken in the batches' global order): a batch that took them first has
      // committed and is counted here, and any later batch sees the limit row and records its play.
      const { rows: owned } = await tx.query<{ id: bigint; tracked: boolean }>(
        `select a.id, exists (select 1 from wallet.limits l where l.player_id = $1) as tracked
           from wallet.accounts a where a.owner_type = 'player' and a.owner_id = $1 order by a.id for update`,
        [playerId],
      );
      if (owned.length > 0 && !owned[0]!.tracked) {
        await this.#fillPlayHours(
          tx,
          playerId,
          owned.map((row) => row.id),
          new Date(windowStartMs(now, 'month')),
        );
      }
      // A change supersedes whatever was scheduled after it for the same limit and has not come
      // into force: lowering a limit while a raise waits out its cooling-off period cancels that
      // raise. Rows already in force stay (they are history, and a back-dated change must not
      // delete a later, lower limit: that would raise the limit at once).
      await tx.query(
        `delete from wallet.limits l using unnest($2::text[], $3::text[], $4::timestamptz[]) as c(kind, period, at)
         where l.player_id = $1 and l.kind = c.kind and l.period = c.period
           and l.effective_at > greatest(c.at, $5::timestamptz)`,
        [playerId, unique.map((c) => c.kind), unique.map((c) => c.period), unique.map((c) => c.at), now],
      );
      await tx.query(
        `insert into wallet.limits as l (player_id, kind, period, effective_at, amount)
         select $1, * from unnest($2::text[], $3::text[], $4::timestamptz[], $5::int8[])
         on conflict (player_id, kind, period, effective_at) do update set amount = excluded.amount`,
        [
          playerId,
          unique.map((c) => c.kind),
          unique.map((c) => c.period),
          unique.map((c) => c.at),
          unique.map((c) => c.amount),
        ],
      );
    });
  }

  /**
   * A player's stakes and wins per hour since `since` (its hour included), computed from their
   * transfers exactly as the ledger records play: single bets from and wins into the player's
   * accounts, in their own hour, leaving out those reversed since. Rows already there are
   * overwritten: these sums are the truth for those hours.
   */
  async #fillPlayHours(
    tx: Queryable,
    playerId: string,
    accountIds: readonly bigint[],
    since: Date,
  ): Promise<void> {
    await tx.query(
      `insert into wallet.play_hours as p (player_id, hour, wagered, won)
       select $1, h.hour, sum(h.wagered), sum(h.won) from (
         select to_timestamp(floor(extract(epoch from t.created_at) / 3600) * 3600) as hour,
                case when t.code = 'bet' and t.debit_account_id = any($2::int8[]) then t.amount else 0 end as wagered,
                case when t.code = 'win' and t.credit_account_id = any($2::int8[]) then t.amount else 0 end as won
           from wallet.transfers t
          where t.kind = 'single' and t.created_at >= $3
            and (t.debit_account_id = any($2::int8[]) or t.credit_account_id = any($2::int8[]))
            and not exists (select 1 from wallet.transfers r where r.reverses_id = t.id)) h
       group by h.hour
       having sum(h.wagered) <> 0 or sum(h.won) <> 0
       on conflict (player_id, hour) do update set wagered = excluded.wagered, won = excluded.won`,
      [playerId, accountIds, since],
    );
  }

  /** Pending transfers past their timeout that nothing has resolved yet, oldest first. */
  async expiredPending(now: Date, limit: number): Promise<string[]> {
    const { rows } = await this.#db.query<{ id: string }>(
      `select p.id from wallet.transfers p
       where p.kind = 'pending' and p.timeout_at <= $1
         and not exists (select 1 from wallet.transfers r where r.pending_id = p.id)
       order by p.timeout_at, p.seq limit $2`,
      [now, limit],
    );
    return rows.map((row) => row.id);
  }

  /** The account's history, newest first, entries older than `beforeVersion`. */
  async statement(accountId: bigint, beforeVersion: bigint, limit: number): Promise<StatementEntry[]> {
    const { rows } = await this.#db.query<TransferRow & { side: 'debit' | 'credit' }>(
      `select * from (
         (select 'debit' as side, ${TRANSFER_COLUMNS} from wallet.transfers
          where debit_account_id = $1 and dr_version < $2 order by dr_version desc limit $3)
         union all
         (select 'credit' as side, ${TRANSFER_COLUMNS} from wallet.transfers
          where credit_account_id = $1 and cr_version < $2 order by cr_version desc limit $3)
       ) h order by case when side = 'debit' then dr_version else cr_version end desc limit $3`,
      [accountId, beforeVersion, limit],
    );
    return rows.map((row) => statementEntry(toTransfer(row), row.side));
  }

  /**
   * Stakes and wins on one player account since `since`. The account's version at `since` bounds
   * the scan (an index range on its history), so the cost follows the play since then, not the
   * account's whole history. A rollback reverses a bet (credit) or a win (debit).
   */
  async playSince(accountId: bigint, since: Date): Promise<{ staked: bigint; won: bigint }> {
    const { rows } = await this.#db.query<{ staked: bigint | null; won: bigint | null }>(
      `with start as (
         select coalesce(max(v), 0) as v from (
           (select dr_version as v from wallet.transfers where debit_account_id = $1 and created_at < $2
            order by dr_version desc limit 1)
           union all
           (select cr_version from wallet.transfers where credit_account_id = $1 and created_at < $2
            order by cr_version desc limit 1)) s)
       select
         coalesce(sum(case when side = 'debit' and code = 'bet' then amount
                           when side = 'credit' and code = 'rollback' and reversed = 'bet' then -amount
                           else 0 end), 0)::int8 as staked,
         coalesce(sum(case when side = 'credit' and code = 'win' then amount
                           when side = 'debit' and code = 'rollback' and reversed = 'win' then -amount
                           else 0 end), 0)::int8 as won
       from (
         select 'debit' as side, t.code, t.amount, r.code as reversed from wallet.transfers t
           left join wallet.transfers r on r.id = t.reverses_id
           where t.debit_account_id = $1 and t.dr_version > (select v from start) and t.kind <> 'pending'
         union all
         select 'credit', t.code, t.amount, r.code from wallet.transfers t
           left join wallet.transfers r on r.id = t.reverses_id
           where t.credit_account_id = $1 and t.cr_version > (select v from start) and t.kind <> 'pending'
       ) h`,
      [accountId, since],
    );
    const row = rows[0];
    return { staked: row?.staked ?? 0n, won: row?.won ?? 0n };
  }

  /** The counters right after the account's last transfer at or before `at` (version 0: none). */
  async countersAt(accountId: bigint, at: Date): Promise<Counters> {
    const { rows } = await this.#db.query<TransferRow & { side: 'debit' | 'credit' }>(
      `select * from (
         (select 'debit' as side, ${TRANSFER_COLUMNS} from wallet.transfers
          where debit_account_id = $1 and created_at <= $2 order by dr_version desc limit 1)
         union all
         (select 'credit' as side, ${TRANSFER_COLUMNS} from wallet.transfers
          where credit_account_id = $1 and created_at <= $2 order by cr_version desc limit 1)
       ) h order by case when side = 'debit' then dr_version else cr_version end desc limit 1`,
      [accountId, at],
    );
    const row = rows[0];
    if (!row)
      return { version: 0n, debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
    const transfer = toTransfer(row);
    return row.side === 'debit' ? transfer.debitAfter : transfer.creditAfter;
  }

  async audit(): Promise<AuditCheck[]> {
    return runAudit(this.#db);
  }
}

export function statementEntry(transfer: StoredTransfer, side: 'debit' | 'credit'): StatementEntry {
  const after = side === 'debit' ? transfer.debitAfter : transfer.creditAfter;
  const balanceAfter = after.creditsPosted - after.debitsPosted;
  const availableAfter = balanceAfter - after.debitsPending;
  const sign = side === 'debit' ? -1n : 1n;
  const posted = transfer.kind === 'single' || transfer.kind === 'reversal' || transfer.kind === 'post';
  return {
    transferId: transfer.id,
    kind: transfer.kind,
    code: transfer.code,
    amount: posted ? sign * transfer.amount : 0n,
    availableChange: 0n, // filled by the service, which knows the previous entry when it needs it
    balanceAfter,
    availableAfter,
    version: after.version,
    metadata: transfer.metadata,
    createdAt: transfer.createdAt,
  };
}

// The invariant audit. Each check is one SQL statement that returns the rows that break it (at
// most a few, for the report); an empty result is a pass.
const AUDIT_SAMPLE_MAX = 5;

const effectsSql = `
  with effects as (
    select t.debit_account_id as account_id,
      case when t.kind in ('single', 'reversal', 'post') then t.amount else 0 end as dp, 0::int8 as cp,
      case t.kind when 'pending' then t.amount when 'post' then -p.amount when 'void' then -t.amount
        when 'expire' then -t.amount else 0 end as dn,
      0::int8 as cn
    from wallet.transfers t left join wallet.transfers p on p.id = t.pending_id
    union all
    select t.credit_account_id, 0::int8,
      case when t.kind in ('single', 'reversal', 'post') then t.amount else 0 end,
      0::int8,
      case t.kind when 'pending' then t.amount when 'post' then -p.amount when 'void' then -t.amount
        when 'expire' then -t.amount else 0 end
    from wallet.transfers t left join wallet.transfers p on p.id = t.pending_id
  )`;

const auditQueries: { name: string; sql: string; describe: (row: Record<string, unknown>) => string }[] = [
  {
    name: 'debits equal credits per currency (posted and pending)',
    sql: `select currency, sum(debits_posted) - sum(credits_posted) as posted_gap, sum(debits_pending) - sum(credits_pending) as pending_gap
          from wallet.accounts group by currency
          having sum(debits_posted) <> sum(credits_posted) or sum(debits_pending) <> sum(credits_pending)`,
    describe: (r) =>
      `${String(r['currency'])}: posted gap ${String(r['posted_gap'])}, pending gap ${String(r['pending_gap'])}`,
  },
  {
    name: 'every transfer is between two accounts of its own currency',
    sql: `select t.id from wallet.transfers t join wallet.accounts d on d.id = t.debit_account_id
          join wallet.accounts c on c.id = t.credit_account_id
          where d.currency <> t.currency or c.currency <> t.currency limit ${AUDIT_SAMPLE_MAX}`,
    describe: (r) => `transfer ${String(r['id'])}`,
  },
  {
    name: 'every balance equals the sum of its history',
    sql: `${effectsSql}
          select a.id, a.key from wallet.accounts a
          left join (select account_id, sum(dp) dp, sum(cp) cp, sum(dn) dn, sum(cn) cn from effects group by account_id) s
            on s.account_id = a.id
          where a.debits_posted <> coalesce(s.dp, 0) or a.credits_posted <> coalesce(s.cp, 0)
             or a.debits_pending <> coalesce(s.dn, 0) or a.credits_pending <> coalesce(s.cn, 0)
          limit ${AUDIT_SAMPLE_MAX}`,
    describe: (r) => `account ${String(r['key'])}`,
  },
  {
    name: 'guarded accounts within their bounds',
    sql: `select key from wallet.accounts
          where guarded and debits_posted::numeric + debits_pending > credits_posted::numeric + overdraft_limit
          limit ${AUDIT_SAMPLE_MAX}`,
    describe: (r) => `account ${String(r['key'])}`,
  },
  {
    name: 'history chains unbroken (versions 1..n, each entry follows from the one before)',
    sql: `with history as (
            select t.debit_account_id as account_id, t.dr_version as version, t.dr_debits_posted as dp, t.dr_credits_posted as cp,
              t.dr_debits_pending as dn, t.dr_credits_pending as cn,
              case when t.kind in ('single', 'reversal', 'post') then t.amount else 0 end as ddp, 0::int8 as dcp,
              case t.kind when 'pending' then t.amount when 'post' then -p.amount when 'void' then -t.amount
                when 'expire' then -t.amount else 0 end as ddn, 0::int8 as dcn
            from wallet.transfers t left join wallet.transfers p on p.id = t.pending_id
            union all
            select t.credit_account_id, t.cr_version, t.cr_debits_posted, t.cr_credits_posted, t.cr_debits_pending, t.cr_credits_pending,
              0::int8, case when t.kind in ('single', 'reversal', 'post') then t.amount else 0 end,
              0::int8, case t.kind when 'pending' then t.amount when 'post' then -p.amount when 'void' then -t.amount
                when 'expire' then -t.amount else 0 end
            from wallet.transfers t left join wallet.transfers p on p.id = t.pending_id
          ), chained as (
            select h.*, row_number() over w as position,
              lag(dp, 1, 0::int8) over w as prev_dp, lag(cp, 1, 0::int8) over w as prev_cp,
              lag(dn, 1, 0::int8) over w as prev_dn, lag(cn, 1, 0::int8) over w as prev_cn
            from history h window w as (partition by account_id order by version)
          )
          select c.account_id, c.version from chained c
          where c.version <> c.position or c.dp <> c.prev_dp + c.ddp or c.cp <> c.prev_cp + c.dcp
             or c.dn <> c.prev_dn + c.ddn or c.cn <> c.prev_cn + c.dcn
          union all
          select a.id, a.version from wallet.accounts a
          left join (select account_id, max(version) as v, count(*) as n from history group by account_id) l on l.account_id = a.id
          where a.version <> coalesce(l.v, 0) or a.version <> coalesce(l.n, 0)
          limit ${AUDIT_SAMPLE_MAX}`,
    describe: (r) => `account ${String(r['account_id'])} at version ${String(r['version'])}`,
  },
  {
    name: 'each pending transfer resolved at most once, never more than reserved',
    sql: `select r.id from wallet.transfers r join wallet.transfers p on p.id = r.pending_id
          where p.kind <> 'pending' or (r.kind = 'post' and r.amount > p.amount) or (r.kind in ('void', 'expire') and r.amount <> p.amount)
             or r.debit_account_id <> p.debit_account_id or r.credit_account_id <> p.credit_account_id
          limit ${AUDIT_SAMPLE_MAX}`,
    describe: (r) => `resolution ${String(r['id'])}`,
  },
  {
    name: 'each reversal mirrors a posted transfer',
    sql: `select r.id from wallet.transfers r join wallet.transfers o on o.id = r.reverses_id
          where o.kind not in ('single', 'post') or r.amount <> o.amount
             or r.debit_account_id <> o.credit_account_id or r.credit_account_id <> o.debit_account_id
          limit ${AUDIT_SAMPLE_MAX}`,
    describe: (r) => `reversal ${String(r['id'])}`,
  },
  {
    name: 'clearing accounts at zero when their flows are complete',
    sql: `select a.key from wallet.accounts a
          where a.kind = 'withdrawal_hold' and (a.credits_posted <> a.debits_posted or a.debits_pending <> 0)
          limit ${AUDIT_SAMPLE_MAX}`,
    describe: (r) => `account ${String(r['key'])}`,
  },
];

async function runAudit(db: Db): Promise<AuditCheck[]> {
  // One repeatable-read snapshot: every check sees the same instant, however long they take.
  return db.transaction(
    async (tx) => {
      const checks: AuditCheck[] = [];
      for (const query of auditQueries) {
        const { rows } = await tx.query<Record<string, unknown>>(query.sql);
        checks.push({
          name: query.name,
          ok: rows.length === 0,
          detail: rows.length === 0 ? 'ok' : rows.map(query.describe).join('; '),
        });
      }
      return checks;
    },
    { isolation: 'repeatable read' },
  );
}
