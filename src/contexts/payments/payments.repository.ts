// SQL for the payments schema only. Every status change runs inside a transaction that locked the
// payment's row first (`lock: true`), so two webhooks, a sweep and an operator cannot interleave.
import { createHash } from 'node:crypto';
import type { Queryable } from '../../platform/db/index.ts';
import type { CaseView, PaymentKind, PaymentStatus, PaymentView } from './payments.contract.ts';

export interface PaymentRow {
  id: string;
  kind: PaymentKind;
  player_id: string;
  amount: bigint;
  currency: string;
  method: string;
  status: PaymentStatus;
  psp: string | null;
  psp_ref: string | null;
  psp_status: string | null;
  redirect_url: string | null;
  holder_name: string | null;
  account: string | null;
  risk_outcome: 'approve' | 'review' | 'reject' | null;
  risk_reasons: string[];
  failure_reason: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

const PAYMENT_COLUMN_NAMES = [
  'kind',
  'player_id',
  'amount',
  'currency',
  'method',
  'status',
  'psp',
  'psp_ref',
  'psp_status',
  'redirect_url',
  'holder_name',
  'account',
  'risk_outcome',
  'risk_reasons',
  'failure_reason',
  'created_at',
  'updated_at',
  'finished_at',
];

function paymentColumns(alias?: string): string {
  const prefix = alias ? `${alias}.` : '';
  return [`${prefix}id::text as id`, ...PAYMENT_COLUMN_NAMES.map((name) => prefix + name)].join(', ');
}

const PAYMENT_COLUMNS = paymentColumns();

/** An int8 advisory-lock key per player: deposit-limit checks and inserts serialise on it. */
export function playerLockKey(playerId: string): string {
  return createHash('sha256')
    .update(`payments.player:${playerId}`, 'utf8')
    .digest()
    .readBigInt64BE(0)
    .toString();
}

export async function lockPlayer(q: Queryable, playerId: string): Promise<void> {
  await q.query('select pg_advisory_xact_lock($1::bigint)', [playerLockKey(playerId)]);
}

export async function insertPayment(q: Queryable, row: PaymentRow): Promise<void> {
  await q.query(
    `insert into payments.payments (id, kind, player_id, amount, currency, method, status, psp, psp_ref,
       psp_status, redirect_url, holder_name, account, risk_outcome, risk_reasons, failure_reason, created_at,
       updated_at, finished_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $18, $19)`,
    [
      row.id,
      row.kind,
      row.player_id,
      row.amount,
      row.currency,
      row.method,
      row.status,
      row.psp,
      row.psp_ref,
      row.psp_status,
      row.redirect_url,
      row.holder_name,
      row.account,
      row.risk_outcome,
      JSON.stringify(row.risk_reasons),
      row.failure_reason,
      row.created_at,
      row.updated_at,
      row.finished_at,
    ],
  );
}

/** Writes every mutable column of a row read (and locked) in the same transaction. */
export async function updatePayment(q: Queryable, row: PaymentRow): Promise<void> {
  await q.query(
    `update payments.payments set status = $2, psp = $3, psp_ref = $4, psp_status = $5, redirect_url = $6,
       risk_outcome = $7, risk_reasons = $8::jsonb, failure_reason = $9, updated_at = $10, finished_at = $11
     where id = $1`,
    [
      row.id,
      row.status,
      row.psp,
      row.psp_ref,
      row.psp_status,
      row.redirect_url,
      row.risk_outcome,
      JSON.stringify(row.risk_reasons),
      row.failure_reason,
      row.updated_at,
      row.finished_at,
    ],
  );
}

export async function paymentById(
  q: Queryable,
  id: string,
  options: { lock?: boolean } = {},
): Promise<PaymentRow | undefined> {
  const { rows } = await q.query<PaymentRow>(
    `select ${PAYMENT_COLUMNS} from payments.payments where id = $1${options.lock ? ' for update' : ''}`,
    [id],
  );
  return rows[0];
}

/**
 * Gross deposits of a player since `since` (contract §2: deposit limits count gross deposits):
 * completed ones and those still pending, which may yet complete.
 */
export async function grossDepositsSince(q: Queryable, playerId: string, since: Date): Promise<bigint> {
  const { rows } = await q.query<{ total: bigint }>(
    `select coalesce(sum(amount), 0)::int8 as total from payments.payments
      where player_id = $1 and kind = 'deposit' and status in ('pending', 'completed') and created_at >= $2`,
    [playerId, since],
  );
  return rows[0]?.total ?? 0n;
}

/** What the risk gate needs from a player's history before withdrawal `excludeId`. */
export async function withdrawalHistory(
  q: Queryable,
  playerId: string,
  currency: string,
  excludeId: string,
): Promise<{ paidWithdrawals: number; lastWithdrawalAt: Date | null; depositedSince: bigint }> {
  const { rows } = await q.query<{ paid: bigint; last_at: Date | null }>(
    `select count(*) filter (where status = 'paid')::int8 as paid, max(created_at) as last_at
       from payments.payments where player_id = $1 and kind = 'withdrawal' and id <> $2`,
    [playerId, excludeId],
  );
  const paid = rows[0]?.paid ?? 0n;
  const lastAt = rows[0]?.last_at ?? null;
  const deposits = await q.query<{ total: bigint }>(
    `select coalesce(sum(amount), 0)::int8 as total from payments.payments
      where player_id = $1 and kind = 'deposit' and status = 'completed' and currency = $2
        and ($3::timestamptz is null or finished_at > $3)`,
    [playerId, currency, lastAt],
  );
  return {
    paidWithdrawals: Number(paid),
    lastWithdrawalAt: lastAt,
    depositedSince: deposits.rows[0]?.total ?? 0n,
  };
}

export async function withdrawalsPage(
  q: Queryable,
  filter: { status?: string | undefined; beforeId?: string | undefined; limit: number },
): Promise<PaymentRow[]> {
  const { rows } = await q.query<PaymentRow>(
    `select ${PAYMENT_COLUMNS} from payments.payments
      where kind = 'withdrawal' and ($1::text is null or status = $1) and ($2::uuid is null or id < $2)
      order by id desc limit $3`,
    [filter.status ?? null, filter.beforeId ?? null, filter.limit],
  );
  return rows;
}

/** Payments in `statuses` not touched since `before` (the sweeps' work lists). */
export async function staleIds(
  q: Queryable,
  kind: PaymentKind,
  statuses: readonly PaymentStatus[],
  before: Date,
  limit: number,
): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `select id::text from payments.payments
      where kind = $1 and status = any($2::text[]) and updated_at < $3
      order by updated_at limit $4`,
    [kind, statuses, before, limit],
  );
  return rows.map((row) => row.id);
}

/** Marks a payment as looked at (a poll that found it still open), without changing it. */
export async function touch(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query('update payments.payments set updated_at = $2 where id = $1 and finished_at is null', [
    id,
    at,
  ]);
}

// ---- webhooks ----------------------------------------------------------------------------------

/** Records a webhook event; false when this provider sent this event id before (a redelivery). */
export async function recordWebhookEvent(
  q: Queryable,
  event: {
    psp: string;
    eventId: string;
    paymentId: string | null;
    type: string;
    status: string;
    outcome: 'applied' | 'ignored' | 'flagged';
    receivedAt: Date;
  },
): Promise<boolean> {
  const { rows } = await q.query(
    `insert into payments.webhook_events (psp, event_id, payment_id, type, status, outcome, received_at)
     values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing returning 1 as inserted`,
    [event.psp, event.eventId, event.paymentId, event.type, event.status, event.outcome, event.receivedAt],
  );
  return rows.length === 1;
}

export async function setWebhookOutcome(
  q: Queryable,
  psp: string,
  eventId: string,
  outcome: 'applied' | 'ignored' | 'flagged',
): Promise<void> {
  await q.query('update payments.webhook_events set outcome = $3 where psp = $1 and event_id = $2', [
    psp,
    eventId,
    outcome,
  ]);
}

// ---- reconciliation ----------------------------------------------------------------------------

/** Records a settled item; false when it (or another item for the same payment) was settled. */
export async function insertSettlement(
  q: Queryable,
  row: {
    psp: string;
    itemId: string;
    paymentId: string;
    type: 'deposit' | 'payout';
    amount: bigint;
    currency: string;
    settledAt: Date;
    transferId: string;
    reconciledAt: Date;
  },
): Promise<boolean> {
  const { rows } = await q.query(
    `insert into payments.settlements (psp, item_id, payment_id, type, amount, currency, settled_at,
       transfer_id, reconciled_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict do nothing returning 1 as inserted`,
    [
      row.psp,
      row.itemId,
      row.paymentId,
      row.type,
      row.amount,
      row.currency,
      row.settledAt,
      row.transferId,
      row.reconciledAt,
    ],
  );
  return rows.length === 1;
}

/** A provider's completed deposits and paid withdrawals finished in [from, to), not yet settled. */
export async function unsettledFinished(
  q: Queryable,
  psp: string,
  from: Date,
  to: Date,
): Promise<PaymentRow[]> {
  const { rows } = await q.query<PaymentRow>(
    `select ${paymentColumns('p')}
       from payments.payments p
      where p.psp = $1 and p.finished_at >= $2 and p.finished_at < $3
        and ((p.kind = 'deposit' and p.status = 'completed') or (p.kind = 'withdrawal' and p.status = 'paid'))
        and not exists (select 1 from payments.settlements s where s.payment_id = p.id)
      order by p.finished_at limit 10000`,
    [psp, from, to],
  );
  return rows;
}

/** Raises a case; false when one of this kind is already on file for (psp, reference). */
export async function insertCase(
  q: Queryable,
  row: {
    id: string;
    psp: string;
    reference: string;
    kind: string;
    paymentId: string | null;
    detail: Record<string, unknown>;
    createdAt: Date;
  },
): Promise<boolean> {
  const { rows } = await q.query(
    `insert into payments.cases (id, psp, reference, kind, payment_id, detail, created_at)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7) on conflict (psp, reference, kind) do nothing
     returning 1 as inserted`,
    [row.id, row.psp, row.reference, row.kind, row.paymentId, JSON.stringify(row.detail), row.createdAt],
  );
  return rows.length === 1;
}

export async function casesPage(
  q: Queryable,
  page: { beforeId?: string | undefined; limit: number },
): Promise<CaseView[]> {
  const { rows } = await q.query<{
    id: string;
    psp: string;
    reference: string;
    kind: string;
    payment_id: string | null;
    detail: Record<string, unknown>;
    status: 'open' | 'closed';
    created_at: Date;
  }>(
    `select id::text, psp, reference, kind, payment_id::text, detail, status, created_at from payments.cases
      where ($1::uuid is null or id < $1) order by id desc limit $2`,
    [page.beforeId ?? null, page.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    psp: row.psp,
    reference: row.reference,
    kind: row.kind,
    paymentId: row.payment_id,
    detail: row.detail,
    status: row.status,
    createdAt: row.created_at,
  }));
}

// ---- views -------------------------------------------------------------------------------------

function mask(account: string): string {
  if (account.length <= 4) return '*'.repeat(account.length);
  return `${'*'.repeat(Math.min(account.length - 4, 12))}${account.slice(-4)}`;
}

export function toView(row: PaymentRow): PaymentView {
  return {
    id: row.id,
    kind: row.kind,
    playerId: row.player_id,
    amount: row.amount,
    currency: row.currency,
    method: row.method,
    status: row.status,
    psp: row.psp,
    pspRef: row.psp_ref,
    holderName: row.holder_name,
    accountMasked: row.account === null ? null : mask(row.account),
    riskOutcome: row.risk_outcome,
    riskReasons: row.risk_reasons,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}
