// Proves Ed25519 tokens verify only when signed by a live key of this issuer, unexpired, for this audience, and that keys rotate, retire and get created once under racing starts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as signBytes } from 'node:crypto';
import { openTestDb } from '../../../../test/support/backend.ts';
import type { TestDb } from '../../../../test/support/backend.ts';
import { ManualClock } from '../../clock.ts';
import type { Db } from '../../db/index.ts';
import { migrate } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { signingKeysMigrationSet, TokenIssuer, verifyWithJwks } from '../index.ts';
import type { TokenIssuerOptions } from '../index.ts';

const TTL_SECONDS = 900;
const ISSUER = 'croupier-test';
const AUDIENCE = 'player';

let testDb: TestDb;
let db: Db;
let schemaCounter = 0;

async function freshSchema(): Promise<string> {
  schemaCounter += 1;
  const schema = `tok_${schemaCounter}`;
  await migrate(db, [signingKeysMigrationSet(schema)]);
  return schema;
}

async function openIssuer(
  overrides: Partial<TokenIssuerOptions> & { schema: string },
): Promise<{ issuer: TokenIssuer; clock: ManualClock }> {
  const clock = (overrides.clock as ManualClock | undefined) ?? new ManualClock();
  const issuer = await TokenIssuer.open({
    db,
    clock,
    issuer: ISSUER,
    audience: AUDIENCE,
    ttlSeconds: TTL_SECONDS,
    ...overrides,
  });
  return { issuer, clock };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function partsOf(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}

/** A token in our format signed with a key of the attacker's choosing. */
function forgedToken(kid: string, payload: Record<string, unknown>): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signingInput = `${b64({ alg: 'EdDSA', typ: 'JWT', kid })}.${b64(payload)}`;
  return `${signingInput}.${signBytes(null, Buffer.from(signingInput), privateKey).toString('base64url')}`;
}

async function keyCount(schema: string, where = 'true'): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from ${schema}.signing_keys where ${where}`,
  );
  return rows[0]?.n ?? -1;
}

before(async () => {
  testDb = await openTestDb();
  db = testDb.db;
});

after(async () => {
  await testDb.close();
});

describe('sign and verify', () => {
  it('round-trips the subject and the extra claims, with a header naming the signing key', async () => {
    const { issuer, clock } = await openIssuer({ schema: await freshSchema() });
    const signed = issuer.sign('player-1', { role: 'player', level: 3 });
    const iat = Math.floor(clock.nowMs() / 1000);
    assert.equal(signed.expiresInSeconds, TTL_SECONDS);
    assert.equal(signed.expiresAt.getTime(), (iat + TTL_SECONDS) * 1000);
    const { header, payload } = partsOf(signed.token);
    assert.deepEqual(header, { alg: 'EdDSA', typ: 'JWT', kid: issuer.currentKid });
    assert.equal(payload['jti'], signed.jti);

    const result = await issuer.verify(signed.token);
    assert.ok(result.ok);
    assert.equal(result.claims.sub, 'player-1');
    assert.equal(result.claims.iss, ISSUER);
    assert.equal(result.claims.aud, AUDIENCE);
    assert.equal(result.claims.iat, iat);
    assert.equal(result.claims.exp, iat + TTL_SECONDS);
    assert.equal(result.claims.jti, signed.jti);
    assert.equal(result.claims['role'], 'player');
    assert.equal(result.claims['level'], 3);
  });

  it('refuses to let extra claims replace the registered ones', async () => {
    const { issuer } = await openIssuer({ schema: await freshSchema() });
    assert.throws(() => issuer.sign('p', { exp: 9_999_999_999 }), /set by the issuer/);
    assert.throws(() => issuer.sign('p', { aud: 'admin' }), /set by the issuer/);
  });

  it('refuses a token whose payload was altered', async () => {
    const { issuer } = await openIssuer({ schema: await freshSchema() });
    const [header, payload, signature] = issuer.sign('player-1').token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${b64({ ...claims, sub: 'player-2' })}.${signature}`;
    assert.deepEqual(await issuer.verify(tampered), { ok: false, reason: 'signature' });
  });

  it('accepts a token one second before exp and refuses it at exp', async () => {
    const { issuer, clock } = await openIssuer({ schema: await freshSchema() });
    const { token } = issuer.sign('player-1');
    clock.advance((TTL_SECONDS - 1) * 1000);
    assert.ok((await issuer.verify(token)).ok);
    clock.advance(1000);
    assert.deepEqual(await issuer.verify(token), { ok: false, reason: 'expired' });
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    const schema = await freshSchema();
    const clock = new ManualClock();
    const { issuer } = await openIssuer({ schema, clock });
    const { issuer: backOffice } = await openIssuer({ schema, clock, audience: 'operator' });
    const { issuer: stranger } = await openIssuer({ schema, clock, issuer: 'someone-else' });
    const { token } = issuer.sign('player-1');
    assert.deepEqual(await backOffice.verify(token), { ok: false, reason: 'audience' });
    assert.deepEqual(await stranger.verify(token), { ok: false, reason: 'issuer' });
  });
});

describe('forgeries', () => {
  it('refuses a token from another issuer with its own keys, even after reloading', async () => {
    const { issuer, clock } = await openIssuer({ schema: await freshSchema() });
    const { issuer: other } = await openIssuer({ schema: await freshSchema(), clock });
    const { token } = other.sign('player-1');
    assert.deepEqual(await issuer.verify(token), { ok: false, reason: 'unknown_key' });
    clock.advance(10_000);
    assert.deepEqual(await issuer.verify(token), { ok: false, reason: 'unknown_key' });
  });

  it('refuses a token that names our kid but is signed with another private key', async () => {
    const { issuer, clock } = await openIssuer({ schema: await freshSchema() });
    const iat = Math.floor(clock.nowMs() / 1000);
    const token = forgedToken(issuer.currentKid, {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'admin',
      iat,
      exp: iat + 60,
      jti: 'x',
    });
    assert.deepEqual(await issuer.verify(token), { ok: false, reason: 'signature' });
  });

  it('refuses alg:none and HS256 keyed with our public key before any signature work', async () => {
    const { issuer, clock } = await openIssuer({ schema: await freshSchema() });
    const iat = Math.floor(clock.nowMs() / 1000);
    const payload = b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', iat, exp: iat + 60, jti: 'x' });
    const kid = issuer.currentKid;

    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64({ alg, typ: 'JWT', kid })}.${payload}.`;
      assert.deepEqual(await issuer.verify(unsigned), { ok: false, reason: 'algorithm' });
    }

    const publicX = issuer.jwks().keys[0]!.x!;
    const secrets = [
      Buffer.from(publicX, 'base64url'),
      Buffer.from(publicX),
      JSON.stringify(issuer.jwks().keys[0]),
    ];
    for (const secret of secrets) {
      const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${payload}`;
      const mac = createHmac('sha256', secret).update(signingInput).digest('base64url');
      assert.deepEqual(await issuer.verify(`${signingInput}.${mac}`), { ok: false, reason: 'algorithm' });
    }
    const noAlg = `${b64({ typ: 'JWT', kid })}.${payload}.${'A'.repeat(86)}`;
    assert.deepEqual(await issuer.verify(noAlg), { ok: false, reason: 'algorithm' });
  });

  it('refuses a signature spelled in non-canonical base64url', async () => {
    const { issuer } = await openIssuer({ schema: await freshSchema() });
    const { token } = issuer.sign('player-1');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 64 bytes take 86 characters whose last one carries 4 unused bits: flipping one still decodes
    // to the same signature.
    const last = alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]!;
    const respelled = `${token.slice(0, -1)}${last}`;
    assert.deepEqual(
      Buffer.from(respelled.split('.')[2]!, 'base64url'),
      Buffer.from(token.split('.')[2]!, 'base64url'),
    );
    assert.deepEqual(await issuer.verify(respelled), { ok: false, reason: 'malformed' });
  });

  it('refuses garbage without throwing', async () => {
    const { issuer } = await openIssuer({ schema: await freshSchema() });
    const { token } = issuer.sign('player-1');
    const [header, payload] = token.split('.') as [string, string, string];
    const garbage: unknown[] = [
      '',
      'a.b',
      'a.b.c',
      'a..b',
      '..',
      'x'.repeat(5_000),
      `${token}${'A'.repeat(5_000)}`,
      '!!!.###.$$$',
      `${header}=.${payload}.AAAA`,
      `${b64([1, 2, 3])}.${payload}.AAAA`,
      `${b64('EdDSA')}.${payload}.AAAA`,
      `${Buffer.from('{"alg":').toString('base64url')}.${payload}.AAAA`,
      `${Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url')}.${payload}.AAAA`,
      `${token}.extra`,
      '🎰.🎰.🎰',
      null,
      42,
      { token },
    ];
    for (const value of garbage) {
      const result = await issuer.verify(value as string);
      assert.equal(result.ok, false, `accepted ${String(value)}`);
      if (!result.ok) assert.equal(result.reason, 'malformed', `reason for ${String(value).slice(0, 40)}`);
      const edge = verifyWithJwks(value as string, issuer.jwks(), {
        issuer: ISSUER,
        audience: AUDIENCE,
        nowMs: Date.UTC(2026, 0, 1),
      });
      assert.equal(edge.ok, false);
    }
  });

  it('reloads keys for an unknown kid at most once per 5 seconds', async () => {
    const schema = await freshSchema();
    let queries = 0;
    const countingDb: Db = {
      ...db,
      query: (text, params) => {
        queries += 1;
        return db.query(text, params);
      },
    };
    const { issuer, clock } = await openIssuer({ schema, db: countingDb });
    const before = queries;
    for (let i = 0; i < 50; i++) {
      const token = forgedToken(`made-up-${i}`, { sub: 'x' });
      assert.deepEqual(await issuer.verify(token), { ok: false, reason: 'unknown_key' });
    }
    assert.equal(queries, before, 'no reload within 5 s of the last load');
    clock.advance(5_000);
    for (let i = 0; i < 50; i++) await issuer.verify(forgedToken(`made-up-${i}`, { sub: 'x' }));
    assert.equal(queries, before + 1, 'one reload for the whole burst');
  });
});

describe('key rotation', () => {
  it('keeps old tokens valid after rotate, signs new ones with the new key, and drops a retired key', async () => {
    const schema = await freshSchema();
    const { issuer } = await openIssuer({ schema });
    const firstKid = issuer.currentKid;
    const oldToken = issuer.sign('player-1').token;

    const newKid = await issuer.rotate();
    assert.notEqual(newKid, firstKid);
    assert.equal(issuer.currentKid, newKid);
    const newToken = issuer.sign('player-1').token;
    assert.equal(partsOf(newToken).header['kid'], newKid);
    assert.ok((await issuer.verify(oldToken)).ok);
    assert.ok((await issuer.verify(newToken)).ok);
    assert.deepEqual(
      issuer.jwks().keys.map((key) => key['kid']),
      [newKid, firstKid],
    );

    await issuer.retire(firstKid);
    assert.deepEqual(await issuer.verify(oldToken), { ok: false, reason: 'unknown_key' });
    assert.ok((await issuer.verify(newToken)).ok);
    assert.deepEqual(
      issuer.jwks().keys.map((key) => key['kid']),
      [newKid],
    );
    assert.equal(await keyCount(schema, 'retired_at is null'), 1);
    await issuer.retire(firstKid); // already retired: nothing to do

    await assert.rejects(issuer.retire(newKid), (error: unknown) => {
      return error instanceof AppError && error.code === 'CONFLICT';
    });
    await assert.rejects(issuer.retire('no-such-kid'), (error: unknown) => {
      return error instanceof AppError && error.code === 'NOT_FOUND';
    });
  });

  it('lets another process pick up a rotation (on an unknown kid) and a retirement (on refresh)', async () => {
    const schema = await freshSchema();
    const clock = new ManualClock();
    const { issuer: a } = await openIssuer({ schema, clock });
    const { issuer: b } = await openIssuer({ schema, clock, keysRefreshMs: 60_000 });
    assert.equal(a.currentKid, b.currentKid);
    const oldKid = a.currentKid;
    const oldToken = a.sign('player-1').token;

    await a.rotate();
    const newToken = a.sign('player-1').token;
    assert.deepEqual(await b.verify(newToken), { ok: false, reason: 'unknown_key' }, 'paced: too soon');
    clock.advance(5_000);
    assert.ok((await b.verify(newToken)).ok);
    assert.equal(b.currentKid, a.currentKid);

    await a.retire(oldKid);
    assert.ok((await b.verify(oldToken)).ok, 'still cached until the refresh');
    clock.advance(60_000);
    assert.deepEqual(await b.verify(oldToken), { ok: false, reason: 'unknown_key' });
  });

  it('creates exactly one key when several issuers open a fresh schema at once', async () => {
    for (let round = 0; round < 3; round++) {
      const schema = await freshSchema();
      const issuers = await Promise.all(
        Array.from({ length: 4 }, async () => (await openIssuer({ schema })).issuer),
      );
      assert.equal(await keyCount(schema), 1);
      assert.equal(new Set(issuers.map((issuer) => issuer.currentKid)).size, 1);
    }
  });
});

describe('verifyWithJwks', () => {
  it('verifies from the published JWKS alone, with the same refusals', async () => {
    const { issuer, clock } = await openIssuer({ schema: await freshSchema() });
    const { token } = issuer.sign('player-1', { role: 'player' });
    // Through JSON, as an edge node would fetch it: no database, no issuer object.
    const jwks = JSON.parse(JSON.stringify(issuer.jwks())) as ReturnType<TokenIssuer['jwks']>;
    assert.equal(jwks.keys.length, 1);
    const published = jwks.keys[0]!;
    assert.equal(published.kty, 'OKP');
    assert.equal(published.crv, 'Ed25519');
    assert.equal(published['alg'], 'EdDSA');
    assert.equal(published['use'], 'sig');
    assert.equal(published['kid'], issuer.currentKid);
    assert.equal(published.d, undefined, 'no private part is published');

    const expect = { issuer: ISSUER, audience: AUDIENCE, nowMs: clock.nowMs() };
    const result = verifyWithJwks(token, jwks, expect);
    assert.ok(result.ok);
    assert.equal(result.claims['role'], 'player');
    assert.deepEqual(verifyWithJwks(token, jwks, { ...expect, nowMs: expect.nowMs + TTL_SECONDS * 1000 }), {
      ok: false,
      reason: 'expired',
    });
    assert.deepEqual(verifyWithJwks(token, jwks, { ...expect, audience: 'operator' }), {
      ok: false,
      reason: 'audience',
    });
    assert.deepEqual(verifyWithJwks(token, { keys: [] }, expect), { ok: false, reason: 'unknown_key' });
    const otherX = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x;
    assert.ok(otherX);
    const otherKey = { ...published, x: otherX };
    assert.deepEqual(verifyWithJwks(token, { keys: [otherKey] }, expect), { ok: false, reason: 'signature' });
    assert.deepEqual(verifyWithJwks(token, { keys: [{ ...published, crv: 'X25519' }] }, expect), {
      ok: false,
      reason: 'unknown_key',
    });
  });
});
