// The pam context (player account management): players, credentials, sessions, KYC,
// responsible-gambling limits and restrictions, and pam's audit log. Other code imports only
// this file: the client interface and contract types, and the module the composition roots start.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadMigrations } from '../../platform/db/index.ts';
import { PasswordHasher, signingKeysMigrationSet, TokenIssuer } from '../../platform/auth/index.ts';
import { auditMigrationSet } from '../../platform/audit/index.ts';
import type { ContextModule, PlatformServices } from '../../platform/runtime/index.ts';
import type { WalletClient } from '../wallet/index.ts';
import type { PamClient } from './pam.contract.ts';
import { HttpKycProvider } from './pam.kyc.ts';
import { registerPamRoutes } from './pam.routes.ts';
import { PamService, playerAudience, SCHEMA, tokenIssuerName } from './pam.service.ts';

export * from './pam.contract.ts';
export { requirePlayer } from './pam.player-hook.ts';
export { statementItemToWire } from './pam.routes.ts';
export { playerAudience, tokenIssuerName } from './pam.service.ts';

const migrations = loadMigrations(path.join(import.meta.dirname, 'migrations'));

/** How often restrictions are ended, wallet pushes retried and the KYC queue is worked. */
const SWEEP_MS = 1000;

/** A KYC provider started next to the platform (the embedded sandbox): its URL and a way to stop it. */
export interface StartedKycProvider {
  readonly url: string;
  close(): Promise<void>;
}

export interface PamModuleOptions {
  /** The wallet client (in-process, or a library instance in a process serving another role). */
  wallet: (services: PlatformServices) => WalletClient;
  kyc?: {
    /** Starts the sandbox provider when CROUPIER_KYC_URL is unset (the composition root decides). */
    startSandbox?: (options: {
      apiKey: string;
      webhookSecret: string;
      callbackDelayMs?: number;
    }) => Promise<StartedKycProvider>;
    sandboxCallbackDelayMs?: number;
  };
}

export interface PamModule extends ContextModule {
  client(): PamClient;
  /**
   * The started client, or, in a process that serves another role, a library instance on the
   * same database (no routes, no timers, no KYC submissions): authentication, player reads and
   * operator writes work the same, since all state is in the pam schema.
   */
  clientFor(services: PlatformServices): Promise<PamClient>;
}

export function pamModule(options: PamModuleOptions): PamModule {
  let service: PamService | undefined;
  let library: Promise<PamService> | undefined;
  return {
    name: 'pam',
    outboxSchema: SCHEMA,
    streams: [{ name: 'PAM', subjects: ['pam.>'] }],
    migrations: [{ scope: SCHEMA, migrations }, signingKeysMigrationSet(SCHEMA), auditMigrationSet(SCHEMA)],
    client(): PamClient {
      if (!service) throw new Error('pam has not started');
      return service;
    },
    async clientFor(services): Promise<PamClient> {
      if (service) return service;
      library ??= TokenIssuer.open({
        db: services.db,
        schema: SCHEMA,
        clock: services.clock,
        issuer: tokenIssuerName,
        audience: playerAudience,
        ttlSeconds: services.config.accessTokenTtlSeconds,
      }).then(
        (tokens) =>
          new PamService({
            db: services.db,
            clock: services.clock,
            config: services.config,
            logger: services.logger,
            wallet: options.wallet(services),
            tokens,
            passwords: new PasswordHasher(),
            kyc: undefined,
            publicUrl: () => services.publicUrl(),
            kickOutbox: () => services.kickOutbox(SCHEMA),
          }),
      );
      return library;
    },
    async start(services, app) {
      const { config } = services;
      const wallet = options.wallet(services);
      const tokens = await TokenIssuer.open({
        db: services.db,
        schema: SCHEMA,
        clock: services.clock,
        issuer: tokenIssuerName,
        audience: playerAudience,
        ttlSeconds: config.accessTokenTtlSeconds,
      });
      let sandbox: StartedKycProvider | undefined;
      let kyc: { url: string; apiKey: string; webhookSecret: string } | undefined;
      if (config.kycUrl && config.kycApiKey && config.kycWebhookSecret) {
        kyc = { url: config.kycUrl, apiKey: config.kycApiKey, webhookSecret: config.kycWebhookSecret };
      } else if (options.kyc?.startSandbox) {
        const apiKey = config.kycApiKey ?? randomBytes(24).toString('base64url');
        const webhookSecret = config.kycWebhookSecret ?? randomBytes(32).toString('base64url');
        sandbox = await options.kyc.startSandbox({
          apiKey,
          webhookSecret,
          ...(options.kyc.sandboxCallbackDelayMs !== undefined
            ? { callbackDelayMs: options.kyc.sandboxCallbackDelayMs }
            : {}),
        });
        kyc = { url: sandbox.url, apiKey, webhookSecret };
      }
      const started = new PamService({
        db: services.db,
        clock: services.clock,
        config,
        logger: services.logger,
        wallet,
        tokens,
        passwords: new PasswordHasher(),
        kyc: kyc
          ? {
              provider: new HttpKycProvider({
                name: sandbox ? 'sandbox' : 'provider',
                baseUrl: kyc.url,
                apiKey: kyc.apiKey,
                clock: services.clock,
                metrics: services.outboundMetrics,
              }),
              webhookSecret: kyc.webhookSecret,
            }
          : undefined,
        publicUrl: () => services.publicUrl(),
        kickOutbox: () => services.kickOutbox(SCHEMA),
      });
      service = started;
      registerPamRoutes(app, { service: started, wallet, tokens, currencies: config.currencies });

      let sweeping: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        sweeping = started.sweep().catch((error: unknown) => {
          services.logger.error({ err: error }, 'pam sweep failed');
        });
      }, SWEEP_MS);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await sweeping;
          await sandbox?.close();
        },
      };
    },
  };
}
