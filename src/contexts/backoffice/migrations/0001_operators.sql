-- Back-office operators (staff users) and the failed-login counters that lock an address.
-- Roles and what each may do live in code (backoffice.contract.ts, `permissions`), not here:
-- the check below only keeps a stray value out.
create schema if not exists backoffice;

create table backoffice.users (
  id uuid primary key,
  email text not null,
  -- Lower-cased, trimmed in code (not with SQL lower(), whose result depends on the server's
  -- locale): one operator per address whatever its spelling.
  email_key text not null unique,
  password_hash text not null,
  role text not null check (role in ('admin', 'support', 'finance', 'risk')),
  disabled boolean not null default false,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  password_changed_at timestamptz not null,
  disabled_at timestamptz,
  -- GLI-19 §2.8.9: a staff user's last access and where from.
  last_login_at timestamptz,
  last_login_ip text
);
create index users_admins_idx on backoffice.users (id) where role = 'admin' and not disabled;

-- Failed logins per address, also for addresses with no operator, so that a lock says nothing
-- about which addresses exist. A row lives while its window or lock runs; a sweep deletes it after.
create table backoffice.login_failures (
  email_key text primary key,
  failures int not null check (failures >= 0),
  window_start timestamptz not null,
  locked_until timestamptz
);
