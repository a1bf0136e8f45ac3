// What the benchmark scripts (bench-wallet.ts, bench-provider.ts) share: flag reading, the
// scratch storage they run on (a database on the DATABASE_URL server, or a PGlite data folder)
// and its removal, CPU accounting, a statement profiler around the Db handle, latency
// percentiles and the summary lines both print.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type {
  Db,
  Queryable,
  QueryResult,
  Statement,
  Transaction,
  TransactionOptions,
} from '../src/platform/db/index.ts';

export const log = (line: string): void => void process.stderr.write(`${line}\n`);
export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

// ---------------------------------------------------------------------------------------------
// Flags: a command-line flag wins over its environment variable, which wins over the default.

export function option(flag: string | undefined, env: string, fallback: string): string {
  return flag ?? (process.env[env] || fallback);
}

/** A positive integer flag, at most `max` when given. */
export function positiveInt(name: string, raw: string, max?: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || (max !== undefined && value > max)) {
    throw new Error(
      max === undefined
        ? `--${name} must be a positive integer`
        : `--${name} must be an integer from 1 to ${max}`,
    );
  }
  return value;
}

export type Backend = 'pglite' | 'postgres';

/** --backend (or BENCH_BACKEND), postgres by default when DATABASE_URL is set. */
export function chooseBackend(flag: string | undefined, databaseUrl: string | undefined): Backend {
  const backend = option(flag, 'BENCH_BACKEND', databaseUrl ? 'postgres' : 'pglite');
  if (backend !== 'postgres' && backend !== 'pglite') throw new Error('--backend must be pglite or postgres');
  if (backend === 'postgres' && !databaseUrl) throw new Error('--backend postgres needs DATABASE_URL');
  return backend;
}

// ---------------------------------------------------------------------------------------------
// Scratch storage, removed at the end.

export async function adminQuery(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new database `<prefix>_<random>` on the server of `databaseUrl`. */
export async function scratchDatabase(databaseUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await adminQuery(databaseUrl, `create database ${name}`);
      break;
    } catch (error) {
      // 55006: someone else is connected to template1 (another CREATE DATABASE running).
      if ((error as { code?: string }).code !== '55006' || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
  const parsed = new URL(databaseUrl);
  parsed.pathname = `/${name}`;
  return {
    url: parsed.toString(),
    name,
    drop: () => adminQuery(databaseUrl, `drop database if exists ${name} with (force)`),
  };
}

export interface ScratchStorage {
  /** The scratch database (postgres). */
  scratch?: ScratchDatabase;
  /** The temporary PGlite data folder (pglite, not --memory). */
  folder?: string;
  /** The `storage` field of the JSON line. */
  kind: 'postgres-scratch' | 'pglite-memory' | 'pglite-tempdir';
  /** For the human summary. */
  description: string;
  /** Drops the database or deletes the folder. */
  cleanup(): Promise<void>;
}

/** Where a run keeps its data: a scratch database, a temporary PGlite folder, or memory. */
export async function scratchStorage(options: {
  backend: Backend;
  memory: boolean;
  databaseUrl: string | undefined;
  /** Of the scratch database's name. */
  databasePrefix: string;
  /** Of the temporary folder's name. */
  folderPrefix: string;
}): Promise<ScratchStorage> {
  if (options.backend === 'postgres') {
    const scratch = await scratchDatabase(options.databaseUrl!, options.databasePrefix);
    return {
      scratch,
      kind: 'postgres-scratch',
      description: `scratch database ${scratch.name} (dropped at the end)`,
      cleanup: () => scratch.drop(),
    };
  }
  if (options.memory) {
    return {
      kind: 'pglite-memory',
      description: 'in-memory PGlite (memory://), not durable',
      cleanup: async () => undefined,
    };
  }
  const folder = mkdtempSync(path.join(tmpdir(), options.folderPrefix));
  return {
    folder,
    kind: 'pglite-tempdir',
    description: `PGlite in temporary data folder ${folder} (durable; removed at the end)`,
    cleanup: async () => rmSync(folder, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: this process and the whole machine (/proc/stat), to tell JS from the server.

export interface CpuSnapshot {
  /** Busy and total jiffies of the whole machine. */
  busy: number;
  total: number;
  /** Jiffies of each process named postgres (the server, on this machine), by pid. */
  postgres: Map<string, number>;
}

export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const postgres = new Map<string, number>();
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
        const rest = stat.slice(close + 2).split(' ');
        postgres.set(pid, Number(rest[11]) + Number(rest[12])); // utime, stime
      } catch {
        // the process ended meanwhile
      }
    }
    return { busy: total - idle, total, postgres };
  } catch {
    return undefined; // not Linux
  }
}

export interface CoresUsed {
  machine: number;
  postgres: number;
  self: number;
  /** Everything else on the machine: other people's work skews a benchmark on a shared box. */
  other: number;
}

/** Cores used over the interval: whole machine, the postgres server, this process, the rest. */
export function coresUsed(
  before: CpuSnapshot | undefined,
  after: CpuSnapshot | undefined,
  self: number,
): CoresUsed {
  if (!before || !after) return { machine: Number.NaN, postgres: Number.NaN, self, other: Number.NaN };
  const span = (after.total - before.total) / cpus().length; // jiffies per core in the interval
  const machine = (after.busy - before.busy) / span;
  // Backends that ended in the interval are missed; ones that started count from zero.
  let jiffies = 0;
  for (const [pid, value] of after.postgres) jiffies += value - (before.postgres.get(pid) ?? 0);
  const postgres = jiffies / span;
  return { machine, postgres, self, other: Math.max(0, machine - postgres - self) };
}

/** Cores busy with anything but this run: on PGlite the database is this process. */
export function otherLoad(used: CoresUsed, backend: Backend): number {
  return backend === 'postgres' ? used.other : Math.max(0, used.machine - used.self);
}

// ---------------------------------------------------------------------------------------------
// --profile: a Db wrapper that times every statement and transaction during the window (the
// measured code is untouched; this sits between it and the adapter).

export type Timings = Map<string, { count: number; ms: number }>;

export interface Profile {
  recording: boolean;
  transactions: number;
  transactionMs: number[];
  /** Requests per batch transaction, as `batchSize` reads them off its statements. */
  batchSizes: number[];
  statementsInTx: Timings;
  outsideTx: Timings;
}

export function newProfile(): Profile {
  return {
    recording: false,
    transactions: 0,
    transactionMs: [],
    batchSizes: [],
    statementsInTx: new Map(),
    outsideTx: new Map(),
  };
}

export function tally(map: Timings, label: string, ms: number): void {
  const entry = map.get(label) ?? { count: 0, ms: 0 };
  entry.count++;
  entry.ms += ms;
  map.set(label, entry);
}

export interface ProfileRules {
  /** Groups statements into rows. */
  label(sql: string): string;
  /** The batch size a statement in a transaction reveals, if it does. */
  batchSize(sql: string, label: string, params: readonly unknown[] | undefined): number | undefined;
  /** The size recorded for a transaction that revealed none (undefined: not recorded). */
  unsized: number | undefined;
}

export function profiled(db: Db, p: Profile, rules: ProfileRules): Db {
  const record = (
    into: Timings,
    labels: string,
    started: number,
    onSize: ((n: number) => void) | undefined,
    statements: readonly Statement[],
  ): void => {
    if (!p.recording) return;
    tally(into, labels, performance.now() - started);
    if (!onSize) return;
    for (const statement of statements) {
      const size = rules.batchSize(statement.text, rules.label(statement.text), statement.params);
      if (size !== undefined) onSize(size);
    }
  };
  const labelOf = (statements: readonly Statement[]): string =>
    statements.map((statement) => rules.label(statement.text)).join(' + ');
  const timedQuery =
    (target: Queryable['query'], into: Timings, onSize?: (n: number) => void) =>
    async <Row>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>> => {
      const started = performance.now();
      try {
        return await target<Row>(text, params);
      } finally {
        record(into, rules.label(text), started, onSize, [{ text, ...(params ? { params } : {}) }]);
      }
    };
  const timedPipeline =
    (target: Queryable['pipeline'], into: Timings, onSize?: (n: number) => void) =>
    async (statements: readonly Statement[]): Promise<QueryResult<Record<string, unknown>>[]> => {
      const started = performance.now();
      try {
        return await target(statements);
      } finally {
        record(into, `pipeline: ${labelOf(statements)}`, started, onSize, statements);
      }
    };
  return {
    kind: db.kind,
    query: timedQuery(db.query, p.outsideTx),
    exec: db.exec,
    pipeline: timedPipeline(db.pipeline, p.outsideTx),
    ping: () => db.ping(),
    close: () => db.close(),
    async transaction<T>(work: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
      const started = performance.now();
      let size = rules.unsized;
      const onSize = (n: number): void => void (size = n);
      try {
        return await db.transaction(
          (tx) =>
            work({
              query: timedQuery(tx.query, p.statementsInTx, onSize),
              exec: tx.exec,
              pipeline: timedPipeline(tx.pipeline, p.statementsInTx, onSize),
              commitWith: async <Row>(
                text: string,
                params?: readonly unknown[],
              ): Promise<QueryResult<Row>> => {
                const started = performance.now();
                try {
                  return await tx.commitWith<Row>(text, params);
                } finally {
                  record(p.statementsInTx, `${rules.label(text)} + commit`, started, onSize, [
                    { text, ...(params ? { params } : {}) },
                  ]);
                }
              },
            }),
          options,
        );
      } finally {
        if (p.recording) {
          p.transactions++;
          p.transactionMs.push(performance.now() - started);
          if (size !== undefined) p.batchSizes.push(size);
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Output.

/** The value at quantile `p` of ascending `sorted` (0 when empty). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function errorsLine(errors: number, samples: readonly string[]): string {
  return `errors: ${errors}${samples.length ? ` e.g. ${samples.join(' | ')}` : ''}`;
}

export function auditLine(
  report: { ok: boolean; checks: readonly { ok: boolean; name: string; detail: string }[] },
  auditMs: number,
): string {
  return (
    `audit: ${report.ok ? 'ok' : 'FAILED'} in ${Math.round(auditMs)} ms` +
    (report.ok
      ? ''
      : `: ${report.checks
          .filter((c) => !c.ok)
          .map((c) => `${c.name}: ${c.detail}`)
          .join('; ')}`)
  );
}
