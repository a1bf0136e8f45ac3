// The records the sandbox payment provider keeps: payments and payouts with their webhook events,
// how they are written to and read back from the journal, and how they look from outside (API
// answers and test-hook snapshots). Amounts are bigint minor units with the scale they were made
// with; the journal holds them as digit strings.
import type {
  PaymentReason,
  PaymentStatus,
  PayoutReason,
  PayoutStatus,
  SandboxPayment,
  SandboxPayout,
  SandboxWebhookEvent,
  WebhookDeliveryState,
} from './payments-sandbox.ts';
import { formatAmount } from './money.ts';
import { isPlainObject } from './validation.ts';

export interface EventState {
  eventId: string;
  status: string;
  reason: string | undefined;
  occurredAt: string;
  body: string;
  delivery: WebhookDeliveryState;
  attempts: number;
  /** Copies still being delivered (not stored). */
  liveCopies: number;
}

export interface RecordBase {
  id: string;
  reference: string;
  amountMinor: bigint;
  currency: string;
  /** The currency's scale when the record was made (stored with it). */
  scale: number;
  callbackUrl: string;
  /** The request data the record was made from: a replay must match it. */
  fingerprint: string;
  reason: string | undefined;
  createdAt: string;
  updatedAt: string;
  settledAt: string | undefined;
  /** Unix ms of the next state change (expiry, or the end of processing); undefined once final. */
  dueAt: number | undefined;
  events: EventState[];
  /** The timer of the next state change (not stored). */
  timer: NodeJS.Timeout | undefined;
  /** Settles once the last queued event's first attempts are over: keeps events in order (not stored). */
  queue: Promise<void>;
}

export interface PaymentRecord extends RecordBase {
  kind: 'payment';
  status: PaymentStatus;
  country: string | undefined;
  returnUrl: string | undefined;
  expiresAt: string;
  /** What the decision will end in, once made. */
  outcome: 'completed' | 'declined' | undefined;
}

export interface PayoutRecord extends RecordBase {
  kind: 'payout';
  status: PayoutStatus;
  holderName: string;
  account: string;
}

export type SandboxRecord = PaymentRecord | PayoutRecord;

/** What GET /v1/payments/{id} answers. */
export function paymentView(record: PaymentRecord, redirectUrl: string): object {
  return {
    paymentId: record.id,
    reference: record.reference,
    status: record.status,
    amount: formatAmount(record.amountMinor, record.scale),
    currency: record.currency,
    ...(record.country === undefined ? {} : { country: record.country }),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    redirectUrl,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    expiresAt: record.expiresAt,
    ...(record.settledAt === undefined ? {} : { settledAt: record.settledAt }),
  };
}

/** The journal line of a record's current state (the last line for an id wins at replay). */
export function serialize(record: SandboxRecord): object {
  const { timer: _timer, queue: _queue, amountMinor, events, ...rest } = record;
  return {
    t: record.kind,
    ...rest,
    amountMinor: amountMinor.toString(),
    events: events.map(({ liveCopies: _liveCopies, ...event }) => event),
  };
}

/** A journal line back into a record; our own format, so a wrong shape means a damaged file. */
export function restore(entry: unknown): SandboxRecord {
  const bad = (what: string): never => {
    throw new Error(`payments sandbox: damaged journal entry (${what})`);
  };
  if (!isPlainObject(entry)) return bad('not an object');
  const text = (key: string): string => {
    const value = entry[key];
    return typeof value === 'string' ? value : bad(key);
  };
  const optionalText = (key: string): string | undefined => {
    const value = entry[key];
    return value === undefined || value === null ? undefined : typeof value === 'string' ? value : bad(key);
  };
  const optionalNumber = (key: string): number | undefined => {
    const value = entry[key];
    return value === undefined || value === null ? undefined : typeof value === 'number' ? value : bad(key);
  };
  const amountText = text('amountMinor');
  if (!/^\d+$/.test(amountText)) bad('amountMinor');
  const scale = optionalNumber('scale') ?? bad('scale');
  const rawEvents = entry['events'];
  if (!Array.isArray(rawEvents)) return bad('events');
  const events = rawEvents.map((raw: unknown): EventState => {
    if (!isPlainObject(raw)) return bad('event');
    const delivery = raw['delivery'];
    if (
      delivery !== 'scheduled' &&
      delivery !== 'held' &&
      delivery !== 'delivered' &&
      delivery !== 'failed'
    ) {
      return bad('event delivery');
    }
    const [eventId, status, occurredAt, body] = [
      raw['eventId'],
      raw['status'],
      raw['occurredAt'],
      raw['body'],
    ];
    if (typeof eventId !== 'string' || typeof status !== 'string') return bad('event id');
    if (typeof occurredAt !== 'string' || typeof body !== 'string') return bad('event body');
    const reason = raw['reason'];
    return {
      eventId,
      status,
      reason: typeof reason === 'string' ? reason : undefined,
      occurredAt,
      body,
      delivery,
      attempts: typeof raw['attempts'] === 'number' ? raw['attempts'] : 0,
      liveCopies: 0,
    };
  });
  const base = {
    id: text('id'),
    reference: text('reference'),
    amountMinor: BigInt(amountText),
    currency: text('currency'),
    scale,
    callbackUrl: text('callbackUrl'),
    fingerprint: text('fingerprint'),
    reason: optionalText('reason'),
    createdAt: text('createdAt'),
    updatedAt: text('updatedAt'),
    settledAt: optionalText('settledAt'),
    dueAt: optionalNumber('dueAt'),
    events,
    timer: undefined,
    queue: Promise.resolve(),
  };
  if (entry['t'] === 'payment') {
    const status = text('status');
    const statuses: readonly PaymentStatus[] = ['pending', 'processing', 'completed', 'declined', 'expired'];
    const outcome = optionalText('outcome');
    return {
      ...base,
      kind: 'payment',
      status: statuses.find((candidate) => candidate === status) ?? bad('status'),
      country: optionalText('country'),
      returnUrl: optionalText('returnUrl'),
      expiresAt: text('expiresAt'),
      outcome:
        outcome === undefined || outcome === 'completed' || outcome === 'declined' ? outcome : bad('outcome'),
    };
  }
  if (entry['t'] === 'payout') {
    const status = text('status');
    const statuses: readonly PayoutStatus[] = ['processing', 'paid', 'failed'];
    return {
      ...base,
      kind: 'payout',
      status: statuses.find((candidate) => candidate === status) ?? bad('status'),
      holderName: text('holderName'),
      account: text('account'),
    };
  }
  return bad('type');
}

function eventSnapshot(event: EventState): SandboxWebhookEvent {
  return Object.freeze({
    eventId: event.eventId,
    status: event.status,
    ...(event.reason === undefined ? {} : { reason: event.reason }),
    occurredAt: event.occurredAt,
    body: event.body,
    delivery: event.delivery,
    attempts: event.attempts,
  });
}

export function paymentSnapshot(record: PaymentRecord, redirectUrl: string): SandboxPayment {
  return Object.freeze({
    paymentId: record.id,
    reference: record.reference,
    amount: formatAmount(record.amountMinor, record.scale),
    amountMinor: record.amountMinor,
    currency: record.currency,
    ...(record.country === undefined ? {} : { country: record.country }),
    callbackUrl: record.callbackUrl,
    ...(record.returnUrl === undefined ? {} : { returnUrl: record.returnUrl }),
    redirectUrl,
    status: record.status,
    ...(record.reason === undefined ? {} : { reason: record.reason as PaymentReason }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    expiresAt: record.expiresAt,
    ...(record.settledAt === undefined ? {} : { settledAt: record.settledAt }),
    events: Object.freeze(record.events.map(eventSnapshot)),
  });
}

export function payoutSnapshot(record: PayoutRecord): SandboxPayout {
  return Object.freeze({
    payoutId: record.id,
    reference: record.reference,
    amount: formatAmount(record.amountMinor, record.scale),
    amountMinor: record.amountMinor,
    currency: record.currency,
    holderName: record.holderName,
    account: record.account,
    callbackUrl: record.callbackUrl,
    status: record.status,
    ...(record.reason === undefined ? {} : { reason: record.reason as PayoutReason }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.settledAt === undefined ? {} : { settledAt: record.settledAt }),
    events: Object.freeze(record.events.map(eventSnapshot)),
  });
}

/** What GET /v1/payouts/{id} answers. */
export function payoutView(record: PayoutRecord): object {
  return {
    payoutId: record.id,
    reference: record.reference,
    status: record.status,
    amount: formatAmount(record.amountMinor, record.scale),
    currency: record.currency,
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.settledAt === undefined ? {} : { settledAt: record.settledAt }),
  };
}
