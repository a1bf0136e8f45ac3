// Helpers for the back-office HTTP tests: operator sign-in and creation through the API itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { testAdmin } from '../../../../test/support/platform.ts';
import type { OperatorRole } from '../index.ts';

export interface TestOperator {
  userId: string;
  email: string;
  password: string;
  role: OperatorRole;
  token: string;
  auth: { authorization: string };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

export async function operatorLogin(tp: TestPlatform, email: string, password: string): Promise<string> {
  const response = await tp.app.inject({
    method: 'POST',
    url: '/admin/v1/auth/login',
    payload: { email, password },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ accessToken: string }>().accessToken;
}

export async function adminAuth(tp: TestPlatform): Promise<{ authorization: string }> {
  return bearer(await operatorLogin(tp, testAdmin.email, testAdmin.password));
}

/** Creates an operator with the given role through POST /admin/v1/users and signs them in. */
export async function createOperator(
  tp: TestPlatform,
  admin: { authorization: string },
  role: OperatorRole,
): Promise<TestOperator> {
  const email = `${role}-${randomBytes(5).toString('hex')}@staff.test`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const response = await tp.app.inject({
    method: 'POST',
    url: '/admin/v1/users',
    headers: admin,
    payload: { email, password, role },
  });
  assert.equal(response.statusCode, 201, response.body);
  const { userId } = response.json<{ userId: string }>();
  const token = await operatorLogin(tp, email, password);
  return { userId, email, password, role, token, auth: bearer(token) };
}

export interface AuditItem {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  reason: string | null;
}

export async function auditItems(
  tp: TestPlatform,
  auth: { authorization: string },
  limit = 100,
): Promise<AuditItem[]> {
  const response = await tp.app.inject({
    method: 'GET',
    url: `/admin/v1/audit?limit=${limit}`,
    headers: auth,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ items: AuditItem[] }>().items;
}
