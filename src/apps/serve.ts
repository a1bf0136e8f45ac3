// Runs the platform (all contexts or one role) until SIGTERM or SIGINT, then shuts down in order
// and exits 0. A shutdown that outlives CROUPIER_SHUTDOWN_TIMEOUT_MS exits 1 rather than hang.
import packageJson from '../../package.json' with { type: 'json' };
import type { Config } from '../platform/config/index.ts';
import { startPlatform } from '../platform/runtime/index.ts';
import type { ContextModule, RunningPlatform } from '../platform/runtime/index.ts';
import { contextModules } from './contexts.ts';

export const version: string = packageJson.version;

export async function serve(config: Config, modules: readonly ContextModule[]): Promise<RunningPlatform> {
  // Every schema is migrated whatever the role: a role calls other contexts as libraries.
  const known = new Set(contextModules.map((module) => module.name));
  const migrationModules = [...contextModules, ...modules.filter((module) => !known.has(module.name))];
  const running = await startPlatform({ config, modules, version, migrationModules });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    running.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      running.logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
      running.logger.flush();
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        running.logger.error({ err: error }, 'shutdown failed');
        running.logger.flush();
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return running;
}
