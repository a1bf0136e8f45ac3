// Test doubles of a database handle that stay the real database: every statement still runs.
import type { Db, Transaction } from '../../src/platform/db/index.ts';

/**
 * The same database, with `before(texts)` called ahead of every round trip made inside a
 * transaction (one text for a query, all of a pipeline's): a test can record the trips, or throw
 * to fail one as the disk would. Closing it leaves the real handle open.
 */
export function observedTransactions(db: Db, before: (texts: string[]) => void): Db {
  const wrap = (q: Transaction): Transaction => ({
    exec: q.exec,
    query: async (text, params) => {
      before([text]);
      return q.query(text, params);
    },
    pipeline: async (statements) => {
      before(statements.map((statement) => statement.text));
      return q.pipeline(statements);
    },
    commitWith: async (text, params) => {
      before([text]);
      return q.commitWith(text, params);
    },
  });
  return {
    kind: db.kind,
    query: db.query,
    exec: db.exec,
    pipeline: db.pipeline,
    ping: () => db.ping(),
    close: async () => undefined,
    transaction: (work, options) => db.transaction((tx) => work(wrap(tx)), options),
  };
}
