// The embedded adapter. PGlite is one connection: it serialises transactions itself, and a query
// issued outside a transaction waits for the open one to end. Durability stays strict (no
// `relaxedDurability`): an acknowledged write is on disk.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, PGlite, protocol, types } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';

type BackendMessage = Awaited<ReturnType<PGlite['execProtocol']>>['messages'][number];
import type { Db, Queryable, QueryResult, TransactionOptions } from './db.ts';

interface PgliteLike {
  query<Row>(text: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
}

function wrap(target: PgliteLike): Queryable {
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

// Statements with parameters run inside a transaction are prepared once per database under a
// name (the platform's SQL is a fixed set of strings), and each later call is one trip into the
// engine: Bind, Execute, Sync. PGlite's own query() parses, plans and describes the text on every
// call in six trips; for the wallet's batch statements that was most of the engine's time.
// (Outside a transaction PGlite's query() keeps its mutex; the fast path runs only where the
// transaction already holds the engine.)
interface Prepared {
  readonly name: string;
  readonly paramTypes: number[];
  /** The statement's row description, put in front of each call's data rows to parse them. */
  readonly rowDescription: BackendMessage | undefined;
}

const PREPARED_MAX = 10_000;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

class PreparedStatements {
  readonly #pglite: PGlite;
  readonly #statements = new Map<string, Prepared>();

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  /** Runs `text` as a prepared statement, or returns undefined when it should not be prepared. */
  async query<Row>(text: string, params: readonly unknown[]): Promise<QueryResult<Row> | undefined> {
    const prepared = await this.#prepare(text);
    if (prepared === undefined) return undefined;
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const serialize = this.#pglite.serializers[prepared.paramTypes[i]!];
      // As PGlite's query() does: its serializers cover the types the platform binds.
      return serialize ? serialize(param) : (param as { toString(): string }).toString();
    });
    const { messages } = await this.#pglite.execProtocol(
      concat([
        protocol.serialize.bind({ statement: prepared.name, values }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const [result] = parse.parseResults(
      prepared.rowDescription ? [prepared.rowDescription, ...messages] : messages,
      this.#pglite.parsers,
    );
    const rows = (result?.rows ?? []) as Row[];
    return { rows, rowCount: result?.affectedRows || rows.length };
  }

  async #prepare(text: string): Promise<Prepared | undefined> {
    const known = this.#statements.get(text);
    if (known !== undefined) return known;
    if (this.#statements.size >= PREPARED_MAX) return undefined; // dynamic SQL: do not prepare
    const name = `p${this.#statements.size}`;
    const { messages } = await this.#pglite.execProtocol(
      concat([
        protocol.serialize.parse({ name, text }),
        protocol.serialize.describe({ type: 'S', name }),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const prepared: Prepared = {
      name,
      paramTypes: parse.parseDescribeStatementResults(messages),
      rowDescription: messages.find((message) => message.name === 'rowDescription'),
    };
    this.#statements.set(text, prepared);
    return prepared;
  }
}

function wrapTransaction(tx: Transaction, statements: PreparedStatements): Queryable {
  const plain = wrap(tx);
  return {
    query: async <Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> =>
      (params.length > 0 ? await statements.query<Row>(text, params) : undefined) ??
      plain.query<Row>(text, params),
    exec: plain.exec,
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

export async function openPglite(options: PgliteOptions): Promise<Db> {
  let unlock = (): void => {};
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    unlock = lockDataDir(options.dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(options.dataDir ?? 'memory://', {
      parsers: { [types.INT8]: (value: string) => BigInt(value) },
      relaxedDurability: false,
    });
  } catch (error) {
    unlock();
    throw error;
  }
  const base = wrap(pglite);
  const statements = new PreparedStatements(pglite);
  let closed = false;
  return {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    async transaction<T>(work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
      if (options?.isolation === undefined)
        return pglite.transaction((tx) => work(wrapTransaction(tx, statements)));
      // PGlite's own transaction() always opens with a plain BEGIN; set the level first thing.
      return pglite.transaction(async (tx) => {
        await tx.exec(`set transaction isolation level ${options.isolation}`);
        return work(wrapTransaction(tx, statements));
      });
    },
    async ping(): Promise<void> {
      await pglite.query('select 1');
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}
