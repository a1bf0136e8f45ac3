-- Game aggregation: providers (studios) and their catalogue, game sessions, rounds, and every
-- provider wallet call with the answer it got (the permanent idempotency record). Money lives in
-- the wallet; these rows commit in the same transaction as the transfers they describe.
create schema if not exists games;

create table games.providers (
  provider_id text primary key,
  name text not null,
  -- AES-256-GCM under the platform's secret key: a database read alone does not reveal it.
  wallet_secret_sealed text not null,
  enabled boolean not null default true,
  launch_url_template text,
  -- Optional: polled through the provider's circuit breaker (isolation, back-office health).
  health_url text,
  -- Wire protocol of the provider's wallet calls: 'native' (contract §3) or an adapter's name.
  protocol text not null default 'native',
  -- Adapter settings (e.g. the provider's public key for an RSA-signed protocol); no secrets.
  protocol_config jsonb not null default '{}',
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create table games.games (
  game_id text primary key,
  provider_id text not null,
  name text not null,
  type text not null check (type in ('slot', 'table', 'live', 'instant')),
  -- Percent with up to two decimals (96.50).
  rtp numeric(5, 2) not null check (rtp > 0 and rtp <= 100),
  enabled boolean not null default true,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index games_by_provider on games.games (provider_id);

-- Platform-wide switches; 'gaming_enabled' turns every game off at once.
create table games.settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null
);
insert into games.settings (key, value, updated_at) values ('gaming_enabled', 'true', now());

create table games.sessions (
  -- SHA-256 of the token: the token itself is never stored.
  token_hash text primary key,
  session_id uuid not null unique,
  player_id text not null,
  game_id text not null,
  provider_id text not null,
  currency text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index sessions_expiry on games.sessions (expires_at);

create table games.rounds (
  round_id uuid primary key,
  provider_id text not null,
  player_id text not null,
  game_id text not null,
  provider_round_id text not null,
  currency text not null,
  status text not null check (status in ('open', 'closed')),
  -- Net of rollbacks, minor units.
  total_bet bigint not null default 0 check (total_bet >= 0),
  total_win bigint not null default 0 check (total_win >= 0),
  -- Accepted bets, and those not rolled back (a win needs a live bet).
  bets bigint not null default 0,
  live_bets bigint not null default 0 check (live_bets >= 0 and live_bets <= bets),
  opened_at timestamptz not null,
  last_activity_at timestamptz not null,
  closed_at timestamptz,
  closed_by text check (closed_by in ('provider', 'housekeeping')),
  unique (provider_id, player_id, game_id, provider_round_id)
);
create index rounds_of_player on games.rounds (player_id, round_id desc);
create index rounds_stale on games.rounds (last_activity_at) where status = 'open';

create table games.transactions (
  provider_id text not null,
  transaction_id text not null,
  kind text not null check (kind in ('bet', 'win', 'rollback')),
  -- Identity of the request (kind and every field): same id, other content → duplicate.
  request_hash text not null,
  player_id text not null,
  game_id text not null,
  provider_round_id text not null,
  round_id uuid,
  platform_transaction_id uuid not null unique,
  amount bigint not null,
  currency text,
  -- 'ok' moved money (or recorded a zero win / a rollback), 'refused' answered an error code.
  outcome text not null check (outcome in ('ok', 'refused')),
  code text,
  reference_transaction_id text,
  wallet_transfer_id text,
  -- The rollback that cancelled this bet or win.
  rolled_back_by text,
  -- The answer given (balance then), replayed for an identical retry.
  balance bigint,
  balance_currency text,
  created_at timestamptz not null,
  primary key (provider_id, transaction_id)
);
create index transactions_of_round on games.transactions (round_id, created_at) where round_id is not null;

-- A rollback of a transaction we have never seen: a bet or win that arrives later with this id
-- moves no money (contract §3 rule 4).
create table games.tombstones (
  provider_id text not null,
  transaction_id text not null,
  rollback_transaction_id text not null,
  player_id text not null,
  created_at timestamptz not null,
  primary key (provider_id, transaction_id)
);
