-- The wallet ledger, modelled on TigerBeetle's accounts and transfers and stored in PostgreSQL.
-- Every constraint here is also asserted in code (pair assertions): the code checks before it
-- writes, the database refuses what the code should never have tried.
create schema if not exists wallet;

-- One account per (owner, kind, currency). The four counters only ever grow; a balance is a
-- difference of two of them (credit-normal for player accounts: credits - debits).
create table wallet.accounts (
  id bigint generated always as identity primary key,
  key text not null unique,
  owner_type text not null check (owner_type in ('player', 'system')),
  owner_id text not null,
  kind text not null,
  currency text not null,
  -- debits_must_not_exceed_credits: pending debits count against the balance.
  guarded boolean not null,
  -- How far below zero a guarded account may go, and only through transfers that allow it
  -- (reversals of credits, e.g. a rolled-back win). Ordinary debits never use it.
  overdraft_limit bigint not null default 0 check (overdraft_limit >= 0),
  debits_posted bigint not null default 0 check (debits_posted >= 0),
  credits_posted bigint not null default 0 check (credits_posted >= 0),
  debits_pending bigint not null default 0 check (debits_pending >= 0),
  credits_pending bigint not null default 0 check (credits_pending >= 0),
  -- Number of transfers that touched the account: the last entry of its history chain.
  version bigint not null default 0 check (version >= 0),
  created_at timestamptz not null default now(),
  -- Written so that no intermediate value can overflow int8: the code keeps
  -- debits_posted + debits_pending within int8, and the difference below is then bounded too.
  constraint accounts_guard check (
    not guarded or debits_posted + debits_pending - credits_posted <= overdraft_limit
  )
);
create index accounts_owner on wallet.accounts (owner_type, owner_id);

-- Immutable transfers. Each row also records both accounts' counters right after it (their
-- history entry, like TigerBeetle's AccountBalance), so a statement, the balance at a past time
-- and the unbroken-chain audit all read from here.
--   kind single  : posted at once
--   kind pending : reserved into the pending counters until posted, voided or expired
--   kind post    : resolves pending_id, posting amount (<= the pending amount; the rest is released)
--   kind void    : resolves pending_id, releasing it all
--   kind expire  : resolves pending_id after its timeout, releasing it all
--   kind reversal: a posted transfer the other way round for reverses_id (at most once)
create table wallet.transfers (
  seq bigint generated always as identity primary key,
  id text not null unique check (length(id) between 1 and 256),
  kind text not null check (kind in ('single', 'pending', 'post', 'void', 'expire', 'reversal')),
  code text not null,
  debit_account_id bigint not null,
  credit_account_id bigint not null,
  amount bigint not null check (amount >= 0),
  currency text not null,
  pending_id text,
  reverses_id text,
  allow_overdraft boolean not null default false,
  timeout_at timestamptz,
  metadata jsonb not null default '{}',
  request_hash text not null,
  created_at timestamptz not null,
  dr_version bigint not null,
  dr_debits_posted bigint not null,
  dr_credits_posted bigint not null,
  dr_debits_pending bigint not null,
  dr_credits_pending bigint not null,
  cr_version bigint not null,
  cr_debits_posted bigint not null,
  cr_credits_posted bigint not null,
  cr_debits_pending bigint not null,
  cr_credits_pending bigint not null,
  constraint transfers_distinct_accounts check (debit_account_id <> credit_account_id),
  constraint transfers_amount_positive check (kind in ('post', 'void', 'expire') or amount > 0),
  constraint transfers_pending_ref check ((kind in ('post', 'void', 'expire')) = (pending_id is not null)),
  constraint transfers_reversal_ref check ((kind = 'reversal') = (reverses_id is not null))
);
-- A pending transfer resolves at most once; a transfer is reversed at most once.
create unique index transfers_one_resolution on wallet.transfers (pending_id) where pending_id is not null;
create unique index transfers_one_reversal on wallet.transfers (reverses_id) where reverses_id is not null;
-- Each account's history chain: versions 1, 2, 3… with no gaps or repeats.
create unique index transfers_debit_history on wallet.transfers (debit_account_id, dr_version);
create unique index transfers_credit_history on wallet.transfers (credit_account_id, cr_version);
create index transfers_pending_timeout on wallet.transfers (timeout_at) where kind = 'pending' and timeout_at is not null;

-- Refused requests are remembered under their id (TigerBeetle's id_already_failed): the same
-- request again gets the same refusal, even if it would succeed now.
create table wallet.refusals (
  id text primary key check (length(id) between 1 and 256),
  request_hash text not null,
  code text not null,
  created_at timestamptz not null
);

-- The per-player policy the debit path enforces in the same transaction as the funds check.
-- The player-accounts context sets it; no row means no play (fail closed).
create table wallet.policies (
  player_id text primary key,
  status text not null,
  kyc_verified boolean not null,
  updated_at timestamptz not null default now()
);

-- Responsible-gambling limits over rolling windows. Several rows per (player, kind, period):
-- the one in force is the latest whose effective_at has passed, so a raised limit scheduled
-- 24 hours ahead applies exactly then without a timer. amount null = no limit.
create table wallet.limits (
  player_id text not null,
  kind text not null check (kind in ('loss', 'wager')),
  period text not null check (period in ('day', 'week', 'month')),
  effective_at timestamptz not null,
  amount bigint check (amount is null or amount >= 0),
  primary key (player_id, kind, period, effective_at)
);

-- Stakes and wins per player and hour, for the rolling limit windows: a window sums at most
-- 720 rows (30 days), whatever the player's volume.
create table wallet.play_hours (
  player_id text not null,
  hour timestamptz not null,
  wagered bigint not null default 0,
  won bigint not null default 0,
  primary key (player_id, hour)
);
