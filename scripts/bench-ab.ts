// `npm run bench:ab -- --against <git rev>`: is this checkout faster than another revision? Runs
// a benchmark script of both at the same time, round after round, and prints their throughput
// side by side. On the 2-core development VM the speed drifts by ±25 % over 10–20 seconds, so
// runs one after the other cannot tell a 5 % change from noise (pairs ranged from 0.78 to 1.25 on
// the same code); two runs at once see the same drift, and their ratio is steady to a few per
// cent. Each side gets about half the machine, so the figures are for comparison only: the
// targets are measured by the benchmark on its own.
//
//   node scripts/bench-ab.ts --against <rev> [--script bench-wallet|bench-provider] [--rounds 3]
//     [--seconds 15] [-- <flags for the benchmark, e.g. --callers 64>]
//
// The other revision is checked out in a temporary git worktree (sharing this node_modules) and
// removed at the end. Both runs use this process's environment (DATABASE_URL picks PostgreSQL).
// Prints a line per round, then one JSON line: the ratio (this checkout / the other) per round
// and their median.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { log, positiveInt, round } from './bench-support.ts';

const run = promisify(execFile);

const { values: flags, positionals } = parseArgs({
  options: {
    against: { type: 'string' },
    script: { type: 'string', default: 'bench-wallet' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
  },
  allowPositionals: true,
});

const against = flags.against;
if (!against) throw new Error('--against <git rev> is required');
const script = flags.script;
if (script !== 'bench-wallet' && script !== 'bench-provider')
  throw new Error('--script must be bench-wallet or bench-provider');
const rounds = positiveInt('rounds', flags.rounds, 20);
const seconds = positiveInt('seconds', flags.seconds, 120);
const here = path.resolve(import.meta.dirname, '..');
// The throughput field of each benchmark's JSON line.
const rateField = script === 'bench-wallet' ? 'transfersPerSecond' : 'callsPerSecond';

interface Outcome {
  rate: number;
  p99Ms: number;
  errors: number;
  processCores: number | undefined;
}

/** Runs the benchmark in `cwd` and reads its JSON line and its own CPU use from stderr. */
function bench(cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // The Node flags of the npm scripts (package.json), for both revisions alike.
      [
        '--no-allocation-site-pretenuring',
        path.join('scripts', `${script}.ts`),
        '--seconds',
        String(seconds),
        ...positionals,
      ],
      { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${script} in ${cwd} exited ${code}:\n${stderr.slice(-2000)}`));
        return;
      }
      const result = JSON.parse(line) as Record<string, number>;
      const cores = /this process ([\d.]+)/.exec(stderr)?.[1];
      resolve({
        rate: result[rateField]!,
        p99Ms: result['p99Ms']!,
        errors: result['errors']!,
        processCores: cores === undefined ? undefined : Number(cores),
      });
    });
  });
}

const cpuPerUnit = (outcome: Outcome): string =>
  outcome.processCores === undefined ? '?' : `${round((outcome.processCores * 1e6) / outcome.rate, 1)} µs`;

async function main(): Promise<void> {
  const { stdout: revision } = await run('git', ['rev-parse', '--short', against!], { cwd: here });
  const other = mkdtempSync(path.join(tmpdir(), 'croupier-ab-'));
  await run('git', ['worktree', 'add', '--detach', '--force', other, against!], { cwd: here });
  try {
    symlinkSync(path.join(here, 'node_modules'), path.join(other, 'node_modules'));
    const ratios: number[] = [];
    for (let index = 1; index <= rounds; index++) {
      const [mine, theirs] = await Promise.all([bench(here), bench(other)]);
      if (mine.errors > 0 || theirs.errors > 0) throw new Error(`round ${index} reported errors`);
      const ratio = mine.rate / theirs.rate;
      ratios.push(ratio);
      log(
        `round ${index}: this checkout ${round(mine.rate, 0)}/s p99 ${mine.p99Ms} ms, process CPU ${cpuPerUnit(mine)} ` +
          `per unit | ${revision.trim()} ${round(theirs.rate, 0)}/s p99 ${theirs.p99Ms} ms, ${cpuPerUnit(theirs)} | ratio ${round(ratio, 3)}`,
      );
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
    process.stdout.write(
      `${JSON.stringify({ script, against: revision.trim(), rounds, seconds, ratios: ratios.map((r) => round(r, 3)), medianRatio: round(median, 3) })}\n`,
    );
  } finally {
    await run('git', ['worktree', 'remove', '--force', other], { cwd: here }).catch(() => undefined);
    rmSync(other, { recursive: true, force: true });
  }
}

await main();
