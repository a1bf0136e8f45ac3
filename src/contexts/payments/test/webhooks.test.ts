// Proves the payment webhook is safe: a forged, stale or unsigned webhook (or one for an unknown
// PSP) is refused with 401 and changes nothing; the same event delivered 5 times, also at once, and
// five different "completed" events at once credit exactly once; final statuses before (or without)
// "processing" end consistently; declined and expired deposits move no money; deposit limits hold.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signedHeaders } from '../../../platform/auth/index.ts';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { adminToken, eventually, registerVerifiedPlayer } from '../../../../test/support/players.ts';
import type { TestPlayer } from '../../../../test/support/players.ts';
import { ledgerOk } from '../../../../test/support/games.ts';
import {
  decideOnPage,
  deposit,
  paymentOf,
  postWebhook,
  psp,
  startDeposit,
  waitForStatus,
  walletOf,
} from '../../../../test/support/payments.ts';

describe(`payment webhooks on ${backendName}`, () => {
  let tp: TestPlatform;
  let admin: string;

  before(async () => {
    tp = await startTestPlatform();
    admin = await adminToken(tp);
  });
  after(async () => {
    await tp.close();
  });

  /** A pending deposit at sandbox-eu, and the webhook body a "completed" event for it would have. */
  async function pendingDeposit(player: TestPlayer, amount = '20.00') {
    const started = await startDeposit(tp, player, amount);
    const record = psp(tp, 'sandbox-eu')
      .sandbox.payments()
      .find((payment) => payment.reference === started.depositId);
    assert.ok(record, 'the deposit went to sandbox-eu');
    const event = (status: string, eventId: string = randomUUID()) => ({
      eventId,
      type: 'payment',
      id: record.paymentId,
      reference: started.depositId,
      status,
      amount,
      currency: 'EUR',
    });
    return { ...started, event };
  }

  it('refuses forged, stale, unsigned and unknown-PSP webhooks before reading anything', async () => {
    const player = await registerVerifiedPlayer(tp);
    const pending = await pendingDeposit(player);
    const body = pending.event('completed');
    const forged = await postWebhook(tp, 'sandbox-eu', body, { secret: 'not-the-secret' });
    assert.equal(forged.statusCode, 401);
    assert.equal(forged.body['code'], 'INVALID_SIGNATURE');
    // Signed by the other PSP: each provider's webhooks verify with its own secret only.
    const crossed = await postWebhook(tp, 'sandbox-eu', body, {
      secret: psp(tp, 'sandbox-intl').config.webhookSecret,
    });
    assert.equal(crossed.statusCode, 401);
    const unknown = await postWebhook(tp, 'no-such-psp', body, { secret: 'whatever' });
    assert.equal(unknown.statusCode, 401);
    // Malformed JSON with a bad signature is still a signature problem, not a parse error.
    const garbage = await postWebhook(tp, 'sandbox-eu', {}, { secret: 'x', raw: '{not json' });
    assert.equal(garbage.statusCode, 401);
    const unsigned = await tp.app.inject({
      method: 'POST',
      url: '/webhooks/payments/sandbox-eu',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    assert.equal(unsigned.statusCode, 401);
    const raw = JSON.stringify(body);
    const stale = await tp.app.inject({
      method: 'POST',
      url: '/webhooks/payments/sandbox-eu',
      headers: {
        'content-type': 'application/json',
        ...signedHeaders(psp(tp, 'sandbox-eu').config.webhookSecret, tp.clock.nowMs() - 301_000, raw),
      },
      payload: raw,
    });
    assert.equal(stale.statusCode, 401);

    assert.equal((await paymentOf(tp, player, pending.depositId)).status, 'pending');
    assert.equal((await walletOf(tp, player)).cash, '0.00');
    const { rows } = await tp.running.db.query<{ n: bigint }>(
      'select count(*)::int8 as n from payments.webhook_events where payment_id = $1',
      [pending.depositId],
    );
    assert.equal(rows[0]?.n, 0n, 'nothing was recorded');
    await ledgerOk(tp, admin);
  });

  it('credits once when the same event comes 5 times, one after another and all at once', async () => {
    const player = await registerVerifiedPlayer(tp);
    const pending = await pendingDeposit(player, '20.00');
    const body = pending.event('completed');
    const raw = JSON.stringify(body);
    const first = await postWebhook(tp, 'sandbox-eu', body, { raw });
    assert.equal(first.statusCode, 200, JSON.stringify(first.body));
    for (let i = 0; i < 4; i++)
      assert.equal((await postWebhook(tp, 'sandbox-eu', body, { raw })).statusCode, 200);
    assert.equal((await walletOf(tp, player)).cash, '20.00');

    // Another deposit: the identical event five times concurrently, then five distinct events.
    const second = await pendingDeposit(player, '7.50');
    const same = second.event('completed');
    const sameRaw = JSON.stringify(same);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => postWebhook(tp, 'sandbox-eu', same, { raw: sameRaw })),
    );
    assert.deepEqual(
      answers.map((answer) => answer.statusCode),
      [200, 200, 200, 200, 200],
    );
    const distinct = await Promise.all(
      Array.from({ length: 5 }, () => postWebhook(tp, 'sandbox-eu', second.event('completed'))),
    );
    assert.ok(distinct.every((answer) => answer.statusCode === 200));
    assert.equal((await walletOf(tp, player)).cash, '27.50');
    const { rows } = await tp.running.db.query<{ n: bigint }>(
      `select count(*)::int8 as n from wallet.transfers where id in ($1, $2)`,
      [`deposit:${pending.depositId}`, `deposit:${second.depositId}`],
    );
    assert.equal(rows[0]?.n, 2n, 'one credit transfer per deposit');
    await ledgerOk(tp, admin);
  });

  it('credits once when the sandbox PSP itself duplicates every webhook 5 times', async () => {
    const player = await registerVerifiedPlayer(tp);
    const eu = psp(tp, 'sandbox-eu').sandbox;
    eu.setBehaviour({ duplicateDeliveries: 5, callbackDelayMs: 20 });
    try {
      const depositId = await deposit(tp, player, '12.34');
      // Let every copy of both events (processing, completed) arrive.
      const record = eu.payments().find((payment) => payment.reference === depositId);
      await eventually(async () =>
        record &&
        eu
          .payments()
          .find((p) => p.paymentId === record.paymentId)
          ?.events.every((e) => e.delivery === 'delivered')
          ? true
          : undefined,
      );
      const events = eu.payments().find((p) => p.reference === depositId)?.events ?? [];
      assert.ok(
        events.length === 2 && events.every((e) => e.attempts >= 5),
        'each event really went out 5 times',
      );
      assert.equal((await walletOf(tp, player)).cash, '12.34');
    } finally {
      eu.setBehaviour({ duplicateDeliveries: 1, callbackDelayMs: 200 });
    }
    await ledgerOk(tp, admin);
  });

  it('ends consistently when the final event comes before "processing", or without it', async () => {
    const player = await registerVerifiedPlayer(tp);
    const eu = psp(tp, 'sandbox-eu').sandbox;
    eu.setBehaviour({ outOfOrder: true, callbackDelayMs: 20 });
    try {
      const depositId = await deposit(tp, player, '30.00');
      const record = eu.payments().find((payment) => payment.reference === depositId);
      assert.ok(record);
      await eventually(async () =>
        eu
          .payments()
          .find((p) => p.paymentId === record.paymentId)
          ?.events.every((e) => e.delivery === 'delivered')
          ? true
          : undefined,
      );
      // The late "processing" was recorded and ignored: the deposit stays completed.
      const { rows } = await tp.running.db.query<{ status: string; outcome: string }>(
        'select status, outcome from payments.webhook_events where payment_id = $1 order by received_at',
        [depositId],
      );
      assert.deepEqual(
        rows.map((row) => `${row.status}:${row.outcome}`),
        ['completed:applied', 'processing:ignored'],
      );
      assert.equal((await paymentOf(tp, player, depositId)).status, 'completed');
    } finally {
      eu.setBehaviour({ outOfOrder: false, callbackDelayMs: 200 });
    }
    // A final status with no "processing" at all, then a late contradicting one: a case, no change.
    const pending = await pendingDeposit(player, '5.00');
    assert.equal((await postWebhook(tp, 'sandbox-eu', pending.event('completed'))).statusCode, 200);
    assert.equal((await postWebhook(tp, 'sandbox-eu', pending.event('processing'))).statusCode, 200);
    assert.equal((await postWebhook(tp, 'sandbox-eu', pending.event('expired'))).statusCode, 200);
    assert.equal((await paymentOf(tp, player, pending.depositId)).status, 'completed');
    assert.equal((await walletOf(tp, player)).cash, '35.00');
    const cases = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/cases',
      headers: { authorization: `Bearer ${admin}` },
    });
    const kinds = cases
      .json<{ items: { reference: string; kind: string }[] }>()
      .items.filter((item) => item.reference === pending.depositId)
      .map((item) => item.kind);
    assert.deepEqual(kinds, ['status_conflict']);
    await ledgerOk(tp, admin);
  });

  it('moves no money for declined and expired deposits, nor for a wrong amount', async () => {
    const player = await registerVerifiedPlayer(tp);
    const declined = await startDeposit(tp, player, '40.00');
    assert.equal(await decideOnPage(declined.redirectUrl, 'decline'), 200);
    await waitForStatus(tp, player, declined.depositId, 'declined');
    // The page refuses a second decision; a forged-free late "completed" from our side is a case.
    assert.equal(await decideOnPage(declined.redirectUrl, 'approve'), 409);

    const expiring = await pendingDeposit(player, '15.00');
    assert.equal((await postWebhook(tp, 'sandbox-eu', expiring.event('expired'))).statusCode, 200);
    assert.equal((await paymentOf(tp, player, expiring.depositId)).status, 'expired');

    const lying = await pendingDeposit(player, '9.00');
    const wrong = { ...lying.event('completed'), amount: '900.00' };
    assert.equal((await postWebhook(tp, 'sandbox-eu', wrong)).statusCode, 200);
    assert.equal((await paymentOf(tp, player, lying.depositId)).status, 'pending');
    assert.equal((await walletOf(tp, player)).cash, '0.00');
    await ledgerOk(tp, admin);
  });

  it('refuses a deposit over the deposit limit, counting pending deposits', async () => {
    const player = await registerVerifiedPlayer(tp);
    const limit = await tp.app.inject({
      method: 'PUT',
      url: '/api/v1/limits/deposit/day',
      headers: player.auth,
      payload: { amount: '50.00' },
    });
    assert.equal(limit.statusCode, 200, limit.body);
    await deposit(tp, player, '30.00');
    await startDeposit(tp, player, '15.00'); // pending, not yet paid: still counts
    const refused = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/payments/deposits',
      headers: player.auth,
      payload: { amount: '5.01', currency: 'EUR', method: 'sandbox' },
    });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'LIMIT_EXCEEDED');
    await startDeposit(tp, player, '5.00');
    const other = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/payments/deposits',
      headers: player.auth,
      payload: { amount: '5.00', currency: 'USD', method: 'sandbox' },
    });
    assert.equal(other.statusCode, 400, 'deposits are in the account currency');
    const badMethod = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/payments/deposits',
      headers: player.auth,
      payload: { amount: '1.00', currency: 'EUR', method: 'carrier-pigeon' },
    });
    assert.equal(badMethod.statusCode, 400);
    const precise = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/payments/deposits',
      headers: player.auth,
      payload: { amount: '1.001', currency: 'EUR', method: 'sandbox' },
    });
    assert.equal(precise.statusCode, 400);
  });
});
