// Every bounded context that exists, in start order. The all-in-one root runs them all; a
// service root (`serve --role <name>`) runs one. Contexts are added here as they are built.
import type { ContextModule } from '../platform/runtime/index.ts';
import { walletModule } from '../contexts/wallet/index.ts';

export const wallet = walletModule();

export const contextModules: readonly ContextModule[] = [wallet];

/** Roles a process can take: every context alone, or all of them together. */
export function modulesForRole(role: string): readonly ContextModule[] {
  if (role === 'all') return contextModules;
  const module = contextModules.find((item) => item.name === role);
  if (!module) {
    const roles = ['all', ...contextModules.map((item) => item.name)].join(', ');
    throw new Error(`unknown role '${role}' (roles: ${roles})`);
  }
  return [module];
}
