-- Player accounts: identity, credentials, sessions, KYC, responsible-gambling limits and
-- restrictions. Money lives in the wallet; this schema holds who a player is and what they
-- may do, and pushes the part the debit path needs (status, KYC, limits) to the wallet.
create schema if not exists pam;

create table pam.players (
  id uuid primary key,
  email text not null,
  -- Lower-cased, trimmed: one account per address whatever its spelling.
  email_key text not null unique,
  password_hash text not null,
  first_name text not null,
  last_name text not null,
  date_of_birth date not null,
  -- lower(first)|lower(last)|dob: finds a self-excluded person registering with another address.
  identity_key text not null,
  country text not null,
  currency text not null,
  operator_status text not null default 'active'
    check (operator_status in ('active', 'locked', 'suspended', 'closed')),
  -- The player's own restriction, in force until restricted_until (not cancellable early).
  restriction text check (restriction in ('timed_out', 'self_excluded')),
  restricted_until timestamptz,
  kyc_status text not null default 'unverified'
    check (kyc_status in ('unverified', 'pending', 'verified', 'rejected')),
  kyc_verification_id uuid,
  reality_check_minutes int check (reality_check_minutes between 5 and 1440),
  -- Bumped by every change the wallet must learn (status, KYC, limits); wallet_synced_version
  -- catches up once the wallet has it, and a sweeper retries whatever a crash left behind.
  version bigint not null default 1,
  wallet_synced_version bigint not null default 0,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  constraint players_restriction_until check ((restriction is null) = (restricted_until is null))
);
create index players_identity_idx on pam.players (identity_key);
create index players_unsynced_idx on pam.players (id) where wallet_synced_version < version;
create index players_restricted_idx on pam.players (restricted_until) where restricted_until is not null;

-- A login session: one refresh-token family. The current refresh token is stored hashed; tokens
-- it replaced stay in refresh_tokens_used so that presenting one again (a stolen token replayed)
-- revokes the whole family.
create table pam.sessions (
  id uuid primary key,
  player_id uuid not null,
  refresh_hash text not null unique,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoke_reason text,
  ip text,
  device_id text,
  user_agent text
);
create index sessions_player_idx on pam.sessions (player_id, created_at desc);

create table pam.refresh_tokens_used (
  hash text primary key,
  session_id uuid not null,
  used_at timestamptz not null
);

-- Failed logins per address (also for addresses with no account, so the lock reveals nothing).
create table pam.login_failures (
  email_key text primary key,
  failures int not null,
  window_start timestamptz not null,
  locked_until timestamptz
);

-- Device and network signals for the risk context (GLI-19 §2.8.5: every access, who, when, IP).
create table pam.signals (
  id uuid primary key,
  player_id uuid not null,
  kind text not null check (kind in ('registration', 'login')),
  ip text,
  device_id text,
  user_agent text,
  at timestamptz not null
);
create index signals_player_idx on pam.signals (player_id, at desc);

-- Identity checks sent to the KYC provider: queued in the registration transaction, submitted
-- by a worker with retries, resolved by the provider's signed webhook.
create table pam.kyc_verifications (
  id uuid primary key,
  player_id uuid not null,
  state text not null check (state in ('queued', 'submitted', 'verified', 'rejected', 'failed')),
  provider_ref text,
  reason text,
  attempts int not null default 0,
  next_attempt_at timestamptz not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index kyc_queued_idx on pam.kyc_verifications (next_attempt_at) where state = 'queued';

-- Responsible-gambling limits: the amount in force, and a raise or removal waiting out its
-- cooling-off period (pending_set, with pending_amount null meaning removal).
create table pam.limits (
  player_id uuid not null,
  kind text not null check (kind in ('deposit', 'loss', 'wager')),
  period text not null check (period in ('day', 'week', 'month')),
  amount bigint check (amount is null or amount > 0),
  pending_set boolean not null default false,
  pending_amount bigint check (pending_amount is null or pending_amount > 0),
  effective_at timestamptz,
  updated_at timestamptz not null,
  primary key (player_id, kind, period),
  constraint limits_pending check (pending_set = (effective_at is not null))
);
