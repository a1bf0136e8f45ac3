// The embedded default's demo game studio: started next to the platform on its own loopback port,
// it is still an outside party — it reaches the platform only over HTTP with signed wallet calls.
// At every start it is registered (or re-registered) as provider `croupier-studio` with a fresh
// wallet secret, its launch URL template and health URL, and its games are added to the catalogue
// once, so a newcomer can play right after `npm start`.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../platform/config/index.ts';
import type { Logger } from '../platform/telemetry/logger.ts';
import type { GamesClient } from '../contexts/games/index.ts';
import { startStudio, studioCatalogue } from '../studio/server/index.ts';
import type { Studio } from '../studio/server/index.ts';

export const demoStudioProviderId = 'croupier-studio';

export async function startDemoStudio(
  config: Config,
  platformUrl: string,
  games: GamesClient,
  logger: Logger,
): Promise<Studio> {
  const walletSecret = randomBytes(32).toString('base64url');
  const studio = await startStudio({
    platformUrl,
    providerId: demoStudioProviderId,
    walletSecret,
    dataDir: path.join(config.dataDir, 'studio'),
    port: config.studioPort,
    jurisdiction: config.studioJurisdiction,
    // The lobby embeds the game page: from the listener's origin and from the public one.
    embedOrigins: [platformUrl, ...(config.publicUrl ? [config.publicUrl] : [])],
    logger: logger.child({ component: 'studio' }),
  });
  try {
    const action = { actor: 'system:studio', reason: 'the demo game studio registers at start' };
    const fields = {
      walletSecret,
      launchUrlTemplate: studio.launchUrlTemplate,
      healthUrl: `${studio.url}/health`,
    };
    // A new secret every start: calls the studio resumes from its journal before this lands are
    // refused with 401, which it retries.
    if ((await games.listProviders()).some((provider) => provider.providerId === demoStudioProviderId)) {
      await games.updateProvider(demoStudioProviderId, fields, action);
    } else {
      await games.createProvider(
        { providerId: demoStudioProviderId, name: 'Croupier demo studio', ...fields },
        action,
      );
    }
    const known = new Set((await games.listGames()).map((game) => game.gameId));
    for (const game of studioCatalogue()) {
      if (!known.has(game.gameId))
        await games.createGame({ ...game, providerId: demoStudioProviderId }, action);
    }
  } catch (error) {
    await studio.close();
    throw error;
  }
  return studio;
}
