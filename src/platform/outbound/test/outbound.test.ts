// Proves OutboundClient against a real local HTTP server: timeouts abort hanging calls and count as failures, retries stop at attemptsMax with growing backoff, 4xx is a result and not a breaker failure, an open breaker fails fast without calling, and the Prometheus metrics carry the right labels.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { AssertionFailure } from '../../assert.ts';
import { ManualClock } from '../../clock.ts';
import {
  CircuitOpenError,
  createOutboundMetrics,
  OutboundClient,
  OutboundResponseError,
  OutboundTimeoutError,
} from '../index.ts';
import type { OutboundClientOptions } from '../index.ts';

let server: Server;
let base: string;
/** Requests to /hang whose connection the client has since closed. */
let hangsClosed = 0;

before(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/hang') {
      response.on('close', () => (hangsClosed += 1)); // never answered: only the client can end it
      return;
    }
    const status = Number(url.searchParams.get('status') ?? 200);
    if (url.pathname === '/redirect') {
      response.writeHead(302, { location: '/elsewhere' }).end();
    } else if (url.pathname === '/text') {
      response.writeHead(status, { 'content-type': 'text/plain' }).end('not json');
    } else if (url.pathname === '/big') {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ pad: 'x'.repeat(4096) }));
    } else {
      let received = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (received += chunk));
      request.on('end', () => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ status, method: request.method, received, auth: request.headers.authorization }),
        );
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(options: Partial<OutboundClientOptions> = {}) {
  const clock = new ManualClock();
  const sleeps: number[] = [];
  const outbound = new OutboundClient({
    target: 'psp:test',
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { clock, sleeps, outbound };
}

const failing = (counter: { calls: number }) => async () => {
  counter.calls += 1;
  throw new Error(`failure ${counter.calls}`);
};

describe('outbound client: timeouts', () => {
  it('aborts a call the server never answers, and counts it as a failure', async () => {
    const { outbound } = client({ timeoutMs: 100 });
    const closedBefore = hangsClosed;
    const startedMs = performance.now();
    await assert.rejects(outbound.fetchJson('hang', `${base}/hang`), (error: unknown) => {
      assert.ok(error instanceof OutboundTimeoutError);
      assert.equal(error.timeoutMs, 100);
      assert.equal(error.target, 'psp:test');
      return true;
    });
    const elapsedMs = performance.now() - startedMs;
    assert.ok(elapsedMs >= 90 && elapsedMs < 1000, `gave up after ${elapsedMs} ms`);
    // The abort reached the socket: the server sees the connection closed.
    for (let i = 0; i < 50 && hangsClosed === closedBefore; i += 1) await sleep(10);
    assert.equal(hangsClosed, closedBefore + 1);
    const snapshot = outbound.snapshot();
    assert.equal(snapshot.consecutiveFailures, 1);
    assert.equal(snapshot.timeouts, 1);
    assert.equal(snapshot.errors, 1);
    assert.match(snapshot.lastError ?? '', /no answer within 100 ms/);
  });

  it('fires the signal and abandons a fn that ignores it', async () => {
    const { outbound } = client();
    let seen: AbortSignal | undefined;
    const startedMs = performance.now();
    await assert.rejects(
      outbound.call(
        'stuck',
        (signal) => {
          seen = signal;
          return new Promise<never>(() => {}); // never settles, never looks at the signal
        },
        { timeoutMs: 50 },
      ),
      OutboundTimeoutError,
    );
    assert.ok(performance.now() - startedMs < 1000);
    assert.equal(seen?.aborted, true);
    assert.ok(seen.reason instanceof OutboundTimeoutError);
  });
});

describe('outbound client: retries', () => {
  it('makes one attempt by default', async () => {
    const { outbound, sleeps } = client();
    const counter = { calls: 0 };
    await assert.rejects(outbound.call('debit', failing(counter)), /failure 1/);
    assert.equal(counter.calls, 1);
    assert.deepEqual(sleeps, []);
  });

  it('stops at attemptsMax, backing off exponentially up to the cap, and throws the last error', async () => {
    const { outbound, sleeps } = client({ backoffBaseMs: 100, backoffMaxMs: 300, random: () => 1 });
    const counter = { calls: 0 };
    await assert.rejects(outbound.call('balance', failing(counter), { attemptsMax: 4 }), /failure 4/);
    assert.equal(counter.calls, 4);
    assert.deepEqual(sleeps, [100, 200, 300]);
    assert.equal(outbound.snapshot().errors, 4);
  });

  it('jitters each wait down to no less than half of its ceiling', () => {
    const low = client({ backoffBaseMs: 100, backoffMaxMs: 1000, random: () => 0 }).outbound;
    const high = client({ backoffBaseMs: 100, backoffMaxMs: 1000, random: () => 0.999 }).outbound;
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => low.backoffMs(n)),
      [50, 100, 200, 400, 500],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => high.backoffMs(n)),
      [100, 200, 400, 800, 1000],
    );
  });

  it('returns as soon as an attempt succeeds, and skips retries the caller calls unsafe', async () => {
    const { outbound, sleeps } = client({ attemptsMax: 5 });
    let calls = 0;
    const value = await outbound.call('status', async () => {
      calls += 1;
      if (calls < 3) throw new Error('flaky');
      return 'settled';
    });
    assert.equal(value, 'settled');
    assert.equal(calls, 3);
    assert.equal(sleeps.length, 2);

    const counter = { calls: 0 };
    await assert.rejects(outbound.call('status', failing(counter), { retryable: () => false }), /failure 1/);
    assert.equal(counter.calls, 1);
  });

  it('refuses limits outside their bounds', async () => {
    const clock = new ManualClock();
    assert.throws(
      () => new OutboundClient({ target: 'psp:test', clock, timeoutMs: 60_001 }),
      AssertionFailure,
    );
    assert.throws(() => new OutboundClient({ target: 'psp:test', clock, attemptsMax: 11 }), AssertionFailure);
    assert.throws(() => new OutboundClient({ target: 'psp:test', clock, attemptsMax: 0 }), AssertionFailure);
    assert.throws(() => new OutboundClient({ target: 'player 42', clock }), AssertionFailure);
    const { outbound } = client();
    await assert.rejects(
      outbound.call('x', async () => 1, { timeoutMs: 0 }),
      AssertionFailure,
    );
    await assert.rejects(
      outbound.call('player-42 id', async () => 1),
      AssertionFailure,
    );
  });
});

describe('outbound client: fetchJson and the breaker', () => {
  it('sends and parses JSON, decoding a 2xx body', async () => {
    const { outbound } = client();
    const response = await outbound.fetchJson(
      'deposit',
      `${base}/echo?status=202`,
      { method: 'POST', headers: { authorization: 'Bearer k' }, json: { amount: '10.00' } },
      { decode: (body) => body as { status: number; method: string; received: string; auth: string } },
    );
    assert.equal(response.ok, true);
    assert.equal(response.status, 202);
    assert.deepEqual(response.body, {
      status: 202,
      method: 'POST',
      received: '{"amount":"10.00"}',
      auth: 'Bearer k',
    });
  });

  it('returns a 4xx as a result that leaves the breaker closed', async () => {
    const { outbound } = client({ failuresToOpen: 2 });
    for (let i = 0; i < 5; i += 1) {
      const response = await outbound.fetchJson('deposit', `${base}/echo?status=404`);
      assert.equal(response.ok, false);
      assert.equal(response.status, 404);
      assert.deepEqual(response.body, { status: 404, method: 'GET', received: '' });
    }
    assert.equal(outbound.breaker.state(), 'closed');
    assert.equal(outbound.snapshot().errors, 0);
    // The same client opens on 5xx: the difference is the status, not the setup.
    for (let i = 0; i < 2; i += 1) {
      await assert.rejects(
        outbound.fetchJson('deposit', `${base}/echo?status=503`),
        (error: unknown) => error instanceof OutboundResponseError && error.status === 503,
      );
    }
    assert.equal(outbound.breaker.state(), 'open');
  });

  it('returns a redirect instead of following it', async () => {
    const { outbound } = client();
    const response = await outbound.fetchJson('deposit', `${base}/redirect`);
    assert.equal(response.ok, false);
    assert.equal(response.status, 302);
  });

  it('counts a 2xx that breaks the contract (not JSON, refused by decode, too large) as a failure', async () => {
    const { outbound } = client({ failuresToOpen: 3, bodyBytesMax: 1024 });
    await assert.rejects(outbound.fetchJson('deposit', `${base}/text`), /not JSON/);
    await assert.rejects(
      outbound.fetchJson(
        'deposit',
        `${base}/echo`,
        {},
        {
          decode: () => {
            throw new Error('no id');
          },
        },
      ),
      /unexpected body: no id/,
    );
    await assert.rejects(outbound.fetchJson('deposit', `${base}/big`), /over 1024 bytes/);
    assert.equal(outbound.breaker.state(), 'open');
  });

  it('fails fast while open: fn is not called, not retried, and no time is spent', async () => {
    const { clock, outbound, sleeps } = client({ failuresToOpen: 1, openMs: 5000 });
    await assert.rejects(outbound.call('payout', failing({ calls: 0 })));
    let called = 0;
    const startedMs = performance.now();
    await assert.rejects(
      outbound.call(
        'payout',
        async () => {
          called += 1;
          await sleep(1000);
        },
        { attemptsMax: 5, timeoutMs: 1000 },
      ),
      (error: unknown) => error instanceof CircuitOpenError && error.target === 'psp:test',
    );
    assert.ok(performance.now() - startedMs < 50);
    assert.equal(called, 0);
    assert.deepEqual(sleeps, []);
    assert.equal(outbound.snapshot().rejected, 1);
    assert.equal(outbound.snapshot().calls, 1);
    // After openMs one probe goes through and, succeeding, closes the circuit.
    clock.advance(5000);
    assert.equal(await outbound.call('payout', async () => 'paid'), 'paid');
    assert.equal(outbound.breaker.state(), 'closed');
  });
});

describe('outbound client: metrics', () => {
  it('counts attempts by target, operation and outcome, times them, and exports breaker state', async () => {
    const registry = new Registry();
    const metrics = createOutboundMetrics(registry);
    const clock = new ManualClock();
    const outbound = new OutboundClient({
      target: 'game-provider:acme',
      clock,
      metrics,
      failuresToOpen: 2,
      openMs: 1000,
    });
    new OutboundClient({ target: 'kyc:vendor', clock, metrics }); // tracked, never called

    await outbound.fetchJson('debit', `${base}/echo`);
    await outbound.fetchJson('debit', `${base}/echo?status=409`);
    await assert.rejects(
      outbound.fetchJson('debit', `${base}/hang`, {}, { timeoutMs: 50 }),
      OutboundTimeoutError,
    );
    await assert.rejects(outbound.fetchJson('credit', `${base}/echo?status=500`), OutboundResponseError);
    await assert.rejects(
      outbound.call('credit', async () => 1),
      CircuitOpenError,
    );

    const text = await registry.metrics();
    const line = (labels: string) => text.split('\n').find((l) => l.startsWith(labels));
    const calls = 'croupier_outbound_calls_total{target="game-provider:acme",';
    assert.equal(
      line(`${calls}operation="debit",outcome="ok"}`),
      `${calls}operation="debit",outcome="ok"} 2`,
    );
    assert.equal(
      line(`${calls}operation="debit",outcome="timeout"}`),
      `${calls}operation="debit",outcome="timeout"} 1`,
    );
    assert.equal(
      line(`${calls}operation="credit",outcome="error"}`),
      `${calls}operation="credit",outcome="error"} 1`,
    );
    assert.equal(
      line(`${calls}operation="credit",outcome="rejected_open"}`),
      `${calls}operation="credit",outcome="rejected_open"} 1`,
    );
    assert.equal(
      line('croupier_outbound_call_duration_seconds_count{target="game-provider:acme",operation="debit"}'),
      'croupier_outbound_call_duration_seconds_count{target="game-provider:acme",operation="debit"} 3',
    );
    assert.equal(
      line('croupier_outbound_breaker_state{target="game-provider:acme"}'),
      'croupier_outbound_breaker_state{target="game-provider:acme"} 2',
    );
    assert.equal(
      line('croupier_outbound_breaker_state{target="kyc:vendor"}'),
      'croupier_outbound_breaker_state{target="kyc:vendor"} 0',
    );

    clock.advance(1000); // open → half-open is read at scrape time
    assert.match(
      await registry.metrics(),
      /croupier_outbound_breaker_state\{target="game-provider:acme"\} 1\n/,
    );
  });
});
