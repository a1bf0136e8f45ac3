// The games context: providers and their catalogue, game sessions, rounds, and the seamless-wallet
// API game studios call for every bet, win and rollback. Other code imports only this file: the
// client interface, contract types and the module the composition roots start.
import path from 'node:path';
import { SecretBox } from '../../platform/auth/index.ts';
import { auditMigrationSet } from '../../platform/audit/index.ts';
import { loadMigrations } from '../../platform/db/index.ts';
import type { ContextModule, PlatformServices } from '../../platform/runtime/index.ts';
import type { PamClient } from '../pam/index.ts';
import type { WalletLedger } from '../wallet/index.ts';
import type { GamesClient } from './games.contract.ts';
import { gamesSchema, ProviderWalletEngine } from './games.engine.ts';
import { registerGamesRoutes } from './games.routes.ts';
import { GamesService } from './games.service.ts';
import { nativeProtocol } from './protocols/native.ts';
import type { ProviderProtocol } from './protocols/protocol.ts';

export * from './games.contract.ts';
export { roundDetailToWire, roundToWire } from './games.routes.ts';
export { opHash, tokenHash, walletTransferId } from './games.engine.ts';

const migrations = loadMigrations(path.join(import.meta.dirname, 'migrations'));

/** Housekeeping (stale rounds, expired sessions) and provider health-check periods. */
const HOUSEKEEPING_MS = 60_000;
const HEALTH_CHECK_MS = 10_000;

export interface GamesModuleDeps {
  /** The wallet as a library on this database (its transfers join the engine's transactions). */
  readonly wallet: (services: PlatformServices) => WalletLedger;
  /** The started client, or a library instance when pam runs in another process. */
  readonly pam: (services: PlatformServices) => PamClient | Promise<PamClient>;
  /** Wire protocols besides the native one (contract §3). */
  readonly protocols?: readonly ProviderProtocol[];
}

export interface GamesModule extends ContextModule {
  client(): GamesClient;
  /** The started client, or a library instance on the same database in another role's process. */
  clientFor(services: PlatformServices): Promise<GamesClient>;
  /** Runs housekeeping now (tests, and the CLI). */
  housekeeping(): Promise<number>;
  /** Probes every provider's health URL now, through its breaker (tests; a timer does it too). */
  checkProviders(): Promise<void>;
}

export function gamesModule(deps: GamesModuleDeps): GamesModule {
  let service: GamesService | undefined;
  let library: Promise<GamesService> | undefined;
  const protocols = [nativeProtocol, ...(deps.protocols ?? [])];
  const createService = (services: PlatformServices, pam: PamClient): GamesService =>
    new GamesService({
      db: services.db,
      clock: services.clock,
      logger: services.logger.child({ context: 'games' }),
      pam,
      secrets: SecretBox.fromConfig(services.config),
      sessionTtlSeconds: services.config.gameSessionTtlSeconds,
      roundStaleHours: services.config.roundStaleHours,
      publicUrl: () => services.publicUrl(),
      outboundMetrics: services.outboundMetrics,
      protocols: protocols.map((protocol) => protocol.name),
    });
  return {
    name: gamesSchema,
    outboxSchema: gamesSchema,
    streams: [{ name: 'GAMES', subjects: ['games.>'] }],
    migrations: [{ scope: gamesSchema, migrations }, auditMigrationSet(gamesSchema)],
    client(): GamesClient {
      if (!service) throw new Error('games has not started');
      return service;
    },
    async clientFor(services): Promise<GamesClient> {
      if (service) return service;
      library ??= Promise.resolve(deps.pam(services)).then((pam) => createService(services, pam));
      return library;
    },
    async housekeeping() {
      if (!service) throw new Error('games has not started');
      return service.closeStaleRounds();
    },
    async checkProviders() {
      if (!service) throw new Error('games has not started');
      await service.checkProviders();
    },
    async start(services, app) {
      const { config, logger } = services;
      const pam = await deps.pam(services);
      const started = createService(services, pam);
      service = started;
      const engine = new ProviderWalletEngine({
        db: services.db,
        clock: services.clock,
        wallet: deps.wallet(services),
        logger: logger.child({ context: 'games' }),
        kickOutbox: () => services.kickOutbox(gamesSchema),
      });
      registerGamesRoutes(app, {
        service: started,
        engine,
        pam,
        protocols,
        currencies: config.currencies,
        clock: services.clock,
        logger,
      });
      let working: Promise<unknown> = Promise.resolve();
      const housekeeping = setInterval(() => {
        working = started.closeStaleRounds().catch((error: unknown) => {
          logger.error({ err: error }, 'games housekeeping failed');
        });
      }, HOUSEKEEPING_MS);
      housekeeping.unref();
      let probing: Promise<unknown> = Promise.resolve();
      const health = setInterval(() => {
        probing = started.checkProviders().catch((error: unknown) => {
          logger.error({ err: error }, 'provider health checks failed');
        });
      }, HEALTH_CHECK_MS);
      health.unref();
      return {
        async stop() {
          clearInterval(housekeeping);
          clearInterval(health);
          await working;
          await probing;
        },
      };
    },
  };
}
