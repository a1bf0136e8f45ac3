// The HMAC scheme that authenticates machine-to-machine calls: our outgoing webhooks and the
// calls game studios make to the seamless-wallet API. The signature covers the timestamp and the
// exact bytes of the body, so a captured request cannot be replayed after the tolerance window or
// altered in transit; it is compared in constant time so the answer's timing does not leak it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { assert } from '../assert.ts';

export const timestampHeaderName = 'x-croupier-timestamp';
export const signatureHeaderName = 'x-croupier-signature';
/** How far a request's timestamp may be from our clock, either way. */
export const signatureToleranceMsDefault = 300_000;

const TIMESTAMP_RE = /^[0-9]{1,15}$/;
const SIGNATURE_RE = /^[0-9a-f]{64}$/;

/** Lowercase hex HMAC-SHA256(secret, `${timestampMs}.${rawBody}`). */
export function signBody(secret: string, timestampMs: number, rawBody: Buffer | string): string {
  assert(secret.length > 0, 'an HMAC secret must not be empty');
  assert(Number.isSafeInteger(timestampMs) && timestampMs >= 0, 'timestampMs must be a non-negative integer');
  // Two updates rather than one concatenated string: a Buffer body is signed as its bytes, never
  // decoded (and possibly altered) as UTF-8 first.
  return createHmac('sha256', secret).update(`${timestampMs}.`).update(rawBody).digest('hex');
}

/** The two headers that authenticate a request with this body, sent at nowMs. */
export function signedHeaders(
  secret: string,
  nowMs: number,
  rawBody: Buffer | string,
): Record<string, string> {
  const timestampMs = Math.floor(nowMs);
  return {
    [timestampHeaderName]: String(timestampMs),
    [signatureHeaderName]: signBody(secret, timestampMs, rawBody),
  };
}

export interface SignedRequest {
  secret: string;
  /** The raw header values as received (Node gives an array for a repeated header). */
  timestampHeader: string | readonly string[] | undefined;
  signatureHeader: string | readonly string[] | undefined;
  /** The exact bytes received, before any JSON parsing. */
  rawBody: Buffer | string;
  nowMs: number;
  toleranceMs?: number;
}

/**
 * - missing: a header is absent, empty or repeated;
 * - stale: the timestamp is not Unix milliseconds within the tolerance of now (either way);
 * - mismatch: the signature is not 64 lowercase hex digits, or not the one the body and
 *   timestamp give.
 */
export type SignatureRefusal = 'missing' | 'stale' | 'mismatch';

export function verifySignedRequest(
  request: SignedRequest,
): { ok: true } | { ok: false; reason: SignatureRefusal } {
  const toleranceMs = request.toleranceMs ?? signatureToleranceMsDefault;
  const timestamp = request.timestampHeader;
  const signature = request.signatureHeader;
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return { ok: false, reason: 'missing' };
  if (timestamp.length === 0 || signature.length === 0) return { ok: false, reason: 'missing' };
  if (!TIMESTAMP_RE.test(timestamp)) return { ok: false, reason: 'stale' };
  const timestampMs = Number(timestamp);
  if (Math.abs(request.nowMs - timestampMs) > toleranceMs) return { ok: false, reason: 'stale' };
  if (!SIGNATURE_RE.test(signature)) return { ok: false, reason: 'mismatch' };
  const expected = Buffer.from(signBody(request.secret, timestampMs, request.rawBody), 'hex');
  const given = Buffer.from(signature, 'hex');
  // Both are 32 bytes by now; the length check keeps timingSafeEqual from throwing if that changes.
  const equal = given.length === expected.length && timingSafeEqual(given, expected);
  return equal ? { ok: true } : { ok: false, reason: 'mismatch' };
}
