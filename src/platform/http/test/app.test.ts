// Proves every HTTP error (validation, malformed JSON, unknown route, oversize body, crash) gets
// the contract's error body, and that request ids, metrics, readiness and OpenAPI work.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { buildHttpApp } from '../app.ts';
import type { HttpApp } from '../app.ts';
import { createHttpMetrics } from '../metrics.ts';

let ready = true;

async function build(): Promise<HttpApp> {
  const app = await buildHttpApp({
    logger: createLogger({ level: 'silent' }),
    metrics: createHttpMetrics({ defaultMetrics: false }),
    bodyLimitBytes: 1024,
    readiness: [
      {
        name: 'database',
        check: async () => {
          if (!ready) throw new Error('connection refused');
        },
      },
    ],
    readinessTimeoutMs: 200,
    version: '0.0.0-test',
  });
  app.post(
    '/echo/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 8 }) }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
        body: Type.Object(
          { amount: Type.String(), note: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ amount: Type.String(), limit: Type.Integer(), raw: Type.Integer() }) },
      },
    },
    async (request) => ({
      amount: request.body.amount,
      limit: request.query.limit ?? 10,
      raw: request.rawBody?.length ?? -1,
    }),
  );
  app.get('/boom', async () => {
    throw new Error('secret internals: select * from wallet.accounts');
  });
  app.get('/refused', async () => {
    throw new AppError('INSUFFICIENT_FUNDS', 'not enough money', { balance: '1.00', currency: 'EUR' });
  });
  await app.ready();
  return app;
}

describe('http app', () => {
  let app: HttpApp;
  before(async () => {
    app = await build();
  });
  after(async () => app.close());

  function isErrorBody(body: unknown, code: string): void {
    assert.equal(typeof body, 'object');
    const record = body as Record<string, unknown>;
    assert.equal(record['status'], 'ERROR');
    assert.equal(record['code'], code);
    assert.equal(typeof record['message'], 'string');
  }

  it('accepts a valid body, coerces the query string, keeps the raw body', async () => {
    const payload = '{"amount":"10.50"}';
    const response = await app.inject({
      method: 'POST',
      url: '/echo/abc?limit=5',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { amount: '10.50', limit: 5, raw: payload.length });
  });

  it('refuses a JSON number where a string belongs (no body coercion)', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo/abc', payload: { amount: 10.5 } });
    assert.equal(response.statusCode, 400);
    isErrorBody(response.json(), 'INVALID_REQUEST');
    assert.match(response.json<{ message: string }>().message, /amount/);
  });

  it('refuses undeclared fields instead of dropping them', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/echo/abc',
      payload: { amount: '1', extra: true },
    });
    assert.equal(response.statusCode, 400);
    isErrorBody(response.json(), 'INVALID_REQUEST');
  });

  it('refuses a bad query string and a bad path parameter', async () => {
    const query = await app.inject({ method: 'POST', url: '/echo/abc?limit=abc', payload: { amount: '1' } });
    assert.equal(query.statusCode, 400);
    isErrorBody(query.json(), 'INVALID_REQUEST');
    const param = await app.inject({
      method: 'POST',
      url: '/echo/way-too-long-id',
      payload: { amount: '1' },
    });
    assert.equal(param.statusCode, 400);
  });

  it('answers malformed and empty JSON with 400 INVALID_REQUEST', async () => {
    for (const payload of ['{"amount":', 'not json', '']) {
      const response = await app.inject({
        method: 'POST',
        url: '/echo/abc',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      assert.equal(response.statusCode, 400, `payload ${JSON.stringify(payload)}`);
      isErrorBody(response.json(), 'INVALID_REQUEST');
    }
  });

  it('refuses prototype poisoning', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/echo/abc',
      headers: { 'content-type': 'application/json' },
      payload: '{"amount":"1","__proto__":{"admin":true}}',
    });
    assert.equal(response.statusCode, 400);
    isErrorBody(response.json(), 'INVALID_REQUEST');
  });

  it('answers an oversize body with 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/echo/abc',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ amount: '1', note: 'x'.repeat(4096) }),
    });
    assert.equal(response.statusCode, 413);
    isErrorBody(response.json(), 'PAYLOAD_TOO_LARGE');
  });

  it('answers a non-JSON content type with 415', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/echo/abc',
      headers: { 'content-type': 'text/plain' },
      payload: 'hi',
    });
    assert.equal(response.statusCode, 415);
    isErrorBody(response.json(), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown route with 404 NOT_FOUND', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope?token=abc' });
    assert.equal(response.statusCode, 404);
    isErrorBody(response.json(), 'NOT_FOUND');
  });

  it('hides internals of an unexpected error behind 500 INTERNAL', async () => {
    const response = await app.inject({ method: 'GET', url: '/boom' });
    assert.equal(response.statusCode, 500);
    isErrorBody(response.json(), 'INTERNAL');
    assert.ok(!response.body.includes('select'));
    assert.ok(!response.body.includes('at '));
  });

  it('carries balance and currency on errors that have them', async () => {
    const response = await app.inject({ method: 'GET', url: '/refused' });
    assert.equal(response.statusCode, 409);
    assert.deepEqual(response.json(), {
      status: 'ERROR',
      code: 'INSUFFICIENT_FUNDS',
      message: 'not enough money',
      balance: '1.00',
      currency: 'EUR',
    });
  });

  it('echoes a given x-request-id and makes one otherwise', async () => {
    const echoed = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'req-123' },
    });
    assert.equal(echoed.headers['x-request-id'], 'req-123');
    const made = await app.inject({ method: 'GET', url: '/nope' });
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const unsafe = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    assert.notEqual(unsafe.headers['x-request-id'], 'bad id\twith spaces');
  });

  it('serves /healthz and /readyz, and /readyz turns 503 when a dependency fails', async () => {
    assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
    const readyResponse = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(readyResponse.statusCode, 200);
    ready = false;
    try {
      const notReady = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      isErrorBody(notReady.json(), 'SERVICE_UNAVAILABLE');
      assert.match(notReady.body, /database: connection refused/);
    } finally {
      ready = true;
    }
  });

  it('counts requests by route pattern and status in /metrics', async () => {
    await app.inject({ method: 'POST', url: '/echo/xyz', payload: { amount: '1' } });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /text\/plain/);
    assert.match(
      response.body,
      /croupier_http_requests_total\{method="POST",route="\/echo\/:id",status="200"\} \d+/,
    );
    assert.match(
      response.body,
      /croupier_http_requests_total\{method="GET",route="\(unmatched\)",status="404"\} \d+/,
    );
    assert.match(
      response.body,
      /croupier_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/echo\/:id",status="200"\}/,
    );
  });

  it('describes its routes in /openapi.json', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    assert.match(document.openapi, /^3\./);
    assert.ok(document.paths['/healthz']?.['get']);
    assert.ok(document.paths['/readyz']?.['get']);
    assert.ok(document.paths['/echo/{id}']?.['post']);
  });
});
