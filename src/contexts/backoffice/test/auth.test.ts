// Proves operator sign-in over HTTP: one 401 for every wrong credential, the per-address lock and
// its expiry, the per-IP limit, and that only a live admin token (re-checked against the database
// on every request) opens an /admin/v1 route.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../platform/clock.ts';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform, testAdmin } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { login as playerLogin, register } from '../../../../test/support/players.ts';
import { adminAuth, bearer, createOperator, operatorLogin } from './support.ts';

function login(tp: TestPlatform, email: string, password: string) {
  return tp.app.inject({ method: 'POST', url: '/admin/v1/auth/login', payload: { email, password } });
}

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe(`back-office sign-in on ${backendName}`, () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 9));
  let tp: TestPlatform;
  before(async () => {
    tp = await startTestPlatform({ clock });
  });
  after(async () => {
    await tp.close();
  });

  it('signs the configured admin in with an admin-audience token', async () => {
    const response = await login(tp, testAdmin.email, testAdmin.password);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json<{ accessToken: string; expiresInSeconds: number }>();
    assert.deepEqual(Object.keys(body).sort(), ['accessToken', 'expiresInSeconds']);
    assert.equal(body.expiresInSeconds, tp.config.accessTokenTtlSeconds);
    const claims = JSON.parse(Buffer.from(body.accessToken.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims['aud'], 'croupier-admin');
    assert.equal(claims['iss'], 'croupier');
    assert.equal(claims['role'], 'admin');
    // The address is compared whatever its case.
    const upper = await login(tp, testAdmin.email.toUpperCase(), testAdmin.password);
    assert.equal(upper.statusCode, 200, upper.body);
  });

  it('answers a wrong password and an unknown email with the identical 401 body', async () => {
    const wrongPassword = await login(tp, testAdmin.email, 'not-the-password');
    const unknownEmail = await login(tp, 'nobody-here@test.local', 'not-the-password');
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(unknownEmail.statusCode, 401);
    assert.equal(wrongPassword.body, unknownEmail.body);
    assert.deepEqual(wrongPassword.json(), {
      status: 'ERROR',
      code: 'INVALID_CREDENTIALS',
      message: 'wrong email or password',
    });
    // Clear the one failure counted against the admin, for the tests below.
    assert.equal((await login(tp, testAdmin.email, testAdmin.password)).statusCode, 200);
  });

  it('locks an address after 5 failures within the window, also an unknown one, until the lock runs out', async () => {
    const admin = await adminAuth(tp);
    const operator = await createOperator(tp, admin, 'support');
    for (const email of [operator.email, 'ghost@staff.test']) {
      for (let i = 0; i < tp.config.loginFailuresMax; i++) {
        const response = await login(tp, email, `wrong-${i}`);
        assert.equal(response.statusCode, 401, `failure ${i + 1} for ${email}`);
      }
      const locked = await login(tp, email, email === operator.email ? operator.password : 'whatever-pw');
      assert.equal(locked.statusCode, 423, locked.body);
      assert.equal(locked.json<{ code: string }>().code, 'ACCOUNT_LOCKED');
      assert.ok(Number(locked.headers['retry-after']) > 0);
    }
    // The locked operator's old token still works: the lock is on signing in, not on the person.
    assert.equal(
      (await tp.app.inject({ method: 'GET', url: '/admin/v1/players', headers: operator.auth })).statusCode,
      200,
    );
    clock.advance(tp.config.loginLockMinutes * 60_000 - 1000);
    assert.equal((await login(tp, operator.email, operator.password)).statusCode, 423);
    clock.advance(1000);
    const unlocked = await login(tp, operator.email, operator.password);
    assert.equal(unlocked.statusCode, 200, unlocked.body);
  });

  it('counts failures only within the window: spread-out failures never lock', async () => {
    const admin = await adminAuth(tp);
    const operator = await createOperator(tp, admin, 'risk');
    for (let i = 0; i < tp.config.loginFailuresMax * 2; i++) {
      assert.equal((await login(tp, operator.email, 'wrong-password')).statusCode, 401);
      clock.advance((tp.config.loginLockMinutes * 60_000) / (tp.config.loginFailuresMax - 1));
    }
    assert.equal((await login(tp, operator.email, operator.password)).statusCode, 200);
  });

  it('counts concurrent failures each', async () => {
    const email = 'burst@staff.test';
    const burst = await Promise.all(
      Array.from({ length: tp.config.loginFailuresMax }, (_, i) => login(tp, email, `wrong-${i}`)),
    );
    assert.deepEqual(
      burst.map((response) => response.statusCode),
      burst.map(() => 401),
    );
    assert.equal((await login(tp, email, 'wrong-again')).statusCode, 423);
  });

  it('refuses bad login bodies with 400', async () => {
    for (const payload of [
      {},
      { email: testAdmin.email },
      { email: testAdmin.email, password: testAdmin.password, extra: 1 },
      { email: testAdmin.email, password: 12345678901 },
    ]) {
      const response = await tp.app.inject({ method: 'POST', url: '/admin/v1/auth/login', payload });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json<{ code: string }>().code, 'INVALID_REQUEST');
    }
  });

  it('opens admin routes only to a valid, unexpired admin token', async () => {
    const token = await operatorLogin(tp, testAdmin.email, testAdmin.password);
    const get = (headers: Record<string, string>) =>
      tp.app.inject({ method: 'GET', url: '/admin/v1/players', headers });
    assert.equal((await get(bearer(token))).statusCode, 200);

    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${segment({ ...claims, role: 'admin', sub: '00000000-0000-7000-8000-000000000000' })}.${signature}`;
    const algNone = `${segment({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    const registered = await register(tp);
    const player = await playerLogin(tp, registered.body['email']!, registered.body['password']!);
    const cases: [string, Record<string, string>][] = [
      ['missing', {}],
      ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['garbage', bearer('not.a.token')],
      ['tampered', bearer(tampered)],
      ['alg none', bearer(algNone)],
      ['player token', bearer(player.accessToken)],
    ];
    for (const [name, headers] of cases) {
      const response = await get(headers);
      assert.equal(response.statusCode, 401, name);
      assert.deepEqual(Object.keys(response.json<object>()).sort(), ['code', 'message', 'status'], name);
      assert.equal(response.json<{ code: string }>().code, 'UNAUTHORIZED', name);
    }
    // A player token is refused on the admin side, and an admin token on the player side.
    const me = await tp.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
    assert.equal(me.statusCode, 401, me.body);

    clock.advance(tp.config.accessTokenTtlSeconds * 1000);
    const expired = await get(bearer(token));
    assert.equal(expired.statusCode, 401, 'expired');
  });

  it('answers 401 before validating the body of a protected route', async () => {
    const response = await tp.app.inject({
      method: 'POST',
      url: '/admin/v1/users',
      payload: { nonsense: true },
    });
    assert.equal(response.statusCode, 401);
  });

  it('re-reads role and disabled flag on every request; a password change ends older tokens', async () => {
    const admin = await adminAuth(tp);
    const operator = await createOperator(tp, admin, 'finance');
    const check = () =>
      tp.app.inject({ method: 'GET', url: '/admin/v1/ledger/check', headers: operator.auth });
    assert.equal((await check()).statusCode, 200);

    const update = (body: Record<string, unknown>) =>
      tp.app.inject({
        method: 'PUT',
        url: `/admin/v1/users/${operator.userId}`,
        headers: admin,
        payload: body,
      });
    assert.equal((await update({ role: 'support', reason: 'moved to support' })).statusCode, 200);
    assert.equal((await check()).statusCode, 403, 'demoted: at once');
    assert.equal((await update({ role: 'finance', reason: 'back to finance' })).statusCode, 200);
    assert.equal((await check()).statusCode, 200);

    assert.equal((await update({ disabled: true, reason: 'left the company' })).statusCode, 200);
    assert.equal((await check()).statusCode, 401, 'disabled: at once');
    assert.equal((await login(tp, operator.email, operator.password)).statusCode, 401, 'cannot sign in');
    assert.equal((await update({ disabled: false, reason: 'came back' })).statusCode, 200);
    assert.equal((await check()).statusCode, 200);

    // Tokens carry whole seconds: move past the second the token was signed in.
    clock.advance(1000);
    const reset = await update({ password: 'a-brand-new-password', reason: 'forgot it' });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal((await check()).statusCode, 401, 'signed before the password change');
    assert.equal((await login(tp, operator.email, operator.password)).statusCode, 401);
    assert.equal((await login(tp, operator.email, 'a-brand-new-password')).statusCode, 200);
  });

  it('keeps the last enabled admin an admin', async () => {
    const admin = await adminAuth(tp);
    const users = await tp.app.inject({ method: 'GET', url: '/admin/v1/users?limit=100', headers: admin });
    const items = users.json<{
      items: { userId: string; email: string; role: string; disabled: boolean }[];
    }>().items;
    const current = items.find((user) => user.email === testAdmin.email);
    assert.ok(current);
    const { userId } = current;
    assert.equal(items.filter((user) => user.role === 'admin' && !user.disabled).length, 1);
    const attempts: Record<string, unknown>[] = [
      { role: 'support', reason: 'try' },
      { disabled: true, reason: 'try' },
    ];
    for (const payload of attempts) {
      const response = await tp.app.inject({
        method: 'PUT',
        url: `/admin/v1/users/${userId}`,
        headers: admin,
        payload,
      });
      assert.equal(response.statusCode, 409, response.body);
    }
  });

  it('serves the admin signing keys as a JWKS document', async () => {
    const response = await tp.app.inject({ method: 'GET', url: '/admin/v1/.well-known/jwks.json' });
    assert.equal(response.statusCode, 200);
    const { keys } = response.json<{ keys: { kty: string; crv: string; kid: string; d?: string }[] }>();
    assert.ok(keys.length >= 1);
    for (const key of keys) {
      assert.equal(key.kty, 'OKP');
      assert.equal(key.crv, 'Ed25519');
      assert.equal(key.d, undefined, 'no private half');
    }
  });
});

describe(`back-office login rate limit on ${backendName}`, () => {
  let tp: TestPlatform;
  before(async () => {
    // 20 per minute × 0.1 = 2 per minute from one address.
    tp = await startTestPlatform({ env: { CROUPIER_RATE_LIMIT_SCALE: '0.1' } });
  });
  after(async () => {
    await tp.close();
  });

  it('answers 429 with retry-after once an address has used its budget', async () => {
    assert.equal((await login(tp, testAdmin.email, testAdmin.password)).statusCode, 200);
    assert.equal((await login(tp, testAdmin.email, testAdmin.password)).statusCode, 200);
    const limited = await login(tp, testAdmin.email, testAdmin.password);
    assert.equal(limited.statusCode, 429, limited.body);
    assert.equal(limited.json<{ code: string }>().code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });
});
