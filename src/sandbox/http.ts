// The HTTP pieces the outside-party sandboxes (payments, KYC) share: the signed webhook POST with
// its retry delays, bearer-key checks, bounded body reading and JSON replies. Each sandbox keeps
// its own routes, records and wording; only what is identical between them lives here.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../platform/telemetry/logger.ts';

/** The largest request body a sandbox reads. */
export const BODY_LIMIT_BYTES = 16 * 1024;
const RETRY_DELAY_CAP_MS = 30_000;

/** Delay before retry number `attempt` (1-based): base × 2^(attempt-1), capped, then 50–100% of it. */
export function retryDelayMs(baseMs: number, attempt: number): number {
  const ceiling = Math.min(RETRY_DELAY_CAP_MS, baseMs * 2 ** Math.min(attempt - 1, 30));
  // Jitter spreads the retries of many failed webhooks so a recovering receiver is not hit by
  // all of them at once.
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export interface SignedWebhook {
  readonly url: string;
  /** The exact JSON bytes to send (and sign). */
  readonly body: string;
  readonly secret: string;
  readonly userAgent: string;
  readonly timeoutMs: number;
  /** Aborts the attempt when the sandbox shuts down. */
  readonly signal: AbortSignal;
}

/**
 * One signed POST of a webhook: `x-croupier-timestamp: <unix ms>` and `x-croupier-signature:
 * <hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. Undefined on a 2xx answer, else what went wrong.
 */
export async function postSignedWebhook(webhook: SignedWebhook): Promise<string | undefined> {
  // Each attempt is signed afresh, so a late retry still falls inside the receiver's timestamp
  // tolerance; the body bytes stay the same across attempts and copies.
  const timestamp = String(Date.now());
  const signature = createHmac('sha256', webhook.secret).update(`${timestamp}.${webhook.body}`).digest('hex');
  try {
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': webhook.userAgent,
        'x-croupier-timestamp': timestamp,
        'x-croupier-signature': signature,
      },
      body: webhook.body,
      // A webhook is not followed elsewhere: a redirect counts as a failed attempt.
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(webhook.timeoutMs), webhook.signal]),
    });
    // The answer's body is not needed; dropping it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return undefined;
    return `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : 'network error';
  }
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether an Authorization header carries the bearer key whose SHA-256 is `apiKeyDigest`. */
export function authorized(header: string | undefined, apiKeyDigest: Buffer): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  if (!match) return false;
  return timingSafeEqual(sha256(match[1] ?? ''), apiKeyDigest);
}

export function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Reads a body of at most BODY_LIMIT_BYTES; answers 413 itself (and drops the connection) past it. */
export function readBody(
  request: IncomingMessage,
  response: ServerResponse,
  onBody: (raw: Buffer) => void,
): void {
  const tooLarge = (): void => {
    // The rest of the body is not read: the connection is closed once the 413 is written.
    response.setHeader('connection', 'close');
    send(response, 413, { error: 'payload_too_large' });
    response.once('finish', () => request.destroy());
  };
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > BODY_LIMIT_BYTES) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  request.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) {
      refused = true;
      chunks.length = 0;
      tooLarge();
      return;
    }
    chunks.push(chunk);
  });
  request.on('end', () => {
    if (!refused) onBody(Buffer.concat(chunks));
  });
  request.on('error', () => response.destroy());
}

/** Writes a JSON reply that is never cached. */
export function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** Listens on host:port (0 picks a free port) and resolves with the server's own URL. */
export async function listenOn(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

/** The few pino methods a sandbox uses; a pino Logger fits. */
export type SandboxLogger = Pick<Logger, 'debug' | 'info' | 'warn'>;

export const noopLogger: SandboxLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};

/** API requests that take longer than this (a slow-loris client) are cut off. */
const REQUEST_TIMEOUT_MS = 10_000;
/** After close(), connections still busy this long are cut. */
const CLOSE_GRACE_MS = 1_000;

/** A sandbox's HTTP server: slow requests are cut off, and a handler that throws answers 500. */
export function sandboxServer(
  label: string,
  logger: SandboxLogger,
  handle: (request: IncomingMessage, response: ServerResponse) => void,
): Server {
  return createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS },
    (request, response) => {
      try {
        handle(request, response);
      } catch (error) {
        logger.warn({ err: error }, `${label}: request failed`);
        if (!response.headersSent) send(response, 500, { error: 'internal' });
        else response.destroy();
      }
    },
  );
}

/**
 * Stops `server` taking requests and waits for it and for `pending` work: idle connections are
 * closed at once, busy ones after a short grace.
 */
export async function closeServer(server: Server, pending: Iterable<Promise<unknown>>): Promise<void> {
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  try {
    await Promise.allSettled([serverClosed, ...pending]);
  } finally {
    clearTimeout(cut);
  }
}
