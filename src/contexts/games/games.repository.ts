// SQL for the games schema only. Reads that decide a provider call run inside the engine's batch
// transaction (`q` is then that transaction: PGlite has one connection, and the decision must see
// what the locks protect); catalogue reads and writes run on the pool.
import { createHash } from 'node:crypto';
import { readOne, rowsRead } from '../../platform/db/index.ts';
import type { Queryable, Read, Write } from '../../platform/db/index.ts';
import type { GameType, RoundDetail, RoundTransaction, RoundView } from './games.contract.ts';

export interface ProviderRow {
  provider_id: string;
  name: string;
  wallet_secret_sealed: string;
  enabled: boolean;
  launch_url_template: string | null;
  health_url: string | null;
  protocol: string;
  protocol_config: Record<string, string>;
  created_at: Date;
  updated_at: Date;
}

export interface GameRow {
  game_id: string;
  provider_id: string;
  name: string;
  type: GameType;
  rtp: string;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A game with the switches above it, as a bet needs them. */
export interface CatalogueEntry {
  gameId: string;
  providerId: string;
  gameEnabled: boolean;
  providerEnabled: boolean;
}

export interface SessionRow {
  token_hash: string;
  session_id: string;
  player_id: string;
  game_id: string;
  provider_id: string;
  currency: string;
  created_at: Date;
  expires_at: Date;
}

export interface RoundRow {
  round_id: string;
  provider_id: string;
  player_id: string;
  game_id: string;
  provider_round_id: string;
  currency: string;
  status: 'open' | 'closed';
  total_bet: bigint;
  total_win: bigint;
  bets: bigint;
  live_bets: bigint;
  opened_at: Date;
  last_activity_at: Date;
  closed_at: Date | null;
  closed_by: 'provider' | 'housekeeping' | null;
}

export interface TransactionRow {
  provider_id: string;
  transaction_id: string;
  kind: 'bet' | 'win' | 'rollback';
  request_hash: string;
  player_id: string;
  game_id: string;
  provider_round_id: string;
  round_id: string | null;
  platform_transaction_id: string;
  amount: bigint;
  currency: string | null;
  outcome: 'ok' | 'refused';
  code: string | null;
  reference_transaction_id: string | null;
  wallet_transfer_id: string | null;
  rolled_back_by: string | null;
  balance: bigint | null;
  balance_currency: string | null;
  created_at: Date;
}

export interface TombstoneRow {
  provider_id: string;
  transaction_id: string;
  rollback_transaction_id: string;
  player_id: string;
  created_at: Date;
}

/** (provider, id) as one map key: ids may hold any character but NUL never reaches here twice. */
export function pairKey(providerId: string, id: string): string {
  return `${providerId}\u0000${id}`;
}

export function roundKey(
  providerId: string,
  playerId: string,
  gameId: string,
  providerRoundId: string,
): string {
  return [providerId, playerId, gameId, providerRoundId].join('\u0000');
}

/** An int8 lock key per (provider, player): every call about one player serialises on it. */
export function playerLockKey(providerId: string, playerId: string): bigint {
  return createHash('sha256').update(pairKey(providerId, playerId), 'utf8').digest().readBigInt64BE(0);
}

const ROUND_COLUMNS = `round_id::text, provider_id, player_id, game_id, provider_round_id, currency, status,
  total_bet, total_win, bets, live_bets, opened_at, last_activity_at, closed_at, closed_by`;
const TRANSACTION_COLUMNS = `provider_id, transaction_id, kind, request_hash, player_id, game_id,
  provider_round_id, round_id::text, platform_transaction_id::text, amount, currency, outcome, code,
  reference_transaction_id, wallet_transfer_id, rolled_back_by, balance, balance_currency, created_at`;

// ---- catalogue ------------------------------------------------------------------------------

export async function insertProvider(q: Queryable, row: ProviderRow): Promise<boolean> {
  const { rowCount } = await q.query(
    `insert into games.providers (provider_id, name, wallet_secret_sealed, enabled, launch_url_template,
       health_url, protocol, protocol_config, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10) on conflict (provider_id) do nothing`,
    [
      row.provider_id,
      row.name,
      row.wallet_secret_sealed,
      row.enabled,
      row.launch_url_template,
      row.health_url,
      row.protocol,
      JSON.stringify(row.protocol_config),
      row.created_at,
      row.updated_at,
    ],
  );
  return rowCount === 1;
}

export async function updateProvider(q: Queryable, row: ProviderRow): Promise<void> {
  await q.query(
    `update games.providers set name = $2, wallet_secret_sealed = $3, enabled = $4, launch_url_template = $5,
       health_url = $6, updated_at = $7 where provider_id = $1`,
    [
      row.provider_id,
      row.name,
      row.wallet_secret_sealed,
      row.enabled,
      row.launch_url_template,
      row.health_url,
      row.updated_at,
    ],
  );
}

export async function providerById(
  q: Queryable,
  providerId: string,
  options: { lock?: boolean } = {},
): Promise<ProviderRow | undefined> {
  const { rows } = await q.query<ProviderRow>(
    `select * from games.providers where provider_id = $1${options.lock ? ' for update' : ''}`,
    [providerId],
  );
  return rows[0];
}

export async function listProviders(q: Queryable): Promise<ProviderRow[]> {
  const { rows } = await q.query<ProviderRow>('select * from games.providers order by provider_id');
  return rows;
}

export async function insertGame(q: Queryable, row: GameRow): Promise<boolean> {
  const { rowCount } = await q.query(
    `insert into games.games (game_id, provider_id, name, type, rtp, enabled, created_at, updated_at)
     values ($1, $2, $3, $4, $5::numeric, $6, $7, $8) on conflict (game_id) do nothing`,
    [row.game_id, row.provider_id, row.name, row.type, row.rtp, row.enabled, row.created_at, row.updated_at],
  );
  return rowCount === 1;
}

export async function updateGame(q: Queryable, row: GameRow): Promise<void> {
  await q.query(
    `update games.games set name = $2, rtp = $3::numeric, enabled = $4, updated_at = $5 where game_id = $1`,
    [row.game_id, row.name, row.rtp, row.enabled, row.updated_at],
  );
}

export async function gameById(
  q: Queryable,
  gameId: string,
  options: { lock?: boolean } = {},
): Promise<GameRow | undefined> {
  const { rows } = await q.query<GameRow>(
    `select game_id, provider_id, name, type, rtp::text, enabled, created_at, updated_at
       from games.games where game_id = $1${options.lock ? ' for update' : ''}`,
    [gameId],
  );
  return rows[0];
}

export async function listGames(q: Queryable): Promise<(GameRow & { provider_enabled: boolean })[]> {
  const { rows } = await q.query<GameRow & { provider_enabled: boolean }>(
    `select g.game_id, g.provider_id, g.name, g.type, g.rtp::text, g.enabled, g.created_at, g.updated_at,
            coalesce(p.enabled, false) as provider_enabled
       from games.games g left join games.providers p on p.provider_id = g.provider_id
      order by g.name, g.game_id`,
  );
  return rows;
}

export function catalogueRead(gameIds: readonly string[]): Read<Map<string, CatalogueEntry>> {
  if (gameIds.length === 0) return { value: new Map() };
  type Row = { game_id: string; provider_id: string; enabled: boolean; provider_enabled: boolean };
  return rowsRead(
    {
      text: `select g.game_id, g.provider_id, g.enabled, coalesce(p.enabled, false) as provider_enabled
       from games.games g left join games.providers p on p.provider_id = g.provider_id
      where g.game_id = any($1::text[])`,
      params: [[...new Set(gameIds)]],
    },
    (rows: Row[]) =>
      new Map(
        rows.map((row) => [
          row.game_id,
          {
            gameId: row.game_id,
            providerId: row.provider_id,
            gameEnabled: row.enabled,
            providerEnabled: row.provider_enabled,
          },
        ]),
      ),
  );
}

export function gamingEnabledRead(): Read<boolean> {
  return rowsRead(
    { text: `select value from games.settings where key = 'gaming_enabled'` },
    (rows: { value: unknown }[]) => rows[0]?.value !== false,
  );
}

export function gamingEnabled(q: Queryable): Promise<boolean> {
  return readOne(q, gamingEnabledRead());
}

export async function setGamingEnabled(q: Queryable, enabled: boolean, now: Date): Promise<void> {
  await q.query(
    `insert into games.settings (key, value, updated_at) values ('gaming_enabled', $1::jsonb, $2)
     on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
    [JSON.stringify(enabled), now],
  );
}

// ---- sessions -------------------------------------------------------------------------------

export async function insertSession(q: Queryable, row: SessionRow): Promise<void> {
  await q.query(
    `insert into games.sessions (token_hash, session_id, player_id, game_id, provider_id, currency, created_at, expires_at)
     values ($1, $2::uuid, $3, $4, $5, $6, $7, $8)`,
    [
      row.token_hash,
      row.session_id,
      row.player_id,
      row.game_id,
      row.provider_id,
      row.currency,
      row.created_at,
      row.expires_at,
    ],
  );
}

export function sessionsRead(hashes: readonly string[]): Read<Map<string, SessionRow>> {
  if (hashes.length === 0) return { value: new Map() };
  return rowsRead(
    {
      text: `select token_hash, session_id::text, player_id, game_id, provider_id, currency, created_at, expires_at
       from games.sessions where token_hash = any($1::text[])`,
      params: [[...new Set(hashes)]],
    },
    (rows: SessionRow[]) => new Map(rows.map((row) => [row.token_hash, row])),
  );
}

export function sessionsByHash(q: Queryable, hashes: readonly string[]): Promise<Map<string, SessionRow>> {
  return readOne(q, sessionsRead(hashes));
}

/** Sessions expired before `before` are of no use to anyone; removed in bounded slices. */
export async function deleteExpiredSessions(q: Queryable, before: Date, limit: number): Promise<number> {
  const { rowCount } = await q.query(
    `delete from games.sessions where token_hash in (
       select token_hash from games.sessions where expires_at < $1 limit $2)`,
    [before, limit],
  );
  return rowCount;
}

// ---- the engine's batch (inside its transaction) -----------------------------------------------
// The batch's reads are Read<T>s and its writes Writes, so that the engine sends each group as
// one pipeline: one round trip for the locks and everything read under them, one for the writes.
// Every key lookup is a LATERAL subquery with LIMIT 1, which the planner cannot turn into a hash
// join: the cached generic plan of `(a, b) in (select * from unnest(…))`, made while a table was
// small, was a sequential scan of it on every batch.

/** Transaction-scoped advisory locks, taken in ascending order so two batches never wait in a cycle. */
export function playersLockRead(keys: readonly bigint[]): Read<void> {
  const sorted = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0) return { value: undefined };
  return rowsRead(
    { text: 'select pg_advisory_xact_lock(k) from unnest($1::int8[]) as k', params: [sorted] },
    () => undefined,
  );
}

export function transactionsRead(
  pairs: readonly (readonly [string, string])[],
): Read<Map<string, TransactionRow>> {
  if (pairs.length === 0) return { value: new Map() };
  return rowsRead(
    {
      text: `select t.* from unnest($1::text[], $2::text[]) as k(provider_id, transaction_id)
        cross join lateral (select ${TRANSACTION_COLUMNS} from games.transactions
          where provider_id = k.provider_id and transaction_id = k.transaction_id limit 1) t`,
      params: [pairs.map((pair) => pair[0]), pairs.map((pair) => pair[1])],
    },
    (rows: TransactionRow[]) =>
      new Map(rows.map((row) => [pairKey(row.provider_id, row.transaction_id), row])),
  );
}

export function tombstonesRead(
  pairs: readonly (readonly [string, string])[],
): Read<Map<string, TombstoneRow>> {
  if (pairs.length === 0) return { value: new Map() };
  return rowsRead(
    {
      text: `select t.* from unnest($1::text[], $2::text[]) as k(provider_id, transaction_id)
        cross join lateral (select provider_id, transaction_id, rollback_transaction_id, player_id, created_at
          from games.tombstones where provider_id = k.provider_id and transaction_id = k.transaction_id limit 1) t`,
      params: [pairs.map((pair) => pair[0]), pairs.map((pair) => pair[1])],
    },
    (rows: TombstoneRow[]) => new Map(rows.map((row) => [pairKey(row.provider_id, row.transaction_id), row])),
  );
}

/**
 * Rounds by natural key, and the rounds of the transactions that rollbacks reference, locked in
 * ascending id against housekeeping and other nodes. The referenced rounds are found in the same
 * statement (not from an earlier read's answer), so the whole read can share one pipeline.
 */
export function roundsLockRead(
  keys: readonly (readonly [string, string, string, string])[],
  references: readonly (readonly [string, string])[],
): Read<RoundRow[]> {
  if (keys.length === 0 && references.length === 0) return { value: [] };
  return rowsRead(
    {
      text: `select ${ROUND_COLUMNS} from games.rounds
      where round_id = any(array(
        select r.round_id from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as k(p, pl, g, pr)
          cross join lateral (select round_id from games.rounds where provider_id = k.p and player_id = k.pl
                                and game_id = k.g and provider_round_id = k.pr limit 1) r
        union all
        select t.round_id from unnest($5::text[], $6::text[]) as x(p, id)
          cross join lateral (select round_id from games.transactions
                               where provider_id = x.p and transaction_id = x.id limit 1) t))
      order by round_id for update`,
      params: [
        keys.map((k) => k[0]),
        keys.map((k) => k[1]),
        keys.map((k) => k[2]),
        keys.map((k) => k[3]),
        references.map((r) => r[0]),
        references.map((r) => r[1]),
      ],
    },
    (rows: RoundRow[]) => rows,
  );
}

export function insertRoundsWrite(rounds: readonly RoundRow[]): Write | undefined {
  if (rounds.length === 0) return undefined;
  return {
    statement: {
      text: `insert into games.rounds (round_id, provider_id, player_id, game_id, provider_round_id, currency, status,
       total_bet, total_win, bets, live_bets, opened_at, last_activity_at, closed_at, closed_by)
     select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
       $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::timestamptz[], $13::timestamptz[],
       $14::timestamptz[], $15::text[])`,
      params: roundColumns(rounds),
    },
  };
}

export function updateRoundsWrite(rounds: readonly RoundRow[]): Write | undefined {
  if (rounds.length === 0) return undefined;
  return {
    statement: {
      text: `update games.rounds r set status = v.status, total_bet = v.total_bet, total_win = v.total_win,
       bets = v.bets, live_bets = v.live_bets, last_activity_at = v.last_activity_at,
       closed_at = v.closed_at, closed_by = v.closed_by
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
       $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::timestamptz[], $13::timestamptz[],
       $14::timestamptz[], $15::text[])
       as v(round_id, provider_id, player_id, game_id, provider_round_id, currency, status, total_bet,
            total_win, bets, live_bets, opened_at, last_activity_at, closed_at, closed_by)
     where r.round_id = v.round_id`,
      params: roundColumns(rounds),
    },
  };
}

function roundColumns(rounds: readonly RoundRow[]): unknown[] {
  return [
    rounds.map((r) => r.round_id),
    rounds.map((r) => r.provider_id),
    rounds.map((r) => r.player_id),
    rounds.map((r) => r.game_id),
    rounds.map((r) => r.provider_round_id),
    rounds.map((r) => r.currency),
    rounds.map((r) => r.status),
    rounds.map((r) => r.total_bet),
    rounds.map((r) => r.total_win),
    rounds.map((r) => r.bets),
    rounds.map((r) => r.live_bets),
    rounds.map((r) => r.opened_at),
    rounds.map((r) => r.last_activity_at),
    rounds.map((r) => r.closed_at),
    rounds.map((r) => r.closed_by),
  ];
}

export function insertTransactionsWrite(rows: readonly TransactionRow[]): Write | undefined {
  if (rows.length === 0) return undefined;
  const column = <K extends keyof TransactionRow>(key: K) => rows.map((row) => row[key]);
  return {
    statement: {
      text: `insert into games.transactions (provider_id, transaction_id, kind, request_hash, player_id, game_id,
       provider_round_id, round_id, platform_transaction_id, amount, currency, outcome, code,
       reference_transaction_id, wallet_transfer_id, rolled_back_by, balance, balance_currency, created_at)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
       $8::uuid[], $9::uuid[], $10::int8[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
       $16::text[], $17::int8[], $18::text[], $19::timestamptz[])`,
      params: [
        column('provider_id'),
        column('transaction_id'),
        column('kind'),
        column('request_hash'),
        column('player_id'),
        column('game_id'),
        column('provider_round_id'),
        column('round_id'),
        column('platform_transaction_id'),
        column('amount'),
        column('currency'),
        column('outcome'),
        column('code'),
        column('reference_transaction_id'),
        column('wallet_transfer_id'),
        column('rolled_back_by'),
        column('balance'),
        column('balance_currency'),
        column('created_at'),
      ],
    },
  };
}

export function markRolledBackWrite(
  marks: readonly { providerId: string; transactionId: string; rollbackId: string }[],
): Write | undefined {
  if (marks.length === 0) return undefined;
  return {
    statement: {
      text: `update games.transactions t set rolled_back_by = v.rollback_id
       from unnest($1::text[], $2::text[], $3::text[]) as v(provider_id, transaction_id, rollback_id)
      where t.provider_id = v.provider_id and t.transaction_id = v.transaction_id and t.rolled_back_by is null`,
      params: [
        marks.map((m) => m.providerId),
        marks.map((m) => m.transactionId),
        marks.map((m) => m.rollbackId),
      ],
    },
    // Every mark was decided under the player's lock from a row that was not rolled back.
    check: ({ rowCount }) => {
      if (rowCount !== marks.length) throw new Error('a transaction was rolled back twice');
    },
  };
}

export function insertTombstonesWrite(rows: readonly TombstoneRow[]): Write | undefined {
  if (rows.length === 0) return undefined;
  return {
    statement: {
      text: `insert into games.tombstones (provider_id, transaction_id, rollback_transaction_id, player_id, created_at)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])`,
      params: [
        rows.map((r) => r.provider_id),
        rows.map((r) => r.transaction_id),
        rows.map((r) => r.rollback_transaction_id),
        rows.map((r) => r.player_id),
        rows.map((r) => r.created_at),
      ],
    },
  };
}

/** Runs a batch's writes as one pipeline (one round trip), in order, then checks their answers. */
// ---- rounds as players and operators read them ----------------------------------------------

export function toRoundView(row: RoundRow): RoundView {
  return {
    roundId: row.round_id,
    providerId: row.provider_id,
    providerRoundId: row.provider_round_id,
    gameId: row.game_id,
    playerId: row.player_id,
    currency: row.currency,
    status: row.status,
    totalBet: row.total_bet,
    totalWin: row.total_win,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    closedBy: row.closed_by,
  };
}

export async function roundsOfPlayer(
  q: Queryable,
  playerId: string,
  beforeRoundId: string | undefined,
  limit: number,
): Promise<RoundRow[]> {
  const { rows } = await q.query<RoundRow>(
    `select ${ROUND_COLUMNS} from games.rounds
      where player_id = $1 and ($2::uuid is null or round_id < $2::uuid)
      order by round_id desc limit $3`,
    [playerId, beforeRoundId ?? null, limit],
  );
  return rows;
}

export async function roundDetail(
  q: Queryable,
  roundId: string,
  playerId: string | undefined,
): Promise<RoundDetail | undefined> {
  const { rows } = await q.query<RoundRow>(
    `select ${ROUND_COLUMNS} from games.rounds where round_id = $1::uuid and ($2::text is null or player_id = $2)`,
    [roundId, playerId ?? null],
  );
  const round = rows[0];
  if (!round) return undefined;
  const transactions = await q.query<TransactionRow>(
    `select ${TRANSACTION_COLUMNS} from games.transactions where round_id = $1::uuid
      order by created_at, platform_transaction_id`,
    [roundId],
  );
  return {
    ...toRoundView(round),
    transactions: transactions.rows.map((row): RoundTransaction => ({
      transactionId: row.transaction_id,
      platformTransactionId: row.platform_transaction_id,
      kind: row.kind,
      amount: row.amount,
      currency: row.currency,
      outcome: row.outcome,
      code: row.code,
      referenceTransactionId: row.reference_transaction_id,
      rolledBack: row.rolled_back_by !== null,
      createdAt: row.created_at,
    })),
  };
}

/** Closes open rounds idle since before `cutoff`, at most `limit` of them; returns their ids. */
export async function closeStaleRounds(
  q: Queryable,
  cutoff: Date,
  now: Date,
  limit: number,
): Promise<string[]> {
  const { rows } = await q.query<{ round_id: string }>(
    `update games.rounds set status = 'closed', closed_at = $2, closed_by = 'housekeeping'
      where round_id in (
        select round_id from games.rounds where status = 'open' and last_activity_at < $1
         order by last_activity_at limit $3 for update skip locked)
      returning round_id::text`,
    [cutoff, now, limit],
  );
  return rows.map((row) => row.round_id);
}
