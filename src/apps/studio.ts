// Runs the demo game studio as its own process, the way a real game studio sits outside the
// platform: it reaches the platform only through the provider wallet API at STUDIO_PLATFORM_URL.
// Configuration comes from the environment (an empty variable counts as unset); a bad or missing
// value exits 1 naming the variable. SIGTERM or SIGINT closes it and exits 0.
//   STUDIO_PORT (8093), STUDIO_HOST (127.0.0.1), STUDIO_PLATFORM_URL (required),
//   STUDIO_PROVIDER_ID (croupier-studio), STUDIO_WALLET_SECRET (required), STUDIO_DATA_DIR
//   (memory only when unset), STUDIO_PUBLIC_URL (its own URL), STUDIO_JURISDICTION (UK | DEFAULT,
//   default DEFAULT), STUDIO_ADMIN_TOKEN (admin endpoints off when unset), LOG_LEVEL (info).
import { startStudio, studioCatalogue } from '../studio/server/index.ts';
import type { Jurisdiction } from '../studio/games/index.ts';
import { createLogger } from '../platform/telemetry/logger.ts';
import { closeOnSignal, envReader } from './runner.ts';

const JURISDICTIONS: readonly Jurisdiction[] = ['UK', 'DEFAULT'];
const { fail, read, required, integer, oneOf, httpUrl, logLevel } = envReader('studio');

const port = integer('STUDIO_PORT', 8093, 0, 65_535);
const host = read('STUDIO_HOST') ?? '127.0.0.1';
const platformUrl = httpUrl('STUDIO_PLATFORM_URL', required('STUDIO_PLATFORM_URL'));
const providerId = read('STUDIO_PROVIDER_ID') ?? 'croupier-studio';
const walletSecret = required('STUDIO_WALLET_SECRET');
const dataDir = read('STUDIO_DATA_DIR');
const publicUrlText = read('STUDIO_PUBLIC_URL');
const publicUrl = publicUrlText === undefined ? undefined : httpUrl('STUDIO_PUBLIC_URL', publicUrlText);
const jurisdiction = oneOf('STUDIO_JURISDICTION', JURISDICTIONS, 'DEFAULT');
const adminToken = read('STUDIO_ADMIN_TOKEN');
const logger = createLogger({ level: logLevel(), name: 'studio' });

try {
  const studio = await startStudio({
    platformUrl,
    providerId,
    walletSecret,
    host,
    port,
    jurisdiction,
    logger,
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    ...(adminToken !== undefined ? { adminToken } : {}),
  });
  process.stdout.write(
    `studio listening on ${studio.url} (provider ${providerId}, platform ${platformUrl})\n`,
  );
  process.stdout.write(`launchUrlTemplate: ${studio.launchUrlTemplate}\n`);
  process.stdout.write(
    `games: ${studioCatalogue()
      .map((game) => game.gameId)
      .join(', ')}\n`,
  );
  closeOnSignal('studio', logger, () => studio.close());
} catch (error) {
  fail(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
}
