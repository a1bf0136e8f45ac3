// Proves the circuit breaker's transitions on a ManualClock: it opens after N consecutive failures, refuses without calling while open, lets one probe through when half-open, and closes or re-opens on the probe's result.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionFailure } from '../../assert.ts';
import { ManualClock } from '../../clock.ts';
import { CircuitBreaker, CircuitOpenError } from '../breaker.ts';
import type { BreakerState } from '../breaker.ts';

const boom = () => Promise.reject(new Error('boom'));
const fine = () => Promise.resolve('fine');

function setup(options: { failuresToOpen?: number; openMs?: number; halfOpenProbesMax?: number } = {}) {
  const clock = new ManualClock();
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    name: 'psp:test',
    clock,
    failuresToOpen: options.failuresToOpen ?? 3,
    openMs: options.openMs ?? 1000,
    ...(options.halfOpenProbesMax !== undefined ? { halfOpenProbesMax: options.halfOpenProbesMax } : {}),
    onStateChange: ({ from, to }) => changes.push(`${from}->${to}`),
  });
  return { clock, breaker, changes };
}

async function failTimes(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await assert.rejects(breaker.run(boom), /boom/);
}

/** A call that stays in flight until released. */
function pending<T>(value: T) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { fn: async () => (await gate, value), release };
}

describe('circuit breaker', () => {
  it('opens only after failuresToOpen consecutive failures; a success resets the count', async () => {
    const { breaker } = setup({ failuresToOpen: 3 });
    await failTimes(breaker, 2);
    assert.equal(await breaker.run(fine), 'fine');
    await failTimes(breaker, 2);
    assert.equal(breaker.state(), 'closed');
    assert.equal(breaker.snapshot().consecutiveFailures, 2);
    await failTimes(breaker, 1);
    assert.equal(breaker.state(), 'open');
  });

  it('refuses while open without calling fn, with the target and the time left', async () => {
    const { clock, breaker } = setup({ failuresToOpen: 1, openMs: 1000 });
    await failTimes(breaker, 1);
    clock.advance(400);
    let called = 0;
    const refusal = await breaker
      .run(async () => {
        called += 1;
        return 'never';
      })
      .then(
        () => assert.fail('an open circuit let a call through'),
        (error: unknown) => error,
      );
    assert.ok(refusal instanceof CircuitOpenError);
    assert.equal(refusal.target, 'psp:test');
    assert.equal(refusal.retryAfterMs, 600);
    assert.equal(called, 0);
    assert.equal(breaker.snapshot().openUntil, new Date(clock.nowMs() + 600).toISOString());
  });

  it('turns half-open after openMs and lets exactly one probe through at a time', async () => {
    const { clock, breaker } = setup({ failuresToOpen: 1, openMs: 1000 });
    await failTimes(breaker, 1);
    clock.advance(999);
    assert.equal(breaker.state(), 'open');
    clock.advance(1);
    assert.equal(breaker.state(), 'half_open');

    const probe = pending('probed');
    const probing = breaker.run(probe.fn);
    let secondCalled = false;
    await assert.rejects(
      breaker.run(async () => {
        secondCalled = true;
      }),
      (error: unknown) => error instanceof CircuitOpenError && error.retryAfterMs === undefined,
    );
    assert.equal(secondCalled, false);
    probe.release();
    assert.equal(await probing, 'probed');
    assert.equal(breaker.state(), 'closed');
    assert.equal(breaker.snapshot().consecutiveFailures, 0);
  });

  it('honours halfOpenProbesMax > 1', async () => {
    const { clock, breaker } = setup({ failuresToOpen: 1, openMs: 10, halfOpenProbesMax: 2 });
    await failTimes(breaker, 1);
    clock.advance(10);
    const a = pending(1);
    const b = pending(2);
    const running = [breaker.run(a.fn), breaker.run(b.fn)];
    await assert.rejects(breaker.run(fine), CircuitOpenError);
    a.release();
    b.release();
    assert.deepEqual(await Promise.all(running), [1, 2]);
    assert.equal(breaker.state(), 'closed');
  });

  it('re-opens for another openMs when the probe fails, and reports every transition', async () => {
    const { clock, breaker, changes } = setup({ failuresToOpen: 2, openMs: 1000 });
    await failTimes(breaker, 2);
    clock.advance(1000);
    await failTimes(breaker, 1); // the probe
    assert.equal(breaker.state(), 'open');
    clock.advance(999);
    await assert.rejects(breaker.run(fine), CircuitOpenError);
    clock.advance(1);
    assert.equal(await breaker.run(fine), 'fine');
    assert.deepEqual(changes, [
      'closed->open',
      'open->half_open',
      'half_open->open',
      'open->half_open',
      'half_open->closed',
    ]);
  });

  it('ignores a late success from a call admitted before the circuit opened', async () => {
    const { breaker } = setup({ failuresToOpen: 1 });
    const slow = pending('late');
    const slowCall = breaker.run(slow.fn);
    await failTimes(breaker, 1);
    slow.release();
    assert.equal(await slowCall, 'late');
    assert.equal(breaker.state(), 'open');
  });

  it('forceOpen holds the circuit open past openMs until reset', async () => {
    const { clock, breaker } = setup({ openMs: 1000 });
    breaker.forceOpen();
    clock.advance(60_000);
    const states: BreakerState[] = [breaker.state()];
    await assert.rejects(breaker.run(fine), CircuitOpenError);
    assert.equal(breaker.snapshot().forced, true);
    breaker.reset();
    states.push(breaker.state());
    assert.deepEqual(states, ['open', 'closed']);
    assert.equal(await breaker.run(fine), 'fine');
  });

  it('refuses settings outside their bounds', () => {
    const clock = new ManualClock();
    for (const bad of [{ failuresToOpen: 0 }, { openMs: 600_001 }, { halfOpenProbesMax: 1.5 }]) {
      assert.throws(() => new CircuitBreaker({ name: 'x', clock, ...bad }), AssertionFailure);
    }
  });
});
