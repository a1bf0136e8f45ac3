// `npm run bench:wallet`: load on the wallet ledger through its in-process client, on PostgreSQL
// (a scratch database on the DATABASE_URL server, dropped at the end) or PGlite (a temporary data
// folder, durable as in production; --memory for an in-memory one). N callers loop over
// bet+win pairs for their own players for a fixed time; 2% of bets are deliberately refused
// (amount above the known balance) and 1% of requests are exact retries of an earlier request.
// Prints one JSON line on stdout and a human summary on stderr; runs the invariant audit last.
//
//   node scripts/bench-wallet.ts [--backend pglite|postgres] [--seconds 10] [--callers 192|128]
//     [--players 10000] [--currencies EUR,USD,GBP] [--pgbench] [--profile] [--memory]
//     [--batch-size-max N] [--in-flight N] [--shards N] [--pool-size N]
//
// The wallet runs as the platform configures it: its system accounts (the house side of every
// bet and win) spread over CROUPIER_WALLET_SYSTEM_SHARDS sub-accounts (default 4; --shards to
// override), so the batches in flight do not queue on one house row's lock.
//
// Counting: every execute() call carries one request. transfersPerSecond counts requests that
// were processed with the expected fresh outcome (a new transfer, or the deliberate refusal),
// per second of the measured window; exact retries (replays) are counted separately, not in it.
// Latency is the duration of each execute() call, replays included.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/platform/clock.ts';
import { loadConfig } from '../src/platform/config/index.ts';
import { migrate, openPglite, openPostgres } from '../src/platform/db/index.ts';
import type { Db } from '../src/platform/db/index.ts';
import { createLogger } from '../src/platform/telemetry/logger.ts';
import { createWallet, walletMigrations } from '../src/contexts/wallet/index.ts';
import type { TransferResult, WalletClient, WalletRequest } from '../src/contexts/wallet/index.ts';
import {
  adminQuery,
  auditLine,
  chooseBackend,
  coresUsed,
  cpuSnapshot,
  errorsLine,
  log,
  newProfile,
  option,
  otherLoad,
  percentile,
  positiveInt,
  profiled,
  round,
  scratchDatabase,
  scratchStorage,
} from './bench-support.ts';
import type { Profile, ProfileRules } from './bench-support.ts';

const { values: flags } = parseArgs({
  options: {
    backend: { type: 'string' },
    seconds: { type: 'string' },
    callers: { type: 'string' },
    players: { type: 'string' },
    currencies: { type: 'string' },
    pgbench: { type: 'boolean' },
    profile: { type: 'boolean' },
    memory: { type: 'boolean' },
    'batch-size-max': { type: 'string' },
    'in-flight': { type: 'string' },
    shards: { type: 'string' },
    'pool-size': { type: 'string' },
  },
});

const databaseUrl = process.env['DATABASE_URL'] || undefined;
const backend = chooseBackend(flags.backend, databaseUrl);
const seconds = positiveInt('seconds', option(flags.seconds, 'BENCH_SECONDS', '10'));
// Callers by default: on PostgreSQL 192, two batches of about 96 in flight (they commit side by
// side, on different house sub-accounts); on PGlite 128, one batch at a time. Fewer callers make
// smaller batches, whose fixed cost (round trips, commit, statement start-up) weighs more; more
// push p99 towards 20 ms and past it (PostgreSQL, 256 callers: p99 18.6–20.8 ms for no more
// throughput than 224; PGlite, 192 callers: p99 26 ms).
const callerCount = positiveInt(
  'callers',
  option(flags.callers, 'BENCH_CALLERS', backend === 'postgres' ? '192' : '128'),
);
const playerCount = positiveInt('players', option(flags.players, 'BENCH_PLAYERS', '10000'));
const currencies = option(flags.currencies, 'BENCH_CURRENCIES', 'EUR,USD,GBP').split(',');
const runPgbench = flags.pgbench === true || process.env['BENCH_PGBENCH'] === '1';
const profile = flags.profile === true || process.env['BENCH_PROFILE'] === '1';
const inMemory = flags.memory === true;
// Only its currency table and the wallet's settings are used.
const config = loadConfig({
  LOG_LEVEL: 'silent',
  CROUPIER_WALLET_SYSTEM_SHARDS: process.env['CROUPIER_WALLET_SYSTEM_SHARDS'],
});
const walletOptions = {
  systemShards: flags.shards ? positiveInt('shards', flags.shards, 64) : config.walletSystemShards,
  ...(flags['batch-size-max']
    ? { batchSizeMax: positiveInt('batch-size-max', flags['batch-size-max']) }
    : {}),
  ...(flags['in-flight'] ? { batchesInFlightMax: positiveInt('in-flight', flags['in-flight']) } : {}),
};
const poolSize = positiveInt('pool-size', flags['pool-size'] ?? '10');
if (playerCount < callerCount) throw new Error('--players must be at least --callers (players are split)');
if (runPgbench && backend !== 'postgres') throw new Error('--pgbench compares against PostgreSQL only');

const FUNDING = 10_000_000n; // minor units per player
const RETRY_RATE = 0.01; // of requests
const REFUSE_RATE = 0.02; // of bets
const HISTORY = 64; // earlier requests per caller that a retry picks from
const house = (currency: string): { system: 'game_revenue'; ref: string } => ({
  system: 'game_revenue',
  ref: `studio-${currency.toLowerCase()}`,
});

// ---------------------------------------------------------------------------------------------
// pgbench on a scratch database of the same server: the yardstick for the PostgreSQL target.

function pgbenchPath(): string {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'pgbench'))) return path.join(dir, 'pgbench');
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const version of readdirSync(root).sort().reverse()) {
      const candidate = path.join(root, version, 'bin', 'pgbench');
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error('pgbench not found on PATH or in /usr/lib/postgresql/*/bin');
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

async function pgbench(): Promise<number> {
  const scratch = await scratchDatabase(databaseUrl!, 'croupier_pgbench');
  try {
    const url = new URL(databaseUrl!);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PGHOST: url.hostname,
      PGPORT: url.port || '5432',
      PGUSER: decodeURIComponent(url.username) || 'postgres',
      PGDATABASE: scratch.name,
      ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
    };
    const binary = pgbenchPath();
    log(`pgbench: ${binary} -i -s 10 on ${scratch.name}…`);
    await run(binary, ['-i', '-s', '10', '-q'], env);
    log('pgbench: -c 8 -j 2 -T 10 -M prepared…');
    const before = cpuSnapshot();
    const output = await run(binary, ['-c', '8', '-j', '2', '-T', '10', '-M', 'prepared'], env);
    const used = coresUsed(before, cpuSnapshot(), 0);
    const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
    if (!match) throw new Error(`cannot read pgbench's tps from:\n${output}`);
    const latency = /latency average = ([\d.]+) ms/.exec(output);
    // pgbench's backends end before the second snapshot, so only the machine total is meaningful.
    log(
      `pgbench: ${match[1]} tps, latency average ${latency?.[1] ?? '?'} ms; machine ${round(used.machine)} of ` +
        `${cpus().length} cores busy (server, pgbench and anything else)`,
    );
    return Number(match[1]);
  } finally {
    await scratch.drop();
    // Leave no dirty pgbench pages behind for the wallet run to pay for.
    await adminQuery(databaseUrl!, 'checkpoint').catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Optional profile: a Db wrapper that times every statement and transaction (the wallet code is
// untouched; this sits between it and the adapter).

function statementLabel(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').toLowerCase();
  if (s.startsWith('select id, debits_posted')) return 'lock accounts (counters, for update on postgres)';
  if (s.includes('from wallet.refusals where id = u.id')) return 'prior transfers and refusals by id';
  if (s.includes('left join wallet.policies')) return 'bettors: policy, limits';
  if (s.includes('from wallet.play_hours')) return 'play windows (bettors with limits)';
  if (s.startsWith('select') && s.includes('from wallet.accounts where id = any')) return 'accounts by id';
  if (s.startsWith('with t as ( insert into wallet.transfers'))
    return 'write transfers, accounts, refusals, play hours';
  if (s.startsWith('insert into wallet.accounts')) return 'create accounts';
  if (s.includes('from wallet.accounts where key')) return 'accounts by key';
  return s.slice(0, 40);
}

const profileRules: ProfileRules = {
  label: statementLabel,
  // The batch's requests: the ids it looks up among the prior transfers.
  batchSize: (_sql, label, params) =>
    label === 'prior transfers and refusals by id' && Array.isArray(params?.[0])
      ? params[0].length
      : undefined,
  unsized: 0,
};

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

interface Player {
  id: string;
  currency: string;
  balance: bigint;
}

/** An earlier request and what a retry of it must find again: its transfer's seq, or its refusal. */
interface Sent {
  request: WalletRequest;
  seq: bigint | undefined;
  code: string | undefined;
}

interface Tally {
  created: number;
  refused: number;
  replayed: number;
  errors: number;
  errorSamples: string[];
  latencies: number[];
}

/** Funds every player: accounts and policy first, then deposits as concurrent execute() calls. */
async function fund(wallet: WalletClient, players: Player[], runTag: string): Promise<void> {
  const started = performance.now();
  let next = 0;
  const openers = Array.from({ length: 32 }, async () => {
    while (next < players.length) {
      const player = players[next++]!;
      await wallet.openPlayerAccounts(player.id, player.currency);
      await wallet.setPolicy(player.id, { status: 'active', kycVerified: true });
    }
  });
  await Promise.all(openers);
  const opened = performance.now();
  const deposit = (player: Player): WalletRequest => ({
    type: 'transfer',
    id: `${runTag}:deposit:${player.id}`,
    debit: { system: 'psp_clearing', ref: 'bench' },
    credit: { player: player.id, kind: 'cash' },
    amount: FUNDING,
    currency: player.currency,
    code: 'deposit',
  });
  const check = (results: TransferResult[]): void => {
    for (const result of results) {
      if (!result.ok) throw new Error(`setup refused: ${stringify(result)}`);
    }
  };
  // The wallet creates a missing system account on first use. Two batches in flight that create
  // the same ones in different orders can deadlock (reported separately), so the clearing and
  // house accounts of every currency are created first, by one call: one batch.
  const first = currencies.map((currency) => players.find((player) => player.currency === currency)!);
  check(
    await wallet.execute([
      ...first.map(deposit),
      ...currencies.map((currency): WalletRequest => ({
        type: 'transfer',
        id: `${runTag}:open-house:${currency}`,
        debit: house(currency),
        credit: { system: 'psp_clearing', ref: 'bench' },
        amount: 1n,
        currency,
        code: 'adjustment',
      })),
    ]),
  );
  const rest = players.filter((player) => !first.includes(player));
  const chunk = 250;
  const deposits: Promise<void>[] = [];
  for (let start = 0; start < rest.length; start += chunk) {
    deposits.push(wallet.execute(rest.slice(start, start + chunk).map(deposit)).then(check));
  }
  await Promise.all(deposits);
  for (const player of players) player.balance = FUNDING;
  log(
    `setup: accounts and policies ${Math.round(opened - started)} ms, deposits ${Math.round(performance.now() - opened)} ms`,
  );
}

async function caller(
  wallet: WalletClient,
  index: number,
  players: Player[],
  runTag: string,
  window: { deadline: number },
  tally: Tally,
): Promise<void> {
  const history: Sent[] = [];
  let sequence = 0;
  let pendingWin: { player: Player; bet: bigint; round: string } | undefined;
  const fail = (what: string): void => {
    tally.errors++;
    if (tally.errorSamples.length < 5) tally.errorSamples.push(what);
  };
  const send = async (request: WalletRequest): Promise<TransferResult | undefined> => {
    const started = performance.now();
    try {
      const [result] = await wallet.execute([request]);
      tally.latencies.push(performance.now() - started);
      if (!result) fail(`no result for ${request.id}`);
      return result;
    } catch (error) {
      tally.latencies.push(performance.now() - started);
      fail(`${request.id}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
  // Each earlier request is kept with only what a retry of it must find again, not its whole
  // result: this harness runs in the measured process, and what it keeps alive is collected there.
  const remember = (request: WalletRequest, result: TransferResult): void => {
    const sent = {
      request,
      seq: result.ok ? result.transfer.seq : undefined,
      code: result.ok ? undefined : result.code,
    };
    if (history.length >= HISTORY) history[Math.floor(Math.random() * HISTORY)] = sent;
    else history.push(sent);
  };

  while (performance.now() < window.deadline) {
    if (history.length > 0 && Math.random() < RETRY_RATE) {
      const earlier = history[Math.floor(Math.random() * history.length)]!;
      const result = await send(earlier.request);
      if (!result) continue;
      const same = result.ok
        ? result.transfer.seq === earlier.seq
        : earlier.seq === undefined && result.code === earlier.code;
      if (result.replayed && same) tally.replayed++;
      else fail(`retry of ${earlier.request.id} not replayed as before: ${stringify(result)}`);
      continue;
    }
    const id = `${runTag}:${index}:${sequence++}`;
    if (pendingWin) {
      const { player, bet, round: roundId } = pendingWin;
      pendingWin = undefined;
      const amount = 1n + BigInt(Math.floor(Math.random() * Number(bet) * 2));
      const request: WalletRequest = {
        type: 'transfer',
        id,
        debit: house(player.currency),
        credit: { player: player.id, kind: 'cash' },
        amount,
        currency: player.currency,
        code: 'win',
        metadata: { round: roundId, game: 'bench-slot' },
      };
      const result = await send(request);
      if (!result) continue;
      if (result.ok && !result.replayed && result.credit.balance === player.balance + amount) {
        tally.created++;
        player.balance = result.credit.balance;
      } else {
        fail(`unexpected win result: ${stringify(result)}`);
        if (result.ok) player.balance = result.credit.balance;
      }
      remember(request, result);
      continue;
    }
    const player = players[Math.floor(Math.random() * players.length)]!;
    const refuse = Math.random() < REFUSE_RATE;
    const amount = refuse ? player.balance + 1n : 100n + BigInt(Math.floor(Math.random() * 4900));
    const roundId = `${index}-${sequence}`;
    const request: WalletRequest = {
      type: 'transfer',
      id,
      debit: { player: player.id, kind: 'cash' },
      credit: house(player.currency),
      amount,
      currency: player.currency,
      code: 'bet',
      metadata: { round: roundId, game: 'bench-slot' },
    };
    const result = await send(request);
    if (!result) continue;
    if (refuse) {
      if (!result.ok && result.code === 'INSUFFICIENT_FUNDS' && !result.replayed) tally.refused++;
      else fail(`bet meant to be refused: ${stringify(result)}`);
    } else if (result.ok && !result.replayed && result.debit.balance === player.balance - amount) {
      tally.created++;
      player.balance = result.debit.balance;
      pendingWin = { player, bet: amount, round: roundId };
    } else {
      fail(`unexpected bet result: ${stringify(result)}`);
    }
    if (result.ok) player.balance = result.debit.balance;
    remember(request, result);
  }
}

async function main(): Promise<void> {
  const runTag = randomBytes(3).toString('hex');
  let pgbenchTps: number | undefined;
  if (runPgbench) pgbenchTps = await pgbench();

  const storage = await scratchStorage({
    backend,
    memory: inMemory,
    databaseUrl,
    databasePrefix: 'croupier_bench',
    folderPrefix: 'croupier-bench-',
  });
  const db: Db = storage.scratch
    ? openPostgres({ url: storage.scratch.url, poolSize, applicationName: 'croupier-bench' })
    : await openPglite({ dataDir: storage.folder });
  const rawDb = db;
  const prof = newProfile();
  const walletDb = profile ? profiled(db, prof, profileRules) : db;

  try {
    const setupStarted = performance.now();
    await migrate(rawDb, [walletMigrations]);
    const wallet = createWallet(
      { db: walletDb, clock: systemClock, config, logger: createLogger({ level: 'silent' }) },
      walletOptions,
    );
    const players: Player[] = Array.from({ length: playerCount }, (_, i) => ({
      id: `bench-${i}`,
      currency: currencies[i % currencies.length]!,
      balance: 0n,
    }));
    await fund(wallet, players, runTag);
    const setupMs = performance.now() - setupStarted;
    log(
      `${backend}: ${storage.description}; funded ${playerCount} players in ${currencies.length} currencies in ${round(setupMs / 1000)} s`,
    );
    prof.recording = true; // profile only the measured window

    const tally: Tally = { created: 0, refused: 0, replayed: 0, errors: 0, errorSamples: [], latencies: [] };
    // Each caller plays its own players, so it knows their balances exactly.
    const slices = Array.from({ length: callerCount }, () => new Array<Player>());
    players.forEach((player, i) => slices[i % callerCount]!.push(player));
    const cpuBefore = process.cpuUsage();
    const machineBefore = cpuSnapshot();
    const elu = performance.eventLoopUtilization();
    const windowStartUs = process.hrtime.bigint() / 1000n;
    const started = performance.now();
    const window = { deadline: started + seconds * 1000 };
    // Ctrl-C ends the window early; the audit and the clean-up still run.
    const stop = (): void => void (window.deadline = 0);
    process.once('SIGINT', stop);
    await Promise.all(slices.map((mine, index) => caller(wallet, index, mine, runTag, window, tally)));
    const elapsedMs = performance.now() - started;
    process.off('SIGINT', stop);
    const windowEndUs = process.hrtime.bigint() / 1000n;
    const cpu = process.cpuUsage(cpuBefore);
    const machineAfter = cpuSnapshot();
    const loop = performance.eventLoopUtilization(elu);
    prof.recording = false;

    const used = coresUsed(machineBefore, machineAfter, (cpu.user + cpu.system) / 1000 / elapsedMs);
    // On PGlite the database is this process: any postgres server CPU is someone else's.
    const otherCores = otherLoad(used, backend);

    const auditStarted = performance.now();
    const report = await wallet.audit();
    const auditMs = performance.now() - auditStarted;

    const latencies = Float64Array.from(tally.latencies).sort();
    const transfersPerSecond = (tally.created + tally.refused) / (elapsedMs / 1000);
    const line: Record<string, unknown> = {
      backend,
      transfersPerSecond: Math.round(transfersPerSecond),
      p50Ms: round(percentile(latencies, 0.5)),
      p99Ms: round(percentile(latencies, 0.99)),
      p999Ms: round(percentile(latencies, 0.999)),
      errors: tally.errors,
      auditOk: report.ok,
    };
    if (pgbenchTps !== undefined) {
      line['pgbenchTps'] = round(pgbenchTps, 1);
      line['ratio'] = round(transfersPerSecond / pgbenchTps);
    }
    Object.assign(line, {
      seconds: round(elapsedMs / 1000),
      callers: callerCount,
      shards: walletOptions.systemShards,
      players: playerCount,
      currencies: currencies.length,
      created: tally.created,
      refused: tally.refused,
      replayed: tally.replayed,
      setupMs: Math.round(setupMs),
      auditMs: Math.round(auditMs),
      otherLoadCores: round(otherCores),
      storage: storage.kind,
    });
    process.stdout.write(`${JSON.stringify(line)}\n`);

    log(
      [
        `${backend}: ${Math.round(transfersPerSecond)} transfers/s over ${round(elapsedMs / 1000)} s with ${callerCount} callers` +
          ` (${tally.created} created, ${tally.refused} refused as intended, ${tally.replayed} replayed retries)`,
        `latency per execute(): p50 ${round(percentile(latencies, 0.5))} ms, p99 ${round(percentile(latencies, 0.99))} ms,` +
          ` p99.9 ${round(percentile(latencies, 0.999))} ms, max ${round(percentile(latencies, 1))} ms`,
        errorsLine(tally.errors, tally.errorSamples),
        auditLine(report, auditMs),
        `cpu (cores of ${cpus().length}): this process ${round(used.self)} (event loop ${Math.round(loop.utilization * 100)}% busy),` +
          (backend === 'postgres' ? ` postgres server ${round(used.postgres)},` : '') +
          ` everything else ${round(otherCores)}, machine ${round(used.machine)}`,
        ...(pgbenchTps === undefined
          ? []
          : [
              `pgbench: ${round(pgbenchTps, 1)} tps; wallet/pgbench ratio ${round(transfersPerSecond / pgbenchTps)} (target ≥ 5)`,
            ]),
        `targets: ${
          backend === 'postgres'
            ? `ratio ≥ 5${pgbenchTps === undefined ? ' (run with --pgbench)' : ''}, p99 ≤ 20 ms`
            : '≥ 10 000 transfers/s'
        }`,
      ].join('\n'),
    );
    if (profile) {
      printProfile(prof, elapsedMs);
      // Monotonic µs, the clock of --cpu-prof's samples: to cut a CPU profile to the window.
      log(`profile: window ${windowStartUs}..${windowEndUs} µs (monotonic)`);
    }
    if (tally.errors > 0 || !report.ok) process.exitCode = 1;
  } finally {
    await rawDb.close();
    await storage.cleanup();
  }
}

function printProfile(p: Profile, elapsedMs: number): void {
  const tx = Float64Array.from(p.transactionMs).sort();
  const sizes = Float64Array.from(p.batchSizes).sort();
  const txTotal = p.transactionMs.reduce((a, b) => a + b, 0);
  const inTxStatements = [...p.statementsInTx.values()].reduce((a, b) => a + b.ms, 0);
  const sizeTotal = p.batchSizes.reduce((a, b) => a + b, 0);
  log(
    `profile: ${p.transactions} batches (${round(p.transactions / (elapsedMs / 1000), 1)}/s), requests per batch` +
      ` mean ${round(sizeTotal / Math.max(1, p.transactions), 1)}, p50 ${percentile(sizes, 0.5)}, p99 ${percentile(sizes, 0.99)}, max ${percentile(sizes, 1)}`,
  );
  log(
    `profile: transaction time mean ${round(txTotal / Math.max(1, p.transactions))} ms, p50 ${round(percentile(tx, 0.5))},` +
      ` p99 ${round(percentile(tx, 0.99))}, max ${round(percentile(tx, 1))}; sum ${Math.round(txTotal)} ms` +
      ` = ${Math.round((txTotal / elapsedMs) * 100)}% of the window`,
  );
  log(
    `profile: inside transactions, statements ${Math.round(inTxStatements)} ms, the rest (begin/commit, connection,` +
      ` ledger JS between statements) ${Math.round(txTotal - inTxStatements)} ms`,
  );
  const rows = [...p.statementsInTx.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [label, { count, ms }] of rows) {
    log(
      `  ${label.padEnd(36)} ${String(count).padStart(7)} × ${round(ms / count, 3)
        .toFixed(3)
        .padStart(
          8,
        )} ms = ${String(Math.round(ms)).padStart(6)} ms (${round((ms / txTotal) * 100, 1)}% of tx time)`,
    );
  }
  for (const [label, { count, ms }] of p.outsideTx) {
    log(`  outside tx: ${label} ${count} × ${round(ms / count, 3)} ms`);
  }
}

await main();
