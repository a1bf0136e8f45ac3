import { INT8_ARRAY_OID } from './db.ts';

// Array parameters as PostgreSQL array literals, written directly. The drivers' own array
// serialisers handle each element generically (type checks, escaping of every string); for the
// wallet's batch statements (two dozen arrays of a batch's size each) that was a sixth of the
// time spent in a query on PGlite. Elements of other kinds (buffers, objects) are left to the
// driver: isPlainArray says no and the caller falls back.

export type PlainElement = string | number | bigint | boolean | Date | null | undefined | PlainElement[];

function isPlainElement(value: unknown): value is PlainElement {
  return (
    value === null ||
    value === undefined ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'boolean' ||
    value instanceof Date ||
    isPlainArray(value)
  );
}

export function isPlainArray(value: unknown): value is PlainElement[] {
  return Array.isArray(value) && value.every(isPlainElement);
}

/**
 * An array literal: numbers bare, everything else double-quoted with \\ and \" escaped. Arrays of
 * only numbers or only strings (the batch statements' columns) are joined in one call: appending
 * element by element made a string per step, the largest share of a wallet batch's allocations.
 */
export function arrayLiteral(values: readonly PlainElement[]): string {
  const uniform = uniformType(values);
  if (uniform === 'number') return `{${values.join(',')}}`;
  if (uniform === 'string') return `{"${(values as readonly string[]).map(escapeElement).join('","')}"}`;
  return mixedArrayLiteral(values);
}

/** 'number' if every element is a bigint or number, 'string' if every one is a string. */
function uniformType(values: readonly PlainElement[]): 'number' | 'string' | undefined {
  if (values.length === 0) return undefined;
  const first = typeof values[0];
  const kind =
    first === 'bigint' || first === 'number' ? 'number' : first === 'string' ? 'string' : undefined;
  if (kind === undefined) return undefined;
  for (let i = 1; i < values.length; i++) {
    const type = typeof values[i];
    if (kind === 'number' ? type !== 'bigint' && type !== 'number' : type !== 'string') return undefined;
  }
  return kind;
}

function mixedArrayLiteral(values: readonly PlainElement[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const value = values[i];
    if (value === null || value === undefined) out += 'NULL';
    else if (typeof value === 'bigint' || typeof value === 'number') out += String(value);
    else if (typeof value === 'boolean') out += value ? 't' : 'f';
    else if (value instanceof Date) out += `"${value.toISOString()}"`;
    else if (Array.isArray(value)) out += arrayLiteral(value);
    else out += `"${escapeElement(value)}"`;
  }
  return `${out}}`;
}

/** Backslashes and double quotes escaped; most strings have neither, and skip the replacing. */
function escapeElement(value: string): string {
  let out = value;
  if (out.includes('\\')) out = out.replaceAll('\\', '\\\\');
  if (out.includes('"')) out = out.replaceAll('"', '\\"');
  return out;
}

// Array parameters in PostgreSQL's binary format (what array_send writes and array_recv reads),
// for the element types of the wallet's batch columns. A text literal costs on both sides: here,
// a string per element (BigInt.prototype.toString is slow) and a scan of each string for quotes;
// on the server, array_in's character-by-character parse. The binary form is a header, then each
// element's length and bytes. Only used where the statement's parameter type is known (the
// server reported it): array_recv refuses an array of another element type.
export const BOOL_ARRAY_OID = 1000;
export const TEXT_ARRAY_OID = 1009;
export const TIMESTAMPTZ_ARRAY_OID = 1185;

const ELEMENT_OIDS: Readonly<Record<number, number>> = {
  [BOOL_ARRAY_OID]: 16,
  [INT8_ARRAY_OID]: 20,
  [TEXT_ARRAY_OID]: 25,
  [TIMESTAMPTZ_ARRAY_OID]: 1184,
};
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
// PostgreSQL's timestamps count microseconds from 2000-01-01 00:00:00 UTC.
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);
const LONG_STRING = 24;

/**
 * The binary form of `values` as a parameter of type `arrayOid`, or undefined when this encoder
 * does not write that type or an element does not fit it exactly (an int8 out of range, a
 * fraction, an invalid date, a nested array…): the text literal then goes instead, and the server
 * reports what is wrong with it, as before.
 */
export function binaryArray(values: readonly PlainElement[], arrayOid: number): Buffer | undefined {
  const elementOid = ELEMENT_OIDS[arrayOid];
  if (elementOid === undefined) return undefined;
  const n = values.length;
  // The size, checking every element first: nothing is written for an array that falls back.
  // Strings are sized as one byte per UTF-16 unit; one that is not ASCII sends the whole array
  // down the measured path (writeStrings).
  let size = n === 0 ? 12 : 20;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      nulls++;
      size += 4;
    } else if (elementOid === 20) {
      if (typeof value === 'bigint') {
        if (value < INT8_MIN || value > INT8_MAX) return undefined;
      } else if (typeof value !== 'number' || !Number.isSafeInteger(value)) return undefined;
      size += 12;
    } else if (elementOid === 25) {
      if (typeof value !== 'string') return undefined;
      size += 4 + value.length;
    } else if (elementOid === 16) {
      if (typeof value !== 'boolean') return undefined;
      size += 5;
    } else {
      if (!(value instanceof Date) || !Number.isFinite(value.getTime())) return undefined;
      size += 12;
    }
  }
  // DataView's setters are inlined by the compiler; Buffer's write methods were slower than the
  // text literal they replace.
  const out = Buffer.allocUnsafe(size);
  const view = new DataView(out.buffer, out.byteOffset, size);
  view.setInt32(0, n === 0 ? 0 : 1); // dimensions
  view.setInt32(4, nulls > 0 ? 1 : 0); // has nulls
  view.setInt32(8, elementOid);
  if (n === 0) return out;
  view.setInt32(12, n); // length of the one dimension
  view.setInt32(16, 1); // its lower bound
  let at = 20;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      view.setInt32(at, -1);
      at += 4;
    } else if (elementOid === 20) {
      view.setInt32(at, 8);
      view.setBigInt64(at + 4, typeof value === 'bigint' ? value : BigInt(value as number));
      at += 12;
    } else if (elementOid === 25) {
      const text = value as string;
      view.setInt32(at, text.length);
      at += 4;
      // Short strings (ids) are copied here; for long ones (hashes, JSON) two native calls, a
      // UTF-8 measure and a one-byte write, cost less than the loop.
      if (text.length > LONG_STRING) {
        if (Buffer.byteLength(text) !== text.length)
          return writeStrings(values as readonly (string | null | undefined)[], nulls);
        at += out.write(text, at, 'latin1');
      } else {
        for (let j = 0; j < text.length; j++) {
          const code = text.charCodeAt(j);
          if (code > 0x7f) return writeStrings(values as readonly (string | null | undefined)[], nulls);
          out[at++] = code;
        }
      }
    } else if (elementOid === 16) {
      view.setInt32(at, 1);
      out[at + 4] = value ? 1 : 0;
      at += 5;
    } else {
      view.setInt32(at, 8);
      view.setBigInt64(at + 4, BigInt((value as Date).getTime() - POSTGRES_EPOCH_MS) * 1000n);
      at += 12;
    }
  }
  return out;
}

/** A text[] with non-ASCII strings: each measured in UTF-8 bytes, then written. */
function writeStrings(values: readonly (string | null | undefined)[], nulls: number): Buffer {
  const lengths = values.map((value) =>
    value === null || value === undefined ? -1 : Buffer.byteLength(value),
  );
  const size = 20 + lengths.reduce((sum, length) => sum + 4 + Math.max(length, 0), 0);
  const out = Buffer.allocUnsafe(size);
  const view = new DataView(out.buffer, out.byteOffset, size);
  view.setInt32(0, 1);
  view.setInt32(4, nulls > 0 ? 1 : 0);
  view.setInt32(8, 25);
  view.setInt32(12, values.length);
  view.setInt32(16, 1);
  let at = 20;
  values.forEach((value, i) => {
    view.setInt32(at, lengths[i]!);
    at += 4;
    if (value !== null && value !== undefined) at += out.write(value, at, 'utf8');
  });
  return out;
}
