// A whole platform for browser tests: every context, the live-update module and the web apps on
// one loopback origin, the payment and KYC sandboxes (started by their contexts), and the demo
// studio on its own port with no pacing (jurisdiction DEFAULT), registered as a provider. The
// database is a fresh in-memory PGlite, or a scratch database on DATABASE_URL's server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createContexts } from '../../../src/apps/contexts.ts';
import type { Contexts } from '../../../src/apps/contexts.ts';
import { startDemoStudio } from '../../../src/apps/demo-studio.ts';
import { liveModule } from '../../../src/apps/live.ts';
import { webModule } from '../../../src/apps/web.ts';
import { loadConfig } from '../../../src/platform/config/index.ts';
import type { Config } from '../../../src/platform/config/index.ts';
import { openPglite } from '../../../src/platform/db/index.ts';
import { startPlatform } from '../../../src/platform/runtime/index.ts';
import type { RunningPlatform } from '../../../src/platform/runtime/index.ts';
import { createLogger } from '../../../src/platform/telemetry/logger.ts';
import type { Studio } from '../../../src/studio/server/index.ts';
import { createScratchDatabase, databaseUrl } from '../../support/backend.ts';

export const browserAdmin = { email: 'admin@browser.test', password: 'admin-password-1' } as const;

export interface BrowserPlatform {
  readonly url: string;
  readonly config: Config;
  readonly contexts: Contexts;
  readonly running: RunningPlatform;
  readonly studio: Studio;
  close(): Promise<void>;
}

export async function startBrowserPlatform(): Promise<BrowserPlatform> {
  const scratch = databaseUrl ? await createScratchDatabase() : undefined;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'croupier-browser-'));
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    CROUPIER_RATE_LIMIT_SCALE: '0',
    CROUPIER_ADMIN_EMAIL: browserAdmin.email,
    CROUPIER_ADMIN_PASSWORD: browserAdmin.password,
    CROUPIER_SECRET_KEY: Buffer.alloc(32, 9).toString('base64'),
    CROUPIER_DATA_DIR: dataDir,
    CROUPIER_STUDIO_JURISDICTION: 'DEFAULT',
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
  });
  const contexts = createContexts({ kycCallbackDelayMs: 20 });
  const logger = createLogger({ level: config.logLevel });
  let running: RunningPlatform | undefined;
  let studio: Studio | undefined;
  try {
    running = await startPlatform({
      config,
      modules: [
        ...contexts.all,
        liveModule({ pam: (services) => contexts.pam.clientFor(services) }),
        webModule(),
      ],
      version: 'browser-test',
      logger,
      ...(scratch ? {} : { db: await openPglite({ dataDir: undefined }) }),
    });
    if (!running.url) throw new Error('the platform is not listening');
    studio = await startDemoStudio(config, running.url, contexts.games.client(), logger);
  } catch (error) {
    await running?.close();
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const started = running;
  const startedStudio = studio;
  return {
    url: started.url ?? '',
    config,
    contexts,
    running: started,
    studio: startedStudio,
    async close() {
      await startedStudio.close();
      await started.close();
      await scratch?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
