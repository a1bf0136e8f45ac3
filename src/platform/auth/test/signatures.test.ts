// Proves the HMAC request signature accepts exactly the signed body and timestamp within ±5 minutes, and refuses missing, stale, malformed or altered ones.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  signatureHeaderName,
  signBody,
  signedHeaders,
  timestampHeaderName,
  verifySignedRequest,
} from '../index.ts';

const SECRET = 'studio-secret';
const NOW_MS = Date.UTC(2026, 0, 1, 12, 0, 0);
const BODY = Buffer.from('{"playerId":"p1","amount":"10.00","currency":"EUR"}');

function headersFor(body: Buffer | string = BODY, atMs = NOW_MS) {
  const headers = signedHeaders(SECRET, atMs, body);
  return { timestampHeader: headers[timestampHeaderName], signatureHeader: headers[signatureHeaderName] };
}

describe('request signatures', () => {
  it('signs lowercase hex HMAC-SHA256 of "timestamp.body" and verifies it', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW_MS}.${BODY.toString()}`).digest('hex');
    assert.equal(signBody(SECRET, NOW_MS, BODY), expected);
    assert.equal(signBody(SECRET, NOW_MS, BODY.toString()), expected);
    assert.deepEqual(signedHeaders(SECRET, NOW_MS, BODY), {
      'x-croupier-timestamp': String(NOW_MS),
      'x-croupier-signature': expected,
    });
    assert.deepEqual(verifySignedRequest({ secret: SECRET, ...headersFor(), rawBody: BODY, nowMs: NOW_MS }), {
      ok: true,
    });
  });

  it('signs a Buffer body as its bytes, not as decoded text', () => {
    const invalidUtf8 = Buffer.from([0x7b, 0xff, 0x7d]);
    const other = Buffer.from([0x7b, 0xfe, 0x7d]);
    assert.notEqual(signBody(SECRET, NOW_MS, invalidUtf8), signBody(SECRET, NOW_MS, other));
  });

  it('refuses a body with one byte changed, another secret and another timestamp', () => {
    const headers = headersFor();
    for (let i = 0; i < BODY.length; i += 7) {
      const flipped = Buffer.from(BODY);
      flipped[i] = flipped[i]! ^ 0x01;
      assert.deepEqual(verifySignedRequest({ secret: SECRET, ...headers, rawBody: flipped, nowMs: NOW_MS }), {
        ok: false,
        reason: 'mismatch',
      });
    }
    assert.deepEqual(verifySignedRequest({ secret: 'other', ...headers, rawBody: BODY, nowMs: NOW_MS }), {
      ok: false,
      reason: 'mismatch',
    });
    const shifted = { ...headers, timestampHeader: String(NOW_MS + 1) };
    assert.deepEqual(verifySignedRequest({ secret: SECRET, ...shifted, rawBody: BODY, nowMs: NOW_MS }), {
      ok: false,
      reason: 'mismatch',
    });
  });

  it('accepts a timestamp exactly 300000 ms away and refuses 300001, either way', () => {
    const headers = headersFor();
    const at = (nowMs: number) => verifySignedRequest({ secret: SECRET, ...headers, rawBody: BODY, nowMs });
    assert.deepEqual(at(NOW_MS + 300_000), { ok: true });
    assert.deepEqual(at(NOW_MS - 300_000), { ok: true });
    assert.deepEqual(at(NOW_MS + 300_001), { ok: false, reason: 'stale' });
    assert.deepEqual(at(NOW_MS - 300_001), { ok: false, reason: 'stale' });
    assert.deepEqual(
      verifySignedRequest({
        secret: SECRET,
        ...headers,
        rawBody: BODY,
        nowMs: NOW_MS + 2_000,
        toleranceMs: 1_000,
      }),
      { ok: false, reason: 'stale' },
    );
  });

  it('refuses missing, empty and repeated headers', () => {
    const { timestampHeader, signatureHeader } = headersFor();
    const cases = [
      { timestampHeader: undefined, signatureHeader },
      { timestampHeader, signatureHeader: undefined },
      { timestampHeader: '', signatureHeader },
      { timestampHeader, signatureHeader: '' },
      { timestampHeader: [timestampHeader!, timestampHeader!], signatureHeader },
    ];
    for (const headers of cases) {
      assert.deepEqual(verifySignedRequest({ secret: SECRET, ...headers, rawBody: BODY, nowMs: NOW_MS }), {
        ok: false,
        reason: 'missing',
      });
    }
  });

  it('refuses non-digit timestamps and signatures that are not 64 lowercase hex digits', () => {
    const { timestampHeader, signatureHeader } = headersFor();
    for (const bad of [`${NOW_MS}.0`, `+${NOW_MS}`, ` ${NOW_MS}`, '1e12', '0x1', `${NOW_MS}ms`]) {
      assert.deepEqual(
        verifySignedRequest({
          secret: SECRET,
          timestampHeader: bad,
          signatureHeader,
          rawBody: BODY,
          nowMs: NOW_MS,
        }),
        { ok: false, reason: 'stale' },
        bad,
      );
    }
    const badSignatures = [
      signatureHeader!.toUpperCase(),
      signatureHeader!.slice(1),
      `${signatureHeader!}0`,
      `${signatureHeader!}00`,
      `sha256=${signatureHeader!}`,
      'g'.repeat(64),
    ];
    for (const bad of badSignatures) {
      assert.deepEqual(
        verifySignedRequest({
          secret: SECRET,
          timestampHeader,
          signatureHeader: bad,
          rawBody: BODY,
          nowMs: NOW_MS,
        }),
        { ok: false, reason: 'mismatch' },
        bad,
      );
    }
  });
});
