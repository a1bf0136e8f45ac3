// Proves the wallet's basic rules on this run's backend: double entry, idempotency, two-phase
// transfers, reversals, overdraft through reversals only, policy and limits in the debit path.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendName } from '../../../../test/support/backend.ts';
import type { TransferResult, WalletRequest } from '../index.ts';
import { fundedPlayer, openWallet } from './support.ts';
import type { WalletFixture } from './support.ts';

const house = { system: 'game_revenue', ref: 'acme' } as const;

function bet(id: string, player: string, amount: bigint, extra: Partial<WalletRequest> = {}): WalletRequest {
  return {
    type: 'transfer',
    id,
    debit: { player, kind: 'cash' },
    credit: house,
    amount,
    currency: 'EUR',
    code: 'bet',
    ...extra,
  } as WalletRequest;
}

function win(id: string, player: string, amount: bigint): WalletRequest {
  return {
    type: 'transfer',
    id,
    debit: house,
    credit: { player, kind: 'cash' },
    amount,
    currency: 'EUR',
    code: 'win',
  };
}

function okResult(result: TransferResult | undefined): Extract<TransferResult, { ok: true }> {
  assert.ok(
    result?.ok,
    `expected success, got ${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
  );
  return result;
}

function code(result: TransferResult | undefined): string {
  assert.ok(result && !result.ok, 'expected a refusal');
  return result.code;
}

describe(`wallet on ${backendName}`, () => {
  let f: WalletFixture;
  before(async () => {
    f = await openWallet();
  });
  after(async () => f.close());

  it('moves money by double entry and reports balances after', async () => {
    await fundedPlayer(f.wallet, 'p1', 10_000n);
    const [result] = await f.wallet.execute([bet('b1', 'p1', 2_500n)]);
    const ok = okResult(result);
    assert.equal(ok.debit.balance, 7_500n);
    assert.equal(ok.credit.balance, 2_500n);
    assert.equal(ok.transfer.kind, 'single');
    assert.equal((await f.wallet.balance({ player: 'p1', kind: 'cash' }, 'EUR'))?.balance, 7_500n);
  });

  it('replays the same id with the original result and refuses a different request under it', async () => {
    const [again] = await f.wallet.execute([bet('b1', 'p1', 2_500n)]);
    const replay = okResult(again);
    assert.equal(replay.replayed, true);
    assert.equal(replay.debit.balance, 7_500n, 'the balance then, not now');
    assert.equal(code((await f.wallet.execute([bet('b1', 'p1', 2_501n)]))[0]), 'ID_CONFLICT');
    assert.equal((await f.wallet.balance({ player: 'p1', kind: 'cash' }, 'EUR'))?.balance, 7_500n);
  });

  it('refuses a debit beyond the funds and remembers the refusal under its id', async () => {
    assert.equal(code((await f.wallet.execute([bet('b2', 'p1', 7_501n)]))[0]), 'INSUFFICIENT_FUNDS');
    await f.wallet.execute([win('w-topup', 'p1', 10_000n)]);
    const [again] = await f.wallet.execute([bet('b2', 'p1', 7_501n)]);
    assert.ok(again && !again.ok && again.code === 'INSUFFICIENT_FUNDS' && again.replayed);
  });

  it('lets one refused bet not fail its batch neighbours', async () => {
    await fundedPlayer(f.wallet, 'p2', 100n);
    const results = await Promise.all([
      f.wallet.execute([bet('n1', 'p2', 60n)]),
      f.wallet.execute([bet('n2', 'p2', 60n)]),
      f.wallet.execute([bet('n3', 'p2', 40n)]),
    ]);
    const oks = results.flat().filter((r) => r.ok).length;
    assert.equal(oks, 2);
    assert.equal((await f.wallet.balance({ player: 'p2', kind: 'cash' }, 'EUR'))?.balance, 0n);
  });

  it('gives the same request twice in one batch one effect, the second as a replay', async () => {
    await fundedPlayer(f.wallet, 'p7', 100n);
    const [first, second] = await f.wallet.execute([bet('dup', 'p7', 30n), bet('dup', 'p7', 30n)]);
    assert.equal(okResult(first).replayed, false);
    assert.equal(okResult(second).replayed, true);
    assert.equal((await f.wallet.balance({ player: 'p7', kind: 'cash' }, 'EUR'))?.balance, 70n);
  });

  it('gives each transfer of a batch its own sequence number, the one a replay reads back', async () => {
    // The batch's write answers with its sequence numbers in one text, matched to the transfers by
    // order: a mismatch would hand a transfer its neighbour's number (and cursor).
    await fundedPlayer(f.wallet, 'p8', 1_000n);
    const requests = [
      bet('seq-1', 'p8', 10n),
      bet('seq-2', 'p8', 2_000n), // refused: writes no transfer, takes no number
      bet('seq-3', 'p8', 30n),
      win('seq-4', 'p8', 5n),
      bet('seq-5', 'p8', 50n),
    ];
    const first = await f.wallet.execute(requests);
    const again = await f.wallet.execute(requests);
    const seqs: bigint[] = [];
    first.forEach((result, index) => {
      if (index === 1) return assert.equal(code(result), 'INSUFFICIENT_FUNDS');
      const fresh = okResult(result);
      const replay = okResult(again[index]);
      assert.equal(replay.replayed, true);
      assert.equal(replay.transfer.id, fresh.transfer.id);
      assert.equal(replay.transfer.seq, fresh.transfer.seq, `${fresh.transfer.id} keeps its number`);
      assert.equal(replay.transfer.amount, fresh.transfer.amount);
      seqs.push(fresh.transfer.seq);
    });
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => (a < b ? -1 : 1)),
      'numbers ascend in request order',
    );
    assert.equal(new Set(seqs).size, 4);
  });

  it('leaves replays in a failing chain untouched and records only the fresh members', async () => {
    const linkedBet = (id: string, amount: bigint): WalletRequest => ({
      ...bet(id, 'p7', amount),
      linked: true,
    });
    okResult((await f.wallet.execute([linkedBet('old', 10n), bet('old-tail', 'p7', 10n)]))[0]);
    const results = await f.wallet.execute([
      linkedBet('old', 10n),
      linkedBet('chain-new', 51n),
      bet('chain-new2', 'p7', 1n),
    ]);
    assert.equal(okResult(results[0]).replayed, true);
    assert.equal(code(results[1]), 'INSUFFICIENT_FUNDS');
    assert.equal(code(results[2]), 'LINKED_FAILED');
    const [again] = await f.wallet.execute([linkedBet('old', 10n), bet('old-tail', 'p7', 10n)]);
    assert.equal(okResult(again).replayed, true, 'the old transfer is still its own, not a refusal');
    assert.equal((await f.wallet.balance({ player: 'p7', kind: 'cash' }, 'EUR'))?.balance, 50n);
    assert.ok((await f.wallet.audit()).ok);
  });

  it('runs linked transfers as a unit', async () => {
    await fundedPlayer(f.wallet, 'p3', 1_000n);
    const results = await f.wallet.execute([
      { ...bet('l1', 'p3', 600n), linked: true },
      bet('l2', 'p3', 600n),
    ]);
    assert.equal(code(results[0]), 'LINKED_FAILED');
    assert.equal(code(results[1]), 'INSUFFICIENT_FUNDS');
    assert.equal((await f.wallet.balance({ player: 'p3', kind: 'cash' }, 'EUR'))?.balance, 1_000n);
  });

  it('reserves, posts partially and voids two-phase transfers; expiry releases', async () => {
    await fundedPlayer(f.wallet, 'p4', 1_000n);
    const hold = {
      type: 'transfer',
      id: 'h1',
      debit: { player: 'p4', kind: 'cash' },
      credit: { player: 'p4', kind: 'withdrawal_hold' },
      amount: 700n,
      currency: 'EUR',
      code: 'withdrawal',
      pending: { timeoutSeconds: 60 },
    } as const;
    const held = okResult((await f.wallet.execute([hold]))[0]);
    assert.equal(held.debit.available, 300n);
    assert.equal(
      code((await f.wallet.execute([bet('p4-bet', 'p4', 301n)]))[0]),
      'INSUFFICIENT_FUNDS',
      'pending debits count',
    );
    // Paying out: post the reservation and move it on to the PSP in one linked chain, so the
    // hold account (a clearing account) is back at zero when the flow completes.
    const [postResult, payout] = await f.wallet.execute([
      { type: 'post', id: 'h1-post', pendingId: 'h1', amount: 500n, linked: true },
      {
        type: 'transfer',
        id: 'h1-payout',
        debit: { player: 'p4', kind: 'withdrawal_hold' },
        credit: { system: 'psp_clearing', ref: 'sandbox' },
        amount: 500n,
        currency: 'EUR',
        code: 'withdrawal',
      },
    ]);
    const posted = okResult(postResult);
    assert.equal(okResult(payout).debit.balance, 0n);
    assert.equal(posted.debit.balance, 500n);
    assert.equal(posted.debit.available, 500n);
    assert.equal(
      code((await f.wallet.execute([{ type: 'void', id: 'h1-void', pendingId: 'h1' }]))[0]),
      'PENDING_ALREADY_POSTED',
    );
    okResult((await f.wallet.execute([{ ...hold, id: 'h2', amount: 100n }]))[0]);
    f.clock.advance(61_000);
    assert.equal(
      code((await f.wallet.execute([{ type: 'post', id: 'h2-post', pendingId: 'h2' }]))[0]),
      'PENDING_EXPIRED',
    );
    assert.equal(await f.wallet.expirePending(), 1);
    assert.equal((await f.wallet.balance({ player: 'p4', kind: 'cash' }, 'EUR'))?.available, 500n);
  });

  it('reverses at most once, and a reversed win may overdraw and then blocks bets', async () => {
    await fundedPlayer(f.wallet, 'p5', 100n);
    okResult((await f.wallet.execute([win('p5-win', 'p5', 1_000n)]))[0]);
    okResult((await f.wallet.execute([bet('p5-bet', 'p5', 1_100n)]))[0]);
    const reversal = okResult(
      (await f.wallet.execute([{ type: 'reverse', id: 'p5-rb', transferId: 'p5-win' }]))[0],
    );
    assert.equal(reversal.debit.balance, -1_000n);
    assert.equal(
      code((await f.wallet.execute([{ type: 'reverse', id: 'p5-rb2', transferId: 'p5-win' }]))[0]),
      'ALREADY_REVERSED',
    );
    await f.wallet.execute([win('p5-win2', 'p5', 500n)]);
    assert.equal(
      code((await f.wallet.execute([bet('p5-bet2', 'p5', 1n)]))[0]),
      'INSUFFICIENT_FUNDS',
      'negative blocks debits',
    );
  });

  it('checks player status and limits in the debit path', async () => {
    await fundedPlayer(f.wallet, 'p6', 10_000n);
    await f.wallet.setPolicy('p6', { status: 'self_excluded', kycVerified: true });
    assert.equal(code((await f.wallet.execute([bet('p6-b1', 'p6', 10n)]))[0]), 'PLAYER_BLOCKED');
    await f.wallet.setPolicy('p6', { status: 'active', kycVerified: true });
    await f.wallet.setLimits('p6', [{ kind: 'wager', period: 'day', amount: 1_000n }]);
    okResult((await f.wallet.execute([bet('p6-b2', 'p6', 600n)]))[0]);
    assert.equal(code((await f.wallet.execute([bet('p6-b3', 'p6', 401n)]))[0]), 'LIMIT_EXCEEDED');
    okResult((await f.wallet.execute([bet('p6-b4', 'p6', 400n)]))[0]);
    await f.wallet.setLimits('p6', [
      { kind: 'loss', period: 'week', amount: 100n },
      { kind: 'wager', period: 'day', amount: null },
    ]);
    assert.equal(
      code((await f.wallet.execute([bet('p6-b5', 'p6', 1n)]))[0]),
      'LIMIT_EXCEEDED',
      'losses of 1000 already',
    );
    await f.wallet.execute([win('p6-w1', 'p6', 950n)]);
    okResult((await f.wallet.execute([bet('p6-b6', 'p6', 50n)]))[0]);
  });

  it('cancels a pending raise when a limit is lowered, but never a limit already in force', async () => {
    await fundedPlayer(f.wallet, 'p9', 10_000n);
    await f.wallet.setLimits('p9', [{ kind: 'wager', period: 'day', amount: 100n }]);
    const later = new Date(Date.now() + 3_600_000);
    await f.wallet.setLimits('p9', [{ kind: 'wager', period: 'day', amount: 5_000n, effectiveAt: later }]);
    // A lower limit now cancels the raise scheduled for later…
    await f.wallet.setLimits('p9', [{ kind: 'wager', period: 'day', amount: 50n }]);
    assert.equal(code((await f.wallet.execute([bet('p9-b1', 'p9', 51n)]))[0]), 'LIMIT_EXCEEDED');
    // …and a change dated before the limit in force does not remove it: 50 stays in force.
    await f.wallet.setLimits('p9', [
      { kind: 'wager', period: 'day', amount: 9_000n, effectiveAt: new Date(Date.now() - 60_000) },
    ]);
    assert.equal(code((await f.wallet.execute([bet('p9-b2', 'p9', 51n)]))[0]), 'LIMIT_EXCEEDED');
    okResult((await f.wallet.execute([bet('p9-b3', 'p9', 50n)]))[0]);
  });

  it("keeps play hours only for players with a limit, and a first limit counts the month's play before it", async () => {
    const g = await openWallet(); // its own clock, moved a month on
    try {
      await fundedPlayer(g.wallet, 'p11', 10_000n);
      const hours = async (): Promise<string[]> =>
        (
          await g.test.db.query<{ hour: Date; wagered: string; won: string }>(
            "select hour, wagered::text, won::text from wallet.play_hours where player_id = 'p11' order by hour",
          )
        ).rows.map((row) => `${row.hour.toISOString()} ${row.wagered}/${row.won}`);
      // A bet that the month window leaves out, then two hours of play with one bet rolled back.
      okResult((await g.wallet.execute([bet('p11-old', 'p11', 1_000n)]))[0]);
      g.clock.advance(31 * 24 * 3_600_000);
      const first = g.clock.now();
      okResult((await g.wallet.execute([bet('p11-b1', 'p11', 300n)]))[0]);
      okResult((await g.wallet.execute([win('p11-w1', 'p11', 100n)]))[0]);
      okResult((await g.wallet.execute([bet('p11-b2', 'p11', 50n)]))[0]);
      g.clock.advance(2 * 3_600_000);
      const second = g.clock.now();
      okResult((await g.wallet.execute([bet('p11-b3', 'p11', 200n)]))[0]);
      okResult((await g.wallet.execute([{ type: 'reverse', id: 'p11-rb', transferId: 'p11-b2' }]))[0]);
      assert.deepEqual(await hours(), [], 'no limit: no play hours written');
      // Losses in the month: 300 − 100 + 200 = 400 (not the rolled-back 50, not the old 1 000).
      await g.wallet.setLimits('p11', [{ kind: 'loss', period: 'month', amount: 450n }]);
      assert.deepEqual(await hours(), [`${first.toISOString()} 300/100`, `${second.toISOString()} 200/0`]);
      assert.equal(code((await g.wallet.execute([bet('p11-b4', 'p11', 51n)]))[0]), 'LIMIT_EXCEEDED');
      okResult((await g.wallet.execute([bet('p11-b5', 'p11', 50n)]))[0]);
      // From now on its play is recorded as it happens.
      assert.equal((await hours()).at(-1), `${second.toISOString()} 250/0`);
    } finally {
      await g.close();
    }
  });

  it('counts stakes and wins past the int8 range exactly: play counters have no ceiling', async () => {
    const half = 2n ** 62n;
    await f.wallet.openPlayerAccounts('p10', 'EUR');
    await f.wallet.setPolicy('p10', { status: 'active', kycVerified: true });
    // Two wins of 2^62 in one hour, into two accounts from two houses (no account counter passes
    // int8), so the player's hour of play holds 2^63: refused as OVERFLOW when it was int8.
    const winInto = (id: string, kind: 'cash' | 'bonus', ref: string): WalletRequest => ({
      type: 'transfer',
      id,
      debit: { system: 'game_revenue', ref },
      credit: { player: 'p10', kind },
      amount: half,
      currency: 'EUR',
      code: 'win',
    });
    okResult((await f.wallet.execute([winInto('p10-w1', 'cash', 'acme')]))[0]);
    okResult((await f.wallet.execute([winInto('p10-w2', 'bonus', 'other')]))[0]);
    // The windows are read exactly: a loss limit of 0 still lets a bet through (wins of 2^63
    // outweigh it), a wager limit of 9 refuses a bet of 10.
    await f.wallet.setLimits('p10', [{ kind: 'loss', period: 'day', amount: 0n }]);
    okResult((await f.wallet.execute([bet('p10-b1', 'p10', 10n)]))[0]);
    await f.wallet.setLimits('p10', [{ kind: 'wager', period: 'day', amount: 19n }]);
    okResult((await f.wallet.execute([bet('p10-b2', 'p10', 9n)]))[0]);
    assert.equal(code((await f.wallet.execute([bet('p10-b3', 'p10', 1n)]))[0]), 'LIMIT_EXCEEDED');
  });

  it('keeps a statement with the balance after each entry, and the balance at a past time', async () => {
    const page = await f.wallet.statement({ player: 'p1', kind: 'cash' }, 'EUR', { limit: 2 });
    assert.equal(page.items.length, 2);
    assert.deepEqual(
      page.items.map((i) => i.balanceAfter),
      [17_500n, 7_500n],
    );
    assert.ok(page.nextCursor);
    const older = await f.wallet.statement({ player: 'p1', kind: 'cash' }, 'EUR', {
      limit: 10,
      cursor: page.nextCursor,
    });
    assert.deepEqual(
      older.items.map((i) => i.balanceAfter),
      [10_000n],
    );
    assert.equal(older.nextCursor, null);
    const past = await f.wallet.balanceAt(
      { player: 'p1', kind: 'cash' },
      'EUR',
      new Date(Date.UTC(2026, 0, 1)),
    );
    assert.equal(past?.balance, 0n);
  });

  it('handles amounts at 1 and at the int8 limit, and refuses overflow instead of wrapping', async () => {
    const max = 2n ** 63n - 1n;
    const edge = { system: 'psp_clearing', ref: 'edge' } as const;
    const deposit = (id: string, player: string, amount: bigint): WalletRequest => ({
      type: 'transfer',
      id,
      debit: edge,
      credit: { player, kind: 'cash' },
      amount,
      currency: 'EUR',
      code: 'deposit',
    });
    await fundedPlayer(f.wallet, 'rich', 0n);
    await fundedPlayer(f.wallet, 'tiny', 0n);
    okResult((await f.wallet.execute([deposit('edge-1', 'tiny', 1n)]))[0]);
    assert.equal(okResult((await f.wallet.execute([bet('edge-bet-1', 'tiny', 1n)]))[0]).debit.balance, 0n);
    const big = okResult((await f.wallet.execute([deposit('edge-max', 'rich', max - 1n)]))[0]);
    assert.equal(big.credit.balance, max - 1n);
    assert.equal(
      code(
        (
          await f.wallet.execute([
            {
              type: 'transfer',
              id: 'edge-over-credit',
              debit: { system: 'psp_clearing', ref: 'edge2' },
              credit: { player: 'rich', kind: 'cash' },
              amount: 2n,
              currency: 'EUR',
              code: 'deposit',
            },
          ])
        )[0],
      ),
      'OVERFLOW',
      'credits would pass the limit',
    );
    assert.equal(
      code((await f.wallet.execute([deposit('edge-over-debit', 'tiny', 5n)]))[0]),
      'OVERFLOW',
      'the clearing debits would',
    );
    assert.equal(
      code((await f.wallet.execute([deposit('edge-too-big', 'tiny', max + 1n)]))[0]),
      'INVALID_REQUEST',
    );
    // A rolled-back maximal win stays exact: the player goes to zero, not to a wrapped number.
    const [rb] = await f.wallet.execute([{ type: 'reverse', id: 'edge-rb', transferId: 'edge-max' }]);
    assert.equal(okResult(rb).debit.balance, 0n);
    assert.equal((await f.wallet.balance({ player: 'rich', kind: 'cash' }, 'EUR'))?.balance, 0n);
  });

  it('refuses invalid requests without recording them', async () => {
    const results = await f.wallet.execute([
      bet('', 'p1', 1n),
      bet('neg', 'p1', -1n),
      bet('zero', 'p1', 0n),
      bet('~x', 'p1', 1n),
    ]);
    assert.deepEqual(results.map(code), [
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
    ]);
    okResult((await f.wallet.execute([bet('zero', 'p1', 1n)]))[0]);
  });

  it('passes the invariant audit', async () => {
    const report = await f.wallet.audit();
    assert.ok(report.ok, JSON.stringify(report.checks.filter((c) => !c.ok)));
    assert.ok(report.checks.length >= 7);
  });
});
