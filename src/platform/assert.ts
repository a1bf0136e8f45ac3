// Assertions catch programmer errors and broken invariants. They are never caught and handled as
// business outcomes: a failed assertion means the code is wrong, so the process must stop rather
// than continue with money it cannot account for (TigerBeetle's TIGER_STYLE).

export class AssertionFailure extends Error {
  override readonly name = 'AssertionFailure';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}

/** Exhaustiveness guard for switch statements over unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionFailure(`unexpected ${what}: ${String(value)}`);
}
