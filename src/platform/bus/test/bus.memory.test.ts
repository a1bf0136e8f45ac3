// Proves the in-process bus keeps the bus contract, and that publish() resolves only once every consumer has handled the message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../clock.ts';
import { uuidv7 } from '../../ids/index.ts';
import type { DeliveredMessage } from '../bus.ts';
import { createMemoryBus } from '../memory.ts';
import { busContract } from './bus.contract.ts';

busContract('memory', (streams) => Promise.resolve(createMemoryBus({ streams })));

const streams = [{ name: 'MEM', subjects: ['mem.>'] }];

describe('memory bus: publish is delivery', () => {
  it('resolves only after the handlers ran', async () => {
    const bus = createMemoryBus({ streams });
    let handled = false;
    await bus.subscribe({
      consumer: 'slow',
      subject: 'mem.>',
      handler: async () => {
        await sleep(50);
        handled = true;
      },
    });
    await bus.publish({ id: uuidv7(), subject: 'mem.a', payload: {} });
    assert.equal(handled, true);
    await bus.close();
  });

  it('rejects while a consumer fails, and a retry skips consumers that already succeeded', async () => {
    const bus = createMemoryBus({ streams });
    const good: DeliveredMessage[] = [];
    const bad: DeliveredMessage[] = [];
    await bus.subscribe({
      consumer: 'good',
      subject: 'mem.>',
      handler: (m) => {
        good.push(m);
        return Promise.resolve();
      },
    });
    await bus.subscribe({
      consumer: 'bad',
      subject: 'mem.>',
      handler: (m) => {
        bad.push(m);
        return m.deliveryCount === 1 ? Promise.reject(new Error('boom')) : Promise.resolve();
      },
    });
    const message = { id: uuidv7(), subject: 'mem.a', payload: { n: 1 } };
    await assert.rejects(bus.publish(message), /not handled by bad/);
    assert.deepEqual(await bus.publish(message), { duplicate: false });
    assert.deepEqual(
      good.map((m) => m.deliveryCount),
      [1],
    );
    assert.deepEqual(
      bad.map((m) => m.deliveryCount),
      [1, 2],
    );
    await bus.close();
  });

  it('counts a handler that outlives ackWaitMs as failed', async () => {
    const bus = createMemoryBus({ streams });
    const counts: number[] = [];
    await bus.subscribe({
      consumer: 'stuck',
      subject: 'mem.>',
      ackWaitMs: 30,
      handler: async (m) => {
        counts.push(m.deliveryCount);
        if (m.deliveryCount === 1) await sleep(200);
      },
    });
    const message = { id: uuidv7(), subject: 'mem.a', payload: {} };
    await assert.rejects(bus.publish(message), /not handled by stuck/);
    await bus.publish(message);
    assert.deepEqual(counts, [1, 2]);
    await bus.close();
  });

  it('forgets ids after the duplicate window, and beyond idsMax the oldest first', async () => {
    const clock = new ManualClock();
    const bus = createMemoryBus({ streams, clock, duplicateWindowMs: 1_000, idsMax: 2 });
    const ids = [uuidv7(), uuidv7(), uuidv7()];
    const publish = (id: string) => bus.publish({ id, subject: 'mem.a', payload: {} });
    await publish(ids[0]!);
    assert.equal((await publish(ids[0]!)).duplicate, true);
    clock.advance(1_001);
    assert.equal((await publish(ids[0]!)).duplicate, false, 'remembered past the window');
    await publish(ids[1]!);
    await publish(ids[2]!);
    assert.equal((await publish(ids[2]!)).duplicate, true);
    assert.equal((await publish(ids[0]!)).duplicate, false, 'the oldest id was not evicted at idsMax');
    await bus.close();
  });

  it('refuses more waiting deliveries than queueDepthMax', async () => {
    const bus = createMemoryBus({ streams, queueDepthMax: 2 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await bus.subscribe({ consumer: 'gated', subject: 'mem.>', handler: () => gate });
    const first = bus.publish({ id: uuidv7(), subject: 'mem.a', payload: {} });
    const second = bus.publish({ id: uuidv7(), subject: 'mem.a', payload: {} });
    await assert.rejects(bus.publish({ id: uuidv7(), subject: 'mem.a', payload: {} }), /deliveries waiting/);
    release();
    await Promise.all([first, second]);
    await bus.close();
  });

  it('refuses payloads JSON cannot carry, as JetStream would', async () => {
    const bus = createMemoryBus({ streams });
    await assert.rejects(
      bus.publish({ id: uuidv7(), subject: 'mem.a', payload: { amount: 10n } }),
      TypeError,
    );
    await bus.close();
  });
});
