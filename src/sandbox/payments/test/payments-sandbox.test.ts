// Proves the sandbox payment provider acts like an outside PSP over real HTTP: hosted-page deposits, payouts, signed retried webhooks (duplicated, out of order), faults, settlement reports, validation and restarts.
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';
import { runToExit, startProcess } from '../../../../test/support/process.ts';
import {
  API_KEY,
  SECRET,
  assertSigned,
  call,
  postStreamedBody,
  sleep,
  startReceiver as startAnyReceiver,
  waitUntil,
} from '../../test/support.ts';
import type { Receiver as AnyReceiver, ReceiverAnswer as Answer, Reply } from '../../test/support.ts';
import { JOURNAL_FILE } from '../journal.ts';
import { formatAmount, parseAmount } from '../money.ts';
import { retryDelayMs, startPaymentsSandbox } from '../payments-sandbox.ts';
import { parseTime } from '../validation.ts';
import type { PaymentsSandbox, PaymentsSandboxOptions } from '../payments-sandbox.ts';

const WEBHOOK_FIELDS = ['amount', 'currency', 'eventId', 'id', 'occurredAt', 'reference', 'status', 'type'];

/** The shared receiver, telling events apart by their eventId. */
interface Receiver extends AnyReceiver {
  /** Distinct events (by eventId), in order of first arrival. */
  events(): Record<string, unknown>[];
}

/** `answer(n)` gives the status for the n-th request (1-based); `delayMs` holds each answer back. */
async function startReceiver(answer?: (n: number) => Answer, delayMs?: number): Promise<Receiver> {
  const receiver = await startAnyReceiver('/webhooks/payments/sandbox', answer, delayMs);
  return {
    ...receiver,
    events() {
      const seen = new Map<unknown, Record<string, unknown>>();
      for (const request of receiver.received)
        if (!seen.has(request.body['eventId'])) seen.set(request.body['eventId'], request.body);
      return [...seen.values()];
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sandboxWith(options: Partial<PaymentsSandboxOptions> = {}): Promise<PaymentsSandbox> {
  const sandbox = await startPaymentsSandbox({
    name: 'sandbox-eu',
    apiKey: API_KEY,
    webhookSecret: SECRET,
    currencies: ['EUR', 'GBP'],
    callbackDelayMs: 20,
    retryBaseDelayMs: 20,
    fetchTimeoutMs: 2_000,
    ...options,
  });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

async function receiverWith(answer?: (n: number) => Answer, delayMs?: number): Promise<Receiver> {
  const receiver = await startReceiver(answer, delayMs);
  cleanups.push(() => receiver.close());
  return receiver;
}

function temporaryFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'payments-sandbox-'));
  cleanups.push(async () => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

let counter = 0;
const uniqueReference = (prefix: string): string => `${prefix}-${process.pid}-${(counter += 1)}`;

function deposit(receiver: Receiver, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reference: uniqueReference('dep'),
    amount: '10.50',
    currency: 'EUR',
    country: 'MT',
    callbackUrl: receiver.url,
    returnUrl: 'https://casino.example/cashier/return?deposit=1',
    ...overrides,
  };
}

function payout(receiver: Receiver, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reference: uniqueReference('wd'),
    amount: '25.00',
    currency: 'EUR',
    holderName: 'Ada Lovelace',
    account: 'MT84MALT011000012345MTLCAST001S',
    callbackUrl: receiver.url,
    ...overrides,
  };
}

const createPayment = (sandbox: PaymentsSandbox, body: unknown): Promise<Reply> =>
  call(sandbox, 'POST', '/v1/payments', { body });
const createPayout = (sandbox: PaymentsSandbox, body: unknown): Promise<Reply> =>
  call(sandbox, 'POST', '/v1/payouts', { body });
const decide = (sandbox: PaymentsSandbox, paymentId: unknown, decision: string): Promise<Reply> =>
  call(sandbox, 'POST', `/pay/${paymentId as string}`, { body: { decision }, key: null });

const statusesOf = (receiver: Receiver, id: unknown): unknown[] =>
  receiver
    .events()
    .filter((event) => event['id'] === id)
    .map((event) => event['status']);

describe('payments sandbox: deposits through the hosted page', () => {
  it('creates a pending payment, serves its page, and on approval sends signed processing then completed webhooks', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const data = deposit(receiver, { amount: '10.5' });
    const created = await createPayment(sandbox, data);
    assert.equal(created.status, 201);
    const id = created.body['paymentId'] as string;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(created.body, {
      paymentId: id,
      status: 'pending',
      redirectUrl: `${sandbox.url}/pay/${id}`,
    });

    const page = await fetch(created.body['redirectUrl']);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    const html = await page.text();
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(html, /10\.50 EUR/, 'the amount in major units with the currency scale');
    assert.match(html, /Croupier/);
    assert.match(html, /sandbox-eu/);
    assert.match(
      html,
      /<button type="button" class="approve" data-decision="approve"[^>]*>Approve payment<\/button>/,
    );
    assert.match(
      html,
      /<button type="button" class="decline" data-decision="decline"[^>]*>Decline payment<\/button>/,
    );
    assert.match(html, /role="status" aria-live="polite"/);
    assert.doesNotMatch(html, /\ssrc=|<link|<img|<iframe|@import|url\(/i, 'no external asset');
    const links = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
    assert.deepEqual(links, ['https://casino.example/cashier/return?deposit=1'], 'only the return link');
    const scripts = [...html.matchAll(/<script nonce="([^"]+)">([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.ok(csp.includes(`'nonce-${scripts[0]![1]!}'`), 'the inline script is allowed by its nonce');
    assert.doesNotThrow(() => new Script(scripts[0]![2]!), 'the inline script compiles');
    assert.match(scripts[0]![2]!, /fetch\(window\.location\.pathname/);

    const early = await call(sandbox, 'GET', `/v1/payments/${id}`);
    assert.equal(early.status, 200);
    assert.equal(early.body['status'], 'pending');
    assert.equal(early.body['amount'], '10.50');

    const decided = await decide(sandbox, id, 'approve');
    assert.equal(decided.status, 200);
    assert.deepEqual(decided.body, { paymentId: id, decision: 'approve', status: 'processing' });

    await waitUntil('two webhooks', () => receiver.received.length === 2);
    for (const request of receiver.received) assertSigned(request);
    const [processing, completed] = receiver.received.map((request) => request.body);
    for (const event of [processing!, completed!]) {
      assert.deepEqual(Object.keys(event).sort(), WEBHOOK_FIELDS);
      assert.equal(event['type'], 'payment');
      assert.equal(event['id'], id);
      assert.equal(event['reference'], data['reference']);
      assert.equal(event['amount'], '10.50');
      assert.equal(event['currency'], 'EUR');
      assert.equal(new Date(event['occurredAt'] as string).toISOString(), event['occurredAt']);
    }
    assert.equal(processing!['status'], 'processing');
    assert.equal(completed!['status'], 'completed');
    assert.notEqual(processing!['eventId'], completed!['eventId']);
    assert.ok((processing!['occurredAt'] as string) <= (completed!['occurredAt'] as string));

    const late = await call(sandbox, 'GET', `/v1/payments/${id}`);
    assert.equal(late.body['status'], 'completed');
    assert.equal(late.body['settledAt'], completed!['occurredAt']);
    await waitUntil('delivered', () =>
      sandbox.payments()[0]!.events.every((event) => event.delivery === 'delivered'),
    );
    await sleep(60);
    assert.equal(receiver.received.length, 2, 'one 2xx answer ends each delivery');

    const decidedPage = await (await fetch(`${sandbox.url}/pay/${id}`)).text();
    assert.doesNotMatch(decidedPage, /<button/, 'a decided payment offers no buttons');
    assert.doesNotMatch(decidedPage, /<script/);
    assert.match(decidedPage, /This payment is complete\./);
    assert.match(
      decidedPage,
      /<p id="back"><a href="https:\/\/casino\.example\/cashier\/return\?deposit=1">/,
    );
  });

  it('declines, keeps the first decision against a second one (409), and answers 404 to an unknown payment', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const created = await createPayment(sandbox, deposit(receiver));
    const id = created.body['paymentId'];
    assert.equal((await decide(sandbox, id, 'decline')).status, 200);
    const second = await decide(sandbox, id, 'approve');
    assert.equal(second.status, 409);
    assert.equal(second.body['error'], 'not_pending');
    await waitUntil('two webhooks', () => receiver.received.length === 2);
    assert.deepEqual(statusesOf(receiver, id), ['processing', 'declined']);
    assert.equal(receiver.received[1]!.body['reason'], 'declined_by_payer');
    const state = await call(sandbox, 'GET', `/v1/payments/${id as string}`);
    assert.equal(state.body['status'], 'declined');
    assert.equal(state.body['reason'], 'declined_by_payer');
    assert.equal(state.body['settledAt'], undefined);
    assert.equal((await decide(sandbox, id, 'decline')).status, 409);
    await sleep(60);
    assert.equal(receiver.received.length, 2, 'a refused decision changes nothing');

    const unknown = '00000000-0000-4000-8000-000000000000';
    assert.deepEqual((await decide(sandbox, unknown, 'approve')).body, { error: 'not_found' });
    assert.equal((await decide(sandbox, unknown, 'approve')).status, 404);
    const page = await fetch(`${sandbox.url}/pay/${unknown}`);
    assert.equal(page.status, 404);
    assert.match(await page.text(), /Payment not found/);
  });

  it('expires a payment not decided within paymentTtlMs, with a webhook; a late decision gets 409', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ paymentTtlMs: 80 });
    const created = await createPayment(sandbox, deposit(receiver));
    const id = created.body['paymentId'];
    await waitUntil('the expiry webhook', () => receiver.received.length === 1);
    assertSigned(receiver.received[0]!);
    assert.equal(receiver.received[0]!.body['status'], 'expired');
    assert.equal(receiver.received[0]!.body['reason'], 'payment_page_expired');
    const late = await decide(sandbox, id, 'approve');
    assert.equal(late.status, 409);
    assert.equal(late.body['status'], 'expired');
    assert.equal((await call(sandbox, 'GET', `/v1/payments/${id as string}`)).body['status'], 'expired');
    assert.match(await (await fetch(`${sandbox.url}/pay/${id as string}`)).text(), /expired/);
  });

  it('escapes what the merchant sent on the page', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const created = await createPayment(
      sandbox,
      deposit(receiver, { reference: '<script>alert(1)</script>', returnUrl: 'https://x.example/"><b>' }),
    );
    const html = await (await fetch(created.body['redirectUrl'] as string)).text();
    assert.ok(!html.includes('<script>alert(1)'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!html.includes('"><b>'));
  });

  it('is idempotent by reference: the same data gives the same payment or payout, other data 409', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ callbackDelayMs: 10_000 });
    const data = deposit(receiver);
    const first = await createPayment(sandbox, data);
    const again = await createPayment(sandbox, { ...data, amount: '10.5' });
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body, '"10.5" and "10.50" are the same amount');
    const conflicts: Record<string, unknown>[] = [
      { ...data, amount: '10.51' },
      { ...data, currency: 'GBP' },
      { ...data, callbackUrl: `${receiver.url}/other` },
      { ...data, returnUrl: undefined },
    ];
    for (const changed of conflicts) {
      const answer = await createPayment(sandbox, changed);
      assert.equal(answer.status, 409, JSON.stringify(changed));
      assert.equal(answer.body['error'], 'reference_conflict');
    }
    await decide(sandbox, first.body['paymentId'], 'approve');
    const replay = await createPayment(sandbox, data);
    assert.equal(replay.body['paymentId'], first.body['paymentId']);
    assert.equal(replay.body['status'], 'processing', 'a replay reports the current status');

    const withdrawal = payout(receiver);
    const paid = await createPayout(sandbox, withdrawal);
    assert.equal(paid.status, 202);
    assert.deepEqual(await createPayout(sandbox, withdrawal).then((answer) => answer.body), paid.body);
    const otherAccount = await createPayout(sandbox, { ...withdrawal, account: 'DE89370400440532013000' });
    assert.equal(otherAccount.status, 409);
    const sameReferenceAsDeposit = await createPayout(sandbox, {
      ...withdrawal,
      reference: data['reference'],
    });
    assert.equal(sameReferenceAsDeposit.status, 202, 'payouts and payments have their own references');
    assert.equal(sandbox.payments().length, 1);
    assert.equal(sandbox.payouts().length, 2);
  });

  it('runs as two instances with their own names, currencies and countries', async () => {
    const receiver = await receiverWith();
    const eu = await sandboxWith({ name: 'sandbox-eu', currencies: ['EUR', 'GBP'], countries: ['MT', 'DE'] });
    const intl = await sandboxWith({
      name: 'sandbox-intl',
      apiKey: 'intl-key',
      currencies: ['USD', 'EUR', 'JPY'],
      publicUrl: 'https://pay.sandbox-intl.example/',
    });
    const yen = await createPayment(eu, deposit(receiver, { currency: 'JPY', amount: '1000' }));
    assert.equal(yen.status, 400);
    assert.equal(yen.body['error'], 'unsupported_currency');
    const usCountry = await createPayment(eu, deposit(receiver, { country: 'US' }));
    assert.equal(usCountry.status, 400);
    assert.equal(usCountry.body['error'], 'unsupported_country');
    const withoutCountry = await createPayment(eu, deposit(receiver, { country: undefined }));
    assert.equal(withoutCountry.status, 201, 'country is optional');
    assert.equal(eu.payments().length, 1);

    const intlYen = await call(intl, 'POST', '/v1/payments', {
      body: deposit(receiver, { currency: 'JPY', amount: '1000', country: 'US' }),
      key: 'intl-key',
    });
    assert.equal(intlYen.status, 201);
    assert.equal(
      intlYen.body['redirectUrl'],
      `https://pay.sandbox-intl.example/pay/${intlYen.body['paymentId'] as string}`,
    );
    const yenCents = await call(intl, 'POST', '/v1/payments', {
      body: deposit(receiver, { currency: 'JPY', amount: '1000.5' }),
      key: 'intl-key',
    });
    assert.equal(yenCents.status, 400, 'JPY has no decimals');
    assert.match(yenCents.body['message'] as string, /JPY allows at most 0 decimal places/);
    assert.equal((await createPayment(eu, deposit(receiver, { amount: '10.505' }))).status, 400);
    assert.equal(
      (await createPayment(intl, deposit(receiver))).status,
      401,
      "one instance's key is not the other's",
    );
    assert.equal((await call(eu, 'GET', `/v1/payments/${intlYen.body['paymentId'] as string}`)).status, 404);
  });
});

describe('payments sandbox: payouts', () => {
  it('pays a payout, and fails one whose account contains "fail" (any case)', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const good = await createPayout(sandbox, payout(receiver, { amount: '0.01', currency: 'GBP' }));
    const bad = await createPayout(sandbox, payout(receiver, { account: 'GB-FaIl-0001' }));
    assert.equal(good.status, 202);
    assert.deepEqual(Object.keys(good.body).sort(), ['payoutId', 'status']);
    assert.equal(good.body['status'], 'processing');
    await waitUntil('four webhooks', () => receiver.received.length === 4);
    for (const request of receiver.received) assertSigned(request);
    assert.deepEqual(statusesOf(receiver, good.body['payoutId']), ['processing', 'paid']);
    assert.deepEqual(statusesOf(receiver, bad.body['payoutId']), ['processing', 'failed']);
    const paidEvent = receiver.events().find((event) => event['status'] === 'paid')!;
    assert.deepEqual(Object.keys(paidEvent).sort(), WEBHOOK_FIELDS);
    assert.equal(paidEvent['type'], 'payout');
    assert.equal(paidEvent['amount'], '0.01');
    assert.equal(paidEvent['currency'], 'GBP');
    const failedEvent = receiver.events().find((event) => event['status'] === 'failed')!;
    assert.equal(failedEvent['reason'], 'account_rejected');
    const goodState = await call(sandbox, 'GET', `/v1/payouts/${good.body['payoutId'] as string}`);
    assert.equal(goodState.body['status'], 'paid');
    assert.equal(typeof goodState.body['settledAt'], 'string');
    const badState = await call(sandbox, 'GET', `/v1/payouts/${bad.body['payoutId'] as string}`);
    assert.deepEqual([badState.body['status'], badState.body['reason']], ['failed', 'account_rejected']);
    assert.equal((await call(sandbox, 'GET', `/v1/payments/${good.body['payoutId'] as string}`)).status, 404);
  });
});

describe('payments sandbox: webhook delivery', () => {
  it('retries a receiver that answers 500 until it answers 2xx: same bytes, fresh signatures', async () => {
    const receiver = await receiverWith((n) => (n <= 2 ? 500 : 200));
    const sandbox = await sandboxWith({ paymentTtlMs: 30 });
    await createPayment(sandbox, deposit(receiver));
    await waitUntil('delivered', () => sandbox.payments()[0]?.events[0]?.delivery === 'delivered');
    assert.equal(receiver.received.length, 3);
    for (const request of receiver.received) assertSigned(request);
    assert.equal(new Set(receiver.received.map((request) => request.raw)).size, 1, 'the body never changes');
    assert.equal(sandbox.payments()[0]!.events[0]!.attempts, 3);
    await sleep(80);
    assert.equal(receiver.received.length, 3, 'no attempt after the 2xx');
  });

  it('treats no answer in time as a failure, and gives up after deliveryAttemptsMax attempts', async () => {
    const receiver = await receiverWith((n) => (n === 1 ? 'hang' : 503));
    const sandbox = await sandboxWith({ paymentTtlMs: 10, fetchTimeoutMs: 80, deliveryAttemptsMax: 3 });
    await createPayment(sandbox, deposit(receiver));
    await waitUntil('failed', () => sandbox.payments()[0]?.events[0]?.delivery === 'failed');
    await sleep(100);
    assert.equal(receiver.received.length, 3);
  });

  it("sends a payment's events in order: the next waits for the first attempt of the one before", async () => {
    const receiver = await receiverWith(() => 200, 150);
    const sandbox = await sandboxWith({ callbackDelayMs: 0 });
    const created = await createPayment(sandbox, deposit(receiver));
    await decide(sandbox, created.body['paymentId'], 'approve');
    await waitUntil('two webhooks', () => receiver.received.length === 2);
    const [processing, completed] = receiver.received;
    assert.deepEqual([processing!.body['status'], completed!.body['status']], ['processing', 'completed']);
    const gap = completed!.arrivedAt - processing!.arrivedAt;
    assert.ok(gap >= 140, `completed came ${gap} ms after processing, once its answer was in`);
  });

  it('backs off exponentially with jitter, capped at 30 s', () => {
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const ceiling = 200 * 2 ** (attempt - 1);
      const delay = retryDelayMs(200, attempt);
      assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
    }
    assert.ok(retryDelayMs(200, 40) <= 30_000);
    assert.ok(retryDelayMs(200, 40) >= 15_000);
  });

  it('sends each event N times at once when duplicating, and once again after setBehaviour', async () => {
    const receiver = await receiverWith(() => 200, 200);
    const sandbox = await sandboxWith({ duplicateDeliveries: 3 });
    const first = await createPayout(sandbox, payout(receiver));
    await waitUntil('six requests', () => receiver.received.length === 6);
    const copies = receiver.received.filter((request) => request.body['status'] === 'processing');
    assert.equal(copies.length, 3);
    assert.equal(new Set(copies.map((request) => request.raw)).size, 1, 'the same event, byte for byte');
    for (const request of copies) assertSigned(request);
    const spread = Math.max(...copies.map((c) => c.arrivedAt)) - Math.min(...copies.map((c) => c.arrivedAt));
    assert.ok(spread < 200, `the copies arrived together, before any answer (${spread} ms apart)`);
    assert.deepEqual(statusesOf(receiver, first.body['payoutId']), ['processing', 'paid']);

    sandbox.setBehaviour({ duplicateDeliveries: 1 });
    assert.deepEqual(sandbox.behaviour(), { duplicateDeliveries: 1, outOfOrder: false, callbackDelayMs: 20 });
    await createPayout(sandbox, payout(receiver));
    await waitUntil('eight requests', () => receiver.received.length === 8);
    await sleep(150);
    assert.equal(receiver.received.length, 8);
  });

  it('sends the final status before processing when out of order (option and HTTP switch)', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ outOfOrder: true });
    const payment = await createPayment(sandbox, deposit(receiver));
    await decide(sandbox, payment.body['paymentId'], 'approve');
    await waitUntil('two webhooks', () => receiver.received.length === 2);
    assert.deepEqual(statusesOf(receiver, payment.body['paymentId']), ['completed', 'processing']);
    const [completed, processing] = receiver.received.map((request) => request.body);
    assert.ok(
      (processing!['occurredAt'] as string) <= (completed!['occurredAt'] as string),
      'times stay true',
    );
    const withdrawal = await createPayout(sandbox, payout(receiver));
    await waitUntil('four webhooks', () => receiver.received.length === 4);
    assert.deepEqual(statusesOf(receiver, withdrawal.body['payoutId']), ['paid', 'processing']);

    const switched = await call(sandbox, 'POST', '/sandbox/behaviour', { body: { outOfOrder: false } });
    assert.equal(switched.status, 200);
    assert.equal(switched.body['outOfOrder'], false);
    const inOrder = await createPayout(sandbox, payout(receiver));
    await waitUntil('six webhooks', () => receiver.received.length === 6);
    assert.deepEqual(statusesOf(receiver, inOrder.body['payoutId']), ['processing', 'paid']);
    const refused = await call(sandbox, 'POST', '/sandbox/behaviour', { body: { duplicateDeliveries: 0 } });
    assert.equal(refused.status, 400);
    assert.equal((await call(sandbox, 'POST', '/sandbox/behaviour', { body: {}, key: 'nope' })).status, 401);
  });
});

describe('payments sandbox: faults', () => {
  it('answers 503 while down (API, page, health) but keeps its control endpoint', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const created = await createPayment(sandbox, deposit(receiver));
    const id = created.body['paymentId'] as string;
    const set = await call(sandbox, 'POST', '/sandbox/fault', { body: { mode: 'down' } });
    assert.deepEqual([set.status, set.body], [200, { mode: 'down' }]);
    const unavailable = { error: 'unavailable' };
    assert.deepEqual((await createPayment(sandbox, deposit(receiver))).body, unavailable);
    assert.equal((await createPayment(sandbox, deposit(receiver))).status, 503);
    assert.equal((await call(sandbox, 'GET', `/v1/payments/${id}`)).status, 503);
    assert.equal((await call(sandbox, 'GET', `/v1/payments/${id}`, { key: 'nope' })).status, 503);
    assert.equal((await call(sandbox, 'GET', '/v1/health', { key: null })).status, 503);
    assert.equal((await fetch(`${sandbox.url}/pay/${id}`)).status, 503);
    assert.equal((await decide(sandbox, id, 'approve')).status, 503);
    assert.equal(sandbox.payments().length, 1);
    assert.equal(sandbox.payments()[0]!.status, 'pending', 'nothing happened while down');
    await call(sandbox, 'POST', '/sandbox/fault', { body: { mode: 'none' } });
    assert.deepEqual((await call(sandbox, 'GET', '/v1/health', { key: null })).body, { status: 'ok' });
    assert.equal((await decide(sandbox, id, 'approve')).status, 200);
  });

  it('answers 500 without acting in error mode; health stays up', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    sandbox.setFault({ mode: 'error' });
    const failed = await createPayment(sandbox, deposit(receiver));
    assert.deepEqual([failed.status, failed.body], [500, { error: 'internal' }]);
    assert.equal((await createPayout(sandbox, payout(receiver))).status, 500);
    assert.equal(sandbox.payments().length + sandbox.payouts().length, 0);
    assert.equal((await call(sandbox, 'GET', '/v1/health', { key: null })).status, 200);
    sandbox.setFault({ mode: 'none' });
    assert.equal((await createPayment(sandbox, deposit(receiver))).status, 201);
  });

  it('acts at once but answers slowMs late in slow mode, so a timed-out caller that retries finds its payment', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ callbackDelayMs: 10_000 });
    sandbox.setFault({ mode: 'slow', slowMs: 600 });
    assert.deepEqual(sandbox.fault(), { mode: 'slow', slowMs: 600 });
    const data = deposit(receiver);
    const timedOut = await fetch(`${sandbox.url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(data),
      signal: AbortSignal.timeout(100),
    }).then(
      () => 'answered',
      (error: unknown) => (error instanceof Error ? error.name : 'error'),
    );
    assert.equal(timedOut, 'TimeoutError');
    assert.equal(sandbox.payments().length, 1, 'the request was acted on');
    const slow = await createPayment(sandbox, data);
    assert.ok(slow.ms >= 590, `answered after ${slow.ms} ms`);
    assert.equal(slow.status, 201);
    assert.equal(slow.body['paymentId'], sandbox.payments()[0]!.paymentId);
    assert.ok((await call(sandbox, 'GET', '/v1/health', { key: null })).ms >= 590);
    const page = Date.now();
    await fetch(`${sandbox.url}/pay/${slow.body['paymentId']}`).then((answer) => answer.text());
    assert.ok(Date.now() - page < 400, 'the hosted page is not slowed');
    sandbox.setFault({ mode: 'none' });
    assert.ok((await call(sandbox, 'GET', `/v1/payments/${slow.body['paymentId']}`)).ms < 400);
  });

  it('refuses a bad fault, and a fault change without the key', async () => {
    const sandbox = await sandboxWith();
    for (const body of [{ mode: 'broken' }, { mode: 'slow', slowMs: -1 }, { mode: 'none', extra: 1 }, []]) {
      const answer = await call(sandbox, 'POST', '/sandbox/fault', { body });
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body['error'], 'invalid_request');
    }
    assert.equal(
      (await call(sandbox, 'POST', '/sandbox/fault', { body: { mode: 'down' }, key: null })).status,
      401,
    );
    assert.deepEqual(sandbox.fault(), { mode: 'none' });
    assert.throws(() => sandbox.setFault({ mode: 'slow', slowMs: 1.5 }), RangeError);
  });
});

describe('payments sandbox: settlement report', () => {
  it('lists completed deposits and paid payouts settled in the window, and lies when tampered with', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ currencies: ['EUR', 'GBP', 'JPY'] });
    const started = new Date(Date.now() - 1_000).toISOString();
    const completed = deposit(receiver, { amount: '10.50' });
    const completedYen = deposit(receiver, { amount: '1000', currency: 'JPY' });
    const declined = deposit(receiver);
    const pending = deposit(receiver);
    const paid = payout(receiver, { amount: '5' });
    const failed = payout(receiver, { account: 'fail' });
    const ids = new Map<unknown, unknown>();
    for (const [data, decision] of [
      [completed, 'approve'],
      [completedYen, 'approve'],
      [declined, 'decline'],
      [pending, undefined],
    ] as const) {
      const created = await createPayment(sandbox, data);
      ids.set(data['reference'], created.body['paymentId']);
      if (decision !== undefined) await decide(sandbox, created.body['paymentId'], decision);
    }
    ids.set(paid['reference'], (await createPayout(sandbox, paid)).body['payoutId']);
    await createPayout(sandbox, failed);
    await waitUntil('all settled', () => receiver.received.length === 10);
    const window = `from=${started}&to=${new Date(Date.now() + 1_000).toISOString()}`;
    const report = await call(sandbox, 'GET', `/v1/settlements?${window}`);
    assert.equal(report.status, 200);
    assert.equal(report.body['provider'], 'sandbox-eu');
    const items = report.body['items'] as Record<string, unknown>[];
    assert.deepEqual(
      items
        .map((item) => [item['reference'], item['type'], item['amount'], item['currency'], item['status']])
        .sort(),
      [
        [completed['reference'], 'deposit', '10.50', 'EUR', 'completed'],
        [completedYen['reference'], 'deposit', '1000', 'JPY', 'completed'],
        [paid['reference'], 'payout', '5.00', 'EUR', 'paid'],
      ].sort(),
    );
    for (const item of items) {
      assert.deepEqual(Object.keys(item).sort(), [
        'amount',
        'currency',
        'id',
        'reference',
        'settledAt',
        'status',
        'type',
      ]);
      assert.equal(item['id'], ids.get(item['reference']));
    }
    const times = items.map((item) => item['settledAt'] as string);
    assert.deepEqual([...times].sort(), times, 'ordered by settledAt');

    const one = items[0]!;
    const settledMs = Date.parse(one['settledAt'] as string);
    const iso = (ms: number): string => new Date(ms).toISOString();
    const exact = await call(
      sandbox,
      'GET',
      `/v1/settlements?from=${iso(settledMs)}&to=${iso(settledMs + 1)}`,
    );
    assert.ok(
      (exact.body['items'] as unknown[]).some(
        (item) => (item as Record<string, unknown>)['id'] === one['id'],
      ),
    );
    const before = await call(
      sandbox,
      'GET',
      `/v1/settlements?from=${iso(settledMs - 60_000)}&to=${iso(settledMs)}`,
    );
    assert.ok(
      !(before.body['items'] as Record<string, unknown>[]).some((item) => item['id'] === one['id']),
      'to is exclusive',
    );
    const offset = await call(
      sandbox,
      'GET',
      '/v1/settlements?from=2000-01-01T01:00:00+01:00&to=2999-01-01T00:00:00Z',
    );
    assert.equal(offset.status, 200, 'an unencoded +hh:mm offset is understood');
    assert.equal((offset.body['items'] as unknown[]).length, 3);

    sandbox.tamperSettlement({
      omit: [completed['reference'] as string],
      amountOverrides: { [paid['reference'] as string]: '4.99' },
      extra: [
        {
          id: 'ghost-1',
          reference: 'dep-ghost',
          type: 'deposit',
          amount: '99.00',
          currency: 'EUR',
          status: 'completed',
          settledAt: new Date().toISOString(),
        },
      ],
    });
    const tampered = (await call(sandbox, 'GET', `/v1/settlements?${window}`)).body['items'] as Record<
      string,
      unknown
    >[];
    const byReference = new Map(tampered.map((item) => [item['reference'], item]));
    assert.equal(byReference.has(completed['reference']), false, 'missing item');
    assert.equal(byReference.get(paid['reference'])?.['amount'], '4.99', 'wrong amount');
    assert.equal(byReference.get('dep-ghost')?.['id'], 'ghost-1', 'extra item');
    assert.equal(byReference.get(completedYen['reference'])?.['amount'], '1000', 'the rest stays true');

    const reset = await call(sandbox, 'POST', '/sandbox/settlement-tamper', { body: {} });
    assert.equal(reset.status, 200);
    const honest = (await call(sandbox, 'GET', `/v1/settlements?${window}`)).body['items'] as unknown[];
    assert.equal(honest.length, 3);
    const viaHttp = await call(sandbox, 'POST', '/sandbox/settlement-tamper', {
      body: { omit: [paid['reference']] },
    });
    assert.equal(viaHttp.status, 200);
    assert.equal(
      ((await call(sandbox, 'GET', `/v1/settlements?${window}`)).body['items'] as unknown[]).length,
      2,
    );
    const badTamper = await call(sandbox, 'POST', '/sandbox/settlement-tamper', {
      body: { extra: [{ id: 1 }] },
    });
    assert.equal(badTamper.status, 400);

    for (const query of [
      '',
      '?from=2025-01-01T00:00:00Z',
      '?from=yesterday&to=today',
      '?from=2025-02-30T00:00:00Z&to=2025-03-02T00:00:00Z',
      '?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z',
      `?${window}&page=2`,
    ]) {
      const answer = await call(sandbox, 'GET', `/v1/settlements${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body['error'], 'invalid_request');
    }
    assert.equal((await call(sandbox, 'GET', `/v1/settlements?${window}`, { key: null })).status, 401);
  });

  it('reads RFC 3339 times strictly', () => {
    assert.equal(parseTime('2025-01-01T00:00:00Z'), Date.UTC(2025, 0, 1));
    assert.equal(parseTime('2025-01-01T01:00:00.5+01:00'), Date.UTC(2025, 0, 1, 0, 0, 0, 500));
    assert.equal(parseTime('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
    for (const bad of [
      '2025-01-01',
      '2025-02-29T00:00:00Z',
      '2025-13-01T00:00:00Z',
      '2025-01-01 00:00:00Z',
      '1735689600',
    ]) {
      assert.equal(parseTime(bad), undefined, bad);
    }
  });
});

describe('payments sandbox: own storage', () => {
  it('keeps payments and payouts across a restart and resumes undelivered webhooks and due changes', async () => {
    const folder = temporaryFolder();
    let accepting = false;
    const receiver = await receiverWith(() => (accepting ? 200 : 500));
    const options = { dataDir: folder, retryBaseDelayMs: 60_000 };
    const first = await startPaymentsSandbox({
      name: 'sandbox-eu',
      apiKey: API_KEY,
      webhookSecret: SECRET,
      currencies: ['EUR', 'GBP'],
      callbackDelayMs: 20,
      ...options,
    });
    cleanups.push(() => first.close());
    const approved = deposit(receiver);
    const approvedId = (await createPayment(first, approved)).body['paymentId'];
    await decide(first, approvedId, 'approve');
    const waiting = deposit(receiver);
    const waitingId = (await createPayment(first, waiting)).body['paymentId'];
    await waitUntil('both events tried once', () => receiver.received.length === 2);
    const triedBefore = receiver.received.map((request) => request.raw);
    first.setBehaviour({ callbackDelayMs: 100 });
    const withdrawal = payout(receiver);
    const payoutId = (await createPayout(first, withdrawal)).body['payoutId'];
    await first.close();
    assert.equal(first.payouts()[0]!.status, 'processing', 'closed before the payout was paid');
    assert.ok(readFileSync(path.join(folder, JOURNAL_FILE), 'utf8').includes('"name":"sandbox-eu"'));

    await sleep(120); // the payout falls due while no sandbox runs
    accepting = true;
    const second = await sandboxWith(options);
    const state = await call(second, 'GET', `/v1/payments/${approvedId as string}`);
    assert.equal(state.body['status'], 'completed');
    assert.equal(state.body['reference'], approved['reference']);
    assert.equal(
      (await createPayment(second, approved)).body['paymentId'],
      approvedId,
      'idempotency survives',
    );
    assert.equal((await createPayment(second, { ...approved, amount: '1.00' })).status, 409);
    await waitUntil('the resumed webhooks', () => receiver.events().length === 4);
    for (const raw of triedBefore) {
      assert.ok(
        receiver.received.slice(2).some((request) => request.raw === raw),
        'the same event is sent again',
      );
    }
    assert.deepEqual(statusesOf(receiver, approvedId), ['processing', 'completed']);
    assert.deepEqual(statusesOf(receiver, payoutId), ['processing', 'paid']);
    assert.equal(second.payouts()[0]!.status, 'paid');

    assert.equal(
      (await decide(second, waitingId, 'approve')).status,
      200,
      'a pending payment can still be decided',
    );
    await waitUntil('its webhooks', () => statusesOf(receiver, waitingId).length === 2);
    await waitUntil('all delivered', () =>
      [...second.payments(), ...second.payouts()].every((record) =>
        record.events.every((event) => event.delivery === 'delivered'),
      ),
    );
    await second.close();
    const third = await sandboxWith(options);
    await sleep(80);
    assert.equal(receiver.events().length, 6, 'nothing delivered is sent again');
    assert.deepEqual(
      third.payments().map((payment) => payment.status),
      ['completed', 'completed'],
    );
  });

  it("expires during a restart, ignores a torn last line, and refuses another instance's folder", async () => {
    const folder = temporaryFolder();
    const receiver = await receiverWith();
    const first = await sandboxWith({ dataDir: folder, paymentTtlMs: 150 });
    const id = (await createPayment(first, deposit(receiver))).body['paymentId'];
    await first.close();
    appendFileSync(path.join(folder, JOURNAL_FILE), '{"t":"payment","id":"torn');
    await assert.rejects(
      sandboxWith({ dataDir: folder, name: 'sandbox-intl' }),
      /belongs to the instance "sandbox-eu"/,
    );
    const second = await sandboxWith({ dataDir: folder, paymentTtlMs: 150 });
    await waitUntil('the expiry webhook', () => receiver.received.length === 1);
    assert.equal(receiver.received[0]!.body['id'], id);
    assert.equal(receiver.received[0]!.body['status'], 'expired');
    assert.equal(second.payments()[0]!.status, 'expired');
    assert.ok(!readFileSync(path.join(folder, JOURNAL_FILE), 'utf8').includes('torn'), 'rewritten at start');
  });
});

describe('payments sandbox: API', () => {
  it('answers 401 to a missing or wrong key on every /v1 call, and needs none for health and the page', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const id = (await createPayment(sandbox, deposit(receiver))).body['paymentId'] as string;
    const payoutId = (await createPayout(sandbox, payout(receiver))).body['payoutId'] as string;
    const window = '?from=2025-01-01T00:00:00Z&to=2999-01-01T00:00:00Z';
    for (const key of [null, 'nope', `${API_KEY}x`, '']) {
      for (const [method, path, body] of [
        ['POST', '/v1/payments', deposit(receiver)],
        ['POST', '/v1/payouts', payout(receiver)],
        ['GET', `/v1/payments/${id}`, undefined],
        ['GET', `/v1/payouts/${payoutId}`, undefined],
        ['GET', `/v1/settlements${window}`, undefined],
      ] as const) {
        const answer = await call(sandbox, method, path, { body, key });
        assert.deepEqual(
          [answer.status, answer.body],
          [401, { error: 'unauthorized' }],
          `${method} ${path} key=${key}`,
        );
      }
    }
    assert.equal(sandbox.payments().length + sandbox.payouts().length, 2);
    assert.equal((await call(sandbox, 'GET', '/v1/health', { key: null })).status, 200);
    assert.equal((await fetch(`${sandbox.url}/pay/${id}`)).status, 200);
  });

  it('answers 400 to bad bodies and keeps nothing', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ currencies: ['EUR', 'BTC'] });
    const { callbackUrl: _callbackUrl, ...noCallback } = deposit(receiver);
    const badPayments: [string, unknown][] = [
      ['amount as a number', deposit(receiver, { amount: 10.5 })],
      ['too many decimals', deposit(receiver, { amount: '10.505' })],
      ['zero', deposit(receiver, { amount: '0' })],
      ['negative', deposit(receiver, { amount: '-1.00' })],
      ['exponent', deposit(receiver, { amount: '1e3' })],
      ['leading zero', deposit(receiver, { amount: '010.00' })],
      ['spaces', deposit(receiver, { amount: ' 10.00' })],
      ['bare point', deposit(receiver, { amount: '10.' })],
      ['too large', deposit(receiver, { amount: '92233720368547758.08' })],
      ['BTC past 8 decimals', deposit(receiver, { currency: 'BTC', amount: '0.000000001' })],
      ['lower-case currency', deposit(receiver, { currency: 'eur' })],
      ['missing callbackUrl', noCallback],
      ['extra field', deposit(receiver, { card: '4111111111111111' })],
      ['empty reference', deposit(receiver, { reference: '' })],
      ['long reference', deposit(receiver, { reference: 'r'.repeat(129) })],
      ['blank reference', deposit(receiver, { reference: '  ' })],
      ['control character', deposit(receiver, { reference: 'a\u0000b' })],
      ['country', deposit(receiver, { country: 'MLT' })],
      ['callback scheme', deposit(receiver, { callbackUrl: 'ftp://example.com/hook' })],
      ['returnUrl javascript', deposit(receiver, { returnUrl: 'javascript:alert(1)' })],
      ['long callbackUrl', deposit(receiver, { callbackUrl: `http://x.example/${'a'.repeat(2048)}` })],
      ['null field', deposit(receiver, { country: null })],
      ['array', [deposit(receiver)]],
      ['null', null],
    ];
    for (const [what, body] of badPayments) {
      const answer = await createPayment(sandbox, body);
      assert.equal(answer.status, 400, what);
      assert.equal(answer.body['error'], 'invalid_request', what);
      assert.equal(typeof answer.body['message'], 'string', what);
    }
    const badPayouts: [string, unknown][] = [
      ['missing account', { ...payout(receiver), account: undefined }],
      ['long account', payout(receiver, { account: 'A'.repeat(65) })],
      ['blank holder', payout(receiver, { holderName: ' ' })],
      ['country is not a payout field', payout(receiver, { country: 'MT' })],
      ['amount', payout(receiver, { amount: '1.234' })],
    ];
    for (const [what, body] of badPayouts) {
      const answer = await createPayout(sandbox, body);
      assert.equal(answer.status, 400, what);
      assert.equal(answer.body['error'], 'invalid_request', what);
    }
    const poisoned = await call(sandbox, 'POST', '/v1/payments', {
      rawBody: `{"__proto__":{"admin":true},${JSON.stringify(deposit(receiver)).slice(1)}`,
    });
    assert.equal(poisoned.status, 400, 'a __proto__ key is an unknown field');
    assert.equal((await call(sandbox, 'POST', '/v1/payments', { rawBody: '{"reference":' })).status, 400);
    const smallest = await createPayment(
      sandbox,
      deposit(receiver, { currency: 'BTC', amount: '0.00000001' }),
    );
    assert.equal(smallest.status, 201, 'one satoshi is fine');
    assert.equal(sandbox.payments().length, 1);
    assert.equal(sandbox.payouts().length, 0);

    const id = smallest.body['paymentId'];
    for (const body of [{ decision: 'maybe' }, { decision: 'approve', extra: 1 }, {}, 'approve']) {
      const answer = await call(sandbox, 'POST', `/pay/${id as string}`, { body, key: null });
      assert.equal(answer.status, 400, JSON.stringify(body));
    }
    assert.equal(sandbox.payments()[0]!.status, 'pending');
  });

  it('refuses a body over 16 KiB (413) and one that is not JSON (415), and answers 404 and 405', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const big = await createPayment(sandbox, deposit(receiver, { reference: 'A'.repeat(17 * 1024) }));
    assert.deepEqual([big.status, big.body], [413, { error: 'payload_too_large' }]);
    const form = await call(sandbox, 'POST', '/v1/payments', {
      rawBody: 'reference=1',
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.deepEqual([form.status, form.body], [415, { error: 'unsupported_media_type' }]);
    const id = (await createPayment(sandbox, deposit(receiver))).body['paymentId'] as string;
    const formDecision = await call(sandbox, 'POST', `/pay/${id}`, {
      rawBody: 'decision=approve',
      contentType: 'application/x-www-form-urlencoded',
      key: null,
    });
    assert.equal(formDecision.status, 415, 'a cross-site form cannot decide for the player');
    // No content-length: the limit must hold while the body streams in.
    const chunked = await postStreamedBody(`${sandbox.url}/v1/payouts`, 'holderName');
    assert.equal(chunked, 413);
    assert.equal((await call(sandbox, 'GET', '/v1/payments/nope')).status, 404);
    assert.equal((await call(sandbox, 'GET', '/v2/payments')).status, 404);
    assert.equal((await call(sandbox, 'GET', '/sandbox/other')).status, 404);
    const wrongMethod = await call(sandbox, 'GET', '/v1/payments');
    assert.deepEqual([wrongMethod.status, wrongMethod.headers.get('allow')], [405, 'POST']);
    assert.equal((await call(sandbox, 'DELETE', `/v1/payments/${id}`)).status, 405);
    assert.equal((await call(sandbox, 'POST', '/v1/settlements', { body: {} })).status, 405);
    assert.equal((await call(sandbox, 'PUT', `/pay/${id}`)).status, 405);
    assert.equal(sandbox.payments().length, 1);
  });

  it('drops the oldest record beyond the cap', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ recordsMax: 2, callbackDelayMs: 10_000 });
    const first = await createPayment(sandbox, deposit(receiver));
    await createPayout(sandbox, payout(receiver));
    await createPayment(sandbox, deposit(receiver));
    assert.equal(sandbox.payments().length + sandbox.payouts().length, 2);
    assert.equal(
      (await call(sandbox, 'GET', `/v1/payments/${first.body['paymentId'] as string}`)).status,
      404,
    );
  });

  it('refuses bad options', async () => {
    const base: PaymentsSandboxOptions = { name: 'x', apiKey: 'k', webhookSecret: 's', currencies: ['EUR'] };
    for (const [what, options] of [
      ['unknown currency', { ...base, currencies: ['XAU'] }],
      ['no currency', { ...base, currencies: [] }],
      ['bad scale', { ...base, currencies: ['XAU'], currencyScales: { XAU: 1.5 } }],
      ['bad country', { ...base, countries: ['mt'] }],
      ['bad name', { ...base, name: 'two words' }],
      ['empty key', { ...base, apiKey: '' }],
      ['bad public URL', { ...base, publicUrl: 'ftp://x' }],
      ['duplicates', { ...base, duplicateDeliveries: 11 }],
    ] as const) {
      await assert.rejects(startPaymentsSandbox(options), RangeError, what);
    }
  });

  it('converts amounts exactly', () => {
    assert.deepEqual(parseAmount('10.5', 'EUR', 2), { ok: true, minor: 1050n });
    assert.deepEqual(parseAmount('1000', 'JPY', 0), { ok: true, minor: 1000n });
    assert.deepEqual(parseAmount('0.00000001', 'BTC', 8), { ok: true, minor: 1n });
    assert.deepEqual(parseAmount('92233720368547758.07', 'EUR', 2), { ok: true, minor: 2n ** 63n - 1n });
    assert.equal(parseAmount('0.1', 'JPY', 0).ok, false);
    assert.equal(formatAmount(1050n, 2), '10.50');
    assert.equal(formatAmount(5n, 2), '0.05');
    assert.equal(formatAmount(1000n, 0), '1000');
    assert.equal(formatAmount(1n, 8), '0.00000001');
  });
});

describe('payments sandbox: close', () => {
  it('ends promptly while a webhook hangs, a retry waits and a slow answer is held back', async () => {
    const hanging = await receiverWith(() => 'hang');
    const failing = await receiverWith(() => 500);
    const sandbox = await startPaymentsSandbox({
      name: 'sandbox-eu',
      apiKey: API_KEY,
      webhookSecret: SECRET,
      currencies: ['EUR'],
      callbackDelayMs: 10,
      fetchTimeoutMs: 60_000,
      retryBaseDelayMs: 60_000,
    });
    try {
      await createPayout(sandbox, payout(hanging));
      await createPayout(sandbox, payout(failing));
      // A payout sends `processing` at creation and `paid` d later, one after the other: the
      // failing receiver may already have refused both (its retries then wait a minute), while
      // the hanging one holds the first.
      await waitUntil('both attempts', () => hanging.received.length === 1 && failing.received.length >= 1);
      sandbox.setFault({ mode: 'slow', slowMs: 60_000 });
      const held = call(sandbox, 'GET', '/v1/health', { key: null }).catch(() => 'cut');
      await sleep(50);
      const started = Date.now();
      await sandbox.close();
      assert.ok(Date.now() - started < 1_000, `close took ${Date.now() - started} ms`);
      assert.equal(await held, 'cut');
      await sandbox.close(); // a second close is harmless
      await assert.rejects(fetch(`${sandbox.url}/v1/health`));
      // The test process itself exits only if no timer or socket was left behind.
    } finally {
      // A failure above must not leave a minute-long fetch and retries holding the process.
      await sandbox.close();
    }
  });
});

describe('payments sandbox: run apart (src/apps/payments-sandbox.ts)', () => {
  const script = 'src/apps/payments-sandbox.ts';

  it('exits 1 naming a missing or bad variable', async () => {
    const missingKey = await runToExit({
      script,
      env: { PAYMENTS_SANDBOX_PORT: '0', PAYMENTS_SANDBOX_WEBHOOK_SECRET: SECRET },
      timeoutMs: 20_000,
    });
    assert.equal(missingKey.code, 1);
    assert.match(missingKey.stderr, /PAYMENTS_SANDBOX_API_KEY/);
    const badCurrency = await runToExit({
      script,
      env: {
        PAYMENTS_SANDBOX_PORT: '0',
        PAYMENTS_SANDBOX_API_KEY: API_KEY,
        PAYMENTS_SANDBOX_WEBHOOK_SECRET: SECRET,
        PAYMENTS_SANDBOX_CURRENCIES: 'EUR,XAU',
      },
      timeoutMs: 20_000,
    });
    assert.equal(badCurrency.code, 1);
    assert.match(badCurrency.stderr, /PAYMENTS_SANDBOX_CURRENCIES: give a scale for XAU/);
  });

  const receivers: Receiver[] = [];
  after(async () => {
    for (const receiver of receivers) await receiver.close();
  });

  it('serves, calls back, keeps its data folder, and exits 0 on SIGTERM', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const folder = mkdtempSync(path.join(tmpdir(), 'payments-sandbox-app-'));
    try {
      const running = await startProcess({
        script,
        env: {
          PAYMENTS_SANDBOX_PORT: '0',
          PAYMENTS_SANDBOX_NAME: 'sandbox-intl',
          PAYMENTS_SANDBOX_API_KEY: API_KEY,
          PAYMENTS_SANDBOX_WEBHOOK_SECRET: SECRET,
          PAYMENTS_SANDBOX_CURRENCIES: 'USD,EUR,JPY',
          PAYMENTS_SANDBOX_COUNTRIES: 'US,CA',
          PAYMENTS_SANDBOX_DATA_DIR: folder,
          PAYMENTS_SANDBOX_CALLBACK_DELAY_MS: '10',
        },
        startTimeoutMs: 20_000,
      });
      try {
        assert.match(running.output(), /sandbox-intl \(USD, EUR, JPY\)/);
        const created = await call(running.url, 'POST', '/v1/payments', {
          body: deposit(receiver, { currency: 'JPY', amount: '500', country: 'US' }),
        });
        assert.equal(created.status, 201);
        assert.equal(
          (await call(running.url, 'POST', '/v1/payments', { body: deposit(receiver) })).status,
          400,
        );
        const decided = await call(running.url, 'POST', `/pay/${created.body['paymentId'] as string}`, {
          body: { decision: 'approve' },
          key: null,
        });
        assert.equal(decided.status, 200);
        await waitUntil('two webhooks', () => receiver.received.length === 2);
        for (const request of receiver.received) assertSigned(request);
        assert.equal(receiver.received[1]!.body['amount'], '500');
      } finally {
        running.child.kill('SIGTERM');
      }
      const exit = await running.exited;
      assert.equal(exit.code, 0, running.output());
      assert.ok(readFileSync(path.join(folder, JOURNAL_FILE), 'utf8').includes('"status":"completed"'));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
