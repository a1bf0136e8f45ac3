// Proves the dashboard's arithmetic without a browser: events counted into 5-second buckets by
// their UUIDv7 time, GGR by provider and game with rollbacks undone, payments, active players,
// replays of old history ignored, and the p99 estimate from histogram readings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import {
  DashboardCollector,
  histogramQuantileMs,
} from '../../src/contexts/backoffice/backoffice.dashboard.ts';
import { ManualClock } from '../../src/platform/clock.ts';
import { uuidv7 } from '../../src/platform/ids/ids.ts';
import { CurrencyTable, defaultCurrencies } from '../../src/platform/money/index.ts';
import type { PlatformServices } from '../../src/platform/runtime/index.ts';
import { createLogger } from '../../src/platform/telemetry/logger.ts';

function collectorAt(clock: ManualClock) {
  const currencies = new CurrencyTable(defaultCurrencies);
  const services = {
    clock,
    logger: createLogger({ level: 'silent' }),
    metrics: new Registry(),
    config: { currencies },
  } as unknown as PlatformServices;
  return { collector: new DashboardCollector({ services }), currencies };
}

const event = (atMs: number, subject: string, payload: Record<string, unknown>) => ({
  id: uuidv7(atMs),
  subject,
  payload,
});

describe('dashboard collector', () => {
  it('counts bets, wins, rollbacks, payments and active players into buckets', () => {
    const start = Date.UTC(2026, 5, 1, 12, 0, 0);
    const clock = new ManualClock(start);
    const { collector, currencies } = collectorAt(clock);
    const bet = (ms: number, player: string, id: string, game = 'slot-a') =>
      collector.record(
        event(ms, 'games.bet.placed', {
          providerId: 'studio',
          playerId: player,
          gameId: game,
          transactionId: id,
          amount: '100',
          currency: 'EUR',
        }),
      );
    // History from before the start (a new durable consumer replaying) is not counted. (First:
    // uuidv7 ids are monotonic within a process.)
    bet(start - 60_000, 'p3', 'old');
    bet(start + 1000, 'p1', 'b1');
    bet(start + 2000, 'p2', 'b2', 'dice-a');
    collector.record(
      event(start + 2500, 'games.win.paid', {
        providerId: 'studio',
        playerId: 'p1',
        gameId: 'slot-a',
        transactionId: 'w1',
        amount: '50',
        currency: 'EUR',
      }),
    );
    collector.record(
      event(start + 6000, 'games.transaction.rolled_back', {
        providerId: 'studio',
        playerId: 'p1',
        gameId: 'slot-a',
        transactionId: 'r1',
        referenceTransactionId: 'w1',
        amount: '50',
        currency: 'EUR',
      }),
    );
    collector.record(
      event(start + 7000, 'payments.deposit.completed', { playerId: 'p1', amount: '1000', currency: 'EUR' }),
    );
    collector.record(
      event(start + 7000, 'payments.withdrawal.paid', { playerId: 'p2', amount: '250', currency: 'EUR' }),
    );
    clock.advance(11_000);
    const snapshot = collector.snapshot(currencies);
    assert.equal(snapshot.points.length, 2, 'two complete buckets since the start');
    assert.deepEqual(
      snapshot.points.map((point) => [point.bets, point.wins, point.deposits, point.withdrawalsPaid]),
      [
        [2, 1, 0, 0],
        [0, 0, 1, 1],
      ],
    );
    assert.equal(snapshot.points[0]?.betsPerSecond, 0.4);
    assert.equal(snapshot.activePlayers, 2);
    assert.deepEqual(
      snapshot.ggrByProvider.map((series) => [series.providerId, series.total, series.points]),
      [['studio', '2.00', ['1.50', '0.50']]],
    );
    assert.deepEqual(
      snapshot.ggrByGame.map((series) => [series.gameId, series.providerId, series.total]),
      [
        ['dice-a', 'studio', '1.00'],
        ['slot-a', 'studio', '1.00'],
      ],
    );
    assert.deepEqual(snapshot.deposits, [{ currency: 'EUR', total: '10.00', points: ['0.00', '10.00'] }]);
    assert.deepEqual(snapshot.withdrawalsPaid, [
      { currency: 'EUR', total: '2.50', points: ['0.00', '2.50'] },
    ]);
  });

  it('never throws on an odd event', () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const { collector } = collectorAt(clock);
    collector.record({ id: 'not-a-uuid', subject: 'games.bet.placed', payload: null });
    collector.record({ id: uuidv7(clock.nowMs()), subject: 'games.bet.placed', payload: { amount: 12 } });
  });

  it('estimates a quantile from two cumulative histogram readings', () => {
    const bounds = [0.001, 0.005, 0.01, Number.POSITIVE_INFINITY];
    const before = new Map([
      [0.001, 10],
      [0.005, 10],
      [0.01, 10],
      [Number.POSITIVE_INFINITY, 10],
    ]);
    const after = new Map([
      [0.001, 10],
      [0.005, 109],
      [0.01, 110],
      [Number.POSITIVE_INFINITY, 110],
    ]);
    const { count, valueMs } = histogramQuantileMs(bounds, before, after, 0.99);
    assert.equal(count, 100);
    assert.ok(valueMs !== null && valueMs > 4.9 && valueMs <= 5, `p99 ≈ 5 ms, got ${valueMs}`);
    assert.deepEqual(histogramQuantileMs(bounds, after, after, 0.99), { count: 0, valueMs: null });
  });
});
