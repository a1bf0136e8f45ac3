// Proves withdrawals: two requests at once for the whole balance make one hold and one 409; the
// amount leaves cash at once; who may withdraw (KYC, self-excluded, the holder's own name); the risk
// gate (first withdrawal, threshold, unplayed deposits → review; a clean one auto-pays; a failing gate
// → review); finance's approve/reject with roles, reasons, 409 and audit; a PSP-failed payout returns
// the money; a player never sees another's payment.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { adminToken, login, registerVerifiedPlayer, uniqueEmail } from '../../../../test/support/players.ts';
import type { TestPlayer } from '../../../../test/support/players.ts';
import {
  betBody,
  createProvider,
  fund,
  ledgerOk,
  openSession,
  providerCall,
} from '../../../../test/support/games.ts';
import type { TestProvider } from '../../../../test/support/games.ts';
import {
  decideWithdrawal,
  deposit,
  holdOf,
  ownDestination,
  paymentOf,
  requestWithdrawal,
  waitForStatus,
  walletOf,
} from '../../../../test/support/payments.ts';
import { decideSafely, defaultRiskGate } from '../index.ts';

describe(`withdrawals on ${backendName}`, () => {
  let tp: TestPlatform;
  let admin: string;
  let provider: TestProvider;

  before(async () => {
    tp = await startTestPlatform();
    admin = await adminToken(tp);
    provider = await createProvider(tp);
  });
  after(async () => {
    await tp.close();
  });

  async function funded(amount: string): Promise<TestPlayer> {
    const player = await registerVerifiedPlayer(tp);
    await fund(tp, admin, player, amount);
    return player;
  }

  /** Pays one withdrawal out (approve if in review) so the next one is not a first. */
  async function payOut(player: TestPlayer, amount: string): Promise<void> {
    const request = await requestWithdrawal(tp, player, amount, await ownDestination(tp, player));
    assert.equal(request.statusCode, 202, JSON.stringify(request.body));
    if (request.body.status === 'in_review') {
      const approved = await decideWithdrawal(tp, admin, request.body.withdrawalId, 'approve');
      assert.equal(approved.statusCode, 200, JSON.stringify(approved.body));
    }
    await waitForStatus(tp, player, request.body.withdrawalId, 'paid');
  }

  it('holds once when two requests for the whole balance race', async () => {
    const player = await funded('50.00');
    const destination = await ownDestination(tp, player);
    const answers = await Promise.all([
      requestWithdrawal(tp, player, '50.00', destination),
      requestWithdrawal(tp, player, '50.00', destination),
    ]);
    const codes = answers.map((answer) => answer.statusCode).sort();
    assert.deepEqual(codes, [202, 409], JSON.stringify(answers.map((answer) => answer.body)));
    assert.equal(answers.find((answer) => answer.statusCode === 409)?.body.code, 'INSUFFICIENT_FUNDS');
    const wallet = await walletOf(tp, player);
    assert.equal(wallet.cash, '0.00');
    assert.equal(wallet.pendingWithdrawal, '50.00');
    assert.equal(wallet.withdrawable, '0.00');
    const { rows } = await tp.running.db.query<{ n: bigint }>(
      `select count(*)::int8 as n from payments.payments where player_id = $1 and kind = 'withdrawal'`,
      [player.playerId],
    );
    assert.equal(rows[0]?.n, 1n, 'the refused request left nothing behind');
    // The held money cannot be bet either.
    const token = await openSession(tp, player, provider.gameId);
    const bet = await providerCall(tp, provider, 'bet', betBody(provider, { player, token }));
    assert.equal(bet.body['code'], 'INSUFFICIENT_FUNDS');
    await ledgerOk(tp, admin);
  });

  it('checks who may withdraw, and to whom', async () => {
    const player = await funded('30.00');
    const own = await ownDestination(tp, player);
    const someoneElse = await requestWithdrawal(tp, player, '1.00', { ...own, holderName: 'Mallory Thief' });
    assert.equal(someoneElse.statusCode, 400);
    assert.equal(someoneElse.body.code, 'INVALID_REQUEST');
    // The same name in another case and spacing is the holder's.
    const sloppy = `  ${own.holderName.toUpperCase().replace(' ', '   ')} `;
    const accepted = await requestWithdrawal(tp, player, '1.00', { ...own, holderName: sloppy });
    assert.equal(accepted.statusCode, 202, JSON.stringify(accepted.body));
    const tooMuch = await requestWithdrawal(tp, player, '29.01', own);
    assert.equal(tooMuch.statusCode, 409);
    const negative = await requestWithdrawal(tp, player, '-1.00', own);
    assert.equal(negative.statusCode, 400);

    // A self-excluded player may still take its money out.
    const excluded = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/self-exclusion',
      headers: player.auth,
      payload: { duration: '6m' },
    });
    assert.equal(excluded.statusCode, 200, excluded.body);
    // Self-exclusion ends the session; the player may still log in to take its money out.
    const tokens = await login(tp, player.email, player.password);
    const relogged = { ...player, auth: { authorization: tokens.authorization } };
    const whileExcluded = await requestWithdrawal(tp, relogged, '2.00', own);
    assert.equal(whileExcluded.statusCode, 202, JSON.stringify(whileExcluded.body));

    // KYC withdrawn by an operator: no withdrawal.
    const other = await funded('10.00');
    const kyc = await tp.app.inject({
      method: 'PUT',
      url: `/admin/v1/players/${other.playerId}/kyc`,
      headers: { authorization: `Bearer ${admin}` },
      payload: { status: 'rejected', reason: 'document forged' },
    });
    assert.equal(kyc.statusCode, 200, kyc.body);
    const unverified = await requestWithdrawal(tp, other, '1.00', await ownDestination(tp, other));
    assert.equal(unverified.statusCode, 403);
    assert.equal(unverified.body.code, 'KYC_REQUIRED');

    // Another player's withdrawal is not there at all.
    const peek = await tp.app.inject({
      method: 'GET',
      url: `/api/v1/payments/${accepted.body.withdrawalId}`,
      headers: other.auth,
    });
    assert.equal(peek.statusCode, 404);
    assert.equal((await paymentOf(tp, relogged, accepted.body.withdrawalId)).kind, 'withdrawal');
    await ledgerOk(tp, admin);
  });

  it('sends risky withdrawals to review and pays clean ones at once', async () => {
    const player = await registerVerifiedPlayer(tp);
    await deposit(tp, player, '100.00');
    // First withdrawal, deposit not played: review.
    const first = await requestWithdrawal(tp, player, '10.00', await ownDestination(tp, player));
    assert.equal(first.body.status, 'in_review');
    await decideWithdrawal(tp, admin, first.body.withdrawalId, 'approve');
    await waitForStatus(tp, player, first.body.withdrawalId, 'paid');

    // Nothing deposited since: a clean withdrawal is paid without anyone looking.
    const second = await requestWithdrawal(tp, player, '5.00', await ownDestination(tp, player));
    assert.equal(second.statusCode, 202);
    assert.equal(second.body.status, 'processing');
    await waitForStatus(tp, player, second.body.withdrawalId, 'paid');

    // Above the threshold: review, whatever else.
    const rich = await funded('2000.00');
    await payOut(rich, '1.00');
    const big = await requestWithdrawal(tp, rich, '1000.01', await ownDestination(tp, rich));
    assert.equal(big.body.status, 'in_review');
    const { rows } = await tp.running.db.query<{ risk_reasons: string[] }>(
      'select risk_reasons from payments.payments where id = $1',
      [big.body.withdrawalId],
    );
    assert.deepEqual(rows[0]?.risk_reasons, ['amount_above_threshold']);

    // The gate's rules and its fail-safe, directly.
    const gate = defaultRiskGate({ reviewAbove: new Map([['EUR', 100_000n]]) });
    const context = {
      withdrawalId: 'w',
      playerId: 'p',
      country: 'GB',
      amount: 1000n,
      currency: 'EUR',
      paidWithdrawals: 1,
      depositedSinceLastWithdrawal: 5000n,
      stakedSinceLastWithdrawal: 5000n,
    };
    assert.equal((await decideSafely(gate, context)).outcome, 'approve');
    assert.deepEqual((await decideSafely(gate, { ...context, stakedSinceLastWithdrawal: 4999n })).reasons, [
      'deposits_not_played',
    ]);
    const broken = { decide: () => Promise.reject(new Error('risk service down')) };
    assert.deepEqual(await decideSafely(broken, context), {
      outcome: 'review',
      reasons: ['risk_gate_error'],
    });
    const slow = { decide: () => new Promise<never>(() => undefined) };
    assert.equal((await decideSafely(slow, context, 20)).outcome, 'review');
    await ledgerOk(tp, admin);
  });

  it('lets finance approve or reject a withdrawal in review, audited, and nothing else', async () => {
    const player = await funded('40.00');
    const first = await requestWithdrawal(tp, player, '25.00', await ownDestination(tp, player));
    assert.equal(first.body.status, 'in_review');

    // Roles: support may not decide; a reason is required.
    const support = await operator('support');
    const forbidden = await decideWithdrawal(tp, support, first.body.withdrawalId, 'reject');
    assert.equal(forbidden.statusCode, 403);
    const noReason = await decideWithdrawal(tp, admin, first.body.withdrawalId, 'reject', null);
    assert.equal(noReason.statusCode, 400);
    const blank = await decideWithdrawal(tp, admin, first.body.withdrawalId, 'reject', '   ');
    assert.equal(blank.statusCode, 400);

    const finance = await operator('finance');
    const rejected = await decideWithdrawal(
      tp,
      finance,
      first.body.withdrawalId,
      'reject',
      'source of funds',
    );
    assert.equal(rejected.statusCode, 200, JSON.stringify(rejected.body));
    assert.equal(rejected.body['status'], 'rejected');
    const back = await walletOf(tp, player);
    assert.equal(back.cash, '40.00');
    assert.equal(back.pendingWithdrawal, '0.00');
    const again = await decideWithdrawal(tp, finance, first.body.withdrawalId, 'approve');
    assert.equal(again.statusCode, 409);
    const unknown = await decideWithdrawal(tp, finance, '0190f2a0-0000-7000-8000-000000000000', 'approve');
    assert.equal(unknown.statusCode, 404);

    // A payout the PSP refuses to the account: failed, and the money is back.
    const failing = await requestWithdrawal(tp, player, '15.00', {
      ...(await ownDestination(tp, player)),
      account: 'FAIL-0001',
    });
    await decideWithdrawal(tp, finance, failing.body.withdrawalId, 'approve');
    await waitForStatus(tp, player, failing.body.withdrawalId, 'failed');
    assert.equal((await walletOf(tp, player)).cash, '40.00');
    assert.deepEqual(await holdOf(tp, player), { balance: 0n, creditsPending: 0n });

    const list = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/withdrawals?status=rejected',
      headers: { authorization: `Bearer ${finance}` },
    });
    assert.equal(list.statusCode, 200, list.body);
    assert.ok(
      list
        .json<{ items: { withdrawalId: string }[] }>()
        .items.some((item) => item.withdrawalId === first.body.withdrawalId),
    );
    const audit = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/audit?limit=50',
      headers: { authorization: `Bearer ${admin}` },
    });
    const rows = audit
      .json<{
        items: { action: string; target: string; reason: string; before: unknown; after: unknown }[];
      }>()
      .items.filter((item) => item.target === `withdrawal:${first.body.withdrawalId}`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.action, 'withdrawal.rejected');
    assert.equal(rows[0]?.reason, 'source of funds');
    assert.deepEqual(rows[0]?.before, { status: 'in_review', amount: '25.00', currency: 'EUR' });
    const casesByRisk = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/cases',
      headers: { authorization: `Bearer ${await operator('risk')}` },
    });
    assert.equal(casesByRisk.statusCode, 200);
    const casesBySupport = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/cases',
      headers: { authorization: `Bearer ${support}` },
    });
    assert.equal(casesBySupport.statusCode, 403);
    await ledgerOk(tp, admin);
  });

  async function operator(role: 'support' | 'finance' | 'risk'): Promise<string> {
    const email = uniqueEmail(role);
    const password = 'operator-password-1';
    const created = await tp.app.inject({
      method: 'POST',
      url: '/admin/v1/users',
      headers: { authorization: `Bearer ${admin}` },
      payload: { email, password, role },
    });
    assert.equal(created.statusCode, 201, created.body);
    const login = await tp.app.inject({
      method: 'POST',
      url: '/admin/v1/auth/login',
      payload: { email, password },
    });
    assert.equal(login.statusCode, 200, login.body);
    return login.json<{ accessToken: string }>().accessToken;
  }
});
