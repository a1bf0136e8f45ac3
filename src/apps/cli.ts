// `npm run cli -- <command>`: operations on the platform.
//   migrate              apply every context's migrations and exit
//   serve [--role R]     run the platform (R = all, or one context)
//   config               print the configuration variables and their defaults
//   ledger check         run the wallet's invariant audit; exit 1 if any check fails
import { parseArgs } from 'node:util';
import { createWallet } from '../contexts/wallet/index.ts';
import { systemClock } from '../platform/clock.ts';
import { configDocs } from '../platform/config/index.ts';
import { createLogger } from '../platform/telemetry/logger.ts';
import { migrateAll, openDatabase } from '../platform/runtime/index.ts';
import { contextModules, modulesForRole } from './contexts.ts';
import { serve } from './serve.ts';
import { loadConfigOrExit } from './start.ts';

const usage = `usage: npm run cli -- <command>
  migrate              apply every context's migrations and exit
  serve [--role R]     run the platform; R is all (default) or one context
  config               list the configuration variables
  ledger check         run the wallet's invariant audit (exit 1 on any failure)
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { role: { type: 'string', default: 'all' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  switch (command) {
    case 'config': {
      for (const item of configDocs) {
        process.stdout.write(`${item.variable}\t${item.fallback}\t${item.meaning}\n`);
      }
      return 0;
    }
    case 'migrate': {
      const config = loadConfigOrExit();
      const db = await openDatabase(config);
      try {
        const report = await migrateAll(db, contextModules);
        process.stdout.write(`${report.applied.length} migration(s) applied on ${db.kind}\n`);
        for (const item of report.applied) {
          process.stdout.write(`  ${item.scope} ${item.version} ${item.name}\n`);
        }
      } finally {
        await db.close();
      }
      return 0;
    }
    case 'ledger': {
      if (positionals[1] !== 'check') {
        process.stderr.write(usage);
        return 2;
      }
      const config = loadConfigOrExit();
      const db = await openDatabase(config);
      try {
        await migrateAll(db, contextModules);
        const logger = createLogger({ level: 'silent' });
        const report = await createWallet({ db, config, logger, clock: systemClock }).audit();
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return report.ok ? 0 : 1;
      } finally {
        await db.close();
      }
    }
    case 'serve': {
      const config = loadConfigOrExit();
      const running = await serve(config, modulesForRole(values.role));
      process.stdout.write(`croupier (${values.role}) listening on ${running.url ?? '(no listener)'}\n`);
      return -1; // keep running until a signal
    }
    default:
      process.stderr.write(`unknown command '${command}'\n${usage}`);
      return 2;
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (error) {
  process.stderr.write(`croupier: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
