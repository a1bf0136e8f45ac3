// The whole platform for HTTP-level tests: every context, a fresh database (in-memory PGlite, or
// a scratch database on the PostgreSQL server DATABASE_URL names), the in-process bus, and a
// listener on a free loopback port so outside parties (the sandbox KYC provider) can call back.
// Tests drive it with `app.inject` and move time with the ManualClock they pass in.
import type { Clock } from '../../src/platform/clock.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { loadConfig } from '../../src/platform/config/index.ts';
import type { Config } from '../../src/platform/config/index.ts';
import { openPglite } from '../../src/platform/db/index.ts';
import type { HttpApp } from '../../src/platform/http/app.ts';
import { startPlatform } from '../../src/platform/runtime/index.ts';
import type { RunningPlatform } from '../../src/platform/runtime/index.ts';
import { createLogger } from '../../src/platform/telemetry/logger.ts';
import { createContexts } from '../../src/apps/contexts.ts';
import type { Contexts } from '../../src/apps/contexts.ts';
import { createScratchDatabase, databaseUrl } from './backend.ts';

export const testAdmin = { email: 'admin@test.local', password: 'admin-password-1' } as const;

export interface TestPlatform {
  readonly app: HttpApp;
  readonly url: string;
  readonly clock: Clock;
  readonly config: Config;
  readonly contexts: Contexts;
  readonly running: RunningPlatform;
  /** The scratch database's URL on PostgreSQL (another node can join it); undefined on PGlite. */
  readonly databaseUrl: string | undefined;
  close(): Promise<void>;
}

export interface TestPlatformOptions {
  clock?: Clock;
  /** Extra environment (configuration variables) on top of the test defaults. */
  env?: Record<string, string>;
  /** Delay of the sandbox KYC provider's callback (default 10 ms). */
  kycCallbackDelayMs?: number;
  /**
   * PostgreSQL only: join another test platform's database (`databaseUrl` of that platform), as a
   * second node of one deployment; the first platform drops the database when it closes.
   */
  joinDatabaseUrl?: string;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const scratch = options.joinDatabaseUrl
    ? { url: options.joinDatabaseUrl, drop: async () => undefined }
    : databaseUrl
      ? await createScratchDatabase()
      : undefined;
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    // Tests run from one address: per-IP limits off unless a test turns them on.
    CROUPIER_RATE_LIMIT_SCALE: '0',
    CROUPIER_ADMIN_EMAIL: testAdmin.email,
    CROUPIER_ADMIN_PASSWORD: testAdmin.password,
    // A fixed test key, so no test writes a key file into ./data.
    CROUPIER_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    ...options.env,
  });
  const clock = options.clock ?? systemClock;
  const contexts = createContexts({ kycCallbackDelayMs: options.kycCallbackDelayMs ?? 10 });
  let running: RunningPlatform;
  try {
    running = await startPlatform({
      config,
      modules: contexts.all,
      version: 'test',
      clock,
      logger: createLogger({ level: config.logLevel }),
      ...(scratch ? {} : { db: await openPglite({ dataDir: undefined }) }),
    });
  } catch (error) {
    await scratch?.drop();
    throw error;
  }
  return {
    app: running.app,
    url: running.url ?? '',
    clock,
    config,
    contexts,
    running,
    databaseUrl: scratch?.url,
    async close(): Promise<void> {
      await running.close();
      await scratch?.drop();
    },
  };
}
