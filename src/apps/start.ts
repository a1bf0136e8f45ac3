// Shared start-up guard for the entry points: a bad configuration is an operator's mistake, so it
// is printed plainly (naming the variable) and the process exits 1 without a stack trace.
import { ConfigError, loadConfig } from '../platform/config/index.ts';
import type { Config } from '../platform/config/index.ts';

export function loadConfigOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`croupier: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
