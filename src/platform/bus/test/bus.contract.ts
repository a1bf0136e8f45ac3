// The bus contract: one suite of behaviour that every Bus adapter must show (run by bus.*.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { uuidv7 } from '../../ids/index.ts';
import type { Bus, DeliveredMessage, OutgoingMessage, PublishAck, StreamSpec } from '../bus.ts';

export type MakeBus = (streams: StreamSpec[]) => Promise<Bus>;

/** How long a test waits for deliveries before it fails. */
const WAIT_MS = 10_000;
/** How long a test keeps watching for deliveries that must not come. */
const QUIET_MS = 400;

interface Fixture {
  bus: Bus;
  /** Subject prefix unique to this test: `${prefix}.>` is its stream. */
  prefix: string;
  /** A consumer name unique to this test. */
  consumer: (name: string) => string;
}

async function withBus(makeBus: MakeBus, run: (fixture: Fixture) => Promise<void>): Promise<void> {
  const tag = randomBytes(5).toString('hex');
  const prefix = `ct${tag}`;
  const bus = await makeBus([{ name: `CT_${tag.toUpperCase()}`, subjects: [`${prefix}.>`] }]);
  try {
    await run({ bus, prefix, consumer: (name) => `${name}_${tag}` });
  } finally {
    await bus.close();
  }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Publishes as the outbox relay does: again and again until the bus accepts the message. */
async function publishUntilAccepted(
  bus: Bus,
  message: OutgoingMessage,
  attemptsMax = 50,
): Promise<PublishAck> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await bus.publish(message);
    } catch (error) {
      if (attempt >= attemptsMax) throw error;
      await sleep(20);
    }
  }
}

function message(subject: string, payload: unknown = {}): OutgoingMessage {
  return { id: uuidv7(), subject, payload };
}

function recorder(): { seen: DeliveredMessage[]; handler: (m: DeliveredMessage) => Promise<void> } {
  const seen: DeliveredMessage[] = [];
  return {
    seen,
    handler: (delivered) => {
      seen.push(delivered);
      return Promise.resolve();
    },
  };
}

export function busContract(name: string, makeBus: MakeBus): void {
  describe(`bus contract: ${name}`, () => {
    it('delivers a published message with its id, payload and headers', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        const sink = recorder();
        await bus.subscribe({
          consumer: consumer('sink'),
          subject: `${prefix}.order.placed`,
          handler: sink.handler,
        });
        const sent: OutgoingMessage = {
          id: uuidv7(),
          subject: `${prefix}.order.placed`,
          payload: { orderId: 'o-1', amount: '12.50', lines: [1, 2] },
          headers: { 'x-trace-id': 'trace-1' },
        };
        const ack = await bus.publish(sent);
        assert.equal(ack.duplicate, false);
        await waitFor('the delivery', () => sink.seen.length === 1);
        const [got] = sink.seen;
        assert.equal(got?.id, sent.id);
        assert.equal(got?.subject, sent.subject);
        assert.deepEqual(got?.payload, sent.payload);
        assert.equal(got?.headers['x-trace-id'], 'trace-1');
        assert.equal(got?.deliveryCount, 1);
      }));

    it('gives every message to each consumer', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        const first = recorder();
        const second = recorder();
        await bus.subscribe({ consumer: consumer('first'), subject: `${prefix}.>`, handler: first.handler });
        await bus.subscribe({
          consumer: consumer('second'),
          subject: `${prefix}.>`,
          handler: second.handler,
        });
        const sent = Array.from({ length: 5 }, (_v, index) => message(`${prefix}.item.${index}`));
        for (const item of sent) await bus.publish(item);
        await waitFor('both consumers', () => first.seen.length === 5 && second.seen.length === 5);
        assert.deepEqual(
          first.seen.map((m) => m.id),
          sent.map((m) => m.id),
        );
        assert.deepEqual(
          second.seen.map((m) => m.id),
          sent.map((m) => m.id),
        );
      }));

    it('shares a consumer between its members: each message is handled once in the group', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        const memberA = recorder();
        const memberB = recorder();
        const shared = consumer('shared');
        await bus.subscribe({ consumer: shared, subject: `${prefix}.job`, handler: memberA.handler });
        await bus.subscribe({ consumer: shared, subject: `${prefix}.job`, handler: memberB.handler });
        const sent = Array.from({ length: 12 }, () => message(`${prefix}.job`));
        for (const item of sent) await bus.publish(item);
        const handled = () => [...memberA.seen, ...memberB.seen];
        await waitFor('all jobs', () => handled().length >= sent.length);
        await sleep(QUIET_MS);
        const ids = handled().map((m) => m.id);
        assert.equal(ids.length, sent.length, 'no message is handled twice in one consumer');
        assert.deepEqual([...ids].sort(), sent.map((m) => m.id).sort());
      }));

    it('keeps publish order per consumer and runs its handler one message at a time', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        const seen: string[] = [];
        let active = 0;
        let activeMax = 0;
        await bus.subscribe({
          consumer: consumer('ordered'),
          subject: `${prefix}.seq.*`,
          handler: async (delivered) => {
            active += 1;
            activeMax = Math.max(activeMax, active);
            await sleep(1);
            seen.push(delivered.id);
            active -= 1;
          },
        });
        const sent = Array.from({ length: 30 }, (_v, index) =>
          message(`${prefix}.seq.${index % 3}`, { index }),
        );
        for (const item of sent) await bus.publish(item);
        await waitFor('all messages', () => seen.length === sent.length);
        assert.deepEqual(
          seen,
          sent.map((m) => m.id),
        );
        assert.equal(activeMax, 1);
      }));

    it('delivers a message id once, and says so when the same id is published again', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        const sink = recorder();
        await bus.subscribe({
          consumer: consumer('dedupe'),
          subject: `${prefix}.once`,
          handler: sink.handler,
        });
        const sent = message(`${prefix}.once`, { n: 1 });
        const first = await bus.publish(sent);
        const second = await bus.publish({ ...sent, payload: { n: 2 } });
        assert.equal(first.duplicate, false);
        assert.equal(second.duplicate, true);
        await waitFor('the delivery', () => sink.seen.length === 1);
        await sleep(QUIET_MS);
        assert.equal(sink.seen.length, 1);
        assert.deepEqual(sink.seen[0]?.payload, { n: 1 });
      }));

    it('redelivers a message whose handler failed, counting deliveries', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        const counts: number[] = [];
        await bus.subscribe({
          consumer: consumer('flaky'),
          subject: `${prefix}.flaky`,
          retryDelayMs: 20,
          handler: (delivered) => {
            counts.push(delivered.deliveryCount);
            return delivered.deliveryCount === 1
              ? Promise.reject(new Error('first attempt fails'))
              : Promise.resolve();
          },
        });
        await publishUntilAccepted(bus, message(`${prefix}.flaky`));
        await waitFor('the redelivery', () => counts.length >= 2);
        await sleep(QUIET_MS);
        assert.deepEqual(counts, [1, 2]);
      }));

    it('gives a message up after maxDeliver deliveries', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        const counts: number[] = [];
        await bus.subscribe({
          consumer: consumer('doomed'),
          subject: `${prefix}.doomed`,
          maxDeliver: 3,
          retryDelayMs: 20,
          handler: (delivered) => {
            counts.push(delivered.deliveryCount);
            return Promise.reject(new Error('always fails'));
          },
        });
        const sent = message(`${prefix}.doomed`);
        await publishUntilAccepted(bus, sent);
        await waitFor('three deliveries', () => counts.length >= 3);
        await sleep(QUIET_MS);
        assert.deepEqual(counts, [1, 2, 3]);
        assert.equal((await bus.publish(sent)).duplicate, true, 'a given-up message counts as accepted');
        await sleep(QUIET_MS);
        assert.equal(counts.length, 3);
      }));

    it('routes by wildcard subjects: * for one token, > for the rest', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        const star = recorder();
        const tail = recorder();
        const all = recorder();
        await bus.subscribe({
          consumer: consumer('star'),
          subject: `${prefix}.*.created`,
          handler: star.handler,
        });
        await bus.subscribe({
          consumer: consumer('tail'),
          subject: `${prefix}.wallet.>`,
          handler: tail.handler,
        });
        await bus.subscribe({ consumer: consumer('all'), subject: `${prefix}.>`, handler: all.handler });
        const subjects = ['wallet.created', 'pam.created', 'wallet.transfer.posted', 'pam.deleted', 'wallet'];
        for (const subject of subjects) await bus.publish(message(`${prefix}.${subject}`));
        await waitFor('every message', () => all.seen.length === subjects.length);
        await waitFor('the pattern consumers', () => star.seen.length >= 2 && tail.seen.length >= 2);
        await sleep(QUIET_MS);
        const tokens = (seen: DeliveredMessage[]) => seen.map((m) => m.subject.slice(prefix.length + 1));
        assert.deepEqual(tokens(star.seen), ['wallet.created', 'pam.created']);
        assert.deepEqual(tokens(tail.seen), ['wallet.created', 'wallet.transfer.posted']);
      }));

    it('refuses subjects that no declared stream holds', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        await assert.rejects(bus.publish(message(`elsewhere${prefix}.thing`)), /no declared stream/);
        await assert.rejects(bus.publish(message(`${prefix}.*`)), /invalid subject/);
        await assert.rejects(
          bus.subscribe({
            consumer: consumer('lost'),
            subject: `elsewhere${prefix}.>`,
            handler: () => Promise.resolve(),
          }),
          /no declared stream/,
        );
      }));

    it('close() waits for the handler in flight', () =>
      withBus(makeBus, async ({ bus, prefix, consumer }) => {
        let started = false;
        let finished = false;
        await bus.subscribe({
          consumer: consumer('slow'),
          subject: `${prefix}.slow`,
          handler: async () => {
            started = true;
            await sleep(300);
            finished = true;
          },
        });
        // On the in-process bus publish() itself waits for the handler, so it is not awaited here.
        const published = bus.publish(message(`${prefix}.slow`)).then(
          () => 'accepted',
          () => 'rejected',
        );
        await waitFor('the handler to start', () => started);
        await bus.close();
        assert.equal(finished, true, 'close() resolved before the handler finished');
        assert.equal(await published, 'accepted');
        await assert.rejects(bus.publish(message(`${prefix}.slow`)));
      }));
  });
}
