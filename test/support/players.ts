// Players for HTTP-level tests: registered through the public API, verified by the sandbox KYC
// provider's signed webhook (the real path), logged in. Each gets a unique email.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestPlatform } from './platform.ts';
import { testAdmin } from './platform.ts';

export interface TestPlayer {
  playerId: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

export function uniqueEmail(prefix = 'player'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}@example.test`;
}

export interface RegistrationOverrides {
  email?: string;
  password?: string;
  firstName?: string;
  lastName?: string;
  dateOfBirth?: string;
  country?: string;
  currency?: string;
  deviceId?: string;
}

export function registration(overrides: RegistrationOverrides = {}): Record<string, string> {
  return {
    email: uniqueEmail(),
    password: 'correct horse battery',
    firstName: 'Ada',
    lastName: `Tester${randomBytes(3).toString('hex')}`,
    dateOfBirth: '1990-04-01',
    country: 'GB',
    currency: 'EUR',
    ...overrides,
  };
}

export async function register(tp: TestPlatform, overrides: RegistrationOverrides = {}) {
  const body = registration(overrides);
  const response = await tp.app.inject({ method: 'POST', url: '/api/v1/players', payload: body });
  assert.equal(response.statusCode, 201, response.body);
  return { ...response.json<{ playerId: string; status: string }>(), body };
}

export async function login(
  tp: TestPlatform,
  email: string,
  password: string,
): Promise<TestPlayer['auth'] & { refreshToken: string; accessToken: string }> {
  const response = await tp.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
  });
  assert.equal(response.statusCode, 200, response.body);
  const tokens = response.json<{ accessToken: string; refreshToken: string }>();
  return { ...tokens, authorization: `Bearer ${tokens.accessToken}` };
}

/** Polls until `check` passes or the deadline passes (asynchronous outside parties). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function kycStatusOf(tp: TestPlatform, authorization: string): Promise<string> {
  const me = await tp.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } });
  assert.equal(me.statusCode, 200, me.body);
  return me.json<{ kycStatus: string }>().kycStatus;
}

/** Registers, logs in and waits for the sandbox KYC provider to verify the player. */
export async function registerVerifiedPlayer(
  tp: TestPlatform,
  overrides: RegistrationOverrides = {},
): Promise<TestPlayer> {
  const { playerId, body } = await register(tp, overrides);
  const tokens = await login(tp, body['email']!, body['password']!);
  await eventually(async () =>
    (await kycStatusOf(tp, tokens.authorization)) === 'verified' ? true : undefined,
  );
  // The wallet learns of the verification right after pam does; wait until it has.
  await eventually(async () => {
    const { rows } = await tp.running.db.query<{ kyc_verified: boolean }>(
      'select kyc_verified from wallet.policies where player_id = $1',
      [playerId],
    );
    return rows[0]?.kyc_verified ? true : undefined;
  });
  return {
    playerId,
    email: body['email']!,
    password: body['password']!,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    auth: { authorization: tokens.authorization },
  };
}

export async function adminToken(tp: TestPlatform): Promise<string> {
  const response = await tp.app.inject({
    method: 'POST',
    url: '/admin/v1/auth/login',
    payload: { email: testAdmin.email, password: testAdmin.password },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ accessToken: string }>().accessToken;
}
