// Proves the time-dependent rules of contract §3 on a platform whose clock the test moves: an
// expired game session refuses bets but not wins and rollbacks, and housekeeping closes stale
// rounds (after which bets are refused and late wins still paid).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../platform/clock.ts';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { adminToken, login, registerVerifiedPlayer } from '../../../../test/support/players.ts';
import {
  betBody,
  createProvider,
  fund,
  ledgerOk,
  openSession,
  providerCall,
  rollbackBody,
  uniqueId as id,
  winBody,
} from '../../../../test/support/games.ts';
import type { Seat, TestProvider } from '../../../../test/support/games.ts';

describe(`provider wallet API over time on ${backendName}`, () => {
  let tp: TestPlatform;
  let clock: ManualClock;
  let provider: TestProvider;
  // Everyone is registered and verified before the clock moves (the KYC webhook is signed with
  // real time), then each test moves it forward.
  let expiring: Seat;
  let stale: Seat;

  before(async () => {
    clock = new ManualClock(Date.now());
    tp = await startTestPlatform({ clock });
    provider = await createProvider(tp);
    const seat = async (): Promise<Seat> => {
      const player = await registerVerifiedPlayer(tp);
      await fund(tp, provider.admin, player, '100.00');
      return { player, token: await openSession(tp, player, provider.gameId) };
    };
    expiring = await seat();
    stale = await seat();
  });
  after(async () => {
    await tp.close();
  });

  it('refuses an expired session on bets but not on wins and rollbacks', async () => {
    const s = expiring;
    const roundId = id('round');
    const placed = betBody(provider, s, { roundId });
    assert.equal((await providerCall(tp, provider, 'bet', placed)).body['status'], 'OK');
    clock.advance(tp.config.gameSessionTtlSeconds * 1000 + 1000);
    const expired = await providerCall(tp, provider, 'bet', betBody(provider, s, { roundId }));
    assert.equal(expired.body['code'], 'SESSION_EXPIRED');
    assert.equal(expired.body['balance'], '99.00');
    const balance = await providerCall(tp, provider, 'balance', {
      sessionToken: s.token,
      playerId: s.player.playerId,
      currency: 'EUR',
    });
    assert.equal(balance.body['code'], 'SESSION_EXPIRED');
    const paid = await providerCall(
      tp,
      provider,
      'win',
      winBody(provider, s, roundId, { roundClosed: false }),
    );
    assert.equal(paid.body['status'], 'OK');
    assert.equal(paid.body['balance'], '101.00');
    const undone = await providerCall(
      tp,
      provider,
      'rollback',
      rollbackBody(provider, s, placed.transactionId, roundId),
    );
    assert.equal(undone.body['status'], 'OK');
    assert.equal(undone.body['balance'], '102.00');
    await ledgerOk(tp, await adminToken(tp));
  });

  it('closes stale open rounds by housekeeping; bets are refused after, late wins still paid', async () => {
    // The first test moved the clock past this seat's session and login: come back and reopen.
    const again = await login(tp, stale.player.email, stale.player.password);
    const s: Seat = { player: { ...stale.player, auth: { authorization: again.authorization } }, token: '' };
    s.token = await openSession(tp, s.player, provider.gameId);
    const placed = betBody(provider, s);
    await providerCall(tp, provider, 'bet', placed);
    const open = betBody(provider, s, { roundId: id('round') });
    clock.advance((tp.config.roundStaleHours - 1) * 3600_000);
    // Still within the stale time: nothing is closed, and the session is past its lifetime.
    assert.equal(await tp.contexts.games.housekeeping(), 0);
    clock.advance(2 * 3600_000);
    assert.ok((await tp.contexts.games.housekeeping()) >= 1);
    const refused = await providerCall(tp, provider, 'bet', { ...open, roundId: placed.roundId });
    // The session expired long ago; the round check comes after the session check.
    assert.equal(refused.body['code'], 'SESSION_EXPIRED');
    const late = await providerCall(
      tp,
      provider,
      'win',
      winBody(provider, s, placed.roundId, { amount: '1.00' }),
    );
    assert.equal(late.body['status'], 'OK');
    const rounds = await tp.running.db.query<{ status: string; closed_by: string }>(
      'select status, closed_by from games.rounds where provider_round_id = $1',
      [placed.roundId],
    );
    assert.deepEqual(rounds.rows[0], { status: 'closed', closed_by: 'housekeeping' });
    await ledgerOk(tp, await adminToken(tp));
  });
});
