// Game providers for HTTP-level tests: registered through the back-office API, called through the
// provider wallet API with real HMAC signatures (contract §3), players funded by an audited
// adjustment and given a game session through the player API.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { BetOp } from '../../src/contexts/games/games.contract.ts';
import { ProviderWalletEngine } from '../../src/contexts/games/games.engine.ts';
import { signedHeaders } from '../../src/platform/auth/index.ts';
import type { Db } from '../../src/platform/db/index.ts';
import type { TestPlatform } from './platform.ts';
import type { TestPlayer } from './players.ts';
import { adminToken } from './players.ts';

export interface TestProvider {
  providerId: string;
  secret: string;
  gameId: string;
  admin: string;
}

export async function createProvider(
  tp: TestPlatform,
  options: { providerId?: string; gameId?: string; launchUrlTemplate?: string; healthUrl?: string } = {},
): Promise<TestProvider> {
  const admin = await adminToken(tp);
  const providerId = options.providerId ?? `studio-${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  const created = await tp.app.inject({
    method: 'POST',
    url: '/admin/v1/providers',
    headers: { authorization: `Bearer ${admin}` },
    payload: {
      providerId,
      name: `Studio ${providerId}`,
      walletSecret: secret,
      ...(options.launchUrlTemplate ? { launchUrlTemplate: options.launchUrlTemplate } : {}),
      ...(options.healthUrl ? { healthUrl: options.healthUrl } : {}),
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const gameId = options.gameId ?? `slot-${randomBytes(4).toString('hex')}`;
  await addGame(tp, admin, providerId, gameId);
  return { providerId, secret, gameId, admin };
}

export async function addGame(
  tp: TestPlatform,
  admin: string,
  providerId: string,
  gameId: string,
): Promise<void> {
  const game = await tp.app.inject({
    method: 'POST',
    url: '/admin/v1/games',
    headers: { authorization: `Bearer ${admin}` },
    payload: { gameId, providerId, name: `Game ${gameId}`, type: 'slot', rtp: 96.5 },
  });
  assert.equal(game.statusCode, 201, game.body);
}

export async function fund(
  tp: TestPlatform,
  admin: string,
  player: TestPlayer,
  amount: string,
  currency = 'EUR',
): Promise<void> {
  const response = await tp.app.inject({
    method: 'POST',
    url: `/admin/v1/players/${player.playerId}/adjustments`,
    headers: { authorization: `Bearer ${admin}` },
    payload: { amount, currency, direction: 'credit', reason: 'test funds' },
  });
  assert.equal(response.statusCode, 201, response.body);
}

export async function openSession(tp: TestPlatform, player: TestPlayer, gameId: string): Promise<string> {
  const response = await tp.app.inject({
    method: 'POST',
    url: `/api/v1/games/${encodeURIComponent(gameId)}/sessions`,
    headers: player.auth,
    payload: {},
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<{ sessionToken: string }>().sessionToken;
}

export interface ProviderReply {
  status: number;
  body: Record<string, unknown>;
}

/** Signs and sends one provider wallet call; options forge what an attacker would. */
export async function providerCall(
  tp: TestPlatform,
  provider: Pick<TestProvider, 'providerId' | 'secret'>,
  operation: 'balance' | 'bet' | 'win' | 'rollback',
  body: unknown,
  options: { secret?: string; timestampMs?: number; raw?: string; headers?: Record<string, string> } = {},
): Promise<ProviderReply> {
  const raw = options.raw ?? JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    ...signedHeaders(options.secret ?? provider.secret, options.timestampMs ?? tp.clock.nowMs(), raw),
    ...options.headers,
  };
  const response = await tp.app.inject({
    method: 'POST',
    url: `/provider/v1/${encodeURIComponent(provider.providerId)}/${operation}`,
    headers,
    payload: raw,
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

export async function ledgerOk(tp: TestPlatform, admin: string): Promise<void> {
  const response = await tp.app.inject({
    method: 'GET',
    url: '/admin/v1/ledger/check',
    headers: { authorization: `Bearer ${admin}` },
  });
  assert.equal(response.statusCode, 200, response.body);
  const report = response.json<{ ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }>();
  assert.ok(report.ok, JSON.stringify(report.checks.filter((check) => !check.ok)));
}

/** A player with a funded wallet and a game session at a provider. */
export interface Seat {
  player: TestPlayer;
  token: string;
}

export const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(5).toString('hex')}`;

export function betBody(provider: TestProvider, seat: Seat, fields: Record<string, unknown> = {}) {
  return {
    transactionId: uniqueId('bet'),
    sessionToken: seat.token,
    playerId: seat.player.playerId,
    gameId: provider.gameId,
    roundId: uniqueId('round'),
    amount: '1.00',
    currency: 'EUR',
    ...fields,
  };
}

export function winBody(
  provider: TestProvider,
  seat: Seat,
  roundId: string,
  fields: Record<string, unknown> = {},
) {
  return {
    transactionId: uniqueId('win'),
    playerId: seat.player.playerId,
    gameId: provider.gameId,
    roundId,
    amount: '2.00',
    currency: 'EUR',
    ...fields,
  };
}

export function rollbackBody(
  provider: TestProvider,
  seat: Seat,
  reference: string,
  roundId: string,
  fields: Record<string, unknown> = {},
) {
  return {
    transactionId: uniqueId('rb'),
    referenceTransactionId: reference,
    playerId: seat.player.playerId,
    gameId: provider.gameId,
    roundId,
    ...fields,
  };
}

/** A bet as the engine takes it (what a bet call parses to), for tests that submit to an engine directly. */
export function betOp(
  provider: TestProvider,
  seat: Seat,
  fields: { transactionId: string; roundId: string; amount: bigint },
): BetOp {
  return {
    kind: 'bet',
    providerId: provider.providerId,
    sessionToken: seat.token,
    playerId: seat.player.playerId,
    gameId: provider.gameId,
    currency: 'EUR',
    roundClosed: false,
    ...fields,
  };
}

/**
 * A provider-wallet engine of its own on `db` (a wrapped handle on the platform's database), with
 * a wallet library on the same database: a test can watch or fail its statements.
 */
export function engineOn(tp: TestPlatform, db: Db): ProviderWalletEngine {
  const services = { db: tp.running.db, clock: tp.clock, config: tp.config, logger: tp.running.logger };
  return new ProviderWalletEngine({
    db,
    clock: tp.clock,
    wallet: tp.contexts.wallet.ledgerFor(services),
    logger: tp.running.logger,
  });
}
