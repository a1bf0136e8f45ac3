// Proves how the platform serves the web apps and the live signals, over real HTTP without a
// browser: cache headers (hashed assets immutable, HTML revalidated), compression and ETags, the
// SPA fallback that never shadows the API's own 404s, and GET /api/v1/events (authentication by
// header or query, a `change` signal for the player's own events only, none for another's).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startBrowserPlatform } from './support/platform.ts';
import type { BrowserPlatform } from './support/platform.ts';

async function get(platform: BrowserPlatform, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${platform.url}${path}`, { headers });
  return { response, body: await response.text() };
}

async function playerToken(platform: BrowserPlatform): Promise<string> {
  const email = `live-${randomBytes(5).toString('hex')}@example.test`;
  const password = 'correct horse battery';
  const registered = await fetch(`${platform.url}/api/v1/players`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email,
      password,
      firstName: 'Lin',
      lastName: `Live${randomBytes(3).toString('hex')}`,
      dateOfBirth: '1985-06-07',
      country: 'MT',
      currency: 'EUR',
    }),
  });
  assert.equal(registered.status, 201);
  const login = await fetch(`${platform.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(login.status, 200);
  return ((await login.json()) as { accessToken: string }).accessToken;
}

interface EventStream {
  readonly status: number;
  readonly contentType: string;
  /** Events until `stop` says so or the time is up; then the connection is closed. */
  read(
    stop: (events: { event: string; data: string }[]) => boolean,
    timeoutMs: number,
  ): Promise<{ event: string; data: string }[]>;
}

/**
 * Opens GET /api/v1/events with node:http rather than fetch: fetch's connection pool opens a spare
 * socket when a streamed body is cancelled, and a socket that never sends a request holds the
 * server's close until its header timeout.
 */
function openEvents(
  platform: BrowserPlatform,
  path: string,
  headers: Record<string, string> = {},
): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${platform.url}${path}`, { headers, agent: false }, (response) => {
      response.setEncoding('utf8');
      const events: { event: string; data: string }[] = [];
      let buffer = '';
      let wake: (() => void) | undefined;
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          const event = /^event: (.*)$/m.exec(block)?.[1];
          if (event) events.push({ event, data: /^data: (.*)$/m.exec(block)?.[1] ?? '' });
        }
        wake?.();
      });
      response.on('end', () => wake?.());
      resolve({
        status: response.statusCode ?? 0,
        contentType: String(response.headers['content-type'] ?? ''),
        async read(stop, timeoutMs) {
          const deadline = Date.now() + timeoutMs;
          while (!stop(events) && !response.complete && Date.now() < deadline) {
            await new Promise<void>((done) => {
              wake = done;
              setTimeout(done, Math.max(0, deadline - Date.now()));
            });
          }
          request.destroy();
          return events;
        },
      });
    });
    request.once('error', reject);
  });
}

describe('web serving and live signals', () => {
  let platform: BrowserPlatform;
  before(async () => {
    platform = await startBrowserPlatform();
  });
  after(async () => {
    await platform?.close();
  });

  it('serves the apps with cache headers, compression, ETags and a strict policy', async () => {
    const lobby = await get(platform, '/', { accept: 'text/html' });
    assert.equal(lobby.response.status, 200);
    assert.match(lobby.response.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(lobby.response.headers.get('cache-control'), 'no-cache');
    assert.match(lobby.response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(lobby.body, /<div id="root">/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(lobby.body)?.[1];
    assert.ok(script, 'the page loads a hashed script');
    const asset = await get(platform, script, { 'accept-encoding': 'gzip, br' });
    assert.equal(asset.response.status, 200);
    assert.equal(asset.response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(asset.response.headers.get('content-type') ?? '', /javascript/);
    const etag = asset.response.headers.get('etag') ?? '';
    assert.ok(etag.length > 2);
    const again = await fetch(`${platform.url}${script}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const raw = await fetch(`${platform.url}${script}`, { headers: { 'accept-encoding': 'br' } });
    assert.equal(raw.headers.get('content-encoding'), 'br');
    await raw.body?.cancel();

    const backoffice = await get(platform, '/backoffice', { accept: 'text/html' });
    assert.match(backoffice.body, /back office/);
    const deep = await get(platform, '/backoffice/players/123', { accept: 'text/html' });
    assert.equal(deep.body, backoffice.body, 'back-office routes get the back office');
    const lobbyRoute = await get(platform, '/history/rounds/abc', { accept: 'text/html' });
    assert.equal(lobbyRoute.body, lobby.body, 'lobby routes get the lobby');
    assert.equal((await get(platform, '/favicon.svg')).response.status, 200);
  });

  it('never answers an API path with a page', async () => {
    for (const path of [
      '/api/v1/nothing',
      '/admin/v1/nothing',
      '/provider/v1/x/nothing',
      '/webhooks/x',
      '/.well-known/x',
      '/assets/missing.js',
    ]) {
      const { response, body } = await get(platform, path, { accept: 'text/html' });
      assert.equal(response.status, 404, path);
      assert.equal((JSON.parse(body) as { code: string }).code, 'NOT_FOUND', path);
    }
    const notHtml = await get(platform, '/cashier', { accept: 'application/json' });
    assert.equal(notHtml.response.status, 404, 'only browsers navigating get the page');
    assert.equal((await get(platform, '/healthz', { accept: 'text/html' })).body, '{"status":"ok"}');
    const openapi = await get(platform, '/openapi.json', { accept: 'text/html' });
    assert.match(openapi.body, /"openapi"/);
  });

  it('signals a player’s own changes on GET /api/v1/events, by header or query token', async () => {
    assert.equal((await get(platform, '/api/v1/events')).response.status, 401);
    const mine = await playerToken(platform);
    const other = await playerToken(platform);
    const stream = await openEvents(platform, '/api/v1/events', { authorization: `Bearer ${mine}` });
    assert.equal(stream.status, 200);
    assert.match(stream.contentType, /text\/event-stream/);
    const others = await openEvents(platform, `/api/v1/events?access_token=${encodeURIComponent(other)}`);
    assert.equal(others.status, 200, 'EventSource clients pass the token in the query');
    const reading = stream.read((events) => events.some((item) => item.event === 'change'), 10_000);
    const otherReading = others.read(() => false, 1500);
    const limit = await fetch(`${platform.url}/api/v1/limits/deposit/day`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${mine}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '100.00' }),
    });
    assert.equal(limit.status, 200);
    const events = await reading;
    assert.equal(events[0]?.event, 'ready');
    const change = events.find((item) => item.event === 'change');
    assert.ok(change, `a change signal (${JSON.stringify(events)})`);
    assert.equal((JSON.parse(change.data) as { subject: string }).subject, 'pam.limit.changed');
    // The other player may hear their own changes meanwhile (their KYC check completes on its own
    // schedule), but nothing of this one.
    assert.deepEqual(
      (await otherReading).filter(
        (item) =>
          item.event === 'change' &&
          (JSON.parse(item.data) as { subject: string }).subject === 'pam.limit.changed',
      ),
      [],
      'another player hears nothing of it',
    );
  });
});
