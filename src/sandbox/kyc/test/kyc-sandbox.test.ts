// Proves the sandbox KYC provider behaves like an outside vendor over real HTTP: outcomes follow the
// submitted data, callbacks are signed and retried with backoff, submissions are idempotent, the
// API refuses bad keys and bodies, can be made to fail, and close() ends everything promptly.
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runToExit, startProcess } from '../../../../test/support/process.ts';
import {
  API_KEY,
  SECRET,
  assertSigned,
  call as callAny,
  postStreamedBody,
  sleep,
  startReceiver as startAnyReceiver,
  waitUntil,
} from '../../test/support.ts';
import type { Receiver, ReceiverAnswer, CallOptions } from '../../test/support.ts';
import { ageOn, retryDelayMs, startKycSandbox } from '../kyc-sandbox.ts';
import type { KycSandbox, KycSandboxOptions } from '../kyc-sandbox.ts';

/** `answer(n)` gives the status for the n-th request (1-based); 'hang' never answers. */
const startReceiver = (answer?: (n: number) => ReceiverAnswer): Promise<Receiver> =>
  startAnyReceiver('/webhooks/kyc', answer);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sandboxWith(options: Partial<KycSandboxOptions> = {}): Promise<KycSandbox> {
  const sandbox = await startKycSandbox({
    apiKey: API_KEY,
    webhookSecret: SECRET,
    callbackDelayMs: 30,
    retryBaseDelayMs: 20,
    fetchTimeoutMs: 2_000,
    ...options,
  });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

async function receiverWith(answer?: (n: number) => ReceiverAnswer): Promise<Receiver> {
  const receiver = await startReceiver(answer);
  cleanups.push(() => receiver.close());
  return receiver;
}

function person(receiver: Receiver, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reference: `player-${Math.random().toString(36).slice(2)}`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    dateOfBirth: '1990-05-17',
    country: 'MT',
    callbackUrl: receiver.url,
    ...overrides,
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A sandbox call, answered as its status and JSON body only. */
async function call(
  sandbox: KycSandbox,
  method: 'GET' | 'POST',
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const { status, body } = await callAny(sandbox, method, path, options);
  return { status, body };
}

const submit = (sandbox: KycSandbox, body: unknown): Promise<Answer> =>
  call(sandbox, 'POST', '/v1/verifications', { body });

function yearsAgo(years: number, extraDays = 0): string {
  const date = new Date();
  date.setUTCFullYear(date.getUTCFullYear() - years);
  date.setUTCDate(date.getUTCDate() + extraDays);
  return date.toISOString().slice(0, 10);
}

describe('kyc sandbox: outcomes', () => {
  it('verifies an adult, then calls back once with a signed webhook', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ callbackDelayMs: 100 });
    const data = person(receiver);
    const accepted = await submit(sandbox, data);
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body['status'], 'pending');
    const id = accepted.body['verificationId'] as string;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const early = await call(sandbox, 'GET', `/v1/verifications/${id}`);
    assert.deepEqual(early, {
      status: 200,
      body: { verificationId: id, reference: data['reference'], status: 'pending' },
    });

    await waitUntil('the callback', () => receiver.received.length === 1);
    const [callback] = receiver.received;
    assertSigned(callback!);
    const payload = JSON.parse(callback!.raw) as Record<string, unknown>;
    assert.deepEqual(Object.keys(payload).sort(), ['checkedAt', 'reference', 'status', 'verificationId']);
    assert.equal(payload['verificationId'], id);
    assert.equal(payload['reference'], data['reference']);
    assert.equal(payload['status'], 'verified');
    assert.equal(new Date(payload['checkedAt'] as string).toISOString(), payload['checkedAt']);

    const late = await call(sandbox, 'GET', `/v1/verifications/${id}`);
    assert.equal(late.body['status'], 'verified');
    assert.equal(late.body['reason'], undefined);
    await waitUntil('delivered state', () => sandbox.verifications()[0]?.delivery === 'delivered');
    await sleep(100);
    assert.equal(receiver.received.length, 1, 'one 2xx answer ends the delivery');
    assert.equal(sandbox.verifications()[0]!.deliveryAttempts, 1);
  });

  it('rejects a lastName containing "reject" (any case) as document_mismatch', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const accepted = await submit(sandbox, person(receiver, { lastName: 'McREJECTson' }));
    await waitUntil('the callback', () => receiver.received.length === 1);
    assertSigned(receiver.received[0]!);
    const payload = JSON.parse(receiver.received[0]!.raw) as Record<string, unknown>;
    assert.equal(payload['status'], 'rejected');
    assert.equal(payload['reason'], 'document_mismatch');
    const state = await call(
      sandbox,
      'GET',
      `/v1/verifications/${accepted.body['verificationId'] as string}`,
    );
    assert.equal(state.body['status'], 'rejected');
    assert.equal(state.body['reason'], 'document_mismatch');
  });

  it('rejects a player under 18 on the day of the check as underage', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    await submit(sandbox, person(receiver, { dateOfBirth: yearsAgo(18, 1) }));
    await submit(sandbox, person(receiver, { dateOfBirth: yearsAgo(18, -1) }));
    await waitUntil('two callbacks', () => receiver.received.length === 2);
    const byDate = new Map(
      sandbox.verifications().map((verification) => [verification.dateOfBirth, verification]),
    );
    assert.equal(byDate.get(yearsAgo(18, 1))?.status, 'rejected');
    assert.equal(byDate.get(yearsAgo(18, 1))?.reason, 'underage');
    assert.equal(byDate.get(yearsAgo(18, -1))?.status, 'verified');
  });

  it('keeps a lastName containing "review" pending with no callback', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const accepted = await submit(sandbox, person(receiver, { lastName: 'Needs Review' }));
    await waitUntil('the check', () => sandbox.verifications()[0]?.checkedAt !== undefined);
    await sleep(150);
    assert.equal(receiver.received.length, 0);
    const [verification] = sandbox.verifications();
    assert.equal(verification?.status, 'pending');
    assert.equal(verification?.delivery, 'none');
    const state = await call(
      sandbox,
      'GET',
      `/v1/verifications/${accepted.body['verificationId'] as string}`,
    );
    assert.equal(state.body['status'], 'pending');
  });

  it('calls back after ten times the delay for a lastName containing "slow"', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ callbackDelayMs: 40 });
    const started = Date.now();
    await submit(sandbox, person(receiver, { lastName: 'Slowpoke' }));
    await sleep(150);
    assert.equal(receiver.received.length, 0, 'not yet after a few normal delays');
    await waitUntil('the slow callback', () => receiver.received.length === 1);
    assert.ok(Date.now() - started >= 400, 'took at least 10× the delay');
    assert.equal((JSON.parse(receiver.received[0]!.raw) as Record<string, unknown>)['status'], 'verified');
  });

  it('computes age in whole years, birthday included', () => {
    const on = new Date('2024-06-15T12:00:00Z');
    assert.equal(ageOn('2006-06-15', on), 18);
    assert.equal(ageOn('2006-06-16', on), 17);
    assert.equal(ageOn('2006-07-01', on), 17);
    assert.equal(ageOn('2006-02-28', on), 18);
  });
});

describe('kyc sandbox: delivery', () => {
  it('retries a receiver that answers 500 twice and delivers on the 3rd attempt, same bytes, fresh signatures', async () => {
    const receiver = await receiverWith((n) => (n <= 2 ? 500 : 200));
    const sandbox = await sandboxWith();
    await submit(sandbox, person(receiver));
    await waitUntil('three attempts', () => receiver.received.length === 3);
    await waitUntil('delivered state', () => sandbox.verifications()[0]?.delivery === 'delivered');
    for (const request of receiver.received) assertSigned(request);
    assert.equal(new Set(receiver.received.map((request) => request.raw)).size, 1, 'the body never changes');
    assert.equal(sandbox.verifications()[0]!.deliveryAttempts, 3);
    await sleep(100);
    assert.equal(receiver.received.length, 3, 'no attempt after the 2xx');
  });

  it('gives up after deliveryAttemptsMax attempts', async () => {
    const receiver = await receiverWith(() => 503);
    const sandbox = await sandboxWith({ deliveryAttemptsMax: 3 });
    await submit(sandbox, person(receiver));
    await waitUntil('failed state', () => sandbox.verifications()[0]?.delivery === 'failed');
    await sleep(200);
    assert.equal(receiver.received.length, 3);
    assert.equal(sandbox.verifications()[0]!.deliveryAttempts, 3);
  });

  it('treats a receiver that does not answer in time as a failed attempt and retries', async () => {
    const receiver = await receiverWith((n) => (n === 1 ? 'hang' : 200));
    const sandbox = await sandboxWith({ fetchTimeoutMs: 100 });
    await submit(sandbox, person(receiver));
    await waitUntil('delivered state', () => sandbox.verifications()[0]?.delivery === 'delivered');
    assert.equal(receiver.received.length, 2);
  });

  it('retries an unreachable callback URL', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ deliveryAttemptsMax: 2 });
    await receiver.close();
    await submit(sandbox, person(receiver));
    await waitUntil('failed state', () => sandbox.verifications()[0]?.delivery === 'failed');
    assert.equal(sandbox.verifications()[0]!.deliveryAttempts, 2);
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
});

describe('kyc sandbox: API', () => {
  it('returns the same verification for the same reference and data, a new one for other data', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ callbackDelayMs: 100 });
    const data = person(receiver);
    const first = await submit(sandbox, data);
    const again = await submit(sandbox, { ...data });
    assert.equal(first.status, 202);
    assert.equal(again.status, 202);
    assert.equal(again.body['verificationId'], first.body['verificationId']);
    const changed = await submit(sandbox, { ...data, firstName: 'Augusta' });
    assert.equal(changed.status, 202);
    assert.notEqual(changed.body['verificationId'], first.body['verificationId']);
    await waitUntil('two callbacks', () => receiver.received.length === 2);
    await sleep(150);
    assert.equal(receiver.received.length, 2, 'one check per distinct submission');
    assert.equal(sandbox.verifications().length, 2);
    const replayAfterCheck = await submit(sandbox, data);
    assert.equal(replayAfterCheck.body['verificationId'], first.body['verificationId']);
    assert.equal(replayAfterCheck.body['status'], 'verified', 'a replay reports the current status');
  });

  it('answers 401 to a missing or wrong API key', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const unauthorized = { status: 401, body: { error: 'unauthorized' } };
    const path = '/v1/verifications';
    assert.deepEqual(await call(sandbox, 'POST', path, { body: person(receiver), key: null }), unauthorized);
    assert.deepEqual(
      await call(sandbox, 'POST', path, { body: person(receiver), key: 'nope' }),
      unauthorized,
    );
    assert.deepEqual(
      await call(sandbox, 'POST', path, { body: person(receiver), key: `${API_KEY}x` }),
      unauthorized,
    );
    const accepted = await submit(sandbox, person(receiver));
    const id = accepted.body['verificationId'] as string;
    assert.deepEqual(await call(sandbox, 'GET', `${path}/${id}`, { key: 'nope' }), unauthorized);
    assert.equal(sandbox.verifications().length, 1);
  });

  it('answers 400 to a bad body and keeps nothing', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const { country: _country, ...missingCountry } = person(receiver);
    const bad: [string, unknown][] = [
      ['impossible date', person(receiver, { dateOfBirth: '1990-02-30' })],
      ['date format', person(receiver, { dateOfBirth: '17/05/1990' })],
      ['future date', person(receiver, { dateOfBirth: '2999-01-01' })],
      ['missing field', missingCountry],
      ['extra field', person(receiver, { ssn: '123' })],
      ['number instead of string', person(receiver, { firstName: 42 })],
      ['empty reference', person(receiver, { reference: '' })],
      ['long reference', person(receiver, { reference: 'r'.repeat(129) })],
      ['blank name', person(receiver, { lastName: '   ' })],
      ['country', person(receiver, { country: 'MLT' })],
      ['callback scheme', person(receiver, { callbackUrl: 'ftp://example.com/hook' })],
      ['callback not a URL', person(receiver, { callbackUrl: 'not a url' })],
      ['array', [person(receiver)]],
      ['null', null],
    ];
    for (const [what, body] of bad) {
      const answer = await submit(sandbox, body);
      assert.equal(answer.status, 400, what);
      assert.equal(answer.body['error'], 'invalid_request', what);
      assert.equal(typeof answer.body['message'], 'string', what);
    }
    const malformed = await call(sandbox, 'POST', '/v1/verifications', { rawBody: '{"reference":' });
    assert.equal(malformed.status, 400);
    const poisoned = await call(sandbox, 'POST', '/v1/verifications', {
      rawBody: `{"__proto__":{"admin":true},${JSON.stringify(person(receiver)).slice(1)}`,
    });
    assert.equal(poisoned.status, 400, 'a __proto__ key is an unknown field');
    const reference128 = await submit(sandbox, person(receiver, { reference: 'r'.repeat(128) }));
    assert.equal(reference128.status, 202, '128 characters is the limit, not past it');
    assert.equal(sandbox.verifications().length, 1);
  });

  it('refuses a body over 16 KiB (413) and a body that is not JSON (415)', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const big = await submit(sandbox, person(receiver, { firstName: 'A'.repeat(17 * 1024) }));
    assert.deepEqual(big, { status: 413, body: { error: 'payload_too_large' } });
    const text = await call(sandbox, 'POST', '/v1/verifications', {
      rawBody: 'reference=1',
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.deepEqual(text, { status: 415, body: { error: 'unsupported_media_type' } });
    // No content-length: the limit must hold while the body streams in.
    const chunked = await postStreamedBody(`${sandbox.url}/v1/verifications`, 'firstName');
    assert.equal(chunked, 413);
    assert.equal((await submit(sandbox, person(receiver))).status, 202, 'still serving after a refusal');
    assert.equal(sandbox.verifications().length, 1);
  });

  it('answers 404 to an unknown verification or path, 405 to a wrong method', async () => {
    const sandbox = await sandboxWith();
    const unknown = await call(sandbox, 'GET', '/v1/verifications/00000000-0000-4000-8000-000000000000');
    assert.deepEqual(unknown, { status: 404, body: { error: 'not_found' } });
    assert.equal((await call(sandbox, 'GET', '/v2/other')).status, 404);
    assert.equal((await call(sandbox, 'GET', '/v1/verifications')).status, 405);
  });

  it('answers 503 to every call while down, and works again after', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith();
    const accepted = await submit(sandbox, person(receiver));
    const id = accepted.body['verificationId'] as string;
    sandbox.setDown(true);
    const unavailable = { status: 503, body: { error: 'unavailable' } };
    assert.deepEqual(await submit(sandbox, person(receiver)), unavailable);
    assert.deepEqual(await call(sandbox, 'GET', `/v1/verifications/${id}`), unavailable);
    assert.deepEqual(await call(sandbox, 'GET', `/v1/verifications/${id}`, { key: 'nope' }), unavailable);
    sandbox.setDown(false);
    assert.equal((await submit(sandbox, person(receiver))).status, 202);
    assert.equal((await call(sandbox, 'GET', `/v1/verifications/${id}`)).status, 200);
  });

  it('drops the oldest verification beyond the cap', async () => {
    const receiver = await receiverWith();
    const sandbox = await sandboxWith({ verificationsMax: 2, callbackDelayMs: 10_000 });
    const first = await submit(sandbox, person(receiver));
    await submit(sandbox, person(receiver));
    await submit(sandbox, person(receiver));
    assert.equal(sandbox.verifications().length, 2);
    const gone = await call(sandbox, 'GET', `/v1/verifications/${first.body['verificationId'] as string}`);
    assert.equal(gone.status, 404);
  });
});

describe('kyc sandbox: close', () => {
  it('ends promptly while a delivery is in flight to a receiver that never answers', async () => {
    const receiver = await receiverWith(() => 'hang');
    const sandbox = await startKycSandbox({
      apiKey: API_KEY,
      webhookSecret: SECRET,
      callbackDelayMs: 10,
      fetchTimeoutMs: 60_000,
    });
    await submit(sandbox, person(receiver));
    await waitUntil('the delivery to start', () => receiver.received.length === 1);
    const started = Date.now();
    await sandbox.close();
    assert.ok(Date.now() - started < 1_000, `close took ${Date.now() - started} ms`);
    assert.equal(sandbox.verifications()[0]?.delivery, 'failed');
    await sandbox.close(); // a second close is harmless
    await assert.rejects(fetch(`${sandbox.url}/v1/verifications`));
  });

  it('ends promptly while a check and a retry are waiting on timers', async () => {
    const receiver = await receiverWith(() => 500);
    const sandbox = await startKycSandbox({
      apiKey: API_KEY,
      webhookSecret: SECRET,
      callbackDelayMs: 10,
      retryBaseDelayMs: 60_000,
    });
    await submit(sandbox, person(receiver));
    await waitUntil('the first attempt', () => sandbox.verifications()[0]?.deliveryAttempts === 1);
    await submit(sandbox, person(receiver, { lastName: 'Slow' }));
    const started = Date.now();
    await sandbox.close();
    assert.ok(Date.now() - started < 1_000, `close took ${Date.now() - started} ms`);
    assert.deepEqual(
      sandbox.verifications().map((verification) => verification.delivery),
      ['failed', 'failed'],
    );
    // The test process itself exits only if no timer or socket was left behind.
  });
});

describe('kyc sandbox: run apart (src/apps/kyc-sandbox.ts)', () => {
  const script = 'src/apps/kyc-sandbox.ts';

  it('exits 1 naming a missing variable', async () => {
    const missingKey = await runToExit({
      script,
      env: { KYC_SANDBOX_PORT: '0', KYC_SANDBOX_WEBHOOK_SECRET: SECRET },
      timeoutMs: 20_000,
    });
    assert.equal(missingKey.code, 1);
    assert.match(missingKey.stderr, /KYC_SANDBOX_API_KEY/);
    const missingSecret = await runToExit({
      script,
      env: { KYC_SANDBOX_PORT: '0', KYC_SANDBOX_API_KEY: API_KEY, KYC_SANDBOX_WEBHOOK_SECRET: '' },
      timeoutMs: 20_000,
    });
    assert.equal(missingSecret.code, 1);
    assert.match(missingSecret.stderr, /KYC_SANDBOX_WEBHOOK_SECRET/);
  });

  const receivers: Receiver[] = [];
  after(async () => {
    for (const receiver of receivers) await receiver.close();
  });

  it('serves, calls back, and exits 0 on SIGTERM', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const running = await startProcess({
      script,
      env: {
        KYC_SANDBOX_PORT: '0',
        KYC_SANDBOX_API_KEY: API_KEY,
        KYC_SANDBOX_WEBHOOK_SECRET: SECRET,
        KYC_SANDBOX_CALLBACK_DELAY_MS: '20',
      },
      startTimeoutMs: 20_000,
    });
    try {
      const response = await fetch(`${running.url}/v1/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(person(receiver)),
      });
      assert.equal(response.status, 202);
      await waitUntil('the callback', () => receiver.received.length === 1);
      assertSigned(receiver.received[0]!);
    } finally {
      running.child.kill('SIGTERM');
    }
    const exit = await running.exited;
    assert.equal(exit.code, 0, running.output());
  });
});
