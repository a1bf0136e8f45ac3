// One database port, two adapters: PGlite (PostgreSQL compiled to WASM, in a data folder: the
// embedded default) and a `pg` Pool (PostgreSQL via DATABASE_URL). Both read int8 as bigint, so
// money never passes through a JavaScript number, and both run the same SQL.

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows returned, or touched by INSERT/UPDATE/DELETE. */
  rowCount: number;
}

// Properties rather than methods: adapters hand these functions around unbound.
export interface Queryable {
  query: <Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ) => Promise<QueryResult<Row>>;
  /** Runs one or more statements without parameters (migrations). */
  exec: (text: string) => Promise<void>;
  /**
   * Runs `statements` in order, each as query() would, but sent together: one round trip to a
   * server for all of them instead of one each (the server still runs them one after another).
   * For statements whose parameters do not depend on each other's answers. The first failure
   * rejects and the statements after it do not run; outside a transaction they run in one, all
   * or nothing.
   */
  pipeline: (statements: readonly Statement[]) => Promise<QueryResult<Record<string, unknown>>[]>;
}

export interface Statement {
  text: string;
  params?: readonly unknown[];
}

/** The queries of one transaction. */
export interface Transaction extends Queryable {
  /**
   * Runs the transaction's last statement with its commit: one round trip on a server instead of
   * two. Nothing may run in the transaction after it. transaction() still resolves only once the
   * commit is done, and if this statement fails nothing of the transaction is committed.
   */
  commitWith: <Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ) => Promise<QueryResult<Row>>;
}

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: Isolation;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * Nothing half-done survives a fault in the middle.
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Answers when the database does (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What a statement after commitWith() gets: the transaction is over. */
export function committedError(): Error {
  return new Error('db: the transaction was committed by commitWith(); nothing may follow it');
}

export function beginStatement(options: TransactionOptions | undefined): string {
  return options?.isolation ? `begin isolation level ${options.isolation}` : 'begin';
}

/** Postgres type ids whose text form the adapters parse into bigint. */
export const INT8_OID = 20;
export const INT8_ARRAY_OID = 1016;

/** True for a unique-constraint violation (SQLSTATE 23505), on either adapter. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/**
 * Failures after which a transaction may simply run again, since nothing of it was committed:
 * another writer won a race for a unique key (the rerun sees its row), or the server broke a
 * lock cycle (40P01) or a serialization conflict (40001).
 */
export function isConflict(error: unknown): boolean {
  const state = sqlState(error);
  return isUniqueViolation(error) || state === '40P01' || state === '40001';
}

/** Runs `work` in a transaction, again (up to `attemptsMax` times in all) after a conflict. */
export async function transactionRetryingConflicts<T>(
  db: Db,
  attemptsMax: number,
  work: (tx: Transaction) => Promise<T>,
  onRetry?: (attempt: number, error: unknown) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (error) {
      if (!isConflict(error) || attempt >= attemptsMax) throw error;
      onRetry?.(attempt, error);
    }
  }
}

export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    if (typeof error.code === 'string') return error.code;
  }
  return undefined;
}

/**
 * A read that can share a pipeline with others: its statement and how to read its answer. A read
 * with nothing to look up carries its value and sends nothing.
 */
export type Read<T> =
  { statement: Statement; read: (result: QueryResult<Record<string, unknown>>) => T } | { value: T };

/** A read whose answer is its rows, typed as `Row` (the one place a pipeline's untyped rows are cast). */
export function rowsRead<Row, T>(statement: Statement, read: (rows: Row[]) => T): Read<T> {
  return { statement, read: (result) => read(result.rows as unknown as Row[]) };
}

/** Runs `reads` as one pipeline (one round trip on a server) and returns their values in order. */
export async function readAll<T extends readonly unknown[]>(
  q: Queryable,
  reads: { readonly [K in keyof T]: Read<T[K]> },
): Promise<T> {
  const list = reads as readonly Read<unknown>[];
  const statements: Statement[] = [];
  for (const read of list) if ('statement' in read) statements.push(read.statement);
  const results = statements.length > 0 ? await q.pipeline(statements) : [];
  let next = 0;
  return list.map((read) => ('statement' in read ? read.read(results[next++]!) : read.value)) as unknown as T;
}

/** Runs one read on its own (a plain query, no pipeline). */
export async function readOne<T>(q: Queryable, read: Read<T>): Promise<T> {
  if (!('statement' in read)) return read.value;
  const result = await q.query<Record<string, unknown>>(read.statement.text, read.statement.params);
  return read.read(result);
}

/**
 * A write that can share a pipeline with others, and what its answer must be (checked once the
 * whole pipeline has answered; a failing check throws, and the caller's transaction rolls back).
 */
export interface Write {
  statement: Statement;
  check?: (result: QueryResult<Record<string, unknown>>) => void;
}

/** Runs `writes` as one pipeline (one round trip on a server), skipping absent ones, then checks each. */
export async function writeAll(q: Queryable, writes: readonly (Write | undefined)[]): Promise<void> {
  const present = writes.filter((write): write is Write => write !== undefined);
  if (present.length === 0) return;
  const results = await q.pipeline(present.map((write) => write.statement));
  present.forEach((write, index) => write.check?.(results[index]!));
}
