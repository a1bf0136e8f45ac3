// Proves that a provider call is all or nothing: when the database fails after the wallet has
// moved the money but before the call's record is written, the whole transaction rolls back (no
// transfer, no record, no round), and the provider's retry then applies it exactly once.
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
} from '../../../../test/support/games.ts';
import type { TestProvider } from '../../../../test/support/games.ts';

/** The same database, except that the statement matching `failOn` throws inside transactions. */
function faulty(db: Db, failOn: RegExp): Db {
  return observedTransactions(db, (texts) => {
    if (texts.some((text) => failOn.test(text))) throw new Error('injected fault: the disk said no');
  });
}

describe(`provider call atomicity on ${backendName}`, () => {
  let tp: TestPlatform;
  let provider: TestProvider;

  before(async () => {
    tp = await startTestPlatform();
    provider = await createProvider(tp);
  });
  after(async () => {
    await tp.close();
  });

  it('leaves nothing behind when the record cannot be written, and applies the retry once', async () => {
    const player = await registerVerifiedPlayer(tp);
    await fund(tp, provider.admin, player, '10.00');
    const token = await openSession(tp, player, provider.gameId);
    const seat = { player, token };
    const body = betBody(provider, seat, { amount: '4.00' });
    const engine = engineOn(tp, faulty(tp.running.db, /insert into games\.transactions/));
    await assert.rejects(
      engine.submit(
        betOp(provider, seat, { transactionId: body.transactionId, roundId: body.roundId, amount: 400n }),
      ),
      /injected fault/,
    );
    const count = async (sql: string) =>
      (await tp.running.db.query<{ n: bigint }>(sql, [player.playerId])).rows[0]!.n;
    assert.equal(await count('select count(*) as n from games.transactions where player_id = $1'), 0n);
    assert.equal(await count('select count(*) as n from games.rounds where player_id = $1'), 0n);
    assert.equal(
      await count(
        `select count(*) as n from wallet.transfers t join wallet.accounts a on a.id = t.debit_account_id
          where a.owner_id = $1 and t.code = 'bet'`,
      ),
      0n,
    );
    // The provider retries (through the real API): applied once.
    const retried = await providerCall(tp, provider, 'bet', body);
    assert.equal(retried.body['status'], 'OK');
    assert.equal(retried.body['balance'], '6.00');
    const again = await providerCall(tp, provider, 'bet', body);
    assert.deepEqual(again.body, retried.body);
    await ledgerOk(tp, provider.admin);
  });
});
