// The provider batch's round trips and its round locking: the reads under the players' locks go
// out as one pipeline and the writes as another, and a rollback that names another round than
// its bet's still finds and updates the bet's round (locked through the referenced transaction,
// inside that same pipeline).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../../platform/db/index.ts';
import { observedTransactions } from '../../../../test/support/db.ts';
import { backendName } from '../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../test/support/platform.ts';
import { registerVerifiedPlayer } from '../../../../test/support/players.ts';
import {
  betBody,
  betOp,
  createProvider,
  engineOn,
  fund,
  ledgerOk,
  openSession,
  providerCall,
  rollbackBody,
} from '../../../../test/support/games.ts';
import type { TestProvider } from '../../../../test/support/games.ts';

/** The same database, recording each call made inside a transaction (one call, one round trip). */
function recording(db: Db, calls: string[][]): Db {
  return observedTransactions(db, (texts) => calls.push(texts));
}

describe(`provider batch on ${backendName}`, () => {
  let tp: TestPlatform;
  let provider: TestProvider;

  before(async () => {
    tp = await startTestPlatform();
    provider = await createProvider(tp);
  });
  after(async () => {
    await tp.close();
  });

  it('reads under the locks in one pipeline and writes in another', async () => {
    const player = await registerVerifiedPlayer(tp);
    await fund(tp, provider.admin, player, '10.00');
    const token = await openSession(tp, player, provider.gameId);
    const seat = { player, token };
    const body = betBody(provider, seat, { amount: '4.00' });
    const calls: string[][] = [];
    const engine = engineOn(tp, recording(tp.running.db, calls));
    const bet = (transactionId: string, roundId: string) =>
      engine.submit(betOp(provider, seat, { transactionId, roundId, amount: 100n }));
    // The first bets also find the player's wallet accounts and create the house sub-accounts
    // (one per batch in turn, CROUPIER_WALLET_SYSTEM_SHARDS of them); a sub-account is cached the
    // next time a batch finds it, committed.
    for (let warm = 0; warm < 2 * tp.config.walletSystemShards; warm++)
      assert.equal(
        (await bet(`${body.transactionId}-warm-${warm}`, `${body.roundId}-warm-${warm}`)).ok,
        true,
      );
    calls.length = 0;
    assert.equal((await bet(body.transactionId, body.roundId)).ok, true);
    // First: the advisory locks, then every read of the batch, in the same pipeline.
    const reads = calls[0]!;
    assert.match(reads[0]!, /pg_advisory_xact_lock/);
    for (const table of [
      'games.transactions',
      'games.tombstones',
      'games.rounds',
      'games.sessions',
      'wallet.policies',
    ])
      assert.ok(
        reads.some((text) => text.includes(table)),
        `${table} is read in the locks' pipeline`,
      );
    // Last: every write of the batch, in one pipeline.
    const writes = calls.at(-1)!;
    assert.deepEqual(
      writes.map((text) => /^\s*insert into (\S+)/.exec(text)?.[1]),
      ['games.rounds', 'games.transactions', 'games.outbox'],
    );
    // In between, only the wallet's batch inside the transaction: its reads (one pipeline) and its
    // write. Its accounts come from its cache: those it read through earlier transactions were
    // committed by others (see WalletRepository.accountsIn).
    assert.equal(
      calls.length,
      4,
      `${calls.length} round trips: ${JSON.stringify(calls.map((c) => c[0]!.slice(0, 40)))}`,
    );
  });

  it("updates the bet's round when a rollback names another round", async () => {
    const player = await registerVerifiedPlayer(tp);
    await fund(tp, provider.admin, player, '10.00');
    const token = await openSession(tp, player, provider.gameId);
    const seat = { player, token };
    const bet = betBody(provider, seat, { amount: '4.00' });
    assert.equal((await providerCall(tp, provider, 'bet', bet)).body['status'], 'OK');
    const undo = rollbackBody(provider, seat, bet.transactionId, `${bet.roundId}-elsewhere`);
    const rolled = await providerCall(tp, provider, 'rollback', undo);
    assert.equal(rolled.body['status'], 'OK');
    assert.equal(rolled.body['balance'], '10.00');
    const { rows } = await tp.running.db.query<{ total_bet: bigint; live_bets: bigint }>(
      'select total_bet, live_bets from games.rounds where player_id = $1 and provider_round_id = $2',
      [player.playerId, bet.roundId],
    );
    assert.deepEqual(rows, [{ total_bet: 0n, live_bets: 0n }]);
    await ledgerOk(tp, provider.admin);
  });
});
