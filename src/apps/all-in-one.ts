// `npm start`: the whole platform in one process: every context, PGlite unless DATABASE_URL,
// the in-process bus unless NATS_URL.
import { modulesForRole } from './contexts.ts';
import { serve } from './serve.ts';
import { loadConfigOrExit } from './start.ts';

const config = loadConfigOrExit();
try {
  const running = await serve(config, modulesForRole('all'));
  process.stdout.write(`croupier listening on ${running.url ?? '(no listener)'}\n`);
} catch (error) {
  process.stderr.write(
    `croupier: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
