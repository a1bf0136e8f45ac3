// The request hash is stored with every transfer and refusal and compared on every retry: its
// text may never change. These tests pin it to the form it was first made with (JSON.stringify
// of a canonical copy) and to a known value.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, requestHash } from '../wallet.service.ts';

/** The original construction: a canonical copy of the value, then JSON.stringify. */
function canonicalCopy(value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return value.map(canonicalCopy);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, canonicalCopy((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

const leaf = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.bigInt(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
// Keys that look like array indices ("0", "42") are listed first by a JavaScript object.
const key = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.nat().map(String),
  fc.constant('4294967295'),
);
const value = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('tree'), { maxKeys: 5 }),
})).tree;

describe('wallet request hash', () => {
  it('writes exactly the text JSON.stringify gives for the canonical copy', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 8 }), (request) => {
        assert.equal(canonicalJson(request), JSON.stringify(canonicalCopy(request)));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the hash of a known request', () => {
    const hash = requestHash({
      type: 'transfer',
      id: 'ignored',
      debit: { player: 'p1', kind: 'cash' },
      credit: { system: 'game_revenue', ref: 'studio' },
      amount: 1234n,
      currency: 'EUR',
      code: 'bet',
      metadata: { round: 'r1', game: 'g"1' },
    });
    assert.equal(hash, EXPECTED);
  });
});

// Computed with the original construction (JSON.stringify of the canonical copy).
const EXPECTED = 'uFl-5epDHIHW7P7_yXjE0hkQkS1hrQbZ7lsEvdoLJh0';
