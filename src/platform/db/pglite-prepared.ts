// Prepared statements for PGlite, inside transactions. Statements with parameters are prepared
// once per database under a name (the platform's SQL is a fixed set of strings), and each later
// call is one trip into the engine: Bind, Execute, Sync. PGlite's own query() parses, plans and
// describes the text on every call in six trips, and turns every field of every row into a
// message object before it builds the row: for the wallet's batch statements those were most of
// a batch's time (a 67-row, 6-column read cost 640 µs through query() and 200 µs here).
//
// The answer is read straight off the wire bytes (execProtocolRawStream hands them over without
// PGlite parsing them): data rows into objects with PGlite's own type parsers, the command tag
// for the row count, an ErrorResponse into an error with the server's fields (code, constraint,
// …) like pg's DatabaseError. The fast path runs only where a transaction already holds the
// engine (PGlite's transaction mutex), so nothing else can interleave with its trips.
import { parse, protocol, types } from '@electric-sql/pglite';
import type { PGlite } from '@electric-sql/pglite';
import type { QueryResult } from './db.ts';
import { arrayLiteral, binaryArray, isPlainArray } from './params.ts';

type Parser = (text: string, typeId: number) => unknown;

interface Prepared {
  readonly nameBytes: Uint8Array;
  readonly paramTypes: number[];
  readonly columns: readonly { name: string; parse: (text: string) => unknown }[];
}

const PREPARED_MAX = 10_000;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const JSON_OID = 114;
const JSONB_OID = 3802;

/**
 * Bind (unnamed portal, the statement, each parameter as text or binary, results as text), Execute,
 * Sync: the three messages of one call, written into one buffer.
 */
function bindExecuteSync(statement: Uint8Array, values: readonly (string | Uint8Array | null)[]): Uint8Array {
  // Strings go as text (format 0), bytes as binary (format 1, params.ts binaryArray).
  const encoded = values.map((value) => (typeof value === 'string' ? encoder.encode(value) : value));
  let bindLength = 4 + 1 + statement.length + 1 + 2 + 2 * values.length + 2 + 2;
  for (const value of encoded) bindLength += 4 + (value === null ? 0 : value.length);
  const total = 1 + bindLength + (1 + 4 + 1 + 4) + (1 + 4);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = 0x42; // B
  view.setInt32(at, bindLength);
  at += 4;
  out[at++] = 0; // portal ""
  out.set(statement, at);
  at += statement.length;
  out[at++] = 0;
  view.setInt16(at, values.length); // a format per parameter
  at += 2;
  for (const value of values) {
    view.setInt16(at, typeof value === 'string' || value === null ? 0 : 1);
    at += 2;
  }
  view.setInt16(at, encoded.length);
  at += 2;
  for (const value of encoded) {
    if (value === null) {
      view.setInt32(at, -1);
      at += 4;
    } else {
      view.setInt32(at, value.length);
      at += 4;
      out.set(value, at);
      at += value.length;
    }
  }
  view.setInt16(at, 0); // result formats: all text
  at += 2;
  out[at++] = 0x45; // E
  view.setInt32(at, 4 + 1 + 4);
  at += 4;
  out[at++] = 0; // portal ""
  view.setInt32(at, 0); // all rows
  at += 4;
  out[at++] = 0x53; // S
  view.setInt32(at, 4);
  return out;
}

/** An error the server reported, with its fields named as pg's DatabaseError names them. */
export class PgliteDatabaseError extends Error {
  severity: string | undefined;
  code: string | undefined;
  detail: string | undefined;
  hint: string | undefined;
  schema: string | undefined;
  table: string | undefined;
  column: string | undefined;
  constraint: string | undefined;
}

const errorFields: Record<string, keyof PgliteDatabaseError> = {
  S: 'severity',
  C: 'code',
  D: 'detail',
  H: 'hint',
  s: 'schema',
  t: 'table',
  c: 'column',
  n: 'constraint',
};

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function cstring(bytes: Uint8Array, start: number): [string, number] {
  const end = bytes.indexOf(0, start);
  return [decoder.decode(bytes.subarray(start, end)), end + 1];
}

function readError(bytes: Uint8Array, start: number, end: number): PgliteDatabaseError {
  const fields = new Map<string, string>();
  let at = start;
  while (at < end && bytes[at] !== 0) {
    const key = String.fromCharCode(bytes[at]!);
    const [value, next] = cstring(bytes, at + 1);
    fields.set(key, value);
    at = next;
  }
  const error = new PgliteDatabaseError(fields.get('M') ?? 'database error');
  for (const [key, field] of Object.entries(errorFields)) {
    (error as unknown as Record<string, string | undefined>)[field] = fields.get(key);
  }
  return error;
}

export class PgliteStatements {
  readonly #pglite: PGlite;
  readonly #statements = new Map<string, Prepared>();

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  /** Runs `text` as a prepared statement, or returns undefined when it should not be prepared. */
  async query<Row>(text: string, params: readonly unknown[]): Promise<QueryResult<Row> | undefined> {
    const prepared = await this.#prepare(text);
    if (prepared === undefined) return undefined;
    const values = params.map((param, i) => this.#value(param, prepared.paramTypes[i]!));
    const chunks: Uint8Array[] = [];
    await this.#pglite.execProtocolRawStream(
      bindExecuteSync(prepared.nameBytes, values),
      // The bytes are a view into the engine's memory, reused by the next call: copy them.
      { syncToFs: false, onRawData: (bytes) => chunks.push(bytes.slice()) },
    );
    return readAnswer<Row>(concat(chunks), prepared.columns);
  }

  /**
   * A parameter's text form: strings, numbers, booleans, dates and (nested) arrays of them
   * directly; anything else as PGlite's own serialiser for the type writes it. Arrays of the
   * types binaryArray writes go in binary instead.
   */
  #value(value: unknown, typeId: number): string | Uint8Array | null {
    if (value === null || value === undefined) return null;
    switch (typeof value) {
      case 'string':
        return value;
      case 'bigint':
      case 'number':
        return String(value);
      case 'boolean':
        return value ? 't' : 'f';
      default:
        break;
    }
    if (value instanceof Date && (typeId === TIMESTAMPTZ || typeId === TIMESTAMP)) return value.toISOString();
    // (JSON parameters get PGlite's JSON serialiser: an array there is a JSON array.)
    if (typeId !== JSON_OID && typeId !== JSONB_OID && isPlainArray(value))
      return binaryArray(value, typeId) ?? arrayLiteral(value);
    const serialize = this.#pglite.serializers[typeId];
    return serialize ? serialize(value) : (value as { toString(): string }).toString();
  }

  async #prepare(text: string): Promise<Prepared | undefined> {
    const known = this.#statements.get(text);
    if (known !== undefined) return known;
    if (this.#statements.size >= PREPARED_MAX) return undefined; // dynamic SQL: do not prepare
    const name = `p${this.#statements.size}`;
    // Rare (once per statement): PGlite's own parsing of the answer is fine here.
    const { messages } = await this.#pglite.execProtocol(
      concat([
        protocol.serialize.parse({ name, text }),
        protocol.serialize.describe({ type: 'S', name }),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const description = messages.find((message) => message.name === 'rowDescription') as
      { fields: { name: string; dataTypeID: number }[] } | undefined;
    const parsers = this.#pglite.parsers as Record<number, Parser | undefined>;
    const defaults = types.parsers as Record<number, Parser | undefined>;
    const prepared: Prepared = {
      nameBytes: encoder.encode(name),
      paramTypes: parse.parseDescribeStatementResults(messages),
      columns: (description?.fields ?? []).map((field) => {
        const parser = parsers[field.dataTypeID] ?? defaults[field.dataTypeID];
        return {
          name: field.name,
          parse: parser ? (value: string) => parser(value, field.dataTypeID) : (value: string) => value,
        };
      }),
    };
    this.#statements.set(text, prepared);
    return prepared;
  }
}

/** Data rows, the command tag's row count, or the server's error, off the wire bytes. */
function readAnswer<Row>(bytes: Uint8Array, columns: Prepared['columns']): QueryResult<Row> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: Row[] = [];
  let rowCount: number | undefined;
  let error: PgliteDatabaseError | undefined;
  let at = 0;
  while (at + 5 <= bytes.length) {
    const code = bytes[at]!;
    const end = at + 1 + view.getInt32(at + 1);
    const body = at + 5;
    if (code === 0x44 /* D: data row */) {
      const row: Record<string, unknown> = {};
      let field = body + 2;
      for (const column of columns) {
        const length = view.getInt32(field);
        field += 4;
        if (length < 0) {
          row[column.name] = null;
        } else {
          row[column.name] = column.parse(decoder.decode(bytes.subarray(field, field + length)));
          field += length;
        }
      }
      rows.push(row as Row);
    } else if (code === 0x43 /* C: command complete, "INSERT 0 5", "UPDATE 3", "SELECT 2" */) {
      const [tag] = cstring(bytes, body);
      const count = Number(tag.slice(tag.lastIndexOf(' ') + 1));
      if (Number.isInteger(count)) rowCount = count;
    } else if (code === 0x45 /* E: error */) {
      error ??= readError(bytes, body, end);
    }
    at = end;
  }
  if (error) throw error;
  return { rows, rowCount: rowCount ?? rows.length };
}
