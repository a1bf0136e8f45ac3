// Proves contract §3 at HTTP level, rule by rule (and research note §3.3's catalogue): signatures,
// idempotency and conflicts, bet checks in order, wins and rollbacks, tombstones, rounds,
// precision and hostile input — each test ending with the ledger audit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../platform/clock.ts';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { registerVerifiedPlayer } from '../../../../test/support/players.ts';
import {
  addGame,
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

describe(`provider wallet API (contract §3) on ${backendName}`, () => {
  let tp: TestPlatform;
  let clock: ManualClock;
  let provider: TestProvider;

  before(async () => {
    clock = new ManualClock(Date.now());
    tp = await startTestPlatform({ clock });
    provider = await createProvider(tp);
  });
  after(async () => {
    await tp.close();
  });

  async function seat(amount = '100.00'): Promise<Seat> {
    const player = await registerVerifiedPlayer(tp);
    if (amount !== '0') await fund(tp, provider.admin, player, amount);
    return { player, token: await openSession(tp, player, provider.gameId) };
  }
  const bet = (s: Seat, fields?: Record<string, unknown>) => betBody(provider, s, fields);
  const win = (s: Seat, roundId: string, fields?: Record<string, unknown>) =>
    winBody(provider, s, roundId, fields);
  const rollback = (s: Seat, reference: string, roundId: string, fields?: Record<string, unknown>) =>
    rollbackBody(provider, s, reference, roundId, fields);

  async function balanceOf(s: Seat): Promise<string> {
    const reply = await providerCall(tp, provider, 'balance', {
      sessionToken: s.token,
      playerId: s.player.playerId,
      currency: 'EUR',
    });
    assert.equal(reply.body['status'], 'OK', JSON.stringify(reply.body));
    return reply.body['balance'] as string;
  }

  describe('authentication', () => {
    it('refuses a missing, wrong, stale or tampered signature with 401 and changes nothing', async () => {
      const s = await seat();
      const body = bet(s);
      const wrong = await providerCall(tp, provider, 'bet', body, { secret: 'not-the-secret' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body['code'], 'INVALID_SIGNATURE');
      const stale = await providerCall(tp, provider, 'bet', body, { timestampMs: clock.nowMs() - 301_000 });
      assert.equal(stale.status, 401);
      const future = await providerCall(tp, provider, 'bet', body, { timestampMs: clock.nowMs() + 301_000 });
      assert.equal(future.status, 401);
      const missing = await tp.app.inject({
        method: 'POST',
        url: `/provider/v1/${provider.providerId}/bet`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      assert.equal(missing.statusCode, 401);
      // Signed one body, sent another: the signature covers the exact bytes.
      const signedFor = JSON.stringify(body);
      const tampered = JSON.stringify({ ...body, amount: '99.00' });
      const { signedHeaders } = await import('../../../platform/auth/index.ts');
      const forged = await tp.app.inject({
        method: 'POST',
        url: `/provider/v1/${provider.providerId}/bet`,
        headers: {
          'content-type': 'application/json',
          ...signedHeaders(provider.secret, clock.nowMs(), signedFor),
        },
        payload: tampered,
      });
      assert.equal(forged.statusCode, 401);
      // Malformed JSON with a bad signature is still a signature failure: nothing is read first.
      const garbage = await providerCall(tp, provider, 'bet', undefined, { raw: '{"oops', secret: 'x' });
      assert.equal(garbage.status, 401);
      assert.equal(await balanceOf(s), '100.00');
      // The bet was never recorded: the same id now succeeds.
      const real = await providerCall(tp, provider, 'bet', body);
      assert.equal(real.body['status'], 'OK');
      await ledgerOk(tp, provider.admin);
    });

    it('answers an unknown provider exactly like a bad signature', async () => {
      const reply = await providerCall(
        tp,
        { providerId: 'no-such-studio', secret: provider.secret },
        'balance',
        {
          sessionToken: 'x',
          playerId: 'y',
          currency: 'EUR',
        },
      );
      assert.equal(reply.status, 401);
      assert.equal(reply.body['code'], 'INVALID_SIGNATURE');
    });
  });

  describe('bets', () => {
    it('debits a bet and answers the playable balance with both ids', async () => {
      const s = await seat();
      const body = bet(s, { amount: '0.01' });
      const reply = await providerCall(tp, provider, 'bet', body);
      assert.equal(reply.status, 200);
      assert.equal(reply.body['status'], 'OK');
      assert.equal(reply.body['balance'], '99.99');
      assert.equal(reply.body['currency'], 'EUR');
      assert.equal(reply.body['transactionId'], body.transactionId);
      assert.match(String(reply.body['platformTransactionId']), /^[0-9a-f-]{36}$/);
      await ledgerOk(tp, provider.admin);
    });

    it('replays an exact retry with the original answer and moves money once', async () => {
      const s = await seat();
      const body = bet(s, { amount: '5.00' });
      const first = await providerCall(tp, provider, 'bet', body);
      await providerCall(tp, provider, 'bet', bet(s, { amount: '1.00' }));
      const again = await providerCall(tp, provider, 'bet', body);
      assert.deepEqual(again.body, first.body, 'same platformTransactionId and the balance of that time');
      assert.equal(await balanceOf(s), '94.00');
      await ledgerOk(tp, provider.admin);
    });

    it('refuses the same id with other content (amount, round, player, currency, kind) and changes nothing', async () => {
      const s = await seat();
      const other = await seat();
      const body = bet(s);
      await providerCall(tp, provider, 'bet', body);
      for (const changed of [
        { ...body, amount: '2.00' },
        { ...body, roundId: id('round') },
        { ...body, currency: 'USD' },
        { ...body, playerId: other.player.playerId, sessionToken: other.token },
      ]) {
        const reply = await providerCall(tp, provider, 'bet', changed);
        assert.equal(reply.status, 200);
        assert.equal(reply.body['code'], 'DUPLICATE_TRANSACTION', JSON.stringify(changed));
      }
      const asWin = await providerCall(
        tp,
        provider,
        'win',
        win(s, body.roundId, { transactionId: body.transactionId }),
      );
      assert.equal(asWin.body['code'], 'DUPLICATE_TRANSACTION');
      assert.equal(await balanceOf(s), '99.00');
      assert.equal(await balanceOf(other), '100.00');
      await ledgerOk(tp, provider.admin);
    });

    it('applies concurrent duplicates once', async () => {
      const s = await seat();
      const body = bet(s, { amount: '3.00' });
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => providerCall(tp, provider, 'bet', body)),
      );
      const ids = new Set(replies.map((reply) => reply.body['platformTransactionId']));
      assert.equal(ids.size, 1);
      for (const reply of replies) assert.equal(reply.body['balance'], '97.00');
      assert.equal(await balanceOf(s), '97.00');
      await ledgerOk(tp, provider.admin);
    });

    it('accepts exactly 10 of 40 concurrent bets against 10 bets of funds', async () => {
      const s = await seat('10.00');
      const replies = await Promise.all(
        Array.from({ length: 40 }, () => providerCall(tp, provider, 'bet', bet(s, { amount: '1.00' }))),
      );
      const ok = replies.filter((reply) => reply.body['status'] === 'OK');
      const refused = replies.filter((reply) => reply.body['code'] === 'INSUFFICIENT_FUNDS');
      assert.equal(ok.length, 10);
      assert.equal(refused.length, 30);
      for (const reply of refused) assert.equal(reply.body['balance'], '0.00');
      assert.equal(await balanceOf(s), '0.00');
      await ledgerOk(tp, provider.admin);
    });

    it('records a refused bet: the same request again gets the same refusal even once it could pass', async () => {
      const s = await seat('1.00');
      const body = bet(s, { amount: '5.00' });
      const first = await providerCall(tp, provider, 'bet', body);
      assert.equal(first.body['code'], 'INSUFFICIENT_FUNDS');
      assert.equal(first.body['balance'], '1.00');
      await fund(tp, provider.admin, s.player, '10.00');
      const again = await providerCall(tp, provider, 'bet', body);
      assert.equal(again.body['code'], 'INSUFFICIENT_FUNDS');
      assert.equal(await balanceOf(s), '11.00');
      const fresh = await providerCall(tp, provider, 'bet', { ...body, transactionId: id('bet') });
      assert.equal(fresh.body['status'], 'OK');
      await ledgerOk(tp, provider.admin);
    });

    it('checks game, switches, session, currency, status and round in the contract order', async () => {
      const s = await seat();
      const unknown = await providerCall(
        tp,
        provider,
        'bet',
        bet(s, { gameId: 'no-such-game', sessionToken: 'junk' }),
      );
      assert.equal(unknown.body['code'], 'UNKNOWN_GAME');
      assert.equal(unknown.body['balance'], '100.00', 'the player is known: the balance is included');
      const invalid = await providerCall(
        tp,
        provider,
        'bet',
        bet(s, { sessionToken: 'junk', currency: 'USD' }),
      );
      assert.equal(invalid.body['code'], 'INVALID_SESSION');
      // A session of another player does not fit this one.
      const other = await seat();
      const foreign = await providerCall(tp, provider, 'bet', bet(s, { sessionToken: other.token }));
      assert.equal(foreign.body['code'], 'INVALID_SESSION');
      const currency = await providerCall(tp, provider, 'bet', bet(s, { currency: 'USD' }));
      assert.equal(currency.body['code'], 'WRONG_CURRENCY');
      const unsupported = await providerCall(tp, provider, 'bet', bet(s, { currency: 'XTS' }));
      assert.equal(unsupported.body['code'], 'WRONG_CURRENCY');
      // A closed round refuses further bets.
      const roundId = id('round');
      assert.equal(
        (await providerCall(tp, provider, 'bet', bet(s, { roundId, roundClosed: true }))).body['status'],
        'OK',
      );
      const closed = await providerCall(tp, provider, 'bet', bet(s, { roundId }));
      assert.equal(closed.body['code'], 'ROUND_CLOSED');
      assert.equal(await balanceOf(s), '99.00');
      await ledgerOk(tp, provider.admin);
    });

    it('answers GAME_DISABLED at each of the three switches, and lets open rounds finish', async () => {
      const s = await seat();
      const roundId = id('round');
      const opened = await providerCall(tp, provider, 'bet', bet(s, { roundId, amount: '1.00' }));
      assert.equal(opened.body['status'], 'OK');
      const admin = { authorization: `Bearer ${provider.admin}` };
      const toggle = async (url: string, enabled: boolean) => {
        const response = await tp.app.inject({
          method: 'PUT',
          url,
          headers: admin,
          payload: { enabled, reason: 'test' },
        });
        assert.equal(response.statusCode, 200, response.body);
      };
      for (const url of [
        `/admin/v1/games/${provider.gameId}`,
        `/admin/v1/providers/${provider.providerId}`,
        '/admin/v1/gaming',
      ]) {
        await toggle(url, false);
        const refused = await providerCall(tp, provider, 'bet', bet(s));
        assert.equal(refused.body['code'], 'GAME_DISABLED', url);
        // The open round still gets its win.
        const paid = await providerCall(
          tp,
          provider,
          'win',
          win(s, roundId, { amount: '0.50', roundClosed: false }),
        );
        assert.equal(paid.body['status'], 'OK', url);
        await toggle(url, true);
      }
      assert.equal((await providerCall(tp, provider, 'bet', bet(s))).body['status'], 'OK');
      await ledgerOk(tp, provider.admin);
    });

    it('refuses a blocked player with PLAYER_BLOCKED, even with a session opened before', async () => {
      const s = await seat();
      const status = await tp.app.inject({
        method: 'PUT',
        url: `/admin/v1/players/${s.player.playerId}/status`,
        headers: { authorization: `Bearer ${provider.admin}` },
        payload: { status: 'suspended', reason: 'test' },
      });
      assert.equal(status.statusCode, 200, status.body);
      const reply = await providerCall(tp, provider, 'bet', bet(s));
      assert.equal(reply.body['code'], 'PLAYER_BLOCKED');
      assert.equal(reply.body['balance'], '100.00');
      await ledgerOk(tp, provider.admin);
    });
  });

  describe('wins', () => {
    it('refuses a win with no bet in its round, or naming a bet of another round', async () => {
      const s = await seat();
      const lonely = await providerCall(tp, provider, 'win', win(s, id('round')));
      assert.equal(lonely.body['code'], 'TRANSACTION_NOT_FOUND');
      assert.equal(lonely.body['balance'], '100.00');
      const first = bet(s);
      const second = bet(s);
      await providerCall(tp, provider, 'bet', first);
      await providerCall(tp, provider, 'bet', second);
      const crossed = await providerCall(
        tp,
        provider,
        'win',
        win(s, second.roundId, { betTransactionId: first.transactionId }),
      );
      assert.equal(crossed.body['code'], 'TRANSACTION_NOT_FOUND');
      const named = await providerCall(
        tp,
        provider,
        'win',
        win(s, first.roundId, { betTransactionId: first.transactionId }),
      );
      assert.equal(named.body['status'], 'OK');
      assert.equal(named.body['balance'], '100.00');
      await ledgerOk(tp, provider.admin);
    });

    it('accepts a zero win (a loss notice) that closes the round, and several wins per round', async () => {
      const s = await seat();
      const placed = bet(s, { amount: '4.00' });
      await providerCall(tp, provider, 'bet', placed);
      const first = await providerCall(
        tp,
        provider,
        'win',
        win(s, placed.roundId, { amount: '1.50', roundClosed: false }),
      );
      assert.equal(first.body['balance'], '97.50');
      const zero = await providerCall(tp, provider, 'win', win(s, placed.roundId, { amount: '0' }));
      assert.equal(zero.body['status'], 'OK');
      assert.equal(zero.body['balance'], '97.50');
      const after = await providerCall(tp, provider, 'bet', bet(s, { roundId: placed.roundId }));
      assert.equal(after.body['code'], 'ROUND_CLOSED');
      // A win for a closed round's bet is still accepted (it may come late).
      const late = await providerCall(tp, provider, 'win', win(s, placed.roundId, { amount: '1.00' }));
      assert.equal(late.body['status'], 'OK');
      assert.equal(late.body['balance'], '98.50');
      await ledgerOk(tp, provider.admin);
    });

    it('pays a blocked or self-excluded player', async () => {
      const s = await seat();
      const placed = bet(s);
      await providerCall(tp, provider, 'bet', placed);
      const excluded = await tp.app.inject({
        method: 'POST',
        url: '/api/v1/self-exclusion',
        headers: s.player.auth,
        payload: { duration: '6m' },
      });
      assert.equal(excluded.statusCode, 200, excluded.body);
      const paid = await providerCall(tp, provider, 'win', win(s, placed.roundId, { amount: '3.00' }));
      assert.equal(paid.body['status'], 'OK');
      assert.equal(paid.body['balance'], '102.00');
      await ledgerOk(tp, provider.admin);
    });

    it('refuses a win in another currency than its round', async () => {
      const s = await seat();
      const placed = bet(s);
      await providerCall(tp, provider, 'bet', placed);
      const reply = await providerCall(tp, provider, 'win', win(s, placed.roundId, { currency: 'GBP' }));
      assert.equal(reply.body['code'], 'WRONG_CURRENCY');
      await ledgerOk(tp, provider.admin);
    });
  });

  describe('rollbacks', () => {
    it('returns a bet, answers a second rollback with TRANSACTION_ROLLED_BACK, and replays the first', async () => {
      const s = await seat();
      const placed = bet(s, { amount: '7.00' });
      await providerCall(tp, provider, 'bet', placed);
      const undo = rollback(s, placed.transactionId, placed.roundId);
      const first = await providerCall(tp, provider, 'rollback', undo);
      assert.equal(first.body['status'], 'OK');
      assert.equal(first.body['balance'], '100.00');
      const replay = await providerCall(tp, provider, 'rollback', undo);
      assert.deepEqual(replay.body, first.body);
      const second = await providerCall(
        tp,
        provider,
        'rollback',
        rollback(s, placed.transactionId, placed.roundId),
      );
      assert.equal(second.body['code'], 'TRANSACTION_ROLLED_BACK');
      // A win for the cancelled bet is refused.
      const paid = await providerCall(
        tp,
        provider,
        'win',
        win(s, placed.roundId, { betTransactionId: placed.transactionId }),
      );
      assert.equal(paid.body['code'], 'TRANSACTION_ROLLED_BACK');
      assert.equal(await balanceOf(s), '100.00');
      await ledgerOk(tp, provider.admin);
    });

    it('takes back a spent win into a negative balance that blocks bets until covered', async () => {
      const s = await seat('10.00');
      const placed = bet(s, { amount: '1.00' });
      await providerCall(tp, provider, 'bet', placed);
      const paid = win(s, placed.roundId, { amount: '50.00', roundClosed: true });
      assert.equal((await providerCall(tp, provider, 'win', paid)).body['balance'], '59.00');
      // The player spends it.
      assert.equal(
        (await providerCall(tp, provider, 'bet', bet(s, { amount: '59.00' }))).body['balance'],
        '0.00',
      );
      const undone = await providerCall(
        tp,
        provider,
        'rollback',
        rollback(s, paid.transactionId, placed.roundId),
      );
      assert.equal(undone.body['status'], 'OK');
      assert.equal(undone.body['balance'], '-50.00');
      const blocked = await providerCall(tp, provider, 'bet', bet(s, { amount: '0.01' }));
      assert.equal(blocked.body['code'], 'INSUFFICIENT_FUNDS');
      assert.equal(blocked.body['balance'], '-50.00');
      await fund(tp, provider.admin, s.player, '51.00');
      assert.equal(
        (await providerCall(tp, provider, 'bet', bet(s, { amount: '1.00' }))).body['balance'],
        '0.00',
      );
      await ledgerOk(tp, provider.admin);
    });

    it('accepts a rollback of an unknown transaction and refuses the late original with no money moved', async () => {
      const s = await seat();
      const late = bet(s, { amount: '5.00' });
      const undo = await providerCall(
        tp,
        provider,
        'rollback',
        rollback(s, late.transactionId, late.roundId),
      );
      assert.equal(undo.body['status'], 'OK');
      assert.equal(undo.body['balance'], '100.00');
      const arrived = await providerCall(tp, provider, 'bet', late);
      assert.equal(arrived.body['code'], 'TRANSACTION_ROLLED_BACK');
      const lateWin = win(s, late.roundId);
      await providerCall(tp, provider, 'rollback', rollback(s, lateWin.transactionId, late.roundId));
      assert.equal(
        (await providerCall(tp, provider, 'win', lateWin)).body['code'],
        'TRANSACTION_ROLLED_BACK',
      );
      const twice = await providerCall(
        tp,
        provider,
        'rollback',
        rollback(s, late.transactionId, late.roundId),
      );
      assert.equal(twice.body['code'], 'TRANSACTION_ROLLED_BACK');
      assert.equal(await balanceOf(s), '100.00');
      await ledgerOk(tp, provider.admin);
    });

    it("rolls back one bet of a multi-bet round without touching the others (Caleta's extra balls)", async () => {
      const s = await seat();
      const roundId = id('round');
      const first = bet(s, { roundId, amount: '2.00' });
      const extra = bet(s, { roundId, amount: '3.00' });
      await providerCall(tp, provider, 'bet', first);
      await providerCall(tp, provider, 'bet', extra);
      await providerCall(
        tp,
        provider,
        'rollback',
        rollback(s, extra.transactionId, roundId, { roundClosed: false }),
      );
      const paid = await providerCall(tp, provider, 'win', win(s, roundId, { amount: '4.00' }));
      assert.equal(paid.body['balance'], '102.00');
      await ledgerOk(tp, provider.admin);
    });

    it("refuses to roll back another player's transaction", async () => {
      const s = await seat();
      const other = await seat();
      const placed = bet(s);
      await providerCall(tp, provider, 'bet', placed);
      const reply = await providerCall(
        tp,
        provider,
        'rollback',
        rollback(other, placed.transactionId, placed.roundId),
      );
      assert.equal(reply.body['code'], 'TRANSACTION_NOT_FOUND');
      assert.equal(await balanceOf(s), '99.00');
      await ledgerOk(tp, provider.admin);
    });
  });

  describe('money and input', () => {
    it('takes exact amounts and refuses too many decimals, exponents, numbers, negatives and zero bets', async () => {
      const s = await seat();
      for (const amount of ['0.001', '1e2', '-1.00', '0', '0.00', ' 1.00', '1.', '.5', '01.00']) {
        const reply = await providerCall(tp, provider, 'bet', bet(s, { amount }));
        assert.equal(reply.status, 400, `${amount}: ${JSON.stringify(reply.body)}`);
        assert.equal(reply.body['code'], 'INVALID_REQUEST');
      }
      const number = await providerCall(tp, provider, 'bet', bet(s, { amount: 1 }));
      assert.equal(number.status, 400);
      assert.equal(await balanceOf(s), '100.00');
      await ledgerOk(tp, provider.admin);
    });

    it('moves the smallest unit of an 8-decimal currency exactly (1 satoshi), and refuses a ninth decimal', async () => {
      const player = await registerVerifiedPlayer(tp, { currency: 'BTC' });
      await fund(tp, provider.admin, player, '0.00001', 'BTC');
      const s: Seat = { player, token: await openSession(tp, player, provider.gameId) };
      const one = await providerCall(tp, provider, 'bet', bet(s, { amount: '0.00000001', currency: 'BTC' }));
      assert.equal(one.body['status'], 'OK', JSON.stringify(one.body));
      assert.equal(one.body['balance'], '0.00000999');
      assert.equal(one.body['currency'], 'BTC');
      const ninth = await providerCall(
        tp,
        provider,
        'bet',
        bet(s, { amount: '0.000000001', currency: 'BTC' }),
      );
      assert.equal(ninth.status, 400);
      const euros = await providerCall(tp, provider, 'bet', bet(s, { amount: '0.01', currency: 'EUR' }));
      assert.equal(euros.body['code'], 'WRONG_CURRENCY');
      assert.equal(euros.body['balance'], '0.00000999');
      await ledgerOk(tp, provider.admin);
    });

    it('never answers 500 to hostile input', async () => {
      const s = await seat();
      const bodies: unknown[] = [
        null,
        [],
        'text',
        42,
        {},
        { ...bet(s), extra: 'field' },
        { ...bet(s), transactionId: 'x'.repeat(129) },
        { ...bet(s), transactionId: 'bad\u0000id' },
        { ...bet(s), transactionId: '' },
        { ...bet(s), roundClosed: 'yes' },
        { ...bet(s), playerId: { $ne: null } },
        { ...bet(s), amount: '9'.repeat(40) },
      ];
      for (const body of bodies) {
        const reply = await providerCall(tp, provider, 'bet', body);
        assert.equal(reply.status, 400, JSON.stringify(body));
      }
      const poisoned = await providerCall(tp, provider, 'bet', undefined, {
        raw: `{"__proto__":{"admin":true},"transactionId":"p"}`,
      });
      assert.equal(poisoned.status, 400);
      // Odd but legal ids (quotes, Unicode, SQL) are stored and compared exactly.
      for (const odd of [`'; drop table games.transactions; --`, 'ünïcødé-🎰', '"quoted"', 'x'.repeat(128)]) {
        const reply = await providerCall(
          tp,
          provider,
          'bet',
          bet(s, { transactionId: odd, roundId: odd, amount: '0.10' }),
        );
        assert.equal(reply.body['status'], 'OK', odd);
        assert.equal(reply.body['transactionId'], odd);
      }
      assert.equal(await balanceOf(s), '99.60');
      await ledgerOk(tp, provider.admin);
    });

    it('keeps transaction ids per provider: another provider may reuse one', async () => {
      const s = await seat();
      const second = await createProvider(tp);
      await addGame(tp, second.admin, second.providerId, `${second.gameId}-b`);
      const token = await openSession(tp, s.player, second.gameId);
      const shared = id('shared');
      const here = await providerCall(tp, provider, 'bet', bet(s, { transactionId: shared }));
      const there = await providerCall(tp, second, 'bet', {
        ...bet(s, { transactionId: shared }),
        sessionToken: token,
        gameId: second.gameId,
      });
      assert.equal(here.body['status'], 'OK');
      assert.equal(there.body['status'], 'OK');
      assert.equal(there.body['balance'], '98.00');
      await ledgerOk(tp, provider.admin);
    });
  });

  describe('rounds and recall', () => {
    it("shows the player's rounds with every transaction, and nobody else's", async () => {
      const s = await seat();
      const placed = bet(s, { amount: '2.00' });
      await providerCall(tp, provider, 'bet', placed);
      await providerCall(tp, provider, 'win', win(s, placed.roundId, { amount: '5.00' }));
      const list = await tp.app.inject({ method: 'GET', url: '/api/v1/rounds', headers: s.player.auth });
      assert.equal(list.statusCode, 200, list.body);
      const rounds = list.json<{
        items: {
          roundId: string;
          providerRoundId: string;
          status: string;
          totalBet: string;
          totalWin: string;
        }[];
      }>().items;
      assert.equal(rounds.length, 1);
      assert.equal(rounds[0]!.providerRoundId, placed.roundId);
      assert.equal(rounds[0]!.status, 'closed');
      assert.equal(rounds[0]!.totalBet, '2.00');
      assert.equal(rounds[0]!.totalWin, '5.00');
      const detail = await tp.app.inject({
        method: 'GET',
        url: `/api/v1/rounds/${rounds[0]!.roundId}`,
        headers: s.player.auth,
      });
      assert.equal(detail.statusCode, 200);
      const recall = detail.json<{ providerId: string; transactions: { kind: string; amount: string }[] }>();
      assert.equal(recall.providerId, provider.providerId);
      assert.deepEqual(
        recall.transactions.map((t) => [t.kind, t.amount]),
        [
          ['bet', '2.00'],
          ['win', '5.00'],
        ],
      );
      const other = await seat('0');
      const hidden = await tp.app.inject({
        method: 'GET',
        url: `/api/v1/rounds/${rounds[0]!.roundId}`,
        headers: other.player.auth,
      });
      assert.equal(hidden.statusCode, 404);
      // The statement links money to the round.
      const statement = await tp.app.inject({
        method: 'GET',
        url: '/api/v1/wallet/transactions',
        headers: s.player.auth,
      });
      const items = statement.json<{ items: { kind: string; roundId?: string }[] }>().items;
      assert.ok(items.some((item) => item.kind === 'bet' && item.roundId === rounds[0]!.roundId));
      await ledgerOk(tp, provider.admin);
    });
  });

  describe('sessions', () => {
    it('refuses a game session to a player who may not play, and for a disabled or unknown game', async () => {
      const s = await seat();
      const unknown = await tp.app.inject({
        method: 'POST',
        url: '/api/v1/games/no-such-game/sessions',
        headers: s.player.auth,
        payload: {},
      });
      assert.equal(unknown.statusCode, 404);
      const anonymous = await tp.app.inject({
        method: 'POST',
        url: `/api/v1/games/${provider.gameId}/sessions`,
        payload: {},
      });
      assert.equal(anonymous.statusCode, 401);
      await tp.app.inject({
        method: 'POST',
        url: '/api/v1/time-out',
        headers: s.player.auth,
        payload: { duration: '24h' },
      });
      const blocked = await tp.app.inject({
        method: 'POST',
        url: `/api/v1/games/${provider.gameId}/sessions`,
        headers: s.player.auth,
        payload: {},
      });
      assert.equal(blocked.statusCode, 403);
      assert.equal(blocked.json<{ code: string }>().code, 'PLAYER_BLOCKED');
    });

    it('lists the catalogue publicly with the effective switch', async () => {
      const list = await tp.app.inject({ method: 'GET', url: '/api/v1/games' });
      assert.equal(list.statusCode, 200);
      const game = list
        .json<{ items: { gameId: string; enabled: boolean; rtp: number }[] }>()
        .items.find((item) => item.gameId === provider.gameId);
      assert.ok(game);
      assert.equal(game.rtp, 96.5);
    });
  });
});
