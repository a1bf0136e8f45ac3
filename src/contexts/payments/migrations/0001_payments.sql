-- Payments: deposits and withdrawals with their life cycle, the webhooks payment providers (PSPs)
-- sent us, settlement items we reconciled, and the cases reconciliation or an odd webhook raised.
-- Money lives in the wallet; a status change here commits in the same transaction as its transfer.
create schema if not exists payments;

create table payments.payments (
  id uuid primary key,
  kind text not null check (kind in ('deposit', 'withdrawal')),
  player_id text not null,
  -- Minor units of the player's currency.
  amount bigint not null check (amount > 0),
  currency text not null,
  method text not null,
  status text not null check (
    (kind = 'deposit' and status in ('pending', 'completed', 'declined', 'expired'))
    or (kind = 'withdrawal'
        and status in ('requested', 'in_review', 'approved', 'processing', 'paid', 'rejected', 'failed'))
  ),
  -- The provider the payment went to: null until one accepted it (a deposit) or was asked to pay
  -- (a withdrawal). Set once: an in-flight payment never moves to another provider.
  psp text,
  -- The provider's id of it (paymentId / payoutId).
  psp_ref text,
  -- The provider's last reported status (it may say "processing" where ours stays "pending").
  psp_status text,
  redirect_url text,
  -- Withdrawals: where the money goes (the holder's name matched the verified player's).
  holder_name text,
  account text,
  -- Withdrawals: the risk gate's decision and why.
  risk_outcome text check (risk_outcome in ('approve', 'review', 'reject')),
  risk_reasons jsonb not null default '[]',
  -- Why it ended without money (declined_by_payer, account_rejected, provider_unavailable, …).
  failure_reason text,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  -- When it reached its final status.
  finished_at timestamptz,
  check (psp_ref is null or psp is not null)
);
-- Deposit limits sum a player's recent deposits; the risk gate reads their history.
create index payments_of_player on payments.payments (player_id, kind, created_at desc);
-- Finance's queue, and the sweeps (stale requests, payouts to send again, pending deposits).
create index payments_by_status on payments.payments (kind, status, updated_at);
-- Reconciliation: a provider's finished payments in a window.
create index payments_finished on payments.payments (psp, finished_at) where finished_at is not null;

-- Every webhook event a provider sent, by its event id: a redelivery finds its row and changes
-- nothing. Written in the same transaction as the change the event caused.
create table payments.webhook_events (
  psp text not null,
  event_id text not null,
  payment_id uuid,
  type text not null,
  status text not null,
  -- applied, ignored (stale, out of order, unknown payment) or flagged (raised a case).
  outcome text not null check (outcome in ('applied', 'ignored', 'flagged')),
  received_at timestamptz not null,
  primary key (psp, event_id)
);
create index webhook_events_of_payment on payments.webhook_events (payment_id) where payment_id is not null;

-- Settlement items matched with our records; each moved its amount between the provider's
-- clearing account and the bank (wallet transfer settlement:<psp>:<item id>).
create table payments.settlements (
  psp text not null,
  item_id text not null,
  payment_id uuid not null unique,
  type text not null check (type in ('deposit', 'payout')),
  amount bigint not null,
  currency text not null,
  settled_at timestamptz not null,
  transfer_id text not null,
  reconciled_at timestamptz not null,
  primary key (psp, item_id)
);

-- Discrepancies for a person to look at: one per (provider, reference, kind), however often the
-- same report or webhook shows it again.
create table payments.cases (
  id uuid primary key,
  psp text not null,
  reference text not null,
  kind text not null,
  payment_id uuid,
  detail jsonb not null,
  status text not null default 'open' check (status in ('open', 'closed')),
  created_at timestamptz not null,
  unique (psp, reference, kind)
);
create index cases_newest on payments.cases (created_at desc, id desc);
