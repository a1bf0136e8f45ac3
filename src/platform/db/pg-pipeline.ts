// Several statements on one `pg` connection in one round trip. pg sends each query on its own and
// waits for its answer (Parse/Bind/Describe/Execute/Sync, then ReadyForQuery) before the next.
// Here the statements' messages go out in one write with a single Sync at the end, and the server
// answers them all in one flush. The server runs them in order exactly as one after another: only
// the client's waiting between them is gone. After an error the server skips the rest up to the
// Sync, so a failed statement stops the pipeline.
//
// Every trip costs a write, a wake-up and a read on both sides, and the connection waits idle in
// between: a wallet batch went from six trips to two, and the bench from 6 178 to 8 745 transfers/s
// with its p99 from 25 to 14 ms (docs/wallet.md).
//
// pg's Client runs this as one query through its Submittable interface (the one pg-cursor uses): it
// forwards each answer message here in order, and the connection stays pg's (authentication, TLS,
// pooling and errors unchanged).
import { createRequire } from 'node:module';
import type pg from 'pg';
import type { QueryResult } from './db.ts';

// pg's own conversion of parameter values (Date, Buffer, objects as JSON…), so a statement sent
// here gets exactly the values it would get through client.query().
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (value: unknown) => unknown;
};

// Each named statement's parameter types, as the server reported them when it was first parsed
// here (Describe of the statement): where they are known, array parameters go in binary
// (params.ts). The platform's statements are a fixed set, and the name is a hash of the text.
const parameterTypes = new Map<string, readonly number[]>();

/** The parameter types of the named statement, once a pipeline has parsed it. */
export function knownParameterTypes(name: string): readonly number[] | undefined {
  return parameterTypes.get(name);
}

export interface PipelineStatement {
  text: string;
  values: unknown[];
  /** Prepared once per connection under this name; unnamed statements are parsed every time. */
  name: string | undefined;
}

/** The slice of pg's Connection this needs (its documented-by-use protocol methods). */
interface Connection {
  parse(query: { text: string; name?: string; types?: number[] }): void;
  bind(config: {
    statement?: string;
    values: readonly unknown[];
    valueMapper: (value: unknown) => unknown;
  }): void;
  describe(msg: { type: 'P' | 'S'; name?: string }): void;
  execute(config: { portal?: string; rows?: number }): void;
  sync(): void;
  sendCopyFail(message: string): void;
  parsedStatements: Record<string, string>;
  submittedNamedStatements?: Record<string, string>;
  stream: { cork?: () => void; uncork?: () => void };
  on(event: 'parseComplete', listener: () => void): void;
  on(event: 'parameterDescription', listener: (msg: { dataTypeIDs: number[] }) => void): void;
  off(event: 'parseComplete', listener: () => void): void;
  off(event: 'parameterDescription', listener: (msg: { dataTypeIDs: number[] }) => void): void;
}

interface Field {
  name: string;
  dataTypeID: number;
  format: 'text' | 'binary';
}

type TypeParser = (value: string) => unknown;

export class Pipeline {
  readonly #statements: readonly PipelineStatement[];
  readonly #types: pg.CustomTypesConfig;
  readonly #resolve: (results: QueryResult<Record<string, unknown>>[]) => void;
  readonly #reject: (error: unknown) => void;
  readonly #results: QueryResult<Record<string, unknown>>[] = [];
  #rows: Record<string, unknown>[] = [];
  #names: string[] = [];
  #parsers: TypeParser[] = [];
  #failure: unknown;
  #settled = false;
  // Statements whose Parse this pipeline sent, in order: the server confirms them in that order.
  #parsing: PipelineStatement[] = [];
  // Statements this pipeline described, in order: their ParameterDescriptions come in that order.
  #describing: string[] = [];
  #connection: Connection | undefined;
  readonly #onParameterDescription = (msg: { dataTypeIDs: number[] }): void => {
    const name = this.#describing.shift();
    if (name !== undefined) parameterTypes.set(name, msg.dataTypeIDs);
  };
  readonly #onParseComplete = (): void => {
    const statement = this.#parsing.shift();
    if (statement?.name === undefined || this.#connection === undefined) return;
    this.#connection.parsedStatements[statement.name] = statement.text;
    delete this.#connection.submittedNamedStatements?.[statement.name];
  };

  constructor(
    statements: readonly PipelineStatement[],
    types: pg.CustomTypesConfig,
    resolve: (results: QueryResult<Record<string, unknown>>[]) => void,
    reject: (error: unknown) => void,
  ) {
    this.#statements = statements;
    this.#types = types;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Called by pg's Client when the connection is free: writes every message, then one Sync. */
  submit(connection: Connection): Error | null {
    this.#connection = connection;
    connection.on('parseComplete', this.#onParseComplete);
    connection.on('parameterDescription', this.#onParameterDescription);
    // One write for all of it (pg corks around a single query the same way).
    connection.stream.cork?.();
    try {
      for (const statement of this.#statements) {
        const name = statement.name;
        const parsed =
          name !== undefined &&
          (connection.parsedStatements[name] !== undefined ||
            connection.submittedNamedStatements?.[name] !== undefined);
        if (!parsed) {
          connection.parse({ text: statement.text, ...(name === undefined ? {} : { name }) });
          if (name !== undefined && connection.submittedNamedStatements)
            connection.submittedNamedStatements[name] = statement.text;
          this.#parsing.push(statement);
          // Its RowDescription (or NoData) comes too; the portal's own, described below, is the
          // one in force when the rows arrive.
          if (name !== undefined && !parameterTypes.has(name)) {
            connection.describe({ type: 'S', name });
            this.#describing.push(name);
          }
        }
        connection.bind({
          ...(name === undefined ? {} : { statement: name }),
          values: statement.values,
          valueMapper: prepareValue,
        });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '' });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(msg: { fields: Field[] }): void {
    this.#names = msg.fields.map((field) => field.name);
    this.#parsers = msg.fields.map(
      (field) => this.#types.getTypeParser(field.dataTypeID, field.format) as TypeParser,
    );
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (this.#failure !== undefined) return;
    try {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < msg.fields.length; i++) {
        const value = msg.fields[i];
        row[this.#names[i]!] = value === null || value === undefined ? null : this.#parsers[i]!(value);
      }
      this.#rows.push(row);
    } catch (error) {
      // Reported once the server is done with the pipeline (as pg does for a row it cannot parse).
      this.#failure = error;
    }
  }

  handleCommandComplete(msg: { text: string }): void {
    const count = /(\d+)$/.exec(msg.text);
    this.#results.push({ rows: this.#rows, rowCount: count ? Number(count[1]) : this.#rows.length });
    this.#rows = [];
    this.#names = [];
    this.#parsers = [];
  }

  handleEmptyQuery(): void {
    this.#results.push({ rows: [], rowCount: 0 });
  }

  handleError(error: unknown): void {
    this.#finish(error);
  }

  handleReadyForQuery(): void {
    this.#finish(this.#failure);
  }

  handlePortalSuspended(): void {
    // Never sent: every Execute asks for all rows.
  }

  handleCopyInResponse(connection: Connection): void {
    connection.sendCopyFail('COPY is not supported in a pipeline');
  }

  handleCopyData(): void {}

  #finish(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#connection?.off('parseComplete', this.#onParseComplete);
    this.#connection?.off('parameterDescription', this.#onParameterDescription);
    if (error !== undefined) {
      // Statements whose Parse the server never confirmed were not prepared: parse them next time.
      for (const statement of this.#parsing) {
        if (statement.name !== undefined) delete this.#connection?.submittedNamedStatements?.[statement.name];
      }
      this.#reject(error);
    } else {
      this.#resolve(this.#results);
    }
  }
}

/** Runs `statements` on `client` as one pipeline: one write, one answer. */
export function runPipeline(
  client: pg.PoolClient,
  statements: readonly PipelineStatement[],
  types: pg.CustomTypesConfig,
): Promise<QueryResult<Record<string, unknown>>[]> {
  return new Promise((resolve, reject) => {
    // pg's typings know only its own Query for this overload; any object with submit() is run.
    (client.query as unknown as (query: Pipeline) => void)(new Pipeline(statements, types, resolve, reject));
  });
}
