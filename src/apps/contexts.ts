// Every bounded context that exists, in start order, wired to the clients of the contexts it
// calls. The all-in-one root runs them all; a service root (`serve --role <name>`) runs one, and
// the contexts it calls run in it as libraries on the same database until their NATS
// request/reply clients exist. Contexts are added here as they are built.
import { randomBytes } from 'node:crypto';
import type { ContextModule, PlatformServices } from '../platform/runtime/index.ts';
import { walletModule } from '../contexts/wallet/index.ts';
import type { WalletModule } from '../contexts/wallet/index.ts';
import { pamModule } from '../contexts/pam/index.ts';
import type { PamModule } from '../contexts/pam/index.ts';
import { startKycSandbox } from '../sandbox/kyc/kyc-sandbox.ts';
import { backofficeModule } from '../contexts/backoffice/index.ts';
import { gamesModule } from '../contexts/games/index.ts';
import { liveModule } from './live.ts';
import { webModule } from './web.ts';
import type { GamesModule } from '../contexts/games/index.ts';
import { hub88Protocol } from '../contexts/games/protocols/hub88/index.ts';
import { paymentsModule } from '../contexts/payments/index.ts';
import type { PaymentProviders, PaymentsModule, PspConfig } from '../contexts/payments/index.ts';
import { startPaymentsSandbox } from '../sandbox/payments/payments-sandbox.ts';
import type { PaymentsSandbox } from '../sandbox/payments/payments-sandbox.ts';

export interface Contexts {
  readonly wallet: WalletModule;
  readonly pam: PamModule;
  readonly games: GamesModule;
  readonly payments: PaymentsModule;
  /** The embedded sandbox payment providers by name, once started (tests flip their switches). */
  readonly paymentsSandboxes: ReadonlyMap<string, EmbeddedPsp>;
  readonly backoffice: ContextModule;
  /** Every context, in start order. */
  readonly all: readonly ContextModule[];
}

/** A sandbox PSP started for the embedded default, and how payments is configured to reach it. */
export interface EmbeddedPsp {
  readonly sandbox: PaymentsSandbox;
  readonly config: PspConfig;
}

export interface ContextOptions {
  /** Delay of the embedded sandbox KYC provider's callbacks (tests shorten it). */
  readonly kycCallbackDelayMs?: number;
}

/** The embedded default's two sandbox PSPs: a European one, and one for everything, everywhere. */
const sandboxPsps = [
  {
    name: 'sandbox-eu',
    currencies: ['EUR', 'GBP'],
    countries: 'AT BE CY CZ DE DK EE ES FI FR GB GR IE IT LT LU LV MT NL NO PL PT SE SI SK'.split(' '),
    priority: 1,
  },
  { name: 'sandbox-intl', currencies: ['EUR', 'USD', 'JPY', 'BTC'], countries: undefined, priority: 2 },
] as const;

/** Starts the sandbox PSPs on loopback ports, each with a random API key and webhook secret. */
async function startSandboxPsps(
  services: PlatformServices,
  started: Map<string, EmbeddedPsp>,
): Promise<PaymentProviders> {
  const providers: PspConfig[] = [];
  try {
    for (const psp of sandboxPsps) {
      const apiKey = randomBytes(24).toString('base64url');
      const webhookSecret = randomBytes(32).toString('base64url');
      const sandbox = await startPaymentsSandbox({
        name: psp.name,
        apiKey,
        webhookSecret,
        currencies: psp.currencies,
        ...(psp.countries ? { countries: psp.countries } : {}),
        logger: services.logger.child({ component: psp.name }),
      });
      const config: PspConfig = {
        name: psp.name,
        baseUrl: sandbox.url,
        apiKey,
        webhookSecret,
        methods: ['sandbox'],
        currencies: psp.currencies,
        ...(psp.countries ? { countries: psp.countries } : {}),
        priority: psp.priority,
      };
      started.set(psp.name, { sandbox, config });
      providers.push(config);
    }
  } catch (error) {
    for (const psp of started.values()) await psp.sandbox.close();
    throw error;
  }
  return {
    providers,
    async close() {
      for (const psp of started.values()) await psp.sandbox.close();
      started.clear();
    },
  };
}

/** A fresh set of context modules (each platform instance needs its own). */
export function createContexts(options: ContextOptions = {}): Contexts {
  const wallet = walletModule();
  const pam = pamModule({
    wallet: (services) => wallet.clientFor(services),
    kyc: {
      // The sandbox KYC provider is an outside party: its own HTTP server on a loopback port,
      // started here only when no real provider is configured (CROUPIER_KYC_URL).
      startSandbox: (sandbox) => startKycSandbox({ ...sandbox }),
      ...(options.kycCallbackDelayMs !== undefined
        ? { sandboxCallbackDelayMs: options.kycCallbackDelayMs }
        : {}),
    },
  });
  const games = gamesModule({
    wallet: (services) => wallet.ledgerFor(services),
    pam: (services) => pam.clientFor(services),
    protocols: [hub88Protocol],
  });
  const paymentsSandboxes = new Map<string, EmbeddedPsp>();
  const payments = paymentsModule({
    wallet: (services) => wallet.ledgerFor(services),
    pam: (services) => pam.clientFor(services),
    providers: (services) => startSandboxPsps(services, paymentsSandboxes),
  });
  const backoffice = backofficeModule({
    pam: (services) => pam.clientFor(services),
    wallet: (services) => wallet.clientFor(services),
    games: (services) => games.clientFor(services),
    payments: (services) => payments.clientFor(services),
  });
  return {
    wallet,
    pam,
    games,
    payments,
    paymentsSandboxes,
    backoffice,
    all: [wallet, pam, games, payments, backoffice],
  };
}

/** Every context's migrations (`cli migrate`, and every role's start). */
export const contextModules: readonly ContextModule[] = createContexts().all;

/** Roles a process can take: every context alone, or all of them together. */
export function modulesForRole(
  role: string,
  contexts: Contexts = createContexts(),
): readonly ContextModule[] {
  // The edge: the lobby's live change stream, and the lobby and back office themselves.
  const web = (): ContextModule[] => [
    liveModule({ pam: (services) => contexts.pam.clientFor(services) }),
    webModule(),
  ];
  if (role === 'all') return [...contexts.all, ...web()];
  if (role === 'web') return web();
  const module = contexts.all.find((item) => item.name === role);
  if (!module) {
    const roles = ['all', ...contexts.all.map((item) => item.name), 'web'].join(', ');
    throw new Error(`unknown role '${role}' (roles: ${roles})`);
  }
  return [module];
}
