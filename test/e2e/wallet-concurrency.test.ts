// Proves the wallet stays exact when several processes hit the same PostgreSQL accounts at the
// same instant: opposite-direction transfers, identical requests, double reversals, overdrawing bets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { ManualClock } from '../../src/platform/clock.ts';
import { migrate, openPostgres } from '../../src/platform/db/index.ts';
import type { Db } from '../../src/platform/db/index.ts';
import { CurrencyTable, defaultCurrencies } from '../../src/platform/money/index.ts';
import { createLogger } from '../../src/platform/telemetry/logger.ts';
import { createWallet, walletMigrations } from '../../src/contexts/wallet/index.ts';
import type { TransferResult, WalletClient, WalletRequest } from '../../src/contexts/wallet/index.ts';
import { createScratchDatabase, databaseUrl } from '../support/backend.ts';
import { repoRoot } from '../support/process.ts';
import { fromWire, toWire } from '../support/wire.ts';

const house = { system: 'game_revenue', ref: 'conc' } as const;

function bet(id: string, player: string, amount: bigint): WalletRequest {
  return {
    type: 'transfer',
    id,
    debit: { player, kind: 'cash' },
    credit: house,
    amount,
    currency: 'EUR',
    code: 'bet',
  };
}

function pay(id: string, from: string, to: string, amount: bigint): WalletRequest {
  return {
    type: 'transfer',
    id,
    debit: { player: from, kind: 'cash' },
    credit: { player: to, kind: 'cash' },
    amount,
    currency: 'EUR',
    code: 'transfer',
  };
}

/** Starts one process per entry, releases them together, and returns every result. */
async function runWorkers(url: string, workers: WalletRequest[][][]): Promise<TransferResult[]> {
  const children = workers.map((calls) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'test/fixtures/wallet-worker.ts')], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: url, NATS_URL: '' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.stdin.write(`${toWire(calls)}\n`);
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    return { child, lines };
  });
  for (const { lines } of children) assert.equal((await lines.next()).value, 'ready');
  for (const { child } of children) child.stdin.write('go\n');
  const results: TransferResult[] = [];
  for (const { lines, child } of children) {
    const line = (await lines.next()).value as string;
    results.push(...fromWire<TransferResult[][]>(line).flat());
    child.stdin.end();
  }
  return results;
}

function codes(results: TransferResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    const key = result.ok ? (result.replayed ? 'OK_REPLAYED' : 'OK') : result.code;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe(
  'wallet under concurrent processes on PostgreSQL',
  { skip: databaseUrl ? false : 'needs DATABASE_URL' },
  () => {
    let db: Db;
    let url: string;
    let dropDatabase: (() => Promise<void>) | undefined;
    let wallet: WalletClient;

    before(async () => {
      const scratch = await createScratchDatabase();
      url = scratch.url;
      dropDatabase = () => scratch.drop();
      db = openPostgres({ url, poolSize: 4 });
      await migrate(db, [walletMigrations]);
      const config = { currencies: new CurrencyTable(defaultCurrencies) } as Parameters<
        typeof createWallet
      >[0]['config'];
      wallet = createWallet({
        db,
        config,
        clock: new ManualClock(Date.now()),
        logger: createLogger({ level: 'silent' }),
      });
    });
    after(async () => {
      await db?.close();
      await dropDatabase?.();
    });

    async function fund(player: string, amount: bigint): Promise<void> {
      await wallet.openPlayerAccounts(player, 'EUR');
      await wallet.setPolicy(player, { status: 'active', kycVerified: true });
      const [result] = await wallet.execute([
        {
          type: 'transfer',
          id: `fund:${player}`,
          debit: { system: 'psp_clearing', ref: 'conc' },
          credit: { player, kind: 'cash' },
          amount,
          currency: 'EUR',
          code: 'deposit',
        },
      ]);
      assert.ok(result?.ok);
    }

    async function cash(player: string): Promise<bigint | undefined> {
      return (await wallet.balance({ player, kind: 'cash' }, 'EUR'))?.balance;
    }

    it('ends opposite-direction transfers where they should, without deadlocks', async () => {
      await fund('alice', 10_000n);
      await fund('bob', 10_000n);
      await fund('carol', 10_000n);
      // Four processes, each paying in both directions around a triangle: every account is locked
      // by every batch, in every order the requests arrive in.
      const workers = Array.from({ length: 4 }, (_, w) =>
        Array.from({ length: 60 }, (_, i) => {
          const [from, to] = [
            ['alice', 'bob'],
            ['bob', 'carol'],
            ['carol', 'alice'],
            ['bob', 'alice'],
            ['carol', 'bob'],
            ['alice', 'carol'],
          ][i % 6]!;
          return [pay(`tri:${w}:${i}`, from!, to!, 7n)];
        }),
      );
      const results = await runWorkers(url, workers);
      assert.deepEqual(codes(results), { OK: 240 });
      assert.deepEqual(
        [await cash('alice'), await cash('bob'), await cash('carol')],
        [10_000n, 10_000n, 10_000n],
      );
    });

    it('applies 50 concurrent identical requests from five processes once', async () => {
      await fund('dave', 1_000n);
      const workers = Array.from({ length: 5 }, () =>
        Array.from({ length: 10 }, () => [bet('same-bet', 'dave', 125n)]),
      );
      const results = await runWorkers(url, workers);
      assert.deepEqual(codes(results), { OK: 1, OK_REPLAYED: 49 });
      assert.equal(await cash('dave'), 875n);
      const seqs = new Set(results.map((r) => (r.ok ? r.transfer.seq : -1n)));
      assert.equal(seqs.size, 1, 'every answer names the one transfer');
    });

    it('lets exactly one of two concurrent reversals of a transfer succeed', async () => {
      await fund('erin', 1_000n);
      for (let round = 0; round < 5; round++) {
        const [placed] = await wallet.execute([bet(`erin-bet-${round}`, 'erin', 100n)]);
        assert.ok(placed?.ok);
        const workers = Array.from({ length: 4 }, (_, w): WalletRequest[][] => [
          [{ type: 'reverse', id: `erin-rb-${round}-${w}`, transferId: `erin-bet-${round}` }],
        ]);
        const results = await runWorkers(url, workers);
        assert.deepEqual(codes(results), { OK: 1, ALREADY_REVERSED: 3 }, `round ${round}`);
      }
      assert.equal(await cash('erin'), 1_000n);
    });

    it('accepts exactly 10 of 40 concurrent bets of 10 against 100', async () => {
      await fund('frank', 100n);
      const workers = Array.from({ length: 4 }, (_, w) =>
        Array.from({ length: 10 }, (_, i) => [bet(`frank-${w}-${i}`, 'frank', 10n)]),
      );
      const results = await runWorkers(url, workers);
      assert.deepEqual(codes(results), { OK: 10, INSUFFICIENT_FUNDS: 30 });
      assert.equal(await cash('frank'), 0n);
    });

    it('still passes the invariant audit', async () => {
      const report = await wallet.audit();
      assert.ok(report.ok, JSON.stringify(report.checks.filter((c) => !c.ok)));
    });
  },
);
