// Payments for HTTP-level tests: deposits through the player API and the sandbox provider's hosted
// page (the real path: the provider's signed webhook completes them), withdrawals, finance's
// decisions, signed webhooks posted by hand, and wallet and clearing balances.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signedHeaders } from '../../src/platform/auth/index.ts';
import type { TestPlatform } from './platform.ts';
import type { TestPlayer } from './players.ts';
import { eventually } from './players.ts';

export interface WalletView {
  currency: string;
  cash: string;
  bonus: string;
  pendingWithdrawal: string;
  withdrawable: string;
}

export interface PaymentJson {
  id: string;
  kind: string;
  amount: string;
  currency: string;
  status: string;
  createdAt: string;
}

export async function walletOf(tp: TestPlatform, player: TestPlayer): Promise<WalletView> {
  const response = await tp.app.inject({ method: 'GET', url: '/api/v1/wallet', headers: player.auth });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<WalletView>();
}

export async function startDeposit(
  tp: TestPlatform,
  player: TestPlayer,
  amount: string,
  fields: Record<string, unknown> = {},
): Promise<{ depositId: string; status: string; redirectUrl: string }> {
  const response = await tp.app.inject({
    method: 'POST',
    url: '/api/v1/payments/deposits',
    headers: player.auth,
    payload: { amount, currency: 'EUR', method: 'sandbox', ...fields },
  });
  assert.equal(response.statusCode, 202, response.body);
  return response.json<{ depositId: string; status: string; redirectUrl: string }>();
}

/** What the hosted page's buttons send. */
export async function decideOnPage(redirectUrl: string, decision: 'approve' | 'decline'): Promise<number> {
  const response = await fetch(redirectUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision }),
  });
  await response.body?.cancel();
  return response.status;
}

export async function paymentOf(tp: TestPlatform, player: TestPlayer, id: string): Promise<PaymentJson> {
  const response = await tp.app.inject({
    method: 'GET',
    url: `/api/v1/payments/${encodeURIComponent(id)}`,
    headers: player.auth,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<PaymentJson>();
}

/** Waits until the payment reaches `status` (webhooks are asynchronous). */
export async function waitForStatus(
  tp: TestPlatform,
  player: TestPlayer,
  id: string,
  status: string,
  timeoutMs = 10_000,
): Promise<PaymentJson> {
  return eventually(async () => {
    const payment = await paymentOf(tp, player, id);
    return payment.status === status ? payment : undefined;
  }, timeoutMs);
}

/** A deposit all the way: started, approved on the provider's page, completed by its webhook. */
export async function deposit(tp: TestPlatform, player: TestPlayer, amount: string): Promise<string> {
  const started = await startDeposit(tp, player, amount);
  assert.equal(await decideOnPage(started.redirectUrl, 'approve'), 200);
  await waitForStatus(tp, player, started.depositId, 'completed');
  return started.depositId;
}

/** A payout destination in the player's own verified name (read from GET /api/v1/me). */
export async function ownDestination(
  tp: TestPlatform,
  player: TestPlayer,
  account = 'DE89370400440532013000',
): Promise<{ method: string; holderName: string; account: string }> {
  const me = await tp.app.inject({ method: 'GET', url: '/api/v1/me', headers: player.auth });
  assert.equal(me.statusCode, 200, me.body);
  const { firstName, lastName } = me.json<{ firstName: string; lastName: string }>();
  return { method: 'sandbox', holderName: `${firstName} ${lastName}`, account };
}

export async function requestWithdrawal(
  tp: TestPlatform,
  player: TestPlayer,
  amount: string,
  destination: { method: string; holderName: string; account: string },
) {
  const response = await tp.app.inject({
    method: 'POST',
    url: '/api/v1/payments/withdrawals',
    headers: player.auth,
    payload: { amount, currency: 'EUR', destination },
  });
  return {
    statusCode: response.statusCode,
    body: response.json<{ withdrawalId: string; status: string; code?: string }>(),
  };
}

export async function decideWithdrawal(
  tp: TestPlatform,
  admin: string,
  withdrawalId: string,
  decision: 'approve' | 'reject',
  /** null sends no reason at all. */
  reason: string | null = 'checked by finance',
) {
  const response = await tp.app.inject({
    method: 'POST',
    url: `/admin/v1/withdrawals/${withdrawalId}/${decision}`,
    headers: { authorization: `Bearer ${admin}` },
    payload: reason === null ? {} : { reason },
  });
  return { statusCode: response.statusCode, body: response.json<Record<string, unknown>>() };
}

/** The embedded sandbox PSP by name (its switches and its own records). */
export function psp(tp: TestPlatform, name: 'sandbox-eu' | 'sandbox-intl') {
  const embedded = tp.contexts.paymentsSandboxes.get(name);
  assert.ok(embedded, `sandbox ${name} is running`);
  return embedded;
}

/** Posts a webhook to the platform as `pspName` would, signed with `secret` (the PSP's by default). */
export async function postWebhook(
  tp: TestPlatform,
  pspName: string,
  body: Record<string, unknown>,
  options: { secret?: string; raw?: string } = {},
): Promise<{ statusCode: number; body: Record<string, unknown> }> {
  const raw =
    options.raw ?? JSON.stringify({ eventId: randomUUID(), occurredAt: new Date().toISOString(), ...body });
  const secret =
    options.secret ?? tp.contexts.paymentsSandboxes.get(pspName)?.config.webhookSecret ?? 'no-such-secret';
  const response = await tp.app.inject({
    method: 'POST',
    url: `/webhooks/payments/${encodeURIComponent(pspName)}`,
    headers: { 'content-type': 'application/json', ...signedHeaders(secret, tp.clock.nowMs(), raw) },
    payload: raw,
  });
  return { statusCode: response.statusCode, body: response.json<Record<string, unknown>>() };
}

/** A system account's balance (psp_clearing per provider, the bank), minor units. */
export async function systemBalance(
  tp: TestPlatform,
  kind: 'psp_clearing' | 'house',
  ref: string,
  currency = 'EUR',
): Promise<bigint> {
  const balance = await tp.contexts.wallet.client().balance({ system: kind, ref }, currency);
  return balance?.balance ?? 0n;
}

/** A player's withdrawal-hold account: balance and pending credits, minor units. */
export async function holdOf(tp: TestPlatform, player: TestPlayer, currency = 'EUR') {
  const balances = await tp.contexts.wallet.client().playerBalances(player.playerId, currency);
  const hold = balances.withdrawal_hold;
  return { balance: hold?.balance ?? 0n, creditsPending: hold?.creditsPending ?? 0n };
}
