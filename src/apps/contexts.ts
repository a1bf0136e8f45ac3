// Every bounded context that exists, in start order, wired to the clients of the contexts it
// calls. The all-in-one root runs them all; a service root (`serve --role <name>`) runs one, and
// the contexts it calls run in it as libraries on the same database until their NATS
// request/reply clients exist. Contexts are added here as they are built.
import type { ContextModule } from '../platform/runtime/index.ts';
import { walletModule } from '../contexts/wallet/index.ts';
import type { WalletModule } from '../contexts/wallet/index.ts';
import { pamModule } from '../contexts/pam/index.ts';
import type { PamModule } from '../contexts/pam/index.ts';
import { startKycSandbox } from '../sandbox/kyc/kyc-sandbox.ts';
import { backofficeModule } from '../contexts/backoffice/index.ts';

export interface Contexts {
  readonly wallet: WalletModule;
  readonly pam: PamModule;
  readonly backoffice: ContextModule;
  /** Every context, in start order. */
  readonly all: readonly ContextModule[];
}

export interface ContextOptions {
  /** Delay of the embedded sandbox KYC provider's callbacks (tests shorten it). */
  readonly kycCallbackDelayMs?: number;
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
  const backoffice = backofficeModule({
    pam: () => pam.client(),
    wallet: (services) => wallet.clientFor(services),
  });
  return { wallet, pam, backoffice, all: [wallet, pam, backoffice] };
}

/** Every context's migrations (`cli migrate`, and every role's start). */
export const contextModules: readonly ContextModule[] = createContexts().all;

/** Roles a process can take: every context alone, or all of them together. */
export function modulesForRole(
  role: string,
  contexts: Contexts = createContexts(),
): readonly ContextModule[] {
  if (role === 'all') return contexts.all;
  const module = contexts.all.find((item) => item.name === role);
  if (!module) {
    const roles = ['all', ...contexts.all.map((item) => item.name)].join(', ');
    throw new Error(`unknown role '${role}' (roles: ${roles})`);
  }
  return [module];
}
