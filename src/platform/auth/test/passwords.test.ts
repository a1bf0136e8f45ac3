// Proves passwords hash with argon2id at the configured cost, verify only the right password, and that bad input and malformed hashes answer false instead of throwing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPasswordHashing, PasswordHasher, passwordLengthMax } from '../index.ts';

// Cheap parameters keep most tests fast; one test runs the OWASP defaults.
const cheap = new PasswordHasher({ memoryCostKiB: 1_024, timeCost: 1, parallelism: 1 });

describe('PasswordHasher', () => {
  it('hashes with argon2id at the OWASP defaults and verifies the same password', async () => {
    const hasher = new PasswordHasher();
    const hash = await hasher.hash('correct horse battery staple');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.deepEqual(defaultPasswordHashing, { memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 });
    assert.equal(await hasher.verify(hash, 'correct horse battery staple'), true);
    assert.equal(await hasher.verify(hash, 'correct horse battery stapl'), false);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([cheap.hash('same password'), cheap.hash('same password')]);
    assert.notEqual(a, b);
    assert.equal(await cheap.verify(a, 'same password'), true);
    assert.equal(await cheap.verify(b, 'same password'), true);
  });

  it('answers false for a wrong password and for malformed hashes, never throwing', async () => {
    const hash = await cheap.hash('secret-password');
    assert.equal(await cheap.verify(hash, 'Secret-password'), false);
    assert.equal(await cheap.verify(hash, ''), false);
    const malformed = [
      '',
      'not a hash',
      '$argon2id$',
      '$argon2id$v=19$m=1024,t=1,p=1$!!!$!!!',
      hash.slice(0, -5),
      `$2b$10$${'a'.repeat(53)}`,
      `$argon2id$${'x'.repeat(10_000)}`,
    ];
    for (const bad of malformed) {
      assert.equal(await cheap.verify(bad, 'secret-password'), false, `matched '${bad.slice(0, 30)}'`);
    }
  });

  it('bounds password length: hash throws RangeError, verify answers false', async () => {
    const longest = 'p'.repeat(passwordLengthMax);
    const hash = await cheap.hash(longest);
    assert.equal(await cheap.verify(hash, longest), true);
    await assert.rejects(cheap.hash(`${longest}p`), RangeError);
    assert.equal(await cheap.verify(hash, `${longest}p`), false);
  });

  it('verifyNothing answers false after doing argon2 work', async () => {
    const hasher = new PasswordHasher({ memoryCostKiB: 8_192, timeCost: 2, parallelism: 1 });
    await hasher.verifyNothing('warm-up'); // the dummy hash is made on first use
    const started = performance.now();
    const answer = await hasher.verifyNothing('anything at all');
    const elapsedMs = performance.now() - started;
    assert.equal(answer, false);
    assert.ok(elapsedMs > 0, `took ${elapsedMs} ms`);
    assert.equal(await hasher.verifyNothing('x'.repeat(passwordLengthMax + 1)), false);
  });

  it('says when a hash was made with other parameters', async () => {
    const hash = await cheap.hash('secret-password');
    assert.equal(cheap.needsRehash(hash), false);
    assert.equal(
      new PasswordHasher({ memoryCostKiB: 2_048, timeCost: 1, parallelism: 1 }).needsRehash(hash),
      true,
    );
    assert.equal(
      new PasswordHasher({ memoryCostKiB: 1_024, timeCost: 2, parallelism: 1 }).needsRehash(hash),
      true,
    );
    assert.equal(cheap.needsRehash('garbage'), true);
    assert.equal(cheap.needsRehash(hash.replace('$argon2id$', '$argon2i$')), true);
  });
});
