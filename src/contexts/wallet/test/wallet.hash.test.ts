// The request hash is stored with every transfer and refusal and compared on every retry: its
// text may never change. These tests pin it to the form it was first made with (JSON.stringify
// of a canonical copy) and to a known value.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hash } from 'node:crypto';
import { canonicalJson, requestHash, transferJson } from '../wallet.service.ts';
import type { WalletRequest } from '../wallet.contract.ts';

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

  it('hashes transfer requests on the fast path exactly as the original construction', () => {
    const text = fc.string({ unit: 'binary', maxLength: 8 });
    const ref = fc.oneof(
      { arbitrary: fc.record({ player: text, kind: text }), weight: 4 },
      { arbitrary: fc.record({ system: text, ref: text }), weight: 4 },
      // Not shaped like a reference: the generic path must take these.
      fc.record({ player: text, system: text }),
      fc.record({ player: text, kind: text, extra: fc.option(text, { nil: undefined }) }),
    );
    const transfer = fc.record(
      {
        type: fc.constant('transfer'),
        id: text,
        debit: ref,
        credit: ref,
        amount: fc.oneof({ arbitrary: fc.bigInt(), weight: 9 }, { arbitrary: fc.integer(), weight: 1 }),
        currency: text,
        code: text,
        linked: fc.option(fc.boolean(), { nil: undefined }),
        metadata: fc.option(fc.dictionary(key, text, { maxKeys: 4 }), { nil: undefined }),
        pending: fc.option(fc.record({ timeoutSeconds: fc.option(fc.integer(), { nil: undefined }) }), {
          nil: undefined,
        }),
        other: fc.option(text, { nil: undefined }),
      },
      { requiredKeys: ['type', 'id', 'debit', 'credit', 'amount', 'currency', 'code'] },
    );
    // In any key order: the hash may not depend on how the caller built the object.
    const shuffled = fc.tuple(transfer, fc.infiniteStream(fc.nat())).map(([request, order]) =>
      Object.fromEntries(
        Object.entries(request)
          .map(([k, v]) => ({ k, v, o: order.next().value as number }))
          .sort((a, b) => a.o - b.o)
          .map(({ k, v }) => [k, v]),
      ),
    );
    let fast = 0;
    fc.assert(
      fc.property(shuffled, (request) => {
        const { id: _id, ...rest } = request;
        const original = hash('sha256', JSON.stringify(canonicalCopy(rest)), 'base64url');
        if (transferJson(request as unknown as WalletRequest) !== undefined) fast++;
        assert.equal(requestHash(request as unknown as WalletRequest), original);
      }),
      { numRuns: 2000 },
    );
    assert.ok(fast > 100 && fast < 1900, `both paths were taken (fast ${fast} of 2000)`);
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
