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
