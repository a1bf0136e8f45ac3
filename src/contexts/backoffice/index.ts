// The backoffice context: operator users and roles, and the /admin/v1 API through which they
// act on players (pam) and money (the wallet). Other code imports only this file: the contract
// (roles, the permission table, schemas) and the module the composition roots start.
import path from 'node:path';
import { auditMigrationSet } from '../../platform/audit/index.ts';
import { PasswordHasher, signingKeysMigrationSet, TokenIssuer } from '../../platform/auth/index.ts';
import { loadMigrations } from '../../platform/db/index.ts';
import { RateLimiter } from '../../platform/http/rate-limit.ts';
import type { ContextModule, PlatformServices } from '../../platform/runtime/index.ts';
import type { PamClient } from '../pam/index.ts';
import type { WalletClient } from '../wallet/index.ts';
import type { GamesClient } from '../games/index.ts';
import type { PaymentsClient } from '../payments/index.ts';
import { registerBackofficeRoutes } from './backoffice.routes.ts';
import { registerDashboardRoutes } from './backoffice.dashboard.ts';
import {
  adminTokenAudience,
  adminTokenIssuer,
  backofficeSchema,
  BackofficeService,
  loginFailuresSweepMs,
} from './backoffice.service.ts';

export * from './backoffice.contract.ts';
export { adminTokenAudience, adminTokenIssuer, defaultAdminEmail } from './backoffice.service.ts';

const migrations = loadMigrations(path.join(import.meta.dirname, 'migrations'));

export interface BackofficeModuleDeps {
  /** The player-accounts client (in-process, or a library instance in another role's process). */
  readonly pam: (services: PlatformServices) => PamClient | Promise<PamClient>;
  readonly wallet: (services: PlatformServices) => WalletClient;
  readonly games: (services: PlatformServices) => GamesClient | Promise<GamesClient>;
  /** Optional: without it the withdrawal and case routes are not mounted. */
  readonly payments?: (services: PlatformServices) => PaymentsClient | Promise<PaymentsClient>;
}

export function backofficeModule(deps: BackofficeModuleDeps): ContextModule {
  return {
    name: backofficeSchema,
    // The schema's own tables first: its 0001 creates the schema the other two sets add to.
    migrations: [
      { scope: backofficeSchema, migrations },
      signingKeysMigrationSet(backofficeSchema),
      auditMigrationSet(backofficeSchema),
    ],
    streams: [],
    async start(services, app) {
      const { config, logger } = services;
      const tokens = await TokenIssuer.open({
        db: services.db,
        schema: backofficeSchema,
        clock: services.clock,
        issuer: adminTokenIssuer,
        audience: adminTokenAudience,
        ttlSeconds: config.accessTokenTtlSeconds,
      });
      const games = await deps.games(services);
      const payments = deps.payments ? await deps.payments(services) : undefined;
      const service = new BackofficeService({
        db: services.db,
        clock: services.clock,
        config,
        logger,
        pam: await deps.pam(services),
        wallet: deps.wallet(services),
        tokens,
        hasher: new PasswordHasher(),
        games,
        ...(payments ? { payments } : {}),
      });
      await service.ensureFirstAdmin();
      registerBackofficeRoutes(app, {
        service,
        games,
        ...(payments ? { payments } : {}),
        currencies: config.currencies,
        rateLimiter: new RateLimiter({ clock: services.clock }),
        rateLimitScale: config.rateLimitScale,
      });
      await registerDashboardRoutes(app, {
        service,
        services,
        pam: await deps.pam(services),
        wallet: deps.wallet(services),
        games,
        ...(payments ? { payments } : {}),
      });

      let sweeping: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        sweeping = service.pruneLoginFailures().catch((error: unknown) => {
          logger.error({ err: error }, 'backoffice failed-login sweep failed');
        });
      }, loginFailuresSweepMs);
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
