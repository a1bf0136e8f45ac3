// Proves that two platform nodes on one PostgreSQL database apply concurrent duplicate provider
// calls once, never sell the same funds twice, and roll a transaction back once (contract §3
// rule 1: "Concurrent duplicates, on any number of platform nodes, apply once").
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseUrl } from '../../../../test/support/backend.ts';
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
  rollbackBody,
} from '../../../../test/support/games.ts';
import type { Seat, TestProvider } from '../../../../test/support/games.ts';

// One embedded process is one node by definition: this needs a shared server database.
describe(
  'provider wallet API on two nodes (PostgreSQL)',
  { skip: databaseUrl ? false : 'needs DATABASE_URL' },
  () => {
    let a: TestPlatform;
    let b: TestPlatform;
    let provider: TestProvider;

    before(async () => {
      a = await startTestPlatform();
      b = await startTestPlatform({ joinDatabaseUrl: a.databaseUrl! });
      provider = await createProvider(a);
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    async function seat(amount: string): Promise<Seat> {
      const player = await registerVerifiedPlayer(a);
      await fund(a, provider.admin, player, amount);
      return { player, token: await openSession(a, player, provider.gameId) };
    }

    it('applies a duplicate sent to both nodes at once exactly once', async () => {
      const s = await seat('50.00');
      const body = betBody(provider, s, { amount: '5.00' });
      const replies = await Promise.all(
        Array.from({ length: 16 }, (_, i) => providerCall(i % 2 === 0 ? a : b, provider, 'bet', body)),
      );
      assert.equal(new Set(replies.map((reply) => reply.body['platformTransactionId'])).size, 1);
      for (const reply of replies) assert.equal(reply.body['balance'], '45.00');
      await ledgerOk(a, provider.admin);
    });

    it('accepts exactly 10 of 40 bets spread over both nodes against 10 bets of funds', async () => {
      const s = await seat('10.00');
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          providerCall(i % 2 === 0 ? a : b, provider, 'bet', betBody(provider, s, { amount: '1.00' })),
        ),
      );
      assert.equal(replies.filter((reply) => reply.body['status'] === 'OK').length, 10);
      assert.equal(replies.filter((reply) => reply.body['code'] === 'INSUFFICIENT_FUNDS').length, 30);
      await ledgerOk(a, provider.admin);
    });

    it('rolls a bet back once when two rollbacks race on two nodes', async () => {
      const s = await seat('20.00');
      const placed = betBody(provider, s, { amount: '4.00' });
      await providerCall(a, provider, 'bet', placed);
      const [first, second] = await Promise.all([
        providerCall(
          a,
          provider,
          'rollback',
          rollbackBody(provider, s, placed.transactionId, placed.roundId),
        ),
        providerCall(
          b,
          provider,
          'rollback',
          rollbackBody(provider, s, placed.transactionId, placed.roundId),
        ),
      ]);
      const codes = [
        first.body['status'] === 'OK' ? 'OK' : first.body['code'],
        second.body['status'] === 'OK' ? 'OK' : second.body['code'],
      ].sort();
      assert.deepEqual(codes, ['OK', 'TRANSACTION_ROLLED_BACK']);
      const balance = await providerCall(b, provider, 'balance', {
        sessionToken: s.token,
        playerId: s.player.playerId,
        currency: 'EUR',
      });
      assert.equal(balance.body['balance'], '20.00');
      await ledgerOk(a, provider.admin);
    });
  },
);
