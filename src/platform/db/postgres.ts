// The PostgreSQL adapter over a `pg` Pool. int8 and int8[] are parsed into bigint per pool (not
// by mutating pg's global type table, which would leak into anything else in the process).
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Db, Queryable, QueryResult, TransactionOptions } from './db.ts';
import { beginStatement, INT8_ARRAY_OID, INT8_OID } from './db.ts';
import { arrayLiteral, isPlainArray } from './params.ts';

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

// Parameterised statements are prepared once per connection under a name derived from their
// text (the platform's SQL is a fixed set of strings), as pgbench -M prepared does: the server
// skips parsing and planning on every later use. Statements without parameters stay unnamed
// (migrations and multi-statement text cannot be prepared).
const statementNames = new Map<string, string>();
const STATEMENT_NAMES_MAX = 10_000;

function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= STATEMENT_NAMES_MAX) return undefined; // dynamic SQL: do not prepare
    name = `c${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

function wrap(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    query: async <Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> => {
      const values = params.map((param) => (isPlainArray(param) ? arrayLiteral(param) : param));
      const name = params.length > 0 ? statementName(text) : undefined;
      const result = await target.query(name === undefined ? { text, values } : { name, text, values });
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
