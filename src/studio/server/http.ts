// Small HTTP helpers of the studio's node:http server: JSON answers, bounded JSON bodies, bearer
// tokens. The studio keeps to node:http so it stays an outside party with no share in the
// platform's web stack.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body: a full roulette spin of 200 bets fits comfortably. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, unknown>;

  constructor(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

const baseHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...baseHeaders,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export function sendError(response: ServerResponse, error: HttpError): void {
  const headers: Record<string, string> = {};
  const retryAfterMs = error.extra['retryAfterMs'];
  if (typeof retryAfterMs === 'number')
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  sendJson(response, error.status, { error: error.code, message: error.message, ...error.extra }, headers);
}

export function sendHtml(
  response: ServerResponse,
  status: number,
  page: { html: string; headers: Readonly<Record<string, string>> },
): void {
  response.writeHead(status, { ...page.headers, 'content-length': Buffer.byteLength(page.html) });
  response.end(page.html);
}

/** Reads a JSON body (content type application/json, at most BODY_LIMIT_BYTES). */
export async function readJson(request: IncomingMessage): Promise<unknown> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    request.resume();
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > BODY_LIMIT_BYTES) {
    request.resume();
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body may be at most ${BODY_LIMIT_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) {
      request.resume();
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body may be at most ${BODY_LIMIT_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'INVALID_REQUEST', 'the body is not valid JSON');
  }
}

export function bearer(request: IncomingMessage): string | undefined {
  const match = /^Bearer ([^\s]+)$/.exec(request.headers.authorization ?? '');
  return match?.[1];
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison of a presented secret with the digest of the expected one. */
export function secretMatches(presented: string | undefined, expectedDigest: Buffer): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(sha256(presented), expectedDigest);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** A client-chosen id or token: 1..max characters without control characters. */
export function isIdText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= max && !CONTROL_RE.test(value);
}
