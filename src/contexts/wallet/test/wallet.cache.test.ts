// Proves a tiny account cache changes nothing but speed: evictions mid-batch, and replays whose
// accounts the batch did not lock, still give the right results (and never hang PGlite).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendName } from '../../../../test/support/backend.ts';
import type { AccountRef, TransferResult, WalletRequest } from '../index.ts';
import { openWallet } from './support.ts';
import type { WalletFixture } from './support.ts';

const house = { system: 'game_revenue', ref: 'h' } as const;
const psp = { system: 'psp_clearing', ref: 'x' } as const;

function transfer(id: string, debit: AccountRef, credit: AccountRef, code: 'bet' | 'deposit'): WalletRequest {
  return { type: 'transfer', id, debit, credit, amount: code === 'bet' ? 1n : 100n, currency: 'EUR', code };
}

function outcome(result: TransferResult | undefined): string {
  return result?.ok
    ? `ok${result.replayed ? ' replayed' : ''}`
    : `${result?.code}${result?.replayed ? ' replayed' : ''}`;
}

describe(`wallet with a 4-account cache on ${backendName}`, () => {
  let f: WalletFixture;
  before(async () => {
    f = await openWallet({ accountCacheMax: 4 });
    for (const player of ['p1', 'p2', 'p3', 'p4']) {
      await f.wallet.openPlayerAccounts(player, 'EUR');
      await f.wallet.setPolicy(player, { status: 'active', kycVerified: true });
    }
  });
  after(async () => f.close());

  it('resolves every account of a batch even when the cache evicts one of them meanwhile', async () => {
    const cash = (player: string): AccountRef => ({ player, kind: 'cash' });
    const steps: [WalletRequest, string][] = [
      [transfer('dep-p1', psp, cash('p1'), 'deposit'), 'ok'],
      [transfer('bet-p1', cash('p1'), house, 'bet'), 'ok'],
      [transfer('dep-p2', psp, cash('p2'), 'deposit'), 'ok'],
      [transfer('dep-p3', psp, cash('p3'), 'deposit'), 'ok'],
      // The miss on p4 evicts the clearing account, which this very batch found in the cache.
      [transfer('dep-p4', psp, cash('p4'), 'deposit'), 'ok'],
      [transfer('dep-p4', psp, cash('p4'), 'deposit'), 'ok replayed'],
      // A replay whose accounts are no longer cached must read them in its own transaction.
      [transfer('bet-p1', cash('p1'), house, 'bet'), 'ok replayed'],
      [transfer('dep-p3', psp, cash('p3'), 'deposit'), 'ok replayed'],
    ];
    for (const [request, expected] of steps) {
      assert.equal(outcome((await f.wallet.execute([request]))[0]), expected, request.id);
    }
    assert.ok((await f.wallet.audit()).ok);
  });
});

describe(`wallet account cache inside a caller's transaction on ${backendName}`, () => {
  let f: WalletFixture;
  before(async () => {
    f = await openWallet();
    await f.wallet.openPlayerAccounts('c1', 'EUR');
    await f.wallet.setPolicy('c1', { status: 'active', kycVerified: true });
  });
  after(async () => f.close());

  it('forgets an account created in a transaction that rolled back, and caches committed ones', async () => {
    const cash: AccountRef = { player: 'c1', kind: 'cash' };
    const fresh = { system: 'psp_clearing', ref: 'rolled-back' } as const;
    // The transfer creates the clearing account inside the caller's transaction, which then
    // rolls back: the account is gone with it.
    await assert.rejects(
      f.test.db.transaction(async (tx) => {
        const [result] = await f.wallet.executeInTransaction(tx, [transfer('in-tx', fresh, cash, 'deposit')]);
        assert.equal(outcome(result), 'ok');
        throw new Error('the caller changed its mind');
      }),
      /changed its mind/,
    );
    const { rows } = await f.test.db.query<{ n: bigint }>(
      `select count(*) as n from wallet.accounts where key like '%rolled-back%'`,
    );
    assert.equal(rows[0]!.n, 0n);
    // Had the wallet cached that account, this would name a row that does not exist.
    assert.equal(outcome((await f.wallet.execute([transfer('after', fresh, cash, 'deposit')]))[0]), 'ok');
    assert.equal(outcome((await f.wallet.execute([transfer('in-tx', fresh, cash, 'deposit')]))[0]), 'ok');
    assert.ok((await f.wallet.audit()).ok);
  });
});
