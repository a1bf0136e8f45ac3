// The sandbox payment provider: an OUTSIDE party, a small payment service provider (think Adyen,
// Stripe or Skrill) with its own HTTP API on its own port and its own storage. The platform's
// payments context talks to it over HTTP exactly as it would to a real PSP: it creates a deposit
// and sends the player to a hosted payment page, requests payouts, learns every state change from
// signed webhooks (delivered at least once, retried, and on demand duplicated or out of order),
// and reconciles against a settlement report. Several instances can run at once, each with its own
// name, currencies and countries, so routing between providers is real. See docs/payments-sandbox.md.
//
// Money: amounts on the wire are decimal strings in major units ("10.50"); inside they are bigint
// minor units. A currency's scale comes from the currencyScales table; an amount with more decimals
// than its currency allows, zero, negative or not a plain decimal string is refused.
//
// API. /v1/* calls except /v1/health need `authorization: Bearer <apiKey>`, else 401
// {"error":"unauthorized"}. Errors are {"error": "<code>", "message"?: "..."}.
//
//   POST /v1/payments  body {reference (1..128 chars), amount, currency, country? (ISO alpha-2),
//                            callbackUrl (http/https), returnUrl? (http/https)}; no other field.
//     → 201 {"paymentId": "<uuid>", "status": "pending", "redirectUrl": "<base>/pay/<paymentId>"}
//       (<base> is publicUrl, else the sandbox's own URL). The same reference with the same data
//       again → 201 with the same paymentId and its current status; the same reference with other
//       data → 409 {"error":"reference_conflict"}. A currency the instance does not offer → 400
//       {"error":"unsupported_currency"}; a country it does not serve → 400
//       {"error":"unsupported_country"}; any other bad field → 400 {"error":"invalid_request"}.
//   GET  /v1/payments/{id}
//     → 200 {paymentId, reference, status, amount, currency, country?, reason?, redirectUrl,
//            createdAt, updatedAt, expiresAt, settledAt?} or 404 {"error":"not_found"}.
//   POST /v1/payouts   body {reference, amount, currency, holderName (1..100), account (1..64),
//                            callbackUrl}; no other field.
//     → 202 {"payoutId": "<uuid>", "status": "processing"}; idempotent by reference as above.
//   GET  /v1/payouts/{id}
//     → 200 {payoutId, reference, status, amount, currency, reason?, createdAt, updatedAt,
//            settledAt?} or 404.
//   GET  /v1/settlements?from=<RFC 3339>&to=<RFC 3339>   (from inclusive, to exclusive)
//     → 200 {provider: <name>, items: [{id, reference, type: "deposit"|"payout", amount, currency,
//            status: "completed"|"paid", settledAt}]}, ordered by settledAt: the completed deposits
//            and paid payouts settled in the window.
//   GET  /v1/health (no key) → 200 {"status":"ok"}, or 503 {"status":"unavailable"} while down.
//   Bodies: JSON only (else 415 {"error":"unsupported_media_type"}), at most 16 KiB (else 413
//   {"error":"payload_too_large"}). Unknown path → 404, wrong method → 405.
//
// Hosted payment page (no key: the player's browser):
//   GET  /pay/{paymentId}  → an HTML page with the amount, the merchant and Approve / Decline
//                            buttons (or the outcome once decided); 404 page for an unknown id.
//   POST /pay/{paymentId}  body {"decision": "approve"|"decline"} (what the buttons send, and what
//                            tests call) → 200 {paymentId, decision, status: "processing"}; the
//                            payment already decided or expired → 409 {"error":"not_pending",
//                            status} (the first decision stands); unknown id → 404.
//
// Life cycle (every change after creation is a webhook, and so is a payout's creation; d =
// callbackDelayMs, default 200 ms):
//   payment: pending → (decision) processing → d later → completed | declined
//            pending → paymentTtlMs (default 30 min) without a decision → expired
//   payout:  processing (at creation) → d later → paid, or failed (reason "account_rejected") when
//            the account contains "fail" in any case.
//   Reasons: declined → "declined_by_payer", expired → "payment_page_expired".
//
// Webhook: d after each change, POST callbackUrl with the JSON body {eventId, type: "payment"|
// "payout", id, reference, status, amount, currency, reason?, occurredAt (RFC 3339)} and the headers
// `x-croupier-timestamp: <unix ms>` and `x-croupier-signature: <lowercase hex HMAC-SHA256(
// webhookSecret, "<timestamp>.<raw body>")>`. Each attempt is signed afresh; the bytes never
// change. Non-2xx (redirects included), network error or timeout → retried with capped
// exponential backoff and jitter, at most deliveryAttemptsMax attempts. Events of one payment or
// payout go out in order: the next one starts after the previous one's first attempt is over.
// Misbehaviour (options, setBehaviour(), or POST /sandbox/behaviour): duplicateDeliveries N sends
// each event N times at once, each copy retried on its own; outOfOrder holds a `processing` event
// until the final event's first attempt is over.
//
// Faults (setFault(), or POST /sandbox/fault {mode, slowMs?} with the key): "down" → every /v1 call
// and the hosted page answer 503 {"error":"unavailable"}; "slow" → /v1 requests are processed at
// once but answered slowMs (default 10 s) late; "error" → /v1 calls answer 500 {"error":"internal"}
// without acting; "none" → normal. Webhooks go out whatever the mode. /sandbox/* always works.
// POST /sandbox/settlement-tamper {omit?, amountOverrides?, extra?} does what tamperSettlement()
// does. Storage: with dataDir, a fsync'd journal (journal.ts) replayed at start; a restart keeps
// every record and resumes its timers and undelivered webhooks. Without it, memory only.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  authorized,
  decodeURIComponentSafe,
  closeServer,
  listenOn,
  noopLogger,
  postSignedWebhook,
  readBody,
  retryDelayMs,
  sandboxServer,
  send,
  sha256,
} from '../http.ts';
import type { SandboxLogger } from '../http.ts';
import { renderHostedPage, renderMessagePage } from './hosted-page.ts';
import type { HostedPage } from './hosted-page.ts';
import { readJournal, rewriteJournal } from './journal.ts';
import type { Journal } from './journal.ts';
import { defaultCurrencyScales, formatAmount } from './money.ts';
import { paymentSnapshot, paymentView, payoutSnapshot, payoutView, restore, serialize } from './records.ts';
import type { EventState, PaymentRecord, PayoutRecord, SandboxRecord } from './records.ts';
import {
  DELAY_MS_MAX,
  SLOW_MS_DEFAULT,
  baseUrlOption,
  checkBehaviour,
  checkDecision,
  checkFault,
  checkPaymentRequest,
  checkPayoutRequest,
  checkWindow,
  countryOffer,
  currencyOffer,
  integerOption,
  isPlainObject,
  normalizeTamper,
} from './validation.ts';
import type { NormalizedTamper, Offer, PaymentRequest, PayoutRequest } from './validation.ts';

// The retry schedule lives with the shared webhook code; re-exported for this sandbox's callers.
export { retryDelayMs } from '../http.ts';

export type PaymentStatus = 'pending' | 'processing' | 'completed' | 'declined' | 'expired';
export type PayoutStatus = 'processing' | 'paid' | 'failed';
export type PaymentReason = 'declined_by_payer' | 'payment_page_expired';
export type PayoutReason = 'account_rejected';
export type Decision = 'approve' | 'decline';
export type FaultMode = 'none' | 'down' | 'slow' | 'error';

export interface SandboxFault {
  readonly mode: FaultMode;
  /** How late each /v1 answer comes in "slow" mode; 10,000 by default. */
  readonly slowMs?: number;
}

/** Webhook misbehaviour, changeable at run time. */
export interface SandboxBehaviour {
  /** Each webhook event is sent this many times at once (1 = normal), 1..10. */
  readonly duplicateDeliveries: number;
  /** Sends a `processing` event only after the final event of the same payment or payout. */
  readonly outOfOrder: boolean;
  /** Time from a state change to its webhook, and from a decision or payout to its outcome. */
  readonly callbackDelayMs: number;
}

/**
 * Where a webhook event stands: `scheduled` (to be sent, or being retried), `held` (out-of-order
 * mode: waits for the final event), `delivered` (a 2xx answer), `failed` (every attempt spent).
 */
export type WebhookDeliveryState = 'scheduled' | 'held' | 'delivered' | 'failed';

export interface SandboxWebhookEvent {
  readonly eventId: string;
  readonly status: string;
  readonly reason?: string;
  readonly occurredAt: string;
  /** The exact JSON body the receiver gets. */
  readonly body: string;
  readonly delivery: WebhookDeliveryState;
  /** Attempts made so far, every copy counted. */
  readonly attempts: number;
}

export interface SandboxPayment {
  readonly paymentId: string;
  readonly reference: string;
  readonly amount: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly country?: string;
  readonly callbackUrl: string;
  readonly returnUrl?: string;
  readonly redirectUrl: string;
  readonly status: PaymentStatus;
  readonly reason?: PaymentReason;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string;
  readonly settledAt?: string;
  readonly events: readonly SandboxWebhookEvent[];
}

export interface SandboxPayout {
  readonly payoutId: string;
  readonly reference: string;
  readonly amount: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly holderName: string;
  readonly account: string;
  readonly callbackUrl: string;
  readonly status: PayoutStatus;
  readonly reason?: PayoutReason;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly settledAt?: string;
  readonly events: readonly SandboxWebhookEvent[];
}

export interface SettlementItem {
  readonly id: string;
  readonly reference: string;
  readonly type: 'deposit' | 'payout';
  readonly amount: string;
  readonly currency: string;
  readonly status: string;
  readonly settledAt: string;
}

/** Test hook: how the next settlement reports lie (each call replaces the previous tampering). */
export interface SettlementTamper {
  /** References left out of the report. */
  readonly omit?: readonly string[];
  /** reference → the amount string reported instead of the true one. */
  readonly amountOverrides?: Readonly<Record<string, string>>;
  /** Items reported although they never happened (kept to the requested window by settledAt). */
  readonly extra?: readonly SettlementItem[];
}

export interface PaymentsSandboxOptions {
  /** The instance's name, e.g. "sandbox-eu": shown on the payment page and in settlement reports. */
  name: string;
  apiKey: string;
  webhookSecret: string;
  /** Currency codes this instance accepts, e.g. ["EUR", "GBP"]; each must be in currencyScales. */
  currencies: readonly string[];
  /** Digits after the point per currency; {EUR:2, GBP:2, USD:2, JPY:0, BTC:8} by default. */
  currencyScales?: Readonly<Record<string, number>>;
  /** ISO alpha-2 countries this instance serves; a payment naming another is refused. All if unset. */
  countries?: readonly string[];
  /** Folder of the instance's own storage (one folder per instance); memory only if unset. */
  dataDir?: string;
  /** Bind address; 127.0.0.1 by default. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Base of redirectUrl when the browser reaches the sandbox by another address; its own URL by default. */
  publicUrl?: string;
  /** Shown on the payment page; "Croupier" by default. */
  merchantName?: string;
  /** See SandboxBehaviour; 200 by default. */
  callbackDelayMs?: number;
  /** A pending payment not decided within this expires; 30 minutes by default. */
  paymentTtlMs?: number;
  /** See SandboxBehaviour; 1 by default. */
  duplicateDeliveries?: number;
  /** See SandboxBehaviour; false by default. */
  outOfOrder?: boolean;
  /** The fault mode at start; none by default. */
  fault?: SandboxFault;
  /** Longest one webhook attempt may take; 5000 by default. */
  fetchTimeoutMs?: number;
  /** Attempts per webhook copy before giving up; 8 by default. */
  deliveryAttemptsMax?: number;
  /** First retry delay; each later one doubles (capped at 30 s), with jitter. 200 by default. */
  retryBaseDelayMs?: number;
  /** Payments and payouts kept (together); the oldest is dropped beyond it. 100,000 by default. */
  recordsMax?: number;
  logger?: SandboxLogger;
}

export interface PaymentsSandbox {
  /** Base URL, e.g. http://127.0.0.1:34567. */
  readonly url: string;
  readonly name: string;
  /** Stops the listener, timers and in-flight deliveries, and closes the storage; safe to call twice. */
  close(): Promise<void>;
  setFault(fault: SandboxFault): void;
  fault(): SandboxFault;
  /** Changes some of the webhook misbehaviour switches; the others stay. */
  setBehaviour(change: Partial<SandboxBehaviour>): void;
  behaviour(): SandboxBehaviour;
  /** Test hook: makes later settlement reports lie; `{}` (or no argument) makes them true again. */
  tamperSettlement(tamper?: SettlementTamper): void;
  /** Test hook: payments kept, oldest first. */
  payments(): readonly SandboxPayment[];
  /** Test hook: payouts kept, oldest first. */
  payouts(): readonly SandboxPayout[];
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TTL_MS_MAX = 7 * 24 * 3_600_000;

type Reply = (status: number, body: object) => void;

export async function startPaymentsSandbox(options: PaymentsSandboxOptions): Promise<PaymentsSandbox> {
  const name = options.name;
  if (!NAME_PATTERN.test(name)) {
    throw new RangeError(
      `payments sandbox: name must match ${String(NAME_PATTERN)}, got ${JSON.stringify(name)}`,
    );
  }
  if (options.apiKey.length === 0) throw new RangeError('payments sandbox: apiKey must not be empty');
  if (options.webhookSecret.length === 0) {
    throw new RangeError('payments sandbox: webhookSecret must not be empty');
  }
  const offer: Offer = {
    currencies: currencyOffer(options.currencies, options.currencyScales ?? defaultCurrencyScales),
    countries: countryOffer(options.countries),
  };
  const host = options.host ?? '127.0.0.1';
  const port = integerOption('port', options.port ?? 0, 0, 65_535);
  const paymentTtlMs = integerOption('paymentTtlMs', options.paymentTtlMs ?? 30 * 60_000, 1, TTL_MS_MAX);
  const fetchTimeoutMs = integerOption('fetchTimeoutMs', options.fetchTimeoutMs ?? 5_000, 1, DELAY_MS_MAX);
  const deliveryAttemptsMax = integerOption('deliveryAttemptsMax', options.deliveryAttemptsMax ?? 8, 1, 100);
  const retryBaseDelayMs = integerOption(
    'retryBaseDelayMs',
    options.retryBaseDelayMs ?? 200,
    1,
    DELAY_MS_MAX,
  );
  const recordsMax = integerOption('recordsMax', options.recordsMax ?? 100_000, 1, 10_000_000);
  const merchantName = options.merchantName ?? 'Croupier';
  if (merchantName.length === 0 || merchantName.length > 100) {
    throw new RangeError('payments sandbox: merchantName must be 1 to 100 characters');
  }
  const publicUrl = options.publicUrl === undefined ? undefined : baseUrlOption(options.publicUrl);
  const logger = options.logger ?? noopLogger;
  // Comparing digests keeps the key comparison constant-time whatever length the caller sends.
  const apiKeyDigest = sha256(options.apiKey);
  const webhookSecret = options.webhookSecret;

  let behaviour: SandboxBehaviour = checkBehaviour({
    duplicateDeliveries: options.duplicateDeliveries ?? 1,
    outOfOrder: options.outOfOrder ?? false,
    callbackDelayMs: options.callbackDelayMs ?? 200,
  });
  let fault: SandboxFault = checkFault(options.fault ?? { mode: 'none' });
  let tamper: NormalizedTamper = normalizeTamper({});

  // Insertion order is age order, so the first key is always the oldest (dropped beyond the cap).
  const records = new Map<string, SandboxRecord>();
  const paymentsByReference = new Map<string, string>();
  const payoutsByReference = new Map<string, string>();
  const timers = new Set<NodeJS.Timeout>();
  /** Answers held back by "slow" mode: cut at close. */
  const heldResponses = new Set<ServerResponse>();
  const inFlight = new Set<Promise<void>>();
  const shutdown = new AbortController();
  let journal: Journal | undefined;
  let closing: Promise<void> | undefined;
  let baseUrl = '';

  function live(record: SandboxRecord): boolean {
    return records.get(record.id) === record;
  }

  function store(record: SandboxRecord): void {
    const known = records.get(record.id);
    if (known !== undefined) {
      // A later journal line for the same id: same place in the age order, newer state.
      clearTimer(known);
      records.set(record.id, record);
      return;
    }
    while (records.size >= recordsMax) {
      const oldest = records.values().next().value;
      if (oldest === undefined) break;
      clearTimer(oldest);
      records.delete(oldest.id);
      const byReference = oldest.kind === 'payment' ? paymentsByReference : payoutsByReference;
      if (byReference.get(oldest.reference) === oldest.id) byReference.delete(oldest.reference);
    }
    records.set(record.id, record);
    (record.kind === 'payment' ? paymentsByReference : payoutsByReference).set(record.reference, record.id);
  }

  function persist(record: SandboxRecord): void {
    journal?.append(serialize(record));
  }

  /** For changes made off a request (timers, deliveries): a storage failure is logged, not thrown. */
  function persistQuietly(record: SandboxRecord): void {
    if (shutdown.signal.aborted) return;
    try {
      persist(record);
    } catch (error) {
      logger.warn({ err: error, id: record.id }, 'payments sandbox: storage write failed');
    }
  }

  function later(delayMs: number, work: () => void): NodeJS.Timeout | undefined {
    if (shutdown.signal.aborted) return undefined;
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        try {
          work();
        } catch (error) {
          logger.warn({ err: error }, 'payments sandbox: timer work failed');
        }
      },
      Math.max(0, delayMs),
    );
    timers.add(timer);
    return timer;
  }

  function clearTimer(record: SandboxRecord): void {
    if (record.timer === undefined) return;
    clearTimeout(record.timer);
    timers.delete(record.timer);
    record.timer = undefined;
  }

  /** Sets the timer of the record's next state change, if it has one. */
  function arm(record: SandboxRecord): void {
    clearTimer(record);
    if (record.dueAt === undefined) return;
    record.timer = later(record.dueAt - Date.now(), () => {
      record.timer = undefined;
      if (live(record)) advance(record);
    });
  }

  /** The state change that is due: expiry of a pending payment, or the end of processing. */
  function advance(record: SandboxRecord): void {
    if (record.kind === 'payment') {
      if (record.status === 'pending') {
        record.status = 'expired';
        changed(record, 'payment_page_expired', undefined);
      } else if (record.status === 'processing') {
        const outcome = record.outcome ?? 'completed';
        record.status = outcome;
        changed(record, outcome === 'declined' ? 'declined_by_payer' : undefined, undefined);
      }
    } else if (record.status === 'processing') {
      const failed = record.account.toLowerCase().includes('fail');
      record.status = failed ? 'failed' : 'paid';
      changed(record, failed ? 'account_rejected' : undefined, undefined);
    }
  }

  /**
   * Completes a change already made to record.status: timestamps, the webhook event, storage, the
   * next state change's timer (dueAt) and the webhook's delivery.
   */
  function changed(record: SandboxRecord, reason: string | undefined, dueAt: number | undefined): void {
    const occurredAt = new Date().toISOString();
    record.reason = reason;
    record.updatedAt = occurredAt;
    record.dueAt = dueAt;
    if (record.status === 'completed' || record.status === 'paid') record.settledAt = occurredAt;
    const final = dueAt === undefined;
    const eventId = randomUUID();
    const event: EventState = {
      eventId,
      status: record.status,
      reason,
      occurredAt,
      body: JSON.stringify({
        eventId,
        type: record.kind,
        id: record.id,
        reference: record.reference,
        status: record.status,
        amount: formatAmount(record.amountMinor, record.scale),
        currency: record.currency,
        ...(reason === undefined ? {} : { reason }),
        occurredAt,
      }),
      // Out of order: an intermediate event waits until the final one has been sent.
      delivery: !final && behaviour.outOfOrder ? 'held' : 'scheduled',
      attempts: 0,
      liveCopies: 0,
    };
    record.events.push(event);
    persist(record);
    arm(record);
    logger.info(
      { id: record.id, type: record.kind, status: record.status, reason },
      'payments sandbox: state changed',
    );
    if (event.delivery === 'held') return;
    later(behaviour.callbackDelayMs, () => {
      enqueue(record, event);
      if (final) releaseHeld(record);
    });
  }

  function releaseHeld(record: SandboxRecord): void {
    for (const event of record.events) if (event.delivery === 'held') enqueue(record, event);
  }

  /** Sends an event once the record's previous event has had its first attempts. */
  function enqueue(record: SandboxRecord, event: EventState): void {
    record.queue = record.queue.then(() => dispatch(record, event));
  }

  /** Starts every copy of an event; settles (never rejects) when all their first attempts are over. */
  function dispatch(record: SandboxRecord, event: EventState): Promise<void> {
    if (shutdown.signal.aborted || !live(record)) return Promise.resolve();
    if (event.delivery === 'delivered' || event.delivery === 'failed') return Promise.resolve();
    event.delivery = 'scheduled';
    const firstAttempts: Promise<void>[] = [];
    for (let copy = 0; copy < behaviour.duplicateDeliveries; copy += 1) {
      const first = Promise.withResolvers<void>();
      firstAttempts.push(first.promise);
      event.liveCopies += 1;
      const run = deliverCopy(record, event, () => first.resolve()).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
    return Promise.all(firstAttempts).then(() => undefined);
  }

  async function deliverCopy(record: SandboxRecord, event: EventState, firstDone: () => void): Promise<void> {
    try {
      for (let attempt = 1; ; attempt += 1) {
        const failure = await attemptDelivery(record, event);
        firstDone();
        if (failure === undefined) {
          if (event.delivery !== 'delivered') {
            event.delivery = 'delivered';
            persistQuietly(record);
          }
          logger.info(
            { id: record.id, eventId: event.eventId, attempt },
            'payments sandbox: webhook delivered',
          );
          return;
        }
        if (shutdown.signal.aborted || !live(record)) return;
        if (attempt >= deliveryAttemptsMax) {
          logger.warn(
            { id: record.id, eventId: event.eventId, attempt, failure },
            'payments sandbox: webhook given up',
          );
          return;
        }
        const delayMs = retryDelayMs(retryBaseDelayMs, attempt);
        logger.debug(
          { id: record.id, eventId: event.eventId, attempt, failure, retryInMs: delayMs },
          'payments sandbox: webhook failed, will retry',
        );
        try {
          await sleep(delayMs, undefined, { signal: shutdown.signal });
        } catch {
          return; // closing
        }
      }
    } catch (error) {
      logger.warn(
        { err: error, id: record.id, eventId: event.eventId },
        'payments sandbox: delivery crashed',
      );
    } finally {
      firstDone();
      event.liveCopies -= 1;
      // Undelivered at close stays `scheduled`: a restart on the same data folder sends it again.
      if (
        event.liveCopies === 0 &&
        event.delivery === 'scheduled' &&
        !shutdown.signal.aborted &&
        live(record)
      ) {
        event.delivery = 'failed';
        persistQuietly(record);
      }
    }
  }

  /** One POST of the event; undefined on a 2xx answer, else what went wrong. */
  async function attemptDelivery(record: SandboxRecord, event: EventState): Promise<string | undefined> {
    event.attempts += 1;
    return postSignedWebhook({
      url: record.callbackUrl,
      body: event.body,
      secret: webhookSecret,
      userAgent: 'croupier-payments-sandbox/1',
      timeoutMs: fetchTimeoutMs,
      signal: shutdown.signal,
    });
  }

  function redirectUrlOf(record: PaymentRecord): string {
    return `${publicUrl ?? baseUrl}/pay/${record.id}`;
  }

  function createPayment(request: PaymentRequest): PaymentRecord | 'conflict' {
    const fingerprint = JSON.stringify([
      request.amountMinor.toString(),
      request.currency,
      request.country ?? null,
      request.callbackUrl,
      request.returnUrl ?? null,
    ]);
    const knownId = paymentsByReference.get(request.reference);
    const known = knownId === undefined ? undefined : records.get(knownId);
    if (known?.kind === 'payment') return known.fingerprint === fingerprint ? known : 'conflict';
    const now = Date.now();
    const at = new Date(now).toISOString();
    const record: PaymentRecord = {
      kind: 'payment',
      id: randomUUID(),
      reference: request.reference,
      amountMinor: request.amountMinor,
      currency: request.currency,
      scale: request.scale,
      country: request.country,
      callbackUrl: request.callbackUrl,
      returnUrl: request.returnUrl,
      fingerprint,
      status: 'pending',
      outcome: undefined,
      reason: undefined,
      createdAt: at,
      updatedAt: at,
      expiresAt: new Date(now + paymentTtlMs).toISOString(),
      settledAt: undefined,
      dueAt: now + paymentTtlMs,
      events: [],
      timer: undefined,
      queue: Promise.resolve(),
    };
    store(record);
    persist(record);
    arm(record);
    logger.info({ id: record.id, reference: record.reference }, 'payments sandbox: payment created');
    return record;
  }

  function createPayout(request: PayoutRequest): PayoutRecord | 'conflict' {
    const fingerprint = JSON.stringify([
      request.amountMinor.toString(),
      request.currency,
      request.holderName,
      request.account,
      request.callbackUrl,
    ]);
    const knownId = payoutsByReference.get(request.reference);
    const known = knownId === undefined ? undefined : records.get(knownId);
    if (known?.kind === 'payout') return known.fingerprint === fingerprint ? known : 'conflict';
    const at = new Date().toISOString();
    const record: PayoutRecord = {
      kind: 'payout',
      id: randomUUID(),
      reference: request.reference,
      amountMinor: request.amountMinor,
      currency: request.currency,
      scale: request.scale,
      holderName: request.holderName,
      account: request.account,
      callbackUrl: request.callbackUrl,
      fingerprint,
      status: 'processing',
      reason: undefined,
      createdAt: at,
      updatedAt: at,
      settledAt: undefined,
      dueAt: undefined,
      events: [],
      timer: undefined,
      queue: Promise.resolve(),
    };
    store(record);
    changed(record, undefined, Date.now() + behaviour.callbackDelayMs);
    return record;
  }

  function decide(record: PaymentRecord, decision: Decision): boolean {
    // A decision that arrives after the deadline finds the payment expired, timer or not.
    if (record.status === 'pending' && record.dueAt !== undefined && Date.now() >= record.dueAt) {
      advance(record);
    }
    if (record.status !== 'pending') return false;
    record.status = 'processing';
    record.outcome = decision === 'approve' ? 'completed' : 'declined';
    changed(record, undefined, Date.now() + behaviour.callbackDelayMs);
    return true;
  }

  function settlementReport(fromMs: number, toMs: number): { provider: string; items: SettlementItem[] } {
    const inWindow = (settledAt: string): boolean => {
      const at = Date.parse(settledAt);
      return at >= fromMs && at < toMs;
    };
    const items: SettlementItem[] = [];
    for (const record of records.values()) {
      const settled = record.status === 'completed' || record.status === 'paid';
      if (!settled || record.settledAt === undefined || !inWindow(record.settledAt)) continue;
      if (tamper.omit.has(record.reference)) continue;
      items.push({
        id: record.id,
        reference: record.reference,
        type: record.kind === 'payment' ? 'deposit' : 'payout',
        amount:
          tamper.amountOverrides.get(record.reference) ?? formatAmount(record.amountMinor, record.scale),
        currency: record.currency,
        status: record.status,
        settledAt: record.settledAt,
      });
    }
    items.push(...tamper.extra.filter((item) => inWindow(item.settledAt)));
    items.sort((a, b) => Date.parse(a.settledAt) - Date.parse(b.settledAt) || compare(a.id, b.id));
    return { provider: name, items };
  }

  /** Answers now, or slowMs later in "slow" mode (the request has been acted on already). */
  function replier(response: ServerResponse): Reply {
    const delayMs = fault.mode === 'slow' ? (fault.slowMs ?? SLOW_MS_DEFAULT) : 0;
    if (delayMs === 0) return (status, body) => send(response, status, body);
    return (status, body) => {
      heldResponses.add(response);
      later(delayMs, () => {
        heldResponses.delete(response);
        if (!response.destroyed) send(response, status, body);
      });
    };
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    if (closing) response.setHeader('connection', 'close');
    const target = request.url ?? '/';
    const queryAt = target.indexOf('?');
    const path = queryAt < 0 ? target : target.slice(0, queryAt);
    const query = queryAt < 0 ? '' : target.slice(queryAt + 1);
    const method = request.method ?? 'GET';
    if (path.startsWith('/sandbox/')) return handleControl(request, response, path, method);
    if (path === '/pay' || path.startsWith('/pay/')) return handlePage(request, response, path, method);
    if (path === '/v1/health') {
      if (fault.mode === 'down') return send(response, 503, { status: 'unavailable' });
      if (method !== 'GET') {
        return methodNotAllowed((status, body) => send(response, status, body), response, 'GET');
      }
      return replier(response)(200, { status: 'ok' });
    }
    if (path.startsWith('/v1/')) return handleApi(request, response, path, query, method);
    return send(response, 404, { error: 'not_found' });
  }

  function handleApi(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    query: string,
    method: string,
  ): void {
    if (fault.mode === 'down') return send(response, 503, { error: 'unavailable' });
    const reply = replier(response);
    const collection = /^\/v1\/(payments|payouts|settlements)$/.exec(path);
    const item = /^\/v1\/(payments|payouts)\/([^/]+)$/.exec(path);
    if (!collection && !item) return reply(404, { error: 'not_found' });
    const allow = collection && collection[1] !== 'settlements' ? 'POST' : 'GET';
    if (method !== allow) return methodNotAllowed(reply, response, allow);
    if (fault.mode === 'error') return reply(500, { error: 'internal' });
    if (!authorized(request.headers.authorization, apiKeyDigest)) {
      return reply(401, { error: 'unauthorized' });
    }
    if (item) {
      const record = records.get(decodeURIComponentSafe(item[2] ?? ''));
      const wanted = item[1] === 'payments' ? 'payment' : 'payout';
      if (record?.kind !== wanted) return reply(404, { error: 'not_found' });
      return reply(
        200,
        record.kind === 'payment' ? paymentView(record, redirectUrlOf(record)) : payoutView(record),
      );
    }
    if (collection?.[1] === 'settlements') {
      const window = checkWindow(query);
      if (!window.ok) return reply(400, { error: window.error, message: window.message });
      return reply(200, settlementReport(window.value.fromMs, window.value.toMs));
    }
    const isPayment = collection?.[1] === 'payments';
    readJson(request, response, reply, logger, (body) => {
      const checked = isPayment ? checkPaymentRequest(body, offer) : checkPayoutRequest(body, offer);
      if (!checked.ok) return reply(400, { error: checked.error, message: checked.message });
      if (shutdown.signal.aborted) return reply(503, { error: 'unavailable' });
      if (isPayment) {
        const record = createPayment(checked.value as PaymentRequest);
        if (record === 'conflict') return reply(409, conflictBody(checked.value.reference));
        return reply(201, {
          paymentId: record.id,
          status: record.status,
          redirectUrl: redirectUrlOf(record),
        });
      }
      const record = createPayout(checked.value as PayoutRequest);
      if (record === 'conflict') return reply(409, conflictBody(checked.value.reference));
      return reply(202, { payoutId: record.id, status: record.status });
    });
  }

  function handlePage(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    method: string,
  ): void {
    const reply: Reply = (status, body) => send(response, status, body);
    const match = /^\/pay\/([^/]+)$/.exec(path);
    if (method !== 'GET' && method !== 'POST') return methodNotAllowed(reply, response, 'GET, POST');
    if (method === 'GET') {
      if (fault.mode === 'down') {
        return sendPage(
          response,
          503,
          renderMessagePage(
            'Payment page unavailable',
            'The payment provider is not available. Try again later.',
          ),
        );
      }
      const record = match ? records.get(decodeURIComponentSafe(match[1] ?? '')) : undefined;
      if (record?.kind !== 'payment') {
        return sendPage(response, 404, renderMessagePage('Payment not found', 'There is no such payment.'));
      }
      return sendPage(
        response,
        200,
        renderHostedPage({
          provider: name,
          merchant: merchantName,
          paymentId: record.id,
          reference: record.reference,
          amount: formatAmount(record.amountMinor, record.scale),
          currency: record.currency,
          status: record.status,
          returnUrl: record.returnUrl,
        }),
      );
    }
    if (fault.mode === 'down') return reply(503, { error: 'unavailable' });
    readJson(request, response, reply, logger, (body) => {
      const decision = checkDecision(body);
      if (!decision.ok) return reply(400, { error: decision.error, message: decision.message });
      const record = match ? records.get(decodeURIComponentSafe(match[1] ?? '')) : undefined;
      if (record?.kind !== 'payment') return reply(404, { error: 'not_found' });
      if (shutdown.signal.aborted) return reply(503, { error: 'unavailable' });
      if (!decide(record, decision.value)) {
        return reply(409, {
          error: 'not_pending',
          status: record.status,
          message: `the payment is ${record.status}`,
        });
      }
      logger.info({ id: record.id, decision: decision.value }, 'payments sandbox: payer decided');
      return reply(200, { paymentId: record.id, decision: decision.value, status: record.status });
    });
  }

  function handleControl(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    method: string,
  ): void {
    const reply: Reply = (status, body) => send(response, status, body);
    const known = ['/sandbox/fault', '/sandbox/behaviour', '/sandbox/settlement-tamper'];
    if (!known.includes(path)) return reply(404, { error: 'not_found' });
    if (method !== 'POST') return methodNotAllowed(reply, response, 'POST');
    if (!authorized(request.headers.authorization, apiKeyDigest)) {
      return reply(401, { error: 'unauthorized' });
    }
    readJson(request, response, reply, logger, (body) => {
      try {
        if (path === '/sandbox/fault') {
          sandbox.setFault(body as SandboxFault);
          return reply(200, fault);
        }
        if (path === '/sandbox/behaviour') {
          if (!isPlainObject(body)) throw new RangeError('body must be a JSON object');
          sandbox.setBehaviour(body);
          return reply(200, behaviour);
        }
        sandbox.tamperSettlement(body as SettlementTamper);
        return reply(200, {
          omit: [...tamper.omit],
          amountOverrides: Object.fromEntries(tamper.amountOverrides),
          extra: tamper.extra,
        });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        return reply(400, {
          error: 'invalid_request',
          message: error.message.replace(/^payments sandbox: /, ''),
        });
      }
    });
  }

  // Storage comes back before the port opens, so no request sees a half-loaded state.
  if (options.dataDir !== undefined) {
    for (const entry of readJournal(options.dataDir, name)) store(restore(entry));
    journal = rewriteJournal(options.dataDir, name, Array.from(records.values(), serialize));
  }

  const server: Server = sandboxServer('payments sandbox', logger, handle);

  let url: string;
  try {
    url = await listenOn(server, host, port);
  } catch (error) {
    journal?.close();
    throw error;
  }
  baseUrl = url;

  // Resume what a previous run left: due state changes, and webhooks not yet delivered.
  for (const record of records.values()) {
    arm(record);
    const final = record.dueAt === undefined;
    for (const event of record.events) {
      if (event.delivery === 'scheduled' || (event.delivery === 'held' && final)) {
        later(Date.parse(event.occurredAt) + behaviour.callbackDelayMs - Date.now(), () =>
          enqueue(record, event),
        );
      }
    }
  }
  logger.info(
    { url, name, currencies: [...offer.currencies.keys()], records: records.size },
    'payments sandbox: listening',
  );

  async function close(): Promise<void> {
    shutdown.abort();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const record of records.values()) record.timer = undefined;
    for (const response of heldResponses) response.destroy();
    heldResponses.clear();
    try {
      await closeServer(server, inFlight);
    } finally {
      journal?.close();
    }
    logger.info({ url, name }, 'payments sandbox: closed');
  }

  const sandbox: PaymentsSandbox = {
    url,
    name,
    close(): Promise<void> {
      closing ??= close();
      return closing;
    },
    setFault(next: SandboxFault): void {
      fault = checkFault(next);
      logger.info({ fault }, 'payments sandbox: fault mode changed');
    },
    fault(): SandboxFault {
      return fault;
    },
    setBehaviour(change: Partial<SandboxBehaviour>): void {
      behaviour = checkBehaviour({ ...behaviour, ...change });
      logger.info({ behaviour }, 'payments sandbox: behaviour changed');
    },
    behaviour(): SandboxBehaviour {
      return behaviour;
    },
    tamperSettlement(next: SettlementTamper = {}): void {
      tamper = normalizeTamper(next);
      logger.info(
        { omit: tamper.omit.size, amountOverrides: tamper.amountOverrides.size, extra: tamper.extra.length },
        'payments sandbox: settlement tampering set',
      );
    },
    payments(): readonly SandboxPayment[] {
      const all: SandboxPayment[] = [];
      for (const record of records.values()) {
        if (record.kind === 'payment') all.push(paymentSnapshot(record, redirectUrlOf(record)));
      }
      return all;
    },
    payouts(): readonly SandboxPayout[] {
      const all: SandboxPayout[] = [];
      for (const record of records.values()) if (record.kind === 'payout') all.push(payoutSnapshot(record));
      return all;
    },
  };

  return sandbox;
}

function conflictBody(reference: string): object {
  return {
    error: 'reference_conflict',
    message: `reference ${JSON.stringify(reference)} was already used with other data`,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Checks the content type, reads the body (see ../http.ts) and parses JSON, answering errors itself. */
function readJson(
  request: IncomingMessage,
  response: ServerResponse,
  reply: Reply,
  logger: SandboxLogger,
  onBody: (body: unknown) => void,
): void {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    // The body is not wanted: drain it so the connection can serve the next request.
    request.resume();
    return reply(415, { error: 'unsupported_media_type' });
  }
  readBody(request, response, (raw) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      return reply(400, { error: 'invalid_request', message: 'body is not valid JSON' });
    }
    try {
      onBody(parsed);
    } catch (error) {
      // A storage write failed, or a bug: the caller learns it as a 500 and may retry.
      logger.warn({ err: error }, 'payments sandbox: request failed');
      if (!response.headersSent) send(response, 500, { error: 'internal' });
      else response.destroy();
    }
  });
}

function methodNotAllowed(reply: Reply, response: ServerResponse, allow: string): void {
  response.setHeader('allow', allow);
  reply(405, { error: 'method_not_allowed' });
}

function sendPage(response: ServerResponse, status: number, page: HostedPage): void {
  response.writeHead(status, { ...page.headers, 'content-length': Buffer.byteLength(page.html) });
  response.end(page.html);
}
