// Proves the whole money loop through outside parties: register and verify, deposit on the sandbox
// PSP's hosted page, play (a provider bet and win), withdraw (held at once, reviewed as a first
// withdrawal), finance approves, the PSP's paid webhook lands; balances are right at every step, the
// hold and (after reconciliation) the PSP's clearing account are back at zero, the ledger audit passes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { registerVerifiedPlayer } from '../../../../test/support/players.ts';
import {
  betBody,
  createProvider,
  ledgerOk,
  openSession,
  providerCall,
  winBody,
} from '../../../../test/support/games.ts';
import {
  decideWithdrawal,
  deposit,
  holdOf,
  ownDestination,
  paymentOf,
  requestWithdrawal,
  systemBalance,
  waitForStatus,
  walletOf,
} from '../../../../test/support/payments.ts';

describe(`payments end to end on ${backendName}`, () => {
  let tp: TestPlatform;

  before(async () => {
    tp = await startTestPlatform();
  });
  after(async () => {
    await tp.close();
  });

  it('deposits, plays, withdraws, is paid out and reconciles to zero', async () => {
    const startedAt = new Date(Date.now() - 60_000);
    const player = await registerVerifiedPlayer(tp);
    const depositId = await deposit(tp, player, '100.00');
    assert.deepEqual(
      { ...(await walletOf(tp, player)) },
      { currency: 'EUR', cash: '100.00', bonus: '0.00', pendingWithdrawal: '0.00', withdrawable: '100.00' },
    );
    const depositView = await paymentOf(tp, player, depositId);
    assert.equal(depositView.kind, 'deposit');
    assert.equal(depositView.amount, '100.00');

    // Play through the provider wallet API: bet 10, win 25.
    const provider = await createProvider(tp);
    const seat = { player, token: await openSession(tp, player, provider.gameId) };
    const bet = betBody(provider, seat, { amount: '10.00' });
    const placed = await providerCall(tp, provider, 'bet', bet);
    assert.equal(placed.body['status'], 'OK', JSON.stringify(placed.body));
    const won = await providerCall(
      tp,
      provider,
      'win',
      winBody(provider, seat, bet.roundId, { amount: '25.00' }),
    );
    assert.equal(won.body['balance'], '115.00');

    // A first withdrawal is held at once and goes to finance.
    const requested = await requestWithdrawal(tp, player, '50.00', await ownDestination(tp, player));
    assert.equal(requested.statusCode, 202, JSON.stringify(requested.body));
    assert.equal(requested.body.status, 'in_review');
    const held = await walletOf(tp, player);
    assert.equal(held.cash, '65.00');
    assert.equal(held.pendingWithdrawal, '50.00');

    const admin = await tp.app
      .inject({
        method: 'POST',
        url: '/admin/v1/auth/login',
        payload: { email: 'admin@test.local', password: 'admin-password-1' },
      })
      .then((response) => response.json<{ accessToken: string }>().accessToken);
    const queue = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/withdrawals?status=in_review',
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(queue.statusCode, 200, queue.body);
    const items = queue.json<{ items: { withdrawalId: string; riskReasons: string[]; account: string }[] }>()
      .items;
    const queued = items.find((item) => item.withdrawalId === requested.body.withdrawalId);
    assert.ok(queued, 'the withdrawal is in the review queue');
    assert.deepEqual(queued.riskReasons, ['first_withdrawal', 'deposits_not_played']);
    assert.match(queued.account, /^\*+3000$/, 'the account is masked');

    const approved = await decideWithdrawal(tp, admin, requested.body.withdrawalId, 'approve');
    assert.equal(approved.statusCode, 200, JSON.stringify(approved.body));
    assert.equal(approved.body['status'], 'processing');
    assert.equal(approved.body['psp'], 'sandbox-eu');
    await waitForStatus(tp, player, requested.body.withdrawalId, 'paid');

    const paid = await walletOf(tp, player);
    assert.equal(paid.cash, '65.00');
    assert.equal(paid.pendingWithdrawal, '0.00');
    assert.deepEqual(await holdOf(tp, player), { balance: 0n, creditsPending: 0n });
    // Before settlement the PSP owes the deposit and is owed the payout: −100 + 50.
    assert.equal(await systemBalance(tp, 'psp_clearing', 'sandbox-eu'), -5000n);

    const audit = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/audit?limit=20',
      headers: { authorization: `Bearer ${admin}` },
    });
    const actions = audit.json<{ items: { action: string; target: string; reason: string }[] }>().items;
    const decision = actions.find((item) => item.action === 'withdrawal.approved');
    assert.equal(decision?.target, `withdrawal:${requested.body.withdrawalId}`);
    assert.equal(decision?.reason, 'checked by finance');

    const report = await tp.contexts.payments.reconcile(
      'sandbox-eu',
      startedAt,
      new Date(Date.now() + 60_000),
    );
    assert.equal(report.settled, 2);
    assert.equal(report.casesRaised, 0);
    assert.equal(await systemBalance(tp, 'psp_clearing', 'sandbox-eu'), 0n);
    // The bank now holds the net 50 (system accounts read like the clearing one: owed to us < 0).
    assert.equal(await systemBalance(tp, 'house', 'bank'), -5000n);
    // Reconciling again changes nothing.
    const again = await tp.contexts.payments.reconcile(
      'sandbox-eu',
      startedAt,
      new Date(Date.now() + 60_000),
    );
    assert.equal(again.settled, 0);
    assert.equal(await systemBalance(tp, 'psp_clearing', 'sandbox-eu'), 0n);
    await ledgerOk(tp, admin);

    const openapi = await tp.app.inject({ method: 'GET', url: '/openapi.json' });
    const paths = Object.keys(openapi.json<{ paths: Record<string, unknown> }>().paths);
    for (const route of [
      '/api/v1/payments/deposits',
      '/api/v1/payments/withdrawals',
      '/api/v1/payments/{paymentId}',
      '/webhooks/payments/{psp}',
      '/admin/v1/withdrawals',
      '/admin/v1/withdrawals/{withdrawalId}/approve',
      '/admin/v1/withdrawals/{withdrawalId}/reject',
      '/admin/v1/cases',
    ]) {
      assert.ok(paths.includes(route), `OpenAPI describes ${route}`);
    }
  });
});
