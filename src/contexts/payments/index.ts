// The payments context: deposits and withdrawals through payment providers (PSPs), routing and
// failover between them, their webhooks, the withdrawal risk gate and reconciliation. Other code
// imports only this file: the client interface, contract types and the module the composition
// roots start.
import path from 'node:path';
import { auditMigrationSet } from '../../platform/audit/index.ts';
import { loadMigrations } from '../../platform/db/index.ts';
import type { ContextModule, PlatformServices } from '../../platform/runtime/index.ts';
import type { OutboundSnapshot } from '../../platform/outbound/index.ts';
import type { PamClient } from '../pam/index.ts';
import type { WalletLedger } from '../wallet/index.ts';
import type { PaymentProviders, PaymentsClient, ReconcileReport } from './payments.contract.ts';
import { registerPaymentsRoutes } from './payments.routes.ts';
import { defaultRiskGate, riskBudgetMsDefault } from './payments.risk.ts';
import type { RiskGate } from './payments.risk.ts';
import { PspGateway, PspRouter } from './payments.routing.ts';
import type { BreakerSettings } from './payments.routing.ts';
import { paymentsSchema, PaymentsService } from './payments.service.ts';

export * from './payments.contract.ts';
export { defaultRiskGate, decideSafely } from './payments.risk.ts';
export type { RiskContext, RiskDecision, RiskGate, RiskOutcome } from './payments.risk.ts';
export { normalizeName } from './payments.service.ts';

const migrations = loadMigrations(path.join(import.meta.dirname, 'migrations'));

/** Sweeps (stale requests, payouts to resend, quiet payments) and provider health probes. */
const SWEEP_MS = 10_000;
const HEALTH_CHECK_MS = 10_000;
/** Reconciliation runs hourly over the last day, ending a little before now (late webhooks). */
const RECONCILE_MS = 3_600_000;
const RECONCILE_WINDOW_MS = 24 * 3_600_000;
const RECONCILE_LAG_MS = 10 * 60_000;

export interface PaymentsModuleDeps {
  /** The wallet as a library on this database (its transfers join payments' transactions). */
  readonly wallet: (services: PlatformServices) => WalletLedger;
  readonly pam: (services: PlatformServices) => PamClient | Promise<PamClient>;
  /**
   * The providers to route between: configured ones, or sandboxes the composition root starts.
   * Called once at start; close() runs at stop.
   */
  readonly providers: (services: PlatformServices) => Promise<PaymentProviders>;
  /** The withdrawal risk gate; the default rules when absent. */
  readonly risk?: RiskGate;
  readonly riskBudgetMs?: number;
  /** Circuit breakers of the providers (tests shorten openMs). */
  readonly breaker?: BreakerSettings;
}

export interface PaymentsModule extends ContextModule {
  client(): PaymentsClient;
  /**
   * The started client, or, in a process serving another role, a library instance on the same
   * database without providers: decisions commit there, and the payments process's sweep sends
   * approved payouts.
   */
  clientFor(services: PlatformServices): Promise<PaymentsClient>;
  /** Reconciles one provider's settlement report for [from, to) (a timer does it hourly). */
  reconcile(psp: string, from: Date, to: Date): Promise<ReconcileReport>;
  /** Runs the sweeps now (tests; a timer does it every 10 s). */
  sweep(): Promise<void>;
  /** Probes every provider's health now, through its breaker. */
  checkProviders(): Promise<void>;
  /** Each provider's outbound state: breaker, calls, errors. */
  providerHealth(): OutboundSnapshot[];
}

export function paymentsModule(deps: PaymentsModuleDeps): PaymentsModule {
  let service: PaymentsService | undefined;
  let library: Promise<PaymentsService> | undefined;
  const started = (): PaymentsService => {
    if (!service) throw new Error('payments has not started');
    return service;
  };
  const createService = (services: PlatformServices, pam: PamClient, router: PspRouter): PaymentsService => {
    const { config } = services;
    const reviewAbove = new Map<string, bigint>();
    for (const code of config.currencies.codes()) {
      const scale = config.currencies.get(code)?.scale ?? 0;
      // CROUPIER_WITHDRAWAL_REVIEW_ABOVE major units (default 1000: the €1,000 transfer-of-funds line).
      reviewAbove.set(code, BigInt(config.withdrawalReviewAbove) * 10n ** BigInt(scale));
    }
    return new PaymentsService({
      db: services.db,
      clock: services.clock,
      logger: services.logger.child({ context: 'payments' }),
      pam,
      wallet: deps.wallet(services),
      currencies: config.currencies,
      router,
      risk: deps.risk ?? defaultRiskGate({ reviewAbove }),
      riskBudgetMs: deps.riskBudgetMs ?? riskBudgetMsDefault,
      publicUrl: () => services.publicUrl(),
      kickOutbox: () => services.kickOutbox(paymentsSchema),
    });
  };
  return {
    name: paymentsSchema,
    outboxSchema: paymentsSchema,
    streams: [{ name: 'PAYMENTS', subjects: ['payments.>'] }],
    migrations: [{ scope: paymentsSchema, migrations }, auditMigrationSet(paymentsSchema)],
    client(): PaymentsClient {
      return started();
    },
    async clientFor(services): Promise<PaymentsClient> {
      if (service) return service;
      library ??= Promise.resolve(deps.pam(services)).then((pam) =>
        createService(services, pam, new PspRouter([])),
      );
      return library;
    },
    async reconcile(psp, from, to) {
      return started().reconcile(psp, from, to);
    },
    async sweep() {
      await started().sweep();
    },
    async checkProviders() {
      await started().checkProviders();
    },
    providerHealth() {
      return started()
        .router.all()
        .map((gateway) => gateway.snapshot());
    },
    async start(services, app) {
      const { logger } = services;
      const pam = await deps.pam(services);
      const providers = await deps.providers(services);
      const router = new PspRouter(
        providers.providers.map(
          (config) =>
            new PspGateway(config, {
              clock: services.clock,
              metrics: services.outboundMetrics,
              ...(deps.breaker ? { breaker: deps.breaker } : {}),
            }),
        ),
      );
      const running = createService(services, pam, router);
      service = running;
      registerPaymentsRoutes(app, { service: running, pam, currencies: services.config.currencies });

      const background = (name: string, work: () => Promise<unknown>, everyMs: number) => {
        let working: Promise<unknown> = Promise.resolve();
        const timer = setInterval(() => {
          working = working.then(work).catch((error: unknown) => {
            logger.error({ err: error }, `payments ${name} failed`);
          });
        }, everyMs);
        timer.unref();
        return {
          async stop() {
            clearInterval(timer);
            await working;
          },
        };
      };
      const reconcileAll = async () => {
        const to = new Date(services.clock.nowMs() - RECONCILE_LAG_MS);
        const from = new Date(to.getTime() - RECONCILE_WINDOW_MS);
        for (const gateway of router.all()) {
          try {
            const report = await running.reconcile(gateway.name, from, to);
            if (report.casesRaised > 0) logger.warn(report, 'reconciliation raised cases');
          } catch (error) {
            logger.warn({ err: error, psp: gateway.name }, 'reconciliation failed; next run retries');
          }
        }
      };
      const timers = [
        background('sweep', () => running.sweep(), SWEEP_MS),
        background('health checks', () => running.checkProviders(), HEALTH_CHECK_MS),
        background('reconciliation', reconcileAll, RECONCILE_MS),
      ];
      return {
        async stop() {
          for (const timer of timers) await timer.stop();
          await providers.close();
        },
      };
    },
  };
}
