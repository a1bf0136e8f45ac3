// What the sandbox tests (payments, KYC) share: the keys they start a sandbox with, a stand-in for
// the platform's webhook endpoint, the platform's signature check, an HTTP call helper, a body
// streamed past the size limit, and polling.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const API_KEY = 'test-api-key-0123456789';
export const SECRET = 'test-webhook-secret-0123456789';

export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
  arrivedAt: number;
}

/** A stand-in for the platform's webhook endpoint: records every request, answers as told. */
export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export type ReceiverAnswer = number | 'hang';

/**
 * Listens on 127.0.0.1 at `urlPath`. `answer(n)` gives the status for the n-th request (1-based);
 * 'hang' never answers; `delayMs` holds each answer back.
 */
export async function startReceiver(
  urlPath: string,
  answer: (n: number) => ReceiverAnswer = () => 200,
  delayMs = 0,
): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({
        headers: request.headers,
        raw,
        body: JSON.parse(raw) as Record<string, unknown>,
        arrivedAt: Date.now(),
      });
      const status = answer(received.length);
      if (status === 'hang') return;
      setTimeout(() => response.writeHead(status, { 'content-type': 'text/plain' }).end('.'), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${urlPath}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Checks the signature the way the platform must: HMAC over "<timestamp>.<raw body>". */
export function assertSigned(request: Received, secret = SECRET): void {
  const timestamp = request.headers['x-croupier-timestamp'];
  const signature = request.headers['x-croupier-signature'];
  assert.equal(typeof timestamp, 'string');
  assert.equal(typeof signature, 'string');
  assert.match(timestamp as string, /^\d{13}$/);
  assert.ok(Math.abs(Date.now() - Number(timestamp)) < 60_000, 'timestamp is current');
  assert.match(signature as string, /^[0-9a-f]{64}$/);
  const expected = createHmac('sha256', secret)
    .update(`${timestamp as string}.${request.raw}`)
    .digest();
  assert.ok(timingSafeEqual(Buffer.from(signature as string, 'hex'), expected), 'signature verifies');
  assert.equal(request.headers['content-type'], 'application/json');
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  ms: number;
}

export interface CallOptions {
  body?: unknown;
  rawBody?: string;
  /** The bearer key; API_KEY unless given, none with null. */
  key?: string | null;
  contentType?: string;
}

/** One request to a sandbox (or any base URL); a body that is not a JSON object comes back as { text }. */
export async function call(
  base: { readonly url: string } | string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.key !== null) headers['authorization'] = `Bearer ${options.key ?? API_KEY}`;
  let body: string | undefined;
  if (method === 'POST') {
    headers['content-type'] = options.contentType ?? 'application/json';
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const started = Date.now();
  const response = await fetch(`${typeof base === 'string' ? base : base.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text.startsWith('{') ? JSON.parse(text) : { text }) as Record<string, unknown>,
    headers: response.headers,
    ms: Date.now() - started,
  };
}

/**
 * POSTs a JSON body of over 20 KiB (one string `field`) without a content-length, so a size
 * limit must hold while the body streams in; resolves with the answer's status.
 */
export function postStreamedBody(url: string, field: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.write(`{"${field}":"`);
    for (let chunk = 0; chunk < 20; chunk += 1) request.write('A'.repeat(1024));
    request.end('"}');
  });
}

export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
