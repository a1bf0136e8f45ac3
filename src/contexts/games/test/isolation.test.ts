// Proves provider isolation: a studio whose health endpoint hangs trips its own circuit breaker,
// its games then fail fast with PROVIDER_UNAVAILABLE, while another studio's sessions and bets
// go on untouched; the per-provider metrics show the breaker states.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { registerVerifiedPlayer } from '../../../../test/support/players.ts';
import {
  betBody,
  createProvider,
  fund,
  ledgerOk,
  openSession,
  providerCall,
} from '../../../../test/support/games.ts';
import type { TestProvider } from '../../../../test/support/games.ts';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

describe(`provider isolation on ${backendName}`, () => {
  let tp: TestPlatform;
  let hanging: Server;
  let healthy: Server;
  let down: TestProvider;
  let up: TestProvider;

  before(async () => {
    tp = await startTestPlatform();
    // One studio never answers its health check; the other answers at once.
    hanging = createServer(() => undefined);
    healthy = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'),
    );
    down = await createProvider(tp, { providerId: 'hanging-studio', healthUrl: await listen(hanging) });
    up = await createProvider(tp, { providerId: 'healthy-studio', healthUrl: await listen(healthy) });
  });
  after(async () => {
    await tp.close();
    hanging.closeAllConnections();
    hanging.close();
    healthy.close();
  });

  it('fails the hanging studio fast and leaves the other one alone', async () => {
    const player = await registerVerifiedPlayer(tp);
    await fund(tp, up.admin, player, '20.00');
    // Before any failure both studios open sessions.
    await openSession(tp, player, down.gameId);
    for (let round = 0; round < 3; round++) await tp.contexts.games.checkProviders();

    const started = performance.now();
    const refused = await tp.app.inject({
      method: 'POST',
      url: `/api/v1/games/${down.gameId}/sessions`,
      headers: player.auth,
      payload: {},
    });
    const refusedMs = performance.now() - started;
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'PROVIDER_UNAVAILABLE');
    assert.ok(refusedMs < 500, `fails fast, not after a timeout (${refusedMs.toFixed(0)} ms)`);

    const token = await openSession(tp, player, up.gameId);
    const bet = await providerCall(tp, up, 'bet', betBody(up, { player, token }, { amount: '2.00' }));
    assert.equal(bet.body['status'], 'OK');
    assert.equal(bet.body['balance'], '18.00');

    const metrics = await tp.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /croupier_outbound_breaker_state\{target="game-provider:hanging-studio"\} 2/);
    assert.match(metrics.body, /croupier_outbound_breaker_state\{target="game-provider:healthy-studio"\} 0/);
    assert.match(
      metrics.body,
      /croupier_outbound_calls_total\{[^}]*target="game-provider:hanging-studio"[^}]*outcome="timeout"/,
    );
    const providers = await tp.app.inject({
      method: 'GET',
      url: '/admin/v1/providers',
      headers: { authorization: `Bearer ${up.admin}` },
    });
    const states = Object.fromEntries(
      providers
        .json<{ items: { providerId: string; breaker: string }[] }>()
        .items.map((item) => [item.providerId, item.breaker]),
    );
    assert.equal(states['hanging-studio'], 'open');
    assert.equal(states['healthy-studio'], 'closed');
    await ledgerOk(tp, up.admin);
  });
});
