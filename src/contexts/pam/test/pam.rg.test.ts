// Proves responsible gambling and lockout on a fake clock, end to end through the HTTP API and
// the wallet's debit path: raised limits wait exactly 24 hours, a time-out cannot be lifted
// early, self-exclusion blocks bets at once but not withdrawals or logins, and a login lock expires.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as edSign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../platform/clock.ts';
import { uuidv7 } from '../../../platform/ids/index.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { eventually, login, registerVerifiedPlayer, registration } from '../../../../test/support/players.ts';
import type { TestPlayer } from '../../../../test/support/players.ts';
import type { TransferResult } from '../../wallet/index.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('responsible gambling, lockout and tokens on a fake clock', () => {
  let tp: TestPlatform;
  let clock: ManualClock;
  const players: TestPlayer[] = [];
  before(async () => {
    // Near real time: the sandbox KYC provider signs its webhooks with the real clock, so every
    // player is verified before any test moves the fake clock away from it.
    clock = new ManualClock(Date.now());
    tp = await startTestPlatform({ clock });
    for (let i = 0; i < 7; i += 1) players.push(await registerVerifiedPlayer(tp));
  });
  /** A verified player with a fresh session (earlier tests may have moved the clock on). */
  const next = async (): Promise<TestPlayer> => {
    const player = players.shift();
    assert.ok(player, 'registered in before()');
    const tokens = await login(tp, player.email, player.password);
    return {
      ...player,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      auth: { authorization: tokens.authorization },
    };
  };
  after(async () => {
    await tp.close();
  });

  async function fund(player: TestPlayer, minor: bigint): Promise<void> {
    const [result] = await tp.contexts.wallet.client().execute([
      {
        type: 'transfer',
        id: uuidv7(),
        debit: { system: 'psp_clearing', ref: 'sandbox' },
        credit: { player: player.playerId, kind: 'cash' },
        amount: minor,
        currency: 'EUR',
        code: 'deposit',
      },
    ]);
    assert.ok(result?.ok);
  }

  async function bet(player: TestPlayer, minor: bigint): Promise<TransferResult> {
    const [result] = await tp.contexts.wallet.client().execute([
      {
        type: 'transfer',
        id: uuidv7(),
        debit: { player: player.playerId, kind: 'cash' },
        credit: { system: 'game_revenue', ref: 'demo' },
        amount: minor,
        currency: 'EUR',
        code: 'bet',
      },
    ]);
    return result!;
  }

  function code(result: TransferResult): string {
    return result.ok ? 'OK' : result.code;
  }

  async function walletPolicy(playerId: string): Promise<string | undefined> {
    const { rows } = await tp.running.db.query<{ status: string }>(
      'select status from wallet.policies where player_id = $1',
      [playerId],
    );
    return rows[0]?.status;
  }

  it('a raised limit is not in force at 23 h 59 min and is at 24 h; a lowered one applies at once', async () => {
    const player = await next();
    await fund(player, 10_000n);
    const set = await tp.app.inject({
      method: 'PUT',
      url: '/api/v1/limits/wager/day',
      headers: player.auth,
      payload: { amount: '10.00' },
    });
    assert.equal(set.statusCode, 200);
    assert.deepEqual(set.json(), { kind: 'wager', period: 'day', amount: '10.00' });
    assert.equal(code(await bet(player, 1001n)), 'LIMIT_EXCEEDED', 'the lower limit applies at once');

    const raised = await tp.app.inject({
      method: 'PUT',
      url: '/api/v1/limits/wager/day',
      headers: player.auth,
      payload: { amount: '20.00' },
    });
    assert.equal(raised.statusCode, 200);
    const pending = raised.json<{ amount: string; pendingAmount: string; effectiveAt: string }>();
    assert.equal(pending.amount, '10.00');
    assert.equal(pending.pendingAmount, '20.00');
    assert.equal(Date.parse(pending.effectiveAt), clock.nowMs() + 24 * HOUR);

    clock.advance(24 * HOUR - MINUTE);
    assert.equal(code(await bet(player, 1500n)), 'LIMIT_EXCEEDED', 'not yet at 23:59');
    const again = await login(tp, player.email, player.password);
    const early = await tp.app.inject({ method: 'GET', url: '/api/v1/limits', headers: again });
    assert.deepEqual(early.json<{ items: unknown[] }>().items, [pending]);

    clock.advance(MINUTE);
    assert.equal(code(await bet(player, 1500n)), 'OK', 'in force at 24:00');
    const late = await tp.app.inject({ method: 'GET', url: '/api/v1/limits', headers: again });
    assert.deepEqual(late.json<{ items: unknown[] }>().items, [
      { kind: 'wager', period: 'day', amount: '20.00' },
    ]);

    // Removal waits too; lowering meanwhile cancels the removal.
    const removal = await tp.app.inject({
      method: 'PUT',
      url: '/api/v1/limits/wager/day',
      headers: again,
      payload: { amount: null },
    });
    assert.equal(removal.json<{ pendingAmount: unknown }>().pendingAmount, null);
    const lowered = await tp.app.inject({
      method: 'PUT',
      url: '/api/v1/limits/wager/day',
      headers: again,
      payload: { amount: '16.00' },
    });
    assert.deepEqual(lowered.json(), { kind: 'wager', period: 'day', amount: '16.00' });
    clock.advance(25 * HOUR);
    // A day later the window is fresh: 16.00 is the limit, not "no limit".
    assert.equal(code(await bet(player, 1601n)), 'LIMIT_EXCEEDED');
    assert.equal(code(await bet(player, 1600n)), 'OK');
  });

  it('refuses bad limit requests with 400', async () => {
    const player = await next();
    for (const [url, payload] of [
      ['/api/v1/limits/wager/day', { amount: '0.001' }],
      ['/api/v1/limits/wager/day', { amount: 10 }],
      ['/api/v1/limits/wager/day', { amount: '0' }],
      ['/api/v1/limits/wager/day', { amount: '-5' }],
      ['/api/v1/limits/wager/year', { amount: '5' }],
      ['/api/v1/limits/spend/day', { amount: '5' }],
      ['/api/v1/limits/wager/day', {}],
    ] as const) {
      const response = await tp.app.inject({ method: 'PUT', url, headers: player.auth, payload });
      assert.equal(response.statusCode, 400, `${url} ${JSON.stringify(payload)}`);
    }
    const listed = await tp.app.inject({ method: 'GET', url: '/api/v1/limits', headers: player.auth });
    assert.deepEqual(listed.json<{ items: unknown[] }>().items, []);
  });

  it('a time-out blocks play until it ends and cannot be lifted early', async () => {
    const player = await next();
    await fund(player, 1000n);
    const response = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/time-out',
      headers: player.auth,
      payload: { duration: '24h' },
    });
    assert.equal(response.statusCode, 200);
    const body = response.json<{ status: string; restrictedUntil: string }>();
    assert.equal(body.status, 'timed_out');
    assert.equal(Date.parse(body.restrictedUntil), clock.nowMs() + 24 * HOUR);
    assert.equal(code(await bet(player, 100n)), 'PLAYER_BLOCKED');

    // A shorter request does not shorten it; an operator "active" does not lift it either.
    await tp.app.inject({
      method: 'POST',
      url: '/api/v1/time-out',
      headers: player.auth,
      payload: { duration: '24h' },
    });
    const operator = await tp.contexts.pam
      .client()
      .setOperatorStatus(player.playerId, 'active', { actor: 'test', reason: 'try to lift it' });
    assert.ok(operator.ok);
    assert.equal(operator.player.status, 'timed_out');
    clock.advance(24 * HOUR - MINUTE);
    assert.equal(code(await bet(player, 100n)), 'PLAYER_BLOCKED');
    const me = await tp.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: await login(tp, player.email, player.password),
    });
    assert.equal(me.json<{ status: string }>().status, 'timed_out');

    clock.advance(2 * MINUTE);
    await eventually(async () => ((await walletPolicy(player.playerId)) === 'active' ? true : undefined));
    assert.equal(code(await bet(player, 100n)), 'OK');
  });

  it('self-exclusion: bets refused at once, withdrawal accepted, login and history still work', async () => {
    const player = await next();
    await fund(player, 5000n);
    const response = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/self-exclusion',
      headers: player.auth,
      payload: { duration: '6m' },
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<{ status: string }>().status, 'self_excluded');

    // The moment the call has returned, the wallet's debit path refuses bets.
    assert.equal(code(await bet(player, 100n)), 'PLAYER_BLOCKED');
    // A withdrawal request (cash into the withdrawal hold) is still accepted.
    const [withdrawal] = await tp.contexts.wallet.client().execute([
      {
        type: 'transfer',
        id: uuidv7(),
        debit: { player: player.playerId, kind: 'cash' },
        credit: { player: player.playerId, kind: 'withdrawal_hold' },
        amount: 2000n,
        currency: 'EUR',
        code: 'withdrawal',
      },
    ]);
    assert.equal(code(withdrawal!), 'OK');

    // Sessions ended; logging in again works, for withdrawing and viewing history.
    const old = await tp.app.inject({ method: 'GET', url: '/api/v1/me', headers: player.auth });
    assert.equal(old.statusCode, 401);
    const fresh = await login(tp, player.email, player.password);
    const me = await tp.app.inject({ method: 'GET', url: '/api/v1/me', headers: fresh });
    assert.equal(me.json<{ status: string }>().status, 'self_excluded');
    const wallet = await tp.app.inject({ method: 'GET', url: '/api/v1/wallet', headers: fresh });
    assert.deepEqual(wallet.json(), {
      currency: 'EUR',
      cash: '30.00',
      bonus: '0.00',
      pendingWithdrawal: '20.00',
      withdrawable: '30.00',
    });
    const history = await tp.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/transactions',
      headers: fresh,
    });
    assert.equal(history.json<{ items: unknown[] }>().items.length, 2);
    // Marketing must not reach the player; a time-out cannot soften the exclusion.
    assert.equal((await tp.contexts.pam.client().getPlayer(player.playerId))?.marketingAllowed, false);
    const softer = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/time-out',
      headers: fresh,
      payload: { duration: '24h' },
    });
    assert.equal(softer.statusCode, 409);

    // The same person cannot register again under another address.
    const { rows } = await tp.running.db.query<{ first_name: string; last_name: string; dob: string }>(
      `select first_name, last_name, to_char(date_of_birth, 'YYYY-MM-DD') as dob from pam.players where id = $1`,
      [player.playerId],
    );
    const again = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/players',
      payload: registration({
        firstName: rows[0]!.first_name,
        lastName: rows[0]!.last_name,
        dateOfBirth: rows[0]!.dob,
      }),
    });
    assert.equal(again.statusCode, 403);
    assert.equal(again.json<{ code: string }>().code, 'PLAYER_BLOCKED');
  });

  it('locks an account after 5 failed logins in 15 minutes, and the lock expires', async () => {
    const player = await next();
    for (let i = 0; i < 5; i += 1) {
      const failed = await tp.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: player.email, password: `wrong password ${i}` },
      });
      assert.equal(failed.statusCode, 401);
    }
    const locked = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: player.email, password: player.password },
    });
    assert.equal(locked.statusCode, 423);
    assert.equal(locked.json<{ code: string }>().code, 'ACCOUNT_LOCKED');
    // An unknown address locks the same way: the lock reveals nothing.
    for (let i = 0; i < 6; i += 1) {
      await tp.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'ghost@example.test', password: 'wrong password 1' },
      });
    }
    const ghost = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'ghost@example.test', password: 'wrong password 1' },
    });
    assert.equal(ghost.statusCode, 423);

    clock.advance(15 * MINUTE - 1000);
    const still = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: player.email, password: player.password },
    });
    assert.equal(still.statusCode, 423);
    clock.advance(1000);
    await login(tp, player.email, player.password);
  });

  it('refuses tampered, expired, wrong-key and alg:none access tokens, and an idle session', async () => {
    const player = await next();
    const ok = await tp.app.inject({ method: 'GET', url: '/api/v1/me', headers: player.auth });
    assert.equal(ok.statusCode, 200);
    const [header, payload, signature] = player.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };

    const other = await next();
    const tampered = `${header}.${encode({ ...claims, sub: other.playerId })}.${signature}`;
    const { privateKey } = generateKeyPairSync('ed25519');
    const forgedBody = `${header}.${encode(claims)}`;
    const wrongKey = `${forgedBody}.${edSign(null, Buffer.from(forgedBody), privateKey).toString('base64url')}`;
    const none = `${encode({ alg: 'none', typ: 'JWT', kid })}.${encode(claims)}.`;
    const hs = `${encode({ alg: 'HS256', typ: 'JWT', kid })}.${encode(claims)}.${signature}`;
    for (const token of [tampered, wrongKey, none, hs, `${header}.${payload}`, 'garbage']) {
      const response = await tp.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.statusCode, 401, token.slice(0, 40));
      assert.equal(response.json<{ code: string }>().code, 'UNAUTHORIZED');
    }

    // Expired: past the token's lifetime (15 minutes), though the session is not idle yet.
    clock.advance(tp.config.accessTokenTtlSeconds * 1000);
    const expired = await tp.app.inject({ method: 'GET', url: '/api/v1/me', headers: player.auth });
    assert.equal(expired.statusCode, 401);
    const renewed = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: player.refreshToken },
    });
    assert.equal(renewed.statusCode, 200);

    // Idle: no activity for longer than the idle timeout (30 minutes) → log in again.
    const tokens = renewed.json<{ refreshToken: string }>();
    clock.advance(tp.config.sessionIdleMinutes * MINUTE + 1000);
    const idle = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: tokens.refreshToken },
    });
    assert.equal(idle.statusCode, 401);
  });
});
