// Proves UUIDv7 ids are well-formed, time-ordered and unique, and that client ids follow contract §0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isExternalId, isUuid, uuidv7, uuidv7Time } from '../ids.ts';

describe('uuidv7', () => {
  it('is a version-7 RFC 9562 UUID that carries its time', () => {
    const at = Date.UTC(2026, 10, 21, 12, 0, 0);
    const id = uuidv7(at);
    assert.ok(isUuid(id));
    assert.equal(id[14], '7');
    assert.ok(['8', '9', 'a', 'b'].includes(id[19]!));
    assert.ok(uuidv7Time(id) >= at);
  });

  it('sorts in creation order even within one millisecond, and never repeats', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7(1_800_000_000_000));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('client-chosen ids', () => {
  it('accepts 1–128 characters of anything but control characters', () => {
    assert.ok(isExternalId('a'));
    assert.ok(isExternalId('x'.repeat(128)));
    assert.ok(isExternalId('"quoted" \'id\' ünïcødé 🎰'));
    assert.ok(isExternalId('🎰'.repeat(128)));
  });

  it('refuses empty, too long, control characters and non-strings', () => {
    assert.ok(!isExternalId(''));
    assert.ok(!isExternalId('x'.repeat(129)));
    assert.ok(!isExternalId('a\u0000b'));
    assert.ok(!isExternalId('line\nbreak'));
    assert.ok(!isExternalId('del\u007f'));
    assert.ok(!isExternalId(42));
    assert.ok(!isExternalId(null));
  });
});
