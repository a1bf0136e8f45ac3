// The embedded adapter. PGlite is one connection: it serialises transactions itself, and a query
// issued outside a transaction waits for the open one to end. Durability stays strict (no
// `relaxedDurability`, and real fsyncs: see durableStartParams): an acknowledged write is on disk.
import fs, { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import type { Transaction as PgliteTransaction } from '@electric-sql/pglite';
import { PgliteStatements } from './pglite-prepared.ts';
import type { Db, Queryable, QueryResult, Transaction, TransactionOptions } from './db.ts';
import { committedError } from './db.ts';

interface PgliteLike {
  query<Row>(text: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
}

type Plain = Omit<Queryable, 'pipeline'>;

function wrap(target: PgliteLike): Plain {
  return {
    query: async <Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> => {
      const result = await target.query<Row>(text, [...params]);
      return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
    },
    exec: async (text: string): Promise<void> => {
      await target.exec(text);
    },
  };
}

/**
 * A transaction's queries: prepared statements where they have parameters (pglite-prepared.ts).
 * The engine is in this process, so there is no round trip to save: a pipeline runs its
 * statements one by one, and commitWith() is a query and then the commit.
 */
function wrapTransaction(tx: PgliteTransaction, statements: PgliteStatements): Transaction {
  const plain = wrap(tx);
  let committed = false;
  const query = async <Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> => {
    if (committed) throw committedError();
    return (
      (params.length > 0 ? await statements.query<Row>(text, params) : undefined) ??
      plain.query<Row>(text, params)
    );
  };
  return {
    query,
    exec: async (text) => {
      if (committed) throw committedError();
      await plain.exec(text);
    },
    pipeline: async (list) => {
      const results: QueryResult<Record<string, unknown>>[] = [];
      for (const statement of list) results.push(await query(statement.text, statement.params));
      return results;
    },
    commitWith: async <Row>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>> => {
      const result = await query<Row>(text, params);
      // Committed here, as on a server, whatever the work does next. PGlite's transaction has no
      // commit() of its own: rollback() marks it closed (so it sends no COMMIT or ROLLBACK when
      // the work returns or throws), and its ROLLBACK after our COMMIT is a no-op.
      await tx.exec('commit');
      committed = true;
      await tx.rollback();
      return result;
    },
  };
}

export interface PgliteOptions {
  /** A folder for the data, or undefined for an in-memory database (tests). */
  dataDir: string | undefined;
}

const LOCK_FILE = 'croupier.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite has no server to arbitrate between processes: two opening one folder would corrupt it.
 * A lock file holding the owner's pid keeps a second process out; a lock left by a process that
 * died (SIGKILL, power loss) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && processAlive(owner)) {
        throw new Error(`the data folder ${dataDir} is in use by process ${owner}`, { cause: error });
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock the data folder ${dataDir}`);
}

// Durability on disk. PGlite starts PostgreSQL with -F (fsync off), and its emscripten layer
// treats fdatasync as a no-op and gives files on the host (NODEFS) no fsync at all: a commit
// reached the OS, so it survived a crash of the process, but not of the machine or its power.
// Here PostgreSQL runs with fsync on and syncs WAL with fsync(), and NODEFS files get an fsync
// that reaches the disk: an acknowledged commit is on disk, as on a PostgreSQL server.

function durableStartParams(): string[] {
  const defaults = (PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams;
  return [...defaults.filter((param) => param !== '-F'), '-c', 'wal_sync_method=fsync'];
}

interface NodefsStream {
  nfd?: number;
}

function syncStreamsToDisk(pglite: PGlite): void {
  const module = pglite.Module as unknown as {
    NODEFS: { stream_ops: { fsync?: (stream: NodefsStream) => number } };
  };
  module.NODEFS.stream_ops.fsync = (stream) => {
    // Directories opened for syncing have no host descriptor; their entries are synced by
    // syncTree at creation, and PostgreSQL creates files only ahead of their first fsync.
    if (stream.nfd !== undefined) fs.fsyncSync(stream.nfd);
    return 0;
  };
}

/** fsync of every file and folder below `dir` (a freshly initialised cluster). */
function syncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) syncTree(child);
    else if (entry.isFile()) syncPath(child);
  }
  syncPath(dir);
}

function syncPath(target: string): void {
  const fd = fs.openSync(target, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// PGlite runs PostgreSQL in single-user mode: there is no autovacuum, so nothing ever analyzes a
// table. A prepared statement's cached generic plan, made while its tables were small (a hash join
// over a sequential scan is cheapest then), is only replaced when a table's statistics change: on
// PGlite it stayed for the life of the process, and a lookup of two keys scanned a 200 000-row
// table whole. So the adapter analyzes the tables that grew, as autovacuum would on a server;
// the new statistics invalidate the plans that use them.

const ANALYZE_INTERVAL_MS = 30_000;

/**
 * Analyzes every user table that grew by more than a fifth (and 8 pages) since its last analysis
 * (or was never analyzed), and returns their names. Cheap when nothing grew: one catalog query.
 */
export async function analyzeGrownTables(q: Pick<Queryable, 'query' | 'exec'>): Promise<string[]> {
  const { rows } = await q.query<{ name: string }>(
    `select c.oid::regclass::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%'
        and pg_relation_size(c.oid) / 8192 > greatest(c.relpages * 1.2, c.relpages + 8)
      order by 1`,
  );
  const names = rows.map((row) => row.name);
  // regclass text is already quoted where a name needs it.
  if (names.length > 0) await q.exec(`analyze ${names.join(', ')}`);
  return names;
}

export async function openPglite(options: PgliteOptions): Promise<Db> {
  let unlock = (): void => {};
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    unlock = lockDataDir(options.dataDir);
  }
  let pglite: PGlite;
  try {
    const fresh = options.dataDir !== undefined && !existsSync(path.join(options.dataDir, 'PG_VERSION'));
    pglite = await PGlite.create(options.dataDir ?? 'memory://', {
      parsers: { [types.INT8]: (value: string) => BigInt(value) },
      relaxedDurability: false,
      ...(options.dataDir === undefined ? {} : { startParams: durableStartParams() }),
    });
    if (options.dataDir !== undefined) {
      syncStreamsToDisk(pglite);
      // PGlite's initdb wrote the new cluster without syncing it: sync it once, now.
      if (fresh) syncTree(options.dataDir);
    }
  } catch (error) {
    unlock();
    throw error;
  }
  const base = wrap(pglite);
  const statements = new PgliteStatements(pglite);
  let closed = false;
  let analyzing: Promise<unknown> | undefined;
  const maintenance = setInterval(() => {
    if (closed || analyzing) return;
    // A failure (the database closing under it) is retried at the next interval.
    analyzing = analyzeGrownTables(base)
      .catch(() => undefined)
      .finally(() => (analyzing = undefined));
  }, ANALYZE_INTERVAL_MS);
  maintenance.unref();
  const transaction = async <T>(
    work: (tx: Transaction) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T> => {
    if (options?.isolation === undefined)
      return pglite.transaction((tx) => work(wrapTransaction(tx, statements)));
    // PGlite's own transaction() always opens with a plain BEGIN; set the level first thing.
    return pglite.transaction(async (tx) => {
      await tx.exec(`set transaction isolation level ${options.isolation}`);
      return work(wrapTransaction(tx, statements));
    });
  };
  return {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    pipeline: (list) => transaction((tx) => tx.pipeline(list)),
    transaction,
    async ping(): Promise<void> {
      await pglite.query('select 1');
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(maintenance);
      try {
        await analyzing;
        await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}
