// `npm start`: the whole platform in one process: every context, PGlite unless DATABASE_URL,
// the in-process bus unless NATS_URL, and (unless CROUPIER_STUDIO=off) the demo game studio on its
// own port, registered as a provider; the player lobby at / and the back office at /backoffice.
import { createContexts, modulesForRole } from './contexts.ts';
import { startDemoStudio } from './demo-studio.ts';
import { serve } from './serve.ts';
import { loadConfigOrExit } from './start.ts';

const config = loadConfigOrExit();
try {
  const contexts = createContexts();
  const running = await serve(config, modulesForRole('all', contexts));
  process.stdout.write(`croupier listening on ${running.url ?? '(no listener)'}\n`);
  if (config.studioEnabled && running.url) {
    const studio = await startDemoStudio(config, running.url, contexts.games.client(), running.logger);
    // serve() ends the platform on these signals; the studio stops alongside it.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void studio.close());
    process.stdout.write(`demo game studio listening on ${studio.url}\n`);
  }
} catch (error) {
  process.stderr.write(
    `croupier: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
