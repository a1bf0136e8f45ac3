// Proves SIGTERM during load exits 0 with no request cut off mid-transaction: every order the
// database holds got its 201, every 201 is in the database, requests in flight at the signal
// finish, later ones are refused cleanly, and the outbox is flushed before exit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openPglite, openPostgres } from '../../src/platform/db/index.ts';
import type { Db } from '../../src/platform/db/index.ts';
import { backendName, databaseUrl } from '../support/backend.ts';
import { backendEnv, startProcess } from '../support/process.ts';

interface Outcome {
  status: number | 'network-error';
  orderId?: string;
  code?: string;
  endedAtMs: number;
}

const workers = 12;
const requestsMax = 3000;
const loadTimeMsMax = 20_000;
const successesBeforeSignal = 40;

describe(`graceful shutdown on ${backendName}`, () => {
  it('finishes in-flight requests, refuses new ones, flushes the outbox and exits 0', async () => {
    const backend = await backendEnv();
    const suffix = randomBytes(4).toString('hex');
    const server = await startProcess({
      script: 'test/fixtures/demo-server.ts',
      env: { ...backend.env, DEMO_SUFFIX: suffix, DEMO_HOLD_MS: '40' },
    });
    const outcomes: Outcome[] = [];
    let signalAtMs = 0;
    let sent = 0;
    const deadline = Date.now() + loadTimeMsMax;

    async function worker(): Promise<void> {
      while (sent < requestsMax && Date.now() < deadline) {
        sent++;
        try {
          const response = await fetch(`${server.url}/demo/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ amount: '100' }),
          });
          const body = (await response.json()) as { orderId?: string; code?: string };
          // The HTTP status last: every error body has a `status` field of its own ("ERROR"), which
          // overwrote it, so a 503 answered during shutdown failed the test as "unexpected".
          outcomes.push({ ...body, status: response.status, endedAtMs: Date.now() });
          if (response.status === 503) return;
        } catch {
          outcomes.push({ status: 'network-error', endedAtMs: Date.now() });
          return;
        }
        if (signalAtMs === 0 && outcomes.filter((o) => o.status === 201).length >= successesBeforeSignal) {
          signalAtMs = Date.now();
          server.child.kill('SIGTERM');
        }
      }
    }

    let db: Db | undefined;
    try {
      await Promise.all(Array.from({ length: workers }, () => worker()));
      const exit = await server.exited;
      assert.ok(signalAtMs > 0, 'the signal was sent during load');
      assert.deepEqual(exit, { code: 0, signal: null }, server.output());

      const created = outcomes.filter((o) => o.status === 201);
      const others = outcomes.filter((o) => o.status !== 201);
      for (const outcome of others) {
        assert.ok(
          outcome.status === 'network-error' ||
            (outcome.status === 503 && outcome.code === 'SERVICE_UNAVAILABLE'),
          `unexpected outcome ${JSON.stringify(outcome)}`,
        );
      }
      assert.ok(
        created.some((o) => o.endedAtMs > signalAtMs),
        'requests in flight at the signal were answered, not cut off',
      );

      db = databaseUrl
        ? openPostgres({ url: backend.location, poolSize: 1 })
        : await openPglite({ dataDir: backend.location });
      const orders = await db.query<{ id: string }>('select id from demo.orders');
      assert.deepEqual(
        orders.rows.map((row) => row.id).sort(),
        created.map((o) => o.orderId).sort(),
        'the database holds exactly the orders that were answered 201',
      );
      const outbox = await db.query<{ pending: bigint; total: bigint }>(
        'select count(*) filter (where published_at is null)::int8 as pending, count(*)::int8 as total from demo.outbox',
      );
      assert.equal(outbox.rows[0]?.total, BigInt(created.length));
      assert.equal(outbox.rows[0]?.pending, 0n, 'the outbox was flushed before exit');
      if (!backend.env['NATS_URL']) {
        // In-process bus: publishing is delivering, so every event was also handled, once.
        const handled = await db.query<{ n: bigint }>('select count(*)::int8 as n from demo.handled');
        assert.equal(handled.rows[0]?.n, BigInt(created.length));
      }
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await db?.close();
      await backend.cleanup();
    }
  });
});
