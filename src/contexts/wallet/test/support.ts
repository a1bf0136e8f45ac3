// Shared set-up for wallet tests: a migrated wallet on this run's backend with a manual clock.
import { ManualClock } from '../../../platform/clock.ts';
import { migrate } from '../../../platform/db/index.ts';
import { CurrencyTable, defaultCurrencies } from '../../../platform/money/index.ts';
import { createLogger } from '../../../platform/telemetry/logger.ts';
import { openTestDb } from '../../../../test/support/backend.ts';
import type { TestDb } from '../../../../test/support/backend.ts';
import { walletMigrations } from '../index.ts';
import { WalletService } from '../wallet.service.ts';
import type { WalletOptions } from '../wallet.service.ts';

export interface WalletFixture {
  test: TestDb;
  wallet: WalletService;
  clock: ManualClock;
  close(): Promise<void>;
}

export async function openWallet(options: Partial<WalletOptions> = {}): Promise<WalletFixture> {
  const test = await openTestDb();
  await migrate(test.db, [walletMigrations]);
  const clock = new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 0));
  const wallet = new WalletService({
    db: test.db,
    clock,
    currencies: new CurrencyTable(defaultCurrencies),
    logger: createLogger({ level: 'silent' }),
    ...options,
  });
  return { test, wallet, clock, close: () => test.close() };
}

/** Opens a player's accounts, makes them active and verified, and deposits `cash` (minor units). */
export async function fundedPlayer(
  wallet: WalletService,
  playerId: string,
  cash: bigint,
  currency = 'EUR',
): Promise<void> {
  await wallet.openPlayerAccounts(playerId, currency);
  await wallet.setPolicy(playerId, { status: 'active', kycVerified: true });
  if (cash > 0n) {
    const [result] = await wallet.execute([
      {
        type: 'transfer',
        id: `deposit:${playerId}:${currency}`,
        debit: { system: 'psp_clearing', ref: 'sandbox' },
        credit: { player: playerId, kind: 'cash' },
        amount: cash,
        currency,
        code: 'deposit',
      },
    ]);
    if (!result?.ok) throw new Error(`funding ${playerId} failed: ${JSON.stringify(result)}`);
  }
}
