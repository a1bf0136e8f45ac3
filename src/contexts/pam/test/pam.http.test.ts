// Proves the player API rows pam owns (contract §2) at the HTTP level: registration and its
// validation, login, refresh rotation and reuse, logout, me, wallet views, sessions, and that a
// player never reaches another player's data.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { login, register, registerVerifiedPlayer, registration } from '../../../../test/support/players.ts';
import { uuidv7 } from '../../../platform/ids/index.ts';

function isError(body: unknown, code: string): void {
  const value = body as { status?: string; code?: string; message?: string };
  assert.equal(value.status, 'ERROR');
  assert.equal(value.code, code);
  assert.equal(typeof value.message, 'string');
}

describe('player API (pam)', () => {
  let tp: TestPlatform;
  before(async () => {
    tp = await startTestPlatform();
  });
  after(async () => {
    await tp.close();
  });

  it('registers a player: 201 {playerId, status}, wallet accounts opened, KYC verified by the provider', async () => {
    const player = await registerVerifiedPlayer(tp);
    const me = await tp.app.inject({ method: 'GET', url: '/api/v1/me', headers: player.auth });
    assert.equal(me.statusCode, 200);
    const body = me.json<Record<string, unknown>>();
    assert.equal(body['playerId'], player.playerId);
    assert.equal(body['email'], player.email);
    assert.equal(body['status'], 'active');
    assert.equal(body['kycStatus'], 'verified');
    assert.equal(body['country'], 'GB');
    assert.equal(body['currency'], 'EUR');
    const balances = await tp.contexts.wallet.client().playerBalances(player.playerId, 'EUR');
    assert.ok(balances.cash && balances.bonus && balances.withdrawal_hold);
  });

  it('refuses bad registrations with 400 INVALID_REQUEST and creates nothing', async () => {
    const today = new Date();
    const seventeen = `${today.getUTCFullYear() - 17}-01-01`;
    const twenty = `${today.getUTCFullYear() - 20}-01-01`;
    const cases: Record<string, string>[] = [
      registration({ dateOfBirth: seventeen }),
      registration({ country: 'GR', dateOfBirth: twenty }), // 21 in Greece
      registration({ email: 'not-an-email' }),
      registration({ password: 'short9char'.slice(0, 9) }),
      registration({ country: 'XX' }),
      registration({ currency: 'XYZ' }),
      registration({ dateOfBirth: '1990-02-30' }),
      registration({ firstName: '' }),
      { ...registration(), extra: 'field' },
    ];
    for (const payload of cases) {
      const response = await tp.app.inject({ method: 'POST', url: '/api/v1/players', payload });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      isError(response.json(), 'INVALID_REQUEST');
      const { rows } = await tp.running.db.query('select 1 from pam.players where email_key = $1', [
        String(payload['email']).toLowerCase(),
      ]);
      assert.equal(rows.length, 0);
    }
    const missing = registration();
    delete missing['lastName'];
    const response = await tp.app.inject({ method: 'POST', url: '/api/v1/players', payload: missing });
    assert.equal(response.statusCode, 400);
  });

  it('answers a taken email exactly like a new one and creates no second account', async () => {
    const first = await register(tp);
    const again = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/players',
      payload: { ...first.body, email: first.body['email']!.toUpperCase(), password: 'another password 1' },
    });
    assert.equal(again.statusCode, 201);
    const body = again.json<{ playerId: string; status: string }>();
    assert.equal(body.status, 'active');
    assert.notEqual(body.playerId, first.playerId);
    const { rows } = await tp.running.db.query('select id from pam.players where email_key = $1', [
      first.body['email']!.toLowerCase(),
    ]);
    assert.equal(rows.length, 1);
    // The original password still logs in; the second one does not.
    await login(tp, first.body['email']!, first.body['password']!);
    const wrong = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: first.body['email'], password: 'another password 1' },
    });
    assert.equal(wrong.statusCode, 401);
  });

  it('gives one answer for a wrong password and an unknown email', async () => {
    const { body } = await register(tp);
    const wrongPassword = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: body['email'], password: 'wrong password 12' },
    });
    const unknown = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'nobody-here@example.test', password: 'wrong password 12' },
    });
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    assert.deepEqual(wrongPassword.json(), unknown.json());
    isError(unknown.json(), 'INVALID_CREDENTIALS');
  });

  it('rotates refresh tokens; a reused one revokes the whole family', async () => {
    const { body } = await register(tp);
    const first = await login(tp, body['email']!, body['password']!);
    const refreshed = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: first.refreshToken },
    });
    assert.equal(refreshed.statusCode, 200);
    const second = refreshed.json<{
      accessToken: string;
      refreshToken: string;
      expiresInSeconds: number;
    }>();
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.ok(second.expiresInSeconds > 0);
    // The old token again: refused, and the family (the new token too) is revoked.
    const reused = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: first.refreshToken },
    });
    assert.equal(reused.statusCode, 401);
    isError(reused.json(), 'UNAUTHORIZED');
    const successor = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: second.refreshToken },
    });
    assert.equal(successor.statusCode, 401);
    const me = await tp.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${second.accessToken}` },
    });
    assert.equal(me.statusCode, 401, 'the revoked session’s access token stops working');
  });

  it('logout ends the session: its refresh token and access token stop working', async () => {
    const { body } = await register(tp);
    const tokens = await login(tp, body['email']!, body['password']!);
    const out = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: tokens.authorization },
    });
    assert.equal(out.statusCode, 204);
    const refresh = await tp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: tokens.refreshToken },
    });
    assert.equal(refresh.statusCode, 401);
    const me = await tp.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: tokens.authorization },
    });
    assert.equal(me.statusCode, 401);
  });

  it('lists sessions and ends one; another player’s session answers 404', async () => {
    const a = await registerVerifiedPlayer(tp);
    const b = await registerVerifiedPlayer(tp);
    const other = await login(tp, a.email, a.password);
    const list = await tp.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: a.auth });
    assert.equal(list.statusCode, 200);
    const items = list.json<{ items: { sessionId: string; current: boolean }[] }>().items;
    assert.equal(items.length, 2);
    assert.equal(items.filter((s) => s.current).length, 1);
    const target = items.find((s) => !s.current)!;
    const stolen = await tp.app.inject({
      method: 'DELETE',
      url: `/api/v1/sessions/${target.sessionId}`,
      headers: b.auth,
    });
    assert.equal(stolen.statusCode, 404);
    const ended = await tp.app.inject({
      method: 'DELETE',
      url: `/api/v1/sessions/${target.sessionId}`,
      headers: a.auth,
    });
    assert.equal(ended.statusCode, 204);
    const me = await tp.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: other.authorization },
    });
    assert.equal(me.statusCode, 401);
    const garbage = await tp.app.inject({
      method: 'DELETE',
      url: '/api/v1/sessions/not-a-uuid',
      headers: a.auth,
    });
    assert.equal(garbage.statusCode, 404);
  });

  it('shows the wallet and its transactions, and only the player’s own', async () => {
    const a = await registerVerifiedPlayer(tp);
    const b = await registerVerifiedPlayer(tp);
    const wallet = tp.contexts.wallet.client();
    const deposit = uuidv7();
    const [credited] = await wallet.execute([
      {
        type: 'transfer',
        id: deposit,
        debit: { system: 'psp_clearing', ref: 'sandbox' },
        credit: { player: a.playerId, kind: 'cash' },
        amount: 2500n,
        currency: 'EUR',
        code: 'deposit',
      },
      {
        type: 'transfer',
        id: `${deposit}-bet`,
        debit: { player: a.playerId, kind: 'cash' },
        credit: { system: 'game_revenue', ref: 'demo' },
        amount: 125n,
        currency: 'EUR',
        code: 'bet',
        metadata: { roundId: 'round-1' },
      },
    ]);
    assert.ok(credited?.ok);
    const view = await tp.app.inject({ method: 'GET', url: '/api/v1/wallet', headers: a.auth });
    assert.equal(view.statusCode, 200);
    assert.deepEqual(view.json(), {
      currency: 'EUR',
      cash: '23.75',
      bonus: '0.00',
      pendingWithdrawal: '0.00',
      withdrawable: '23.75',
    });
    const page = await tp.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/transactions?limit=1',
      headers: a.auth,
    });
    assert.equal(page.statusCode, 200);
    const first = page.json<{ items: Record<string, string>[]; nextCursor: string | null }>();
    assert.equal(first.items.length, 1);
    assert.deepEqual(
      { ...first.items[0], createdAt: undefined },
      {
        id: `${deposit}-bet`,
        kind: 'bet',
        amount: '-1.25',
        balanceAfter: '23.75',
        roundId: 'round-1',
        createdAt: undefined,
      },
    );
    assert.ok(first.nextCursor);
    const next = await tp.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/transactions?limit=1&cursor=${first.nextCursor}`,
      headers: a.auth,
    });
    const second = next.json<{ items: Record<string, string>[]; nextCursor: string | null }>();
    assert.equal(second.items[0]?.['kind'], 'deposit');
    assert.equal(second.items[0]?.['amount'], '25.00');
    assert.equal(second.nextCursor, null);
    // b sees only b's (empty) wallet.
    const theirs = await tp.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/transactions',
      headers: b.auth,
    });
    assert.deepEqual(theirs.json<{ items: unknown[] }>().items, []);
    const bad = await tp.app.inject({
      method: 'GET',
      url: '/api/v1/wallet/transactions?limit=1000',
      headers: a.auth,
    });
    assert.equal(bad.statusCode, 400);
  });

  it('refuses every protected route without a valid bearer token', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/wallet'],
      ['GET', '/api/v1/limits'],
      ['POST', '/api/v1/auth/logout'],
    ] as const) {
      for (const authorization of [undefined, 'Bearer', 'Bearer abc.def.ghi', 'Basic dXNlcjpwYXNz']) {
        const response = await tp.app.inject({
          method,
          url,
          headers: authorization ? { authorization } : {},
        });
        assert.equal(response.statusCode, 401, `${method} ${url} ${authorization}`);
        isError(response.json(), 'UNAUTHORIZED');
      }
    }
  });

  it('publishes the signing keys at /.well-known/jwks.json', async () => {
    const response = await tp.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(response.statusCode, 200);
    const keys = response.json<{ keys: Record<string, string>[] }>().keys;
    assert.ok(keys.length >= 1);
    assert.equal(keys[0]?.['kty'], 'OKP');
    assert.equal(keys[0]?.['alg'], 'EdDSA');
    assert.ok(keys[0]?.['kid']);
    assert.equal(keys[0]?.['d'], undefined, 'never the private part');
  });

  it('describes the player API in the OpenAPI document', async () => {
    const doc = (await tp.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, unknown>;
    }>();
    for (const path of [
      '/api/v1/players',
      '/api/v1/auth/login',
      '/api/v1/auth/refresh',
      '/api/v1/auth/logout',
      '/api/v1/me',
      '/api/v1/wallet',
      '/api/v1/wallet/transactions',
      '/api/v1/limits',
      '/api/v1/limits/{kind}/{period}',
      '/api/v1/time-out',
      '/api/v1/self-exclusion',
    ]) {
      assert.ok(doc.paths[path], path);
    }
  });
});
