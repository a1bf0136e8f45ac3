// Proves provider failover: with sandbox-eu down, new deposits go to sandbox-intl (and, once eu's
// breaker is open, without even trying eu); when eu is back and its breaker closes, deposits go to
// eu again; with every provider down a deposit is refused with 503 and holds nothing; no payment is
// lost or doubled, and provider bets keep working throughout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../platform/clock.ts';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { adminToken, registerVerifiedPlayer } from '../../../../test/support/players.ts';
import type { TestPlayer } from '../../../../test/support/players.ts';
import {
  betBody,
  createProvider,
  fund,
  ledgerOk,
  openSession,
  providerCall,
} from '../../../../test/support/games.ts';
import type { Seat, TestProvider } from '../../../../test/support/games.ts';
import {
  decideOnPage,
  psp,
  startDeposit,
  waitForStatus,
  walletOf,
} from '../../../../test/support/payments.ts';

describe(`payment provider failover on ${backendName}`, () => {
  let tp: TestPlatform;
  let clock: ManualClock;
  let admin: string;
  let provider: TestProvider;

  before(async () => {
    // Webhooks are signed with real time: the manual clock starts there and only moves ahead a little.
    clock = new ManualClock(Date.now());
    tp = await startTestPlatform({ clock });
    admin = await adminToken(tp);
    provider = await createProvider(tp);
  });
  after(async () => {
    await tp.close();
  });

  const breakerOf = (name: string) =>
    tp.contexts.payments.providerHealth().find((snapshot) => snapshot.target === `psp:${name}`)?.state;

  /** Starts a deposit and says which sandbox took it. */
  async function depositAt(player: TestPlayer, amount: string) {
    const started = await startDeposit(tp, player, amount);
    const holders = (['sandbox-eu', 'sandbox-intl'] as const).filter((name) =>
      psp(tp, name)
        .sandbox.payments()
        .some((payment) => payment.reference === started.depositId),
    );
    return { ...started, holders };
  }

  async function bets(seat: Seat): Promise<void> {
    const reply = await providerCall(tp, provider, 'bet', betBody(provider, seat, { amount: '1.00' }));
    assert.equal(reply.body['status'], 'OK', JSON.stringify(reply.body));
  }

  it('routes around a dead provider, returns to it when it recovers, and loses nothing', async () => {
    const player = await registerVerifiedPlayer(tp);
    const gambler = await registerVerifiedPlayer(tp);
    await fund(tp, admin, gambler, '50.00');
    const seat = { player: gambler, token: await openSession(tp, gambler, provider.gameId) };
    const eu = psp(tp, 'sandbox-eu').sandbox;
    const deposits: { depositId: string; redirectUrl: string; holders: string[] }[] = [];

    const healthy = await depositAt(player, '10.00');
    assert.deepEqual(healthy.holders, ['sandbox-eu'], 'the preferred provider takes it');
    deposits.push(healthy);

    eu.setFault({ mode: 'down' });
    try {
      for (let i = 0; i < 4; i++) {
        const routed = await depositAt(player, '5.00');
        assert.deepEqual(routed.holders, ['sandbox-intl'], `deposit ${i} failed over`);
        deposits.push(routed);
        await bets(seat);
      }
      assert.equal(breakerOf('sandbox-eu'), 'open');
      assert.equal(breakerOf('sandbox-intl'), 'closed');
      const metrics = await tp.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /croupier_outbound_breaker_state\{target="psp:sandbox-eu"\} 2/);
      // Three failed calls opened the breaker; the fourth deposit did not call eu at all.
      assert.match(
        metrics.body,
        /croupier_outbound_calls_total\{[^}]*target="psp:sandbox-eu"[^}]*outcome="error"[^}]*\} 3\n/,
      );
    } finally {
      eu.setFault({ mode: 'none' });
    }

    // Recovered, but the breaker still holds it out until its open period ends.
    const stillAway = await depositAt(player, '5.00');
    assert.deepEqual(stillAway.holders, ['sandbox-intl']);
    deposits.push(stillAway);
    clock.advance(16_000);
    const back = await depositAt(player, '7.00');
    assert.deepEqual(back.holders, ['sandbox-eu'], 'the recovered provider is used again');
    deposits.push(back);
    assert.equal(breakerOf('sandbox-eu'), 'closed');
    await bets(seat);

    // Every provider down: refused at once, nothing held, nothing counted.
    const intl = psp(tp, 'sandbox-intl').sandbox;
    eu.setFault({ mode: 'down' });
    intl.setFault({ mode: 'down' });
    try {
      const refused = await tp.app.inject({
        method: 'POST',
        url: '/api/v1/payments/deposits',
        headers: player.auth,
        payload: { amount: '3.00', currency: 'EUR', method: 'sandbox' },
      });
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.json<{ code: string }>().code, 'PROVIDER_UNAVAILABLE');
      await bets(seat);
    } finally {
      eu.setFault({ mode: 'none' });
      intl.setFault({ mode: 'none' });
    }

    // The player pays every deposit on the page it was sent to; each completes exactly once.
    for (const item of deposits) assert.equal(await decideOnPage(item.redirectUrl, 'approve'), 200);
    for (const item of deposits) await waitForStatus(tp, player, item.depositId, 'completed');
    assert.equal((await walletOf(tp, player)).cash, '42.00');
    for (const item of deposits) {
      const completed = [eu, intl].flatMap((sandbox) =>
        sandbox
          .payments()
          .filter((payment) => payment.reference === item.depositId && payment.status === 'completed'),
      );
      assert.equal(completed.length, 1, `deposit ${item.depositId} completed at exactly one provider`);
    }
    const { rows } = await tp.running.db.query<{ status: string; reason: string | null }>(
      `select status, failure_reason as reason from payments.payments
        where player_id = $1 and kind = 'deposit' and status <> 'completed'`,
      [player.playerId],
    );
    assert.deepEqual(rows, [{ status: 'declined', reason: 'provider_unavailable' }]);
    assert.equal((await walletOf(tp, gambler)).cash, '44.00');
    await ledgerOk(tp, admin);
  });
});
