// Proves that a wallet whose system accounts are split into shards behaves as one account to its
// callers: bets spread over the sub-accounts batch by batch, the system balance is their sum (now
// and at a past time), reversals find the shard their transfer used, and the audit passes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendName } from '../../../../test/support/backend.ts';
import type { WalletRequest } from '../wallet.contract.ts';
import { fundedPlayer, openWallet } from './support.ts';
import type { WalletFixture } from './support.ts';

describe(`wallet with sharded system accounts on ${backendName}`, () => {
  let f: WalletFixture;
  const house = { system: 'game_revenue', ref: 'studio' } as const;

  before(async () => {
    f = await openWallet({ systemShards: 4 });
  });
  after(async () => {
    await f.close();
  });

  it('spreads batches over the shards and sums them back', async () => {
    const players = Array.from({ length: 8 }, (_, i) => `shard-player-${i}`);
    for (const player of players) await fundedPlayer(f.wallet, player, 1_000n);
    const bet = (player: string, round: number): WalletRequest => ({
      type: 'transfer',
      id: `bet:${player}:${round}`,
      debit: { player, kind: 'cash' },
      credit: house,
      amount: 10n,
      currency: 'EUR',
      code: 'bet',
    });
    // Separate execute() calls made one after another: separate batches, so separate shards.
    for (let round = 0; round < 8; round++) {
      const results = await f.wallet.execute(players.map((player) => bet(player, round)));
      assert.ok(results.every((result) => result.ok));
    }
    const before = f.clock.now();
    f.clock.advance(1000);
    const { rows } = await f.test.db.query<{ key: string }>(
      `select key from wallet.accounts where owner_type = 'system' and kind = 'game_revenue' and owner_id = 'studio'`,
    );
    assert.equal(rows.length, 4, 'every shard got used');
    const total = await f.wallet.balance(house, 'EUR');
    assert.ok(total);
    assert.equal(total.balance, 8n * 8n * 10n);
    assert.equal(total.creditsPosted, 640n);
    assert.equal(total.version, 64n);
    assert.equal(total.key, 'system:game_revenue:EUR:studio');
    assert.equal((await f.wallet.balanceAt(house, 'EUR', before))?.balance, 640n);

    // A reversal moves the money back out of whichever shard took it, once.
    const [reversal] = await f.wallet.execute([
      {
        type: 'reverse',
        id: 'rollback:shard-player-3:5',
        transferId: 'bet:shard-player-3:5',
        code: 'rollback',
      },
    ]);
    assert.ok(reversal?.ok);
    const [again] = await f.wallet.execute([
      { type: 'reverse', id: 'rollback:again', transferId: 'bet:shard-player-3:5', code: 'rollback' },
    ]);
    assert.equal(again?.ok, false);
    assert.equal((await f.wallet.balance(house, 'EUR'))?.balance, 630n);
    assert.equal((await f.wallet.balance({ player: 'shard-player-3', kind: 'cash' }, 'EUR'))?.balance, 930n);
    const report = await f.wallet.audit();
    assert.ok(report.ok, JSON.stringify(report.checks.filter((check) => !check.ok)));
  });
});
