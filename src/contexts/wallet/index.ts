// The wallet context: the double-entry ledger every money movement goes through. Other code
// imports only this file: the client interface and contract types, and the module that the
// composition roots start.
import path from 'node:path';
import { loadMigrations } from '../../platform/db/index.ts';
import type { ContextModule, PlatformServices } from '../../platform/runtime/index.ts';
import type { WalletClient, WalletLedger } from './wallet.contract.ts';
import { WalletService } from './wallet.service.ts';
import type { WalletOptions } from './wallet.service.ts';

export * from './wallet.contract.ts';
export { accountKey, playerAccountKey, systemAccountKey } from './wallet.service.ts';

const migrations = loadMigrations(path.join(import.meta.dirname, 'migrations'));

export const walletMigrations = { scope: 'wallet', migrations };

/** How often pending transfers past their timeout are released. */
const EXPIRY_SWEEP_MS = 1000;

export function createWallet(
  services: Pick<PlatformServices, 'db' | 'clock' | 'config' | 'logger'>,
  options: Partial<Omit<WalletOptions, 'db' | 'clock' | 'currencies' | 'logger'>> = {},
): WalletLedger {
  return new WalletService({
    systemShards: services.config.walletSystemShards,
    ...options,
    db: services.db,
    clock: services.clock,
    currencies: services.config.currencies,
    logger: services.logger,
  });
}

export interface WalletModule extends ContextModule {
  /** The in-process client, available once the module has started. */
  client(): WalletClient;
  /**
   * The started client, or, in a process that serves another role, a library instance on the
   * same database (the wallet's batching and row locks make any number of them safe together).
   */
  clientFor(services: Pick<PlatformServices, 'db' | 'clock' | 'config' | 'logger'>): WalletClient;
  /** The same, as a library that can also run inside the caller's transaction (same database). */
  ledgerFor(services: Pick<PlatformServices, 'db' | 'clock' | 'config' | 'logger'>): WalletLedger;
}

export function walletModule(): WalletModule {
  let wallet: WalletLedger | undefined;
  let library: WalletLedger | undefined;
  return {
    name: 'wallet',
    migrations: [walletMigrations],
    streams: [],
    client(): WalletClient {
      if (!wallet) throw new Error('the wallet has not started');
      return wallet;
    },
    clientFor(services): WalletClient {
      return this.ledgerFor(services);
    },
    ledgerFor(services): WalletLedger {
      if (wallet) return wallet;
      library ??= createWallet(services);
      return library;
    },
    async start(services) {
      const started = createWallet(services);
      wallet = started;
      let sweeping: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        sweeping = started.expirePending().catch((error: unknown) => {
          services.logger.error({ err: error }, 'wallet expiry sweep failed');
        });
      }, EXPIRY_SWEEP_MS);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await sweeping;
        },
      };
    },
  };
}
