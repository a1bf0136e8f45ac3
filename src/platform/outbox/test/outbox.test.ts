// Proves the outbox publishes exactly the committed events, in order, under one lease holder, and that the inbox gives each event one effect.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestDb } from '../../../../test/support/backend.ts';
import type { TestDb } from '../../../../test/support/backend.ts';
import type { Bus, DeliveredMessage, OutgoingMessage } from '../../bus/index.ts';
import { createMemoryBus } from '../../bus/index.ts';
import type { Db } from '../../db/index.ts';
import { migrate } from '../../db/index.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { handleOnce, idempotentHandler, OutboxRelay, outboxMigrationSet, writeEvents } from '../index.ts';
import type { OutboxRelayOptions } from '../index.ts';

const logger = createLogger({ level: 'silent' });
const FLUSH_MS = 10_000;

let testDb: TestDb;
let db: Db;
let schemaCounter = 0;

/** A fresh schema with its outbox tables, so that tests do not see each other's rows. */
async function freshSchema(): Promise<string> {
  schemaCounter += 1;
  const schema = `obx_${schemaCounter}`;
  await migrate(db, [outboxMigrationSet(schema)]);
  return schema;
}

function relayFor(schema: string, bus: Bus, overrides: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  return new OutboxRelay({ db, schema, bus, logger, pollMs: 10, backoffMsMax: 100, ...overrides });
}

/** A bus (memory) with one recording consumer on `subject`. */
async function recordingBus(subject: string): Promise<{ bus: Bus; seen: DeliveredMessage[] }> {
  const bus = createMemoryBus({ streams: [{ name: 'OBX', subjects: ['obx.>'] }], logger });
  const seen: DeliveredMessage[] = [];
  await bus.subscribe({
    consumer: 'recorder',
    subject,
    handler: (message) => {
      seen.push(message);
      return Promise.resolve();
    },
  });
  return { bus, seen };
}

/** Wraps a bus to count (and optionally fail) publish attempts. */
function countingBus(
  inner: Bus,
  failWhen: (message: OutgoingMessage, attempt: number) => boolean = () => false,
) {
  const state = { attempts: 0 };
  const bus: Bus = {
    kind: inner.kind,
    publish: (message) => {
      state.attempts += 1;
      if (failWhen(message, state.attempts)) return Promise.reject(new Error('broker unavailable'));
      return inner.publish(message);
    },
    subscribe: (options) => inner.subscribe(options),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return { bus, state };
}

async function unpublishedCount(schema: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from ${schema}.outbox where published_at is null`,
  );
  return rows[0]?.n ?? -1;
}

async function commitEvents(
  schema: string,
  count: number,
  subject = 'obx.thing.happened',
): Promise<string[]> {
  return db.transaction((tx) =>
    writeEvents(
      tx,
      schema,
      Array.from({ length: count }, (_v, index) => ({ subject, payload: { index, amount: '1.00' } })),
    ),
  );
}

describe('outbox and inbox', () => {
  before(async () => {
    testDb = await openTestDb();
    db = testDb.db;
  });
  after(() => testDb.close());

  it('never publishes events of a rolled-back transaction', async () => {
    const schema = await freshSchema();
    const { bus, seen } = await recordingBus('obx.>');
    const relay = relayFor(schema, bus);
    relay.start();
    const [kept] = await commitEvents(schema, 1);
    await assert.rejects(
      db.transaction(async (tx) => {
        await writeEvents(tx, schema, [{ subject: 'obx.thing.happened', payload: { doomed: true } }]);
        throw new Error('business rule says no');
      }),
      /business rule says no/,
    );
    const [alsoKept] = await commitEvents(schema, 1);
    relay.kick();
    await relay.flush(FLUSH_MS);
    await relay.stop();
    await bus.close();
    assert.deepEqual(
      seen.map((m) => m.id),
      [kept, alsoKept],
    );
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${schema}.outbox`);
    assert.equal(rows[0]?.n, 2);
  });

  it('publishes committed events in seq order across batches and marks them published', async () => {
    const schema = await freshSchema();
    const { bus, seen } = await recordingBus('obx.>');
    const ids = [
      ...(await commitEvents(schema, 1)),
      ...(await commitEvents(schema, 5)),
      ...(await commitEvents(schema, 14)),
    ];
    const relay = relayFor(schema, bus, { batchSizeMax: 7 });
    relay.start();
    await relay.flush(FLUSH_MS);
    await relay.stop();
    await bus.close();
    assert.deepEqual(
      seen.map((m) => m.id),
      ids,
    );
    assert.deepEqual(seen[3]?.payload, { index: 2, amount: '1.00' });
    const { rows } = await db.query<{ event_id: string; published: boolean }>(
      `select event_id::text, published_at is not null as published from ${schema}.outbox order by seq`,
    );
    assert.deepEqual(
      rows.map((row) => row.event_id),
      ids,
    );
    assert.ok(rows.every((row) => row.published));
  });

  it('stops a batch at a failed publish and keeps order through the retry', async () => {
    const schema = await freshSchema();
    const { bus: inner, seen } = await recordingBus('obx.>');
    const ids = await commitEvents(schema, 6);
    // The 3rd and 4th attempts fail: both are the 3rd event, so events 4..6 must wait for it.
    const { bus, state } = countingBus(inner, (_message, attempt) => attempt === 3 || attempt === 4);
    const relay = relayFor(schema, bus);
    relay.start();
    await relay.flush(FLUSH_MS);
    await relay.stop();
    await inner.close();
    assert.deepEqual(
      seen.map((m) => m.id),
      ids,
    );
    assert.equal(state.attempts, 8);
  });

  it('gives a redelivered event one effect through the inbox', async () => {
    const schema = await freshSchema();
    await db.exec(`create table ${schema}.balance (id int primary key, total int not null);
                   insert into ${schema}.balance values (1, 0);`);
    const bus = createMemoryBus({ streams: [{ name: 'OBX', subjects: ['obx.>'] }], logger });
    const credit = idempotentHandler(db, schema, 'credit', async (tx, message) => {
      const { amount } = message.payload as { amount: number };
      await tx.query(`update ${schema}.balance set total = total + $1 where id = 1`, [amount]);
    });
    const counts: number[] = [];
    await bus.subscribe({
      consumer: 'credit',
      subject: 'obx.credit',
      handler: async (message) => {
        counts.push(message.deliveryCount);
        await credit(message);
        // As if the process died after its commit but before the ack: the bus delivers again.
        if (message.deliveryCount === 1) throw new Error('crashed before the ack');
      },
    });
    const [eventId] = await db.transaction((tx) =>
      writeEvents(tx, schema, [{ subject: 'obx.credit', payload: { amount: 7 } }]),
    );
    // The handler writes to the database while the relay publishes: on PGlite (one connection)
    // this would hang if the relay held a transaction open around publish().
    const relay = relayFor(schema, bus);
    relay.start();
    await relay.flush(FLUSH_MS);
    await relay.stop();
    await bus.close();
    assert.deepEqual(counts, [1, 2]);
    const { rows } = await db.query<{ total: number }>(`select total from ${schema}.balance where id = 1`);
    assert.equal(rows[0]?.total, 7);
    assert.equal(
      await handleOnce(db, schema, 'credit', eventId!, () => Promise.reject(new Error('must not run'))),
      false,
    );
    assert.equal(await handleOnce(db, schema, 'another-consumer', eventId!, () => Promise.resolve()), true);
  });

  it('rolls back the inbox record with a failed handler, so the event can be handled later', async () => {
    const schema = await freshSchema();
    await assert.rejects(
      handleOnce(db, schema, 'c', 'event-1', () => Promise.reject(new Error('half done'))),
      /half done/,
    );
    assert.equal(await handleOnce(db, schema, 'c', 'event-1', () => Promise.resolve()), true);
  });

  it('lets only the lease holder publish, and hands over when it stops', async () => {
    const schema = await freshSchema();
    const { bus: inner, seen } = await recordingBus('obx.>');
    const a = countingBus(inner);
    const b = countingBus(inner);
    const relayA = relayFor(schema, a.bus, { leaseMs: 60_000, holder: 'relay-a' });
    const relayB = relayFor(schema, b.bus, { leaseMs: 60_000, holder: 'relay-b' });
    const first = await commitEvents(schema, 10);
    relayA.start();
    relayB.start();
    await relayA.flush(FLUSH_MS);
    assert.equal(a.state.attempts + b.state.attempts, 10, 'an event was published by both relays');
    assert.ok(a.state.attempts === 0 || b.state.attempts === 0, 'both relays published');
    const [holder, other] = a.state.attempts > 0 ? [relayA, relayB] : [relayB, relayA];
    const otherState = a.state.attempts > 0 ? b.state : a.state;
    await holder.stop();
    const second = await commitEvents(schema, 5);
    other.kick();
    await other.flush(FLUSH_MS);
    await other.stop();
    await inner.close();
    assert.equal(otherState.attempts, 5, 'the second relay did not take over after the first let go');
    assert.deepEqual(
      seen.map((m) => m.id),
      [...first, ...second],
    );
  });

  it('flush() drains the outbox, and rejects after its timeout while events cannot go out', async () => {
    const schema = await freshSchema();
    const { bus: inner, seen } = await recordingBus('obx.>');
    const broken = countingBus(inner, () => true);
    const failing = relayFor(schema, broken.bus);
    await commitEvents(schema, 3);
    failing.start();
    await assert.rejects(failing.flush(300), /still has unpublished events/);
    assert.ok(failing.consecutiveFailures > 0);
    assert.equal(await unpublishedCount(schema), 3);
    await failing.stop();
    const working = relayFor(schema, inner);
    working.start();
    await working.flush(FLUSH_MS);
    await working.stop();
    await inner.close();
    assert.equal(await unpublishedCount(schema), 0);
    assert.equal(seen.length, 3);
  });

  it('refuses schema names that are not plain identifiers', async () => {
    assert.throws(() => outboxMigrationSet('wallet; drop table x'), /schema name/);
    assert.throws(() => outboxMigrationSet('Wallet'), /schema name/);
    await assert.rejects(
      db.transaction((tx) => writeEvents(tx, 'a-b', [{ subject: 'obx.x', payload: {} }])),
      /schema name/,
    );
  });
});
