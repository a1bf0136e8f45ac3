// The embedded adapter. PGlite is one connection: it serialises transactions itself, and a query
// issued outside a transaction waits for the open one to end. Durability stays strict (no
// `relaxedDurability`): an acknowledged write is on disk.
import { mkdirSync } from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';
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

export interface PgliteOptions {
  /** A folder for the data, or undefined for an in-memory database (tests). */
  dataDir: string | undefined;
}

export async function openPglite(options: PgliteOptions): Promise<Db> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const pglite = await PGlite.create(options.dataDir ?? 'memory://', {
    parsers: { [types.INT8]: (value: string) => BigInt(value) },
    relaxedDurability: false,
  });
  const base = wrap(pglite);
  let closed = false;
  return {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    async transaction<T>(work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
      if (options?.isolation === undefined) return pglite.transaction((tx) => work(wrap(tx)));
      // PGlite's own transaction() always opens with a plain BEGIN; set the level first thing.
      return pglite.transaction(async (tx) => {
        await tx.exec(`set transaction isolation level ${options.isolation}`);
        return work(wrap(tx));
      });
    },
    async ping(): Promise<void> {
      await pglite.query('select 1');
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pglite.close();
    },
  };
}
