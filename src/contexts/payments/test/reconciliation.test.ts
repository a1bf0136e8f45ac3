// Proves reconciliation: a settlement report with one deposit missing and one at a wrong amount
// raises exactly two cases and settles the rest (clearing moves to the bank); running it again
// raises and moves nothing; an item we never made raises its own case; once the provider reports
// truthfully the remaining items settle and the provider's clearing account is back at zero.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { adminToken, registerVerifiedPlayer } from '../../../../test/support/players.ts';
import { ledgerOk } from '../../../../test/support/games.ts';
import {
  decideWithdrawal,
  deposit,
  ownDestination,
  psp,
  requestWithdrawal,
  systemBalance,
  waitForStatus,
} from '../../../../test/support/payments.ts';

describe(`reconciliation on ${backendName}`, () => {
  let tp: TestPlatform;
  let admin: string;

  before(async () => {
    tp = await startTestPlatform();
    admin = await adminToken(tp);
  });
  after(async () => {
    await tp.close();
  });

  async function cases() {
    const response = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/cases',
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ items: { reference: string; kind: string; psp: string }[] }>().items;
  }

  it('raises a case for each missing or different item and settles the matching ones', async () => {
    const from = new Date(Date.now() - 60_000);
    const window = () => [from, new Date(Date.now() + 60_000)] as const;
    const player = await registerVerifiedPlayer(tp);
    const omitted = await deposit(tp, player, '10.00');
    const misreported = await deposit(tp, player, '20.00');
    await deposit(tp, player, '30.00');
    const withdrawal = await requestWithdrawal(tp, player, '15.00', await ownDestination(tp, player));
    await decideWithdrawal(tp, admin, withdrawal.body.withdrawalId, 'approve');
    await waitForStatus(tp, player, withdrawal.body.withdrawalId, 'paid');
    assert.equal(await systemBalance(tp, 'psp_clearing', 'sandbox-eu'), -4500n);

    const eu = psp(tp, 'sandbox-eu').sandbox;
    eu.tamperSettlement({ omit: [omitted], amountOverrides: { [misreported]: '21.00' } });
    const first = await tp.contexts.payments.reconcile('sandbox-eu', ...window());
    assert.equal(first.casesRaised, 2);
    assert.equal(first.settled, 2, 'the 30.00 deposit and the payout');
    const raised = await cases();
    assert.deepEqual(
      raised.map((item) => `${item.psp}:${item.reference}:${item.kind}`).sort(),
      [`sandbox-eu:${misreported}:amount_mismatch`, `sandbox-eu:${omitted}:missing_from_report`].sort(),
    );
    // Unsettled: the two disputed deposits (10 + 20) are still owed by the provider.
    assert.equal(await systemBalance(tp, 'psp_clearing', 'sandbox-eu'), -3000n);

    const again = await tp.contexts.payments.reconcile('sandbox-eu', ...window());
    assert.deepEqual([again.casesRaised, again.settled], [0, 0]);
    assert.equal((await cases()).length, 2);

    // An item we never made.
    eu.tamperSettlement({
      omit: [omitted],
      amountOverrides: { [misreported]: '21.00' },
      extra: [
        {
          id: 'ghost-1',
          reference: 'not-ours',
          type: 'deposit',
          amount: '5.00',
          currency: 'EUR',
          status: 'completed',
          settledAt: new Date().toISOString(),
        },
      ],
    });
    const ghost = await tp.contexts.payments.reconcile('sandbox-eu', ...window());
    assert.deepEqual([ghost.casesRaised, ghost.settled], [1, 0]);
    const kinds = (await cases()).map((item) => `${item.reference}:${item.kind}`);
    assert.ok(kinds.includes('not-ours:unexpected_item'));

    // The provider reports the truth: everything settles, clearing is back at zero.
    eu.tamperSettlement({});
    const truthful = await tp.contexts.payments.reconcile('sandbox-eu', ...window());
    assert.deepEqual([truthful.casesRaised, truthful.settled], [0, 2]);
    assert.equal(await systemBalance(tp, 'psp_clearing', 'sandbox-eu'), 0n);
    // The other provider had nothing: its report is empty and raises nothing.
    const intl = await tp.contexts.payments.reconcile('sandbox-intl', ...window());
    assert.deepEqual([intl.reported, intl.casesRaised, intl.settled], [0, 0, 0]);
    await ledgerOk(tp, admin);
  });
});
