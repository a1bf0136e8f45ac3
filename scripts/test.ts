// `npm test`: runs every test on the embedded default (PGlite, in-process bus), then, when
// DATABASE_URL and/or NATS_URL are set, again on PostgreSQL and NATS JetStream.
//   node scripts/test.ts [--embedded-only | --servers-only] [test files or globs…]
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const args = process.argv.slice(2);
const embeddedOnly = args.includes('--embedded-only');
const serversOnly = args.includes('--servers-only');
const patterns = args.filter((arg) => !arg.startsWith('--'));
const concurrency = Math.max(2, availableParallelism());

interface Group {
  files: string[];
  concurrency: number;
}

// The browser tests (test/browser/) run after the others, one file at a time: Chromium and a whole
// platform beside the timing-sensitive tests (shutdown, the studio's fault runs) make those flaky
// on a two-core machine. Files named on the command line run together as given.
function groups(): Group[] {
  if (patterns.length > 0) return [{ files: patterns, concurrency }];
  const all = ['src/**/*.test.ts', 'test/**/*.test.ts'].flatMap((pattern) => globSync(pattern)).sort();
  const browser = all.filter((file) => file.startsWith('test/browser/'));
  return [
    { files: all.filter((file) => !file.startsWith('test/browser/')), concurrency },
    { files: browser, concurrency: 1 },
  ].filter((group) => group.files.length > 0);
}

const { DATABASE_URL: databaseUrl, NATS_URL: natsUrl, ...baseEnv } = process.env;

interface Pass {
  name: string;
  env: NodeJS.ProcessEnv;
}

const passes: Pass[] = [];
if (!serversOnly) passes.push({ name: 'embedded (PGlite + in-process bus)', env: { ...baseEnv } });
if (!embeddedOnly && (databaseUrl || natsUrl)) {
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  if (databaseUrl) env['DATABASE_URL'] = databaseUrl;
  if (natsUrl) env['NATS_URL'] = natsUrl;
  passes.push({
    name: `servers (${[databaseUrl && 'PostgreSQL', natsUrl && 'NATS JetStream'].filter(Boolean).join(' + ')})`,
    env,
  });
}
if (passes.length === 0) {
  process.stderr.write('--servers-only needs DATABASE_URL or NATS_URL\n');
  process.exit(2);
}

let failed = false;
for (const pass of passes) {
  process.stdout.write(`\n=== tests on ${pass.name} ===\n`);
  for (const group of groups()) {
    const result = spawnSync(
      process.execPath,
      ['--test', `--test-concurrency=${group.concurrency}`, '--test-timeout=180000', ...group.files],
      { stdio: 'inherit', env: { ...pass.env, CROUPIER_TEST_PASS: pass.name } },
    );
    if (result.status !== 0) {
      failed = true;
      process.stdout.write(`=== FAILED on ${pass.name} (exit ${result.status ?? result.signal}) ===\n`);
    }
  }
}
process.exit(failed ? 1 : 0);
