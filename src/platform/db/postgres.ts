// The PostgreSQL adapter over a `pg` Pool. int8 and int8[] are parsed into bigint per pool (not
// by mutating pg's global type table, which would leak into anything else in the process).
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Db, QueryResult, Statement, Transaction, TransactionOptions } from './db.ts';
import { beginStatement, committedError, INT8_ARRAY_OID, INT8_OID } from './db.ts';
import { arrayLiteral, binaryArray, isPlainArray } from './params.ts';
import { knownParameterTypes, runPipeline } from './pg-pipeline.ts';
import type { PipelineStatement } from './pg-pipeline.ts';

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

/**
 * Array parameters go as binary where the statement's parameter types are known (a pipeline
 * parsed it before) and the encoder writes that type; otherwise as text literals.
 */
function pipelineStatement(statement: Statement): PipelineStatement {
  const params = statement.params ?? [];
  const name = params.length > 0 ? statementName(statement.text) : undefined;
  const types = name === undefined ? undefined : knownParameterTypes(name);
  return {
    text: statement.text,
    values: params.map((param, i) =>
      isPlainArray(param)
        ? ((types === undefined ? undefined : binaryArray(param, types[i]!)) ?? arrayLiteral(param))
        : param,
    ),
    name,
  };
}

function plainQuery(target: pg.Pool | pg.PoolClient) {
  return async <Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> => {
    const { values, name } = pipelineStatement({ text, params });
    const result = await target.query(name === undefined ? { text, values } : { name, text, values });
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
  };
}

/**
 * A transaction's queries on its connection. BEGIN is not sent on its own: it goes out with the
 * transaction's first statement, and commitWith() sends COMMIT with the last one, so a
 * transaction of one pipeline and one last statement costs two round trips, not four.
 */
class PgTransaction implements Transaction {
  readonly #client: pg.PoolClient;
  readonly #plain: ReturnType<typeof plainQuery>;
  #begin: string | undefined;
  #committed = false;

  constructor(client: pg.PoolClient, begin: string) {
    this.#client = client;
    this.#plain = plainQuery(client);
    this.#begin = begin;
  }

  /** BEGIN was sent (so a failure needs a ROLLBACK). */
  get begun(): boolean {
    return this.#begin === undefined;
  }

  get committed(): boolean {
    return this.#committed;
  }

  readonly query = async <Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> => {
    if (this.#begin === undefined && !this.#committed) return this.#plain<Row>(text, params);
    const [result] = await this.#send([{ text, params }], false);
    return result as QueryResult<Row>;
  };

  readonly exec = async (text: string): Promise<void> => {
    if (this.#committed) throw committedError();
    await this.#sendBegin();
    await this.#client.query(text);
  };

  readonly pipeline = (statements: readonly Statement[]): Promise<QueryResult<Record<string, unknown>>[]> =>
    this.#send(statements, false);

  readonly commitWith = async <Row>(
    text: string,
    params: readonly unknown[] = [],
  ): Promise<QueryResult<Row>> => {
    const [result] = await this.#send([{ text, params }], true);
    return result as QueryResult<Row>;
  };

  async #sendBegin(): Promise<void> {
    if (this.#begin === undefined) return;
    const begin = this.#begin;
    this.#begin = undefined;
    await this.#client.query(begin);
  }

  async #send(
    statements: readonly Statement[],
    commit: boolean,
  ): Promise<QueryResult<Record<string, unknown>>[]> {
    if (this.#committed) throw committedError();
    const all = statements.map(pipelineStatement);
    const begin = this.#begin;
    if (begin !== undefined) all.unshift({ text: begin, values: [], name: undefined });
    if (commit) all.push({ text: 'commit', values: [], name: undefined });
    this.#begin = undefined;
    const results = await runPipeline(this.#client, all, typeParsers);
    if (commit) this.#committed = true;
    return begin === undefined
      ? results.slice(0, statements.length)
      : results.slice(1, 1 + statements.length);
  }
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
  const query = plainQuery(pool);
  let closed = false;
  const transaction = async <T>(
    work: (tx: Transaction) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T> => {
    const client = await pool.connect();
    // A checked-out pg client emits 'error' when its connection dies (the server restarted, or
    // an administrator ended the backend); with no listener that event crashed the process. The
    // statement in flight rejects on its own: here the client is only marked, and then dropped.
    let lost: Error | undefined;
    const onLost = (error: Error): void => {
      lost = error;
    };
    client.on('error', onLost);
    const tx = new PgTransaction(client, beginStatement(options));
    let broken: Error | undefined;
    try {
      const result = await work(tx);
      if (tx.begun && !tx.committed) await client.query('commit');
      return result;
    } catch (error) {
      // A failed commitWith() left the transaction aborted (its statement failed) or already
      // ended (its COMMIT failed): the ROLLBACK finishes the first and is a no-op for the second.
      if (tx.begun && !tx.committed && lost === undefined) {
        try {
          await client.query('rollback');
        } catch (rollbackError) {
          // The connection is unusable; drop it from the pool rather than reuse it.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
      }
      throw error;
    } finally {
      client.off('error', onLost);
      client.release(broken ?? lost);
    }
  };
  return {
    kind: 'postgres',
    query,
    exec: async (text: string): Promise<void> => {
      await pool.query(text);
    },
    pipeline: (statements) => transaction((tx) => tx.pipeline(statements)),
    transaction,
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
