// The PostgreSQL adapter over a `pg` Pool. int8 and int8[] are parsed into bigint per pool (not
// by mutating pg's global type table, which would leak into anything else in the process).
import pg from 'pg';
import type { Db, Queryable, QueryResult, TransactionOptions } from './db.ts';
import { beginStatement, INT8_ARRAY_OID, INT8_OID } from './db.ts';

// pg's own parsers, typed loosely: its TypeId enum does not list every oid we pass through.
const builtinParser = pg.types.getTypeParser as (
  oid: number,
  format: 'text' | 'binary',
) => (value: string) => unknown;

const parseInt8 = (value: string): bigint => BigInt(value);
const parseInt8Array = (value: string): (bigint | null)[] => {
  const strings = builtinParser(INT8_ARRAY_OID, 'text')(value) as (string | null)[];
  return strings.map((item) => (item === null ? null : BigInt(item)));
};

const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return parseInt8;
    if (oid === INT8_ARRAY_OID) return parseInt8Array;
    return builtinParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function wrap(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    query: async <Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> => {
      const result = await target.query(text, params as unknown[]);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    },
    exec: async (text: string): Promise<void> => {
      await target.query(text);
    },
  };
}

export interface PostgresOptions {
  url: string;
  poolSize: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /** Longest wait for a connection from the pool. */
  connectTimeoutMs?: number;
}

export function openPostgres(options: PostgresOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    types: typeParsers,
    application_name: options.applicationName ?? 'croupier',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query simply gets a fresh connection.
  pool.on('error', () => {});
  const base = wrap(pool);
  let closed = false;
  return {
    kind: 'postgres',
    query: base.query,
    exec: base.exec,
    async transaction<T>(work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query(beginStatement(options));
        const result = await work(wrap(client));
        await client.query('commit');
        return result;
      } catch (error) {
        try {
          await client.query('rollback');
        } catch (rollbackError) {
          // The connection is unusable; drop it from the pool rather than reuse it.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async ping(): Promise<void> {
      await pool.query('select 1');
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
