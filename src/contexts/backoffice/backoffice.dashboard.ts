// Read-only back-office routes for the web back office (extensions of contract §4): who the
// operator is and what the role may do (`GET /me`, so the page shows no forbidden action), the
// live dashboard (`GET /dashboard`), and a player's statement, rounds with recall and audit trail.
//
// The dashboard is this node's live view, not a report: it counts the events it receives from
// the games, payments and pam streams into 5-second buckets (15 minutes kept in memory, events
// timed by their UUIDv7 id) and samples the provider wallet API's latency histogram from the
// metrics registry at each bucket's end. It starts empty at each start; Prometheus (/metrics)
// keeps the long history. With several back-office nodes on JetStream the durable consumers share
// the events between them, so each node's dashboard shows its share: run one dashboard node, or
// read the fleet's figures in Prometheus.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Histogram } from 'prom-client';
import { AppError } from '../../platform/errors.ts';
import type { DeliveredMessage, Subscription } from '../../platform/bus/index.ts';
import type { HttpApp } from '../../platform/http/app.ts';
import { isUuid, uuidv7Time } from '../../platform/ids/ids.ts';
import { formatAmount } from '../../platform/money/index.ts';
import type { CurrencyTable } from '../../platform/money/index.ts';
import type { PlatformServices } from '../../platform/runtime/index.ts';
import type { Logger } from '../../platform/telemetry/logger.ts';
import type { GamesClient } from '../games/index.ts';
import { roundDetailToWire, roundToWire } from '../games/index.ts';
import { statementItemToWire } from '../pam/index.ts';
import type { PamClient } from '../pam/index.ts';
import type { PaymentsClient } from '../payments/index.ts';
import type { WalletClient } from '../wallet/index.ts';
import { can, errorResponses, permissions, PlayerIdParams } from './backoffice.contract.ts';
import type { BackofficeAction, Operator } from './backoffice.contract.ts';
import type { BackofficeService } from './backoffice.service.ts';

const tags = ['backoffice'];

/** Width of one dashboard bucket. */
export const dashboardBucketMs = 5_000;
/** Buckets kept: 15 minutes. */
export const dashboardBucketsMax = 180;
/** A player counts as active for this long after a bet. */
const activeWindowMs = 5 * 60_000;
/** Bets and wins remembered so a rollback knows what it cancels (oldest forgotten first). */
const transactionsRememberedMax = 100_000;
/** Audit rows scanned for one player's trail (the merged log has no player filter). */
const playerAuditScanMax = 2_000;
const auditPageSize = 100;

// ---- the collector ------------------------------------------------------------------------------

interface Bucket {
  readonly index: number;
  bets: number;
  wins: number;
  readonly bettors: Set<string>;
  /** `${currency}\u0000${providerId}` → bets − wins, minor units. */
  readonly ggrByProvider: Map<string, bigint>;
  /** `${currency}\u0000${gameId}` → bets − wins, minor units. */
  readonly ggrByGame: Map<string, bigint>;
  deposits: number;
  readonly depositAmount: Map<string, bigint>;
  withdrawalsRequested: number;
  withdrawalsPaid: number;
  readonly withdrawalAmount: Map<string, bigint>;
  logins: number;
  registrations: number;
  walletCalls: number;
  walletP99Ms: number | null;
}

interface KnownTransaction {
  readonly kind: 'bet' | 'win';
  readonly amount: bigint;
  readonly currency: string;
  readonly providerId: string;
  readonly gameId: string;
}

const walletHistogramName = 'croupier_http_request_duration_seconds';

function add(map: Map<string, bigint>, key: string, amount: bigint): void {
  map.set(key, (map.get(key) ?? 0n) + amount);
}

function text(payload: Record<string, unknown>, key: string): string | undefined {
  const value = payload[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function minor(payload: Record<string, unknown>, key: string): bigint | undefined {
  const value = payload[key];
  return typeof value === 'string' && /^-?\d{1,30}$/.test(value) ? BigInt(value) : undefined;
}

/**
 * A quantile of the observations between two cumulative histogram readings (bucket upper bounds
 * in seconds, ascending, the last one +Inf), interpolated linearly inside its bucket, in ms.
 */
export function histogramQuantileMs(
  bounds: readonly number[],
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  quantile: number,
): { count: number; valueMs: number | null } {
  const counts = bounds.map((bound) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return { count: 0, valueMs: null };
  const rank = quantile * total;
  for (let index = 0; index < counts.length; index++) {
    const cumulative = counts[index] ?? 0;
    if (cumulative < rank) continue;
    const lower = index === 0 ? 0 : (bounds[index - 1] ?? 0);
    const upper = bounds[index] ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(upper)) return { count: total, valueMs: lower * 1000 };
    const previous = index === 0 ? 0 : (counts[index - 1] ?? 0);
    const inBucket = cumulative - previous;
    const fraction = inBucket > 0 ? (rank - previous) / inBucket : 1;
    return { count: total, valueMs: (lower + (upper - lower) * fraction) * 1000 };
  }
  return { count: total, valueMs: null };
}

export interface DashboardCollectorOptions {
  readonly services: PlatformServices;
  readonly bucketMs?: number;
}

/** Counts the platform's events into time buckets for the dashboard (this node's view). */
export class DashboardCollector {
  readonly #services: PlatformServices;
  readonly #logger: Logger;
  readonly #bucketMs: number;
  readonly #buckets = new Map<number, Bucket>();
  readonly #transactions = new Map<string, KnownTransaction>();
  readonly #gameProviders = new Map<string, string>();
  readonly #subscriptions: Subscription[] = [];
  readonly #startedMs: number;
  #timer: NodeJS.Timeout | undefined;
  #previousHistogram: ReadonlyMap<number, number> | undefined;

  constructor(options: DashboardCollectorOptions) {
    this.#services = options.services;
    this.#logger = options.services.logger.child({ component: 'dashboard' });
    this.#bucketMs = options.bucketMs ?? dashboardBucketMs;
    this.#startedMs = options.services.clock.nowMs();
  }

  get bucketMs(): number {
    return this.#bucketMs;
  }

  get startedMs(): number {
    return this.#startedMs;
  }

  /** Subscribes to the streams this process has (a role without one just shows no such figures). */
  async start(): Promise<void> {
    const subjects = [
      ['backoffice-dashboard-games', 'games.>'],
      ['backoffice-dashboard-payments', 'payments.>'],
      ['backoffice-dashboard-pam', 'pam.>'],
    ] as const;
    for (const [consumer, subject] of subjects) {
      try {
        this.#subscriptions.push(
          await this.#services.bus.subscribe({
            consumer,
            subject,
            maxDeliver: 1,
            handler: async (message) => this.record(message),
          }),
        );
      } catch (error) {
        this.#logger.info({ subject, err: error }, 'dashboard: no such stream in this process');
      }
    }
    this.#timer = setInterval(() => void this.#sample(), this.#bucketMs);
    this.#timer.unref();
    await this.#sample();
  }

  /** Stops sampling; the bus ends the subscriptions when it closes (after the outbox flush). */
  stopSampling(): void {
    clearInterval(this.#timer);
  }

  async stop(): Promise<void> {
    this.stopSampling();
    for (const subscription of this.#subscriptions.splice(0)) await subscription.stop();
  }

  /** One event into its bucket; never throws (a dashboard must not hold up the publishers). */
  record(message: Pick<DeliveredMessage, 'id' | 'subject' | 'payload'>): void {
    try {
      this.#record(message);
    } catch (error) {
      this.#logger.warn({ err: error, subject: message.subject }, 'dashboard: event not counted');
    }
  }

  #record(message: Pick<DeliveredMessage, 'id' | 'subject' | 'payload'>): void {
    if (typeof message.payload !== 'object' || message.payload === null) return;
    const payload = message.payload as Record<string, unknown>;
    const atMs = isUuid(message.id) ? uuidv7Time(message.id) : this.#services.clock.nowMs();
    // A replay of old history (a new durable consumer on JetStream) is not "now".
    if (atMs < this.#startedMs - this.#bucketMs) return;
    const bucket = this.#bucketAt(atMs);
    if (!bucket) return;
    const currency = text(payload, 'currency') ?? '?';
    const amount = minor(payload, 'amount') ?? 0n;
    const providerId = text(payload, 'providerId') ?? '?';
    const gameId = text(payload, 'gameId') ?? '?';
    switch (message.subject) {
      case 'games.bet.placed':
      case 'games.win.paid': {
        const kind = message.subject === 'games.bet.placed' ? 'bet' : 'win';
        const sign = kind === 'bet' ? 1n : -1n;
        if (kind === 'bet') {
          bucket.bets += 1;
          const playerId = text(payload, 'playerId');
          if (playerId) bucket.bettors.add(playerId);
        } else {
          bucket.wins += 1;
        }
        add(bucket.ggrByProvider, `${currency}\u0000${providerId}`, sign * amount);
        add(bucket.ggrByGame, `${currency}\u0000${gameId}`, sign * amount);
        this.#gameProviders.set(gameId, providerId);
        const transactionId = text(payload, 'transactionId');
        if (transactionId)
          this.#remember(`${providerId}\u0000${transactionId}`, {
            kind,
            amount,
            currency,
            providerId,
            gameId,
          });
        break;
      }
      case 'games.transaction.rolled_back': {
        const reference = text(payload, 'referenceTransactionId');
        const known = reference ? this.#transactions.get(`${providerId}\u0000${reference}`) : undefined;
        if (!known) break;
        // A cancelled bet gives its stake back (GGR down); a cancelled win takes it back (GGR up).
        const sign = known.kind === 'bet' ? -1n : 1n;
        add(bucket.ggrByProvider, `${known.currency}\u0000${known.providerId}`, sign * known.amount);
        add(bucket.ggrByGame, `${known.currency}\u0000${known.gameId}`, sign * known.amount);
        break;
      }
      case 'payments.deposit.completed':
        bucket.deposits += 1;
        add(bucket.depositAmount, currency, amount);
        break;
      case 'payments.withdrawal.requested':
        bucket.withdrawalsRequested += 1;
        break;
      case 'payments.withdrawal.paid':
        bucket.withdrawalsPaid += 1;
        add(bucket.withdrawalAmount, currency, amount);
        break;
      case 'pam.player.logged_in':
        bucket.logins += 1;
        break;
      case 'pam.player.registered':
        bucket.registrations += 1;
        break;
      default:
        break;
    }
  }

  #remember(key: string, transaction: KnownTransaction): void {
    this.#transactions.set(key, transaction);
    if (this.#transactions.size > transactionsRememberedMax) {
      const oldest = this.#transactions.keys().next();
      if (!oldest.done) this.#transactions.delete(oldest.value);
    }
  }

  #bucketAt(atMs: number): Bucket | undefined {
    const index = Math.floor(atMs / this.#bucketMs);
    const newest = Math.floor(this.#services.clock.nowMs() / this.#bucketMs);
    if (index <= newest - dashboardBucketsMax) return undefined;
    let bucket = this.#buckets.get(index);
    if (!bucket) {
      bucket = {
        index,
        bets: 0,
        wins: 0,
        bettors: new Set(),
        ggrByProvider: new Map(),
        ggrByGame: new Map(),
        deposits: 0,
        depositAmount: new Map(),
        withdrawalsRequested: 0,
        withdrawalsPaid: 0,
        withdrawalAmount: new Map(),
        logins: 0,
        registrations: 0,
        walletCalls: 0,
        walletP99Ms: null,
      };
      this.#buckets.set(index, bucket);
      for (const old of this.#buckets.keys()) {
        if (old <= newest - dashboardBucketsMax) this.#buckets.delete(old);
      }
    }
    return bucket;
  }

  /** The provider wallet API's latency over the bucket that just ended, from the HTTP histogram. */
  async #sample(): Promise<void> {
    try {
      const metric = this.#services.metrics.getSingleMetric(walletHistogramName) as
        Histogram<string> | undefined;
      if (!metric) return;
      const { values } = await metric.get();
      const byBound = new Map<number, number>();
      for (const value of values) {
        const route = value.labels['route'];
        if (value.metricName !== `${walletHistogramName}_bucket`) continue;
        if (typeof route !== 'string' || !route.startsWith('/provider/')) continue;
        const le = value.labels['le'];
        const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
        byBound.set(bound, (byBound.get(bound) ?? 0) + value.value);
      }
      const previous = this.#previousHistogram;
      this.#previousHistogram = byBound;
      if (!previous) return;
      const bounds = [...byBound.keys()].sort((a, b) => a - b);
      const { count, valueMs } = histogramQuantileMs(bounds, previous, byBound, 0.99);
      const bucket = this.#bucketAt(this.#services.clock.nowMs() - 1);
      if (!bucket) return;
      bucket.walletCalls += count;
      bucket.walletP99Ms = valueMs === null ? null : Math.round(valueMs * 10) / 10;
    } catch (error) {
      this.#logger.warn({ err: error }, 'dashboard: latency sample failed');
    }
  }

  /** The buckets of the window, oldest first, empty ones included, as wire figures. */
  snapshot(currencies: CurrencyTable) {
    const nowMs = this.#services.clock.nowMs();
    // The bucket still filling would read as a drop at the end of every chart: complete ones only.
    const newest = Math.floor(nowMs / this.#bucketMs) - 1;
    const oldest = Math.max(newest - dashboardBucketsMax + 1, Math.floor(this.#startedMs / this.#bucketMs));
    const indexes: number[] = [];
    for (let index = oldest; index <= newest; index++) indexes.push(index);
    const buckets = indexes.map((index) => this.#buckets.get(index));
    const money = (code: string, amount: bigint): string => {
      const currency = currencies.get(code);
      return currency ? formatAmount(amount, currency) : amount.toString();
    };
    const activeBuckets = Math.max(1, Math.round(activeWindowMs / this.#bucketMs));
    const activeCounts = new Map<string, number>();
    const points = indexes.map((index, position) => {
      const bucket = buckets[position];
      for (const player of bucket?.bettors ?? [])
        activeCounts.set(player, (activeCounts.get(player) ?? 0) + 1);
      const leaving = this.#buckets.get(index - activeBuckets);
      for (const player of leaving?.bettors ?? []) {
        const count = (activeCounts.get(player) ?? 0) - 1;
        if (count <= 0) activeCounts.delete(player);
        else activeCounts.set(player, count);
      }
      return {
        at: new Date(index * this.#bucketMs).toISOString(),
        bets: bucket?.bets ?? 0,
        wins: bucket?.wins ?? 0,
        betsPerSecond: Math.round(((bucket?.bets ?? 0) * 1000 * 100) / this.#bucketMs) / 100,
        activePlayers: activeCounts.size,
        walletCalls: bucket?.walletCalls ?? 0,
        walletP99Ms: bucket?.walletP99Ms ?? null,
        deposits: bucket?.deposits ?? 0,
        withdrawalsRequested: bucket?.withdrawalsRequested ?? 0,
        withdrawalsPaid: bucket?.withdrawalsPaid ?? 0,
        logins: bucket?.logins ?? 0,
        registrations: bucket?.registrations ?? 0,
      };
    });
    const series = (pick: (bucket: Bucket) => Map<string, bigint>) => {
      const keys = new Set<string>();
      for (const bucket of buckets) for (const key of bucket ? pick(bucket).keys() : []) keys.add(key);
      return [...keys].sort().map((composite) => {
        const [currency = '?', key = '?'] = composite.split('\u0000');
        const values = buckets.map((bucket) => (bucket ? (pick(bucket).get(composite) ?? 0n) : 0n));
        const total = values.reduce((sum, value) => sum + value, 0n);
        return {
          currency,
          key,
          total: money(currency, total),
          points: values.map((v) => money(currency, v)),
        };
      });
    };
    const perCurrency = (pick: (bucket: Bucket) => Map<string, bigint>) =>
      series((bucket) => {
        const keyed = new Map<string, bigint>();
        for (const [currency, amount] of pick(bucket)) keyed.set(`${currency}\u0000${currency}`, amount);
        return keyed;
      });
    return {
      generatedAt: new Date(nowMs).toISOString(),
      since: new Date(this.#startedMs).toISOString(),
      bucketSeconds: this.#bucketMs / 1000,
      points,
      ggrByProvider: series((bucket) => bucket.ggrByProvider).map(({ key, ...rest }) => ({
        providerId: key,
        ...rest,
      })),
      ggrByGame: series((bucket) => bucket.ggrByGame).map(({ key, ...rest }) => ({
        gameId: key,
        providerId: this.#gameProviders.get(key) ?? null,
        ...rest,
      })),
      deposits: perCurrency((bucket) => bucket.depositAmount).map(({ key: _key, ...rest }) => rest),
      withdrawalsPaid: perCurrency((bucket) => bucket.withdrawalAmount).map(({ key: _key, ...rest }) => rest),
      activePlayers: points[points.length - 1]?.activePlayers ?? 0,
    };
  }
}

// ---- routes -------------------------------------------------------------------------------------

const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const MoneySeries = Type.Object({
  currency: Type.String(),
  total: Type.String({ description: 'decimal string in major units' }),
  points: Type.Array(Type.String(), { description: 'one amount per point, oldest first' }),
});

export const OperatorSelfJson = Type.Object({
  userId: Type.String(),
  email: Type.String(),
  role: Type.String(),
  permissions: Type.Array(Type.String(), {
    description: 'the actions of the permission table this role may take',
  }),
});

export const DashboardJson = Type.Object({
  generatedAt: Timestamp,
  since: Timestamp,
  bucketSeconds: Type.Number(),
  points: Type.Array(
    Type.Object({
      at: Timestamp,
      bets: Type.Integer(),
      wins: Type.Integer(),
      betsPerSecond: Type.Number(),
      activePlayers: Type.Integer({ description: 'players with a bet in the 5 minutes up to this point' }),
      walletCalls: Type.Integer({ description: 'provider wallet API calls answered in this bucket' }),
      walletP99Ms: Nullable(Type.Number({ description: 'their p99 latency (histogram estimate)' })),
      deposits: Type.Integer(),
      withdrawalsRequested: Type.Integer(),
      withdrawalsPaid: Type.Integer(),
      logins: Type.Integer(),
      registrations: Type.Integer(),
    }),
  ),
  ggrByProvider: Type.Array(Type.Object({ providerId: Type.String(), ...MoneySeries.properties })),
  ggrByGame: Type.Array(
    Type.Object({ gameId: Type.String(), providerId: Nullable(Type.String()), ...MoneySeries.properties }),
  ),
  deposits: Type.Array(MoneySeries),
  withdrawalsPaid: Type.Array(MoneySeries),
  activePlayers: Type.Integer(),
  providers: Type.Array(
    Type.Object({
      providerId: Type.String(),
      name: Type.String(),
      enabled: Type.Boolean(),
      breaker: Type.String({ description: 'closed, half_open or open' }),
    }),
  ),
  outbound: Type.Array(
    Type.Object({
      target: Type.String(),
      breaker: Type.String({ description: 'closed, half_open or open' }),
    }),
  ),
  gamingEnabled: Type.Boolean(),
  withdrawalsInReview: Type.Union([Type.Integer(), Type.Null()]),
});

const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
const PlayerRoundParams = Type.Object({
  playerId: Type.String({ minLength: 1, maxLength: 128 }),
  roundId: Type.String({ minLength: 1, maxLength: 64 }),
});

const StatementJson = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      amount: Type.String(),
      balanceAfter: Type.String(),
      createdAt: Timestamp,
      roundId: Type.Optional(Type.String()),
      actor: Type.Optional(Type.String()),
      reason: Type.Optional(Type.String()),
    }),
  ),
  nextCursor: Nullable(Type.String()),
});
const RoundJson = Type.Object({
  roundId: Type.String(),
  providerId: Type.String(),
  providerRoundId: Type.String(),
  gameId: Type.String(),
  currency: Type.String(),
  status: Type.String(),
  totalBet: Type.String(),
  totalWin: Type.String(),
  openedAt: Timestamp,
  closedAt: Type.Optional(Timestamp),
  closedBy: Type.Optional(Type.String()),
});
const RoundPageJson = Type.Object({ items: Type.Array(RoundJson), nextCursor: Nullable(Type.String()) });
const RoundDetailJson = Type.Object({
  ...RoundJson.properties,
  transactions: Type.Array(
    Type.Object({
      transactionId: Type.String(),
      platformTransactionId: Type.String(),
      kind: Type.String(),
      amount: Type.String(),
      status: Type.String(),
      code: Type.Optional(Type.String()),
      referenceTransactionId: Type.Optional(Type.String()),
      createdAt: Timestamp,
    }),
  ),
});
const PlayerAuditJson = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      at: Timestamp,
      actor: Type.String(),
      action: Type.String(),
      target: Type.String(),
      before: Type.Unknown(),
      after: Type.Unknown(),
      reason: Nullable(Type.String()),
    }),
  ),
  scanned: Type.Integer({ description: 'newest rows of the merged log looked at' }),
  complete: Type.Boolean({ description: 'false when older rows were not scanned' }),
});

const breakerNames = ['closed', 'half_open', 'open'] as const;

export interface DashboardRoutesOptions {
  /** Default `/admin/v1`. */
  readonly prefix?: string;
  readonly service: Pick<BackofficeService, 'authenticate' | 'auditLog'>;
  readonly services: PlatformServices;
  readonly pam: PamClient;
  readonly wallet: WalletClient;
  readonly games: GamesClient;
  readonly payments?: PaymentsClient | undefined;
}

const BEARER_RE = /^Bearer ([A-Za-z0-9_.-]+)$/i;

/**
 * Registers the routes and starts the dashboard's collector (its sampling timer stops when the
 * HTTP server closes; its subscriptions end with the bus). Mount it in the back office's start().
 */
export async function registerDashboardRoutes(app: HttpApp, options: DashboardRoutesOptions): Promise<void> {
  const prefix = options.prefix ?? '/admin/v1';
  const { service, services, pam, wallet, games, payments } = options;
  const currencies = services.config.currencies;
  const collector = new DashboardCollector({ services });
  await collector.start();
  app.addHook('onClose', (_instance, done) => {
    collector.stopSampling();
    done();
  });

  const operators = new WeakMap<FastifyRequest, Operator>();
  // The same check as the back office's own guard (backoffice.routes.ts): role read per request.
  const guard =
    (action: BackofficeAction | undefined) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const header = request.headers.authorization;
      const token = typeof header === 'string' ? BEARER_RE.exec(header)?.[1] : undefined;
      const operator = await service.authenticate(token);
      if (!operator) {
        reply.header('www-authenticate', 'Bearer realm="croupier-admin"');
        throw new AppError('UNAUTHORIZED', 'a valid back-office access token is required');
      }
      if (action && !can(operator.role, action)) {
        throw new AppError('FORBIDDEN', `the ${operator.role} role may not do this (${action})`);
      }
      operators.set(request, operator);
    };
  const operatorOf = (request: FastifyRequest): Operator => {
    const operator = operators.get(request);
    if (!operator) throw new Error('dashboard route without its guard');
    return operator;
  };
  const playerCurrency = async (playerId: string) => {
    const player = isUuid(playerId.toLowerCase()) ? await pam.getPlayer(playerId) : undefined;
    if (!player) throw new AppError('NOT_FOUND', 'no such player');
    const currency = currencies.get(player.currency);
    if (!currency) throw new AppError('INTERNAL', `currency ${player.currency} is not configured`);
    return { player, currency };
  };

  app.get(
    `${prefix}/me`,
    {
      onRequest: guard(undefined),
      schema: {
        tags,
        summary: 'The signed-in operator, with the actions the role may take (extension)',
        response: { 200: OperatorSelfJson, ...errorResponses(401) },
      },
    },
    async (request) => {
      const operator = operatorOf(request);
      return {
        userId: operator.id,
        email: operator.email,
        role: operator.role,
        permissions: (Object.keys(permissions) as BackofficeAction[]).filter((action) =>
          can(operator.role, action),
        ),
      };
    },
  );

  app.get(
    `${prefix}/dashboard`,
    {
      onRequest: guard('players.read'),
      schema: {
        tags,
        summary:
          'Live figures of this node: bets, GGR by provider and game, payments, latency, breakers (extension)',
        response: { 200: DashboardJson, ...errorResponses(401, 403) },
      },
    },
    async () => {
      const [providers, gamingEnabled, inReview] = await Promise.all([
        games.listProviders(),
        games.gamingEnabled(),
        payments ? payments.listWithdrawals({ status: 'in_review', limit: 100 }) : undefined,
      ]);
      return {
        ...collector.snapshot(currencies),
        providers: providers.map((provider) => ({
          providerId: provider.providerId,
          name: provider.name,
          enabled: provider.enabled,
          breaker: provider.breaker,
        })),
        outbound: await outboundBreakers(services),
        gamingEnabled,
        withdrawalsInReview: inReview ? inReview.items.length : null,
      };
    },
  );

  app.get(
    `${prefix}/players/:playerId/transactions`,
    {
      onRequest: guard('players.read'),
      schema: {
        tags,
        summary: "A player's cash statement, newest first (extension)",
        params: PlayerIdParams,
        querystring: PageQuery,
        response: { 200: StatementJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { player, currency } = await playerCurrency(request.params.playerId);
      const page = await wallet.statement({ player: player.playerId, kind: 'cash' }, currency.code, {
        limit: request.query.limit ?? 50,
        ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
      });
      return {
        items: page.items.map((entry) => {
          const { actor, reason } = entry.metadata;
          return {
            ...statementItemToWire(entry, currency),
            ...(actor !== undefined ? { actor } : {}),
            ...(reason !== undefined ? { reason } : {}),
          };
        }),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    `${prefix}/players/:playerId/rounds`,
    {
      onRequest: guard('players.read'),
      schema: {
        tags,
        summary: "A player's game rounds, newest first (extension)",
        params: PlayerIdParams,
        querystring: PageQuery,
        response: { 200: RoundPageJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { player } = await playerCurrency(request.params.playerId);
      const page = await games.rounds(player.playerId, {
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      });
      return {
        items: page.items.map((round) => roundToWire(round, currencies)),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    `${prefix}/players/:playerId/rounds/:roundId`,
    {
      onRequest: guard('players.read'),
      schema: {
        tags,
        summary: "One of a player's rounds with all its transactions: game recall (extension)",
        params: PlayerRoundParams,
        response: { 200: RoundDetailJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { player } = await playerCurrency(request.params.playerId);
      const round = await games.round(request.params.roundId, player.playerId);
      if (!round) throw new AppError('NOT_FOUND', 'no such round for this player');
      return roundDetailToWire(round, currencies);
    },
  );

  app.get(
    `${prefix}/players/:playerId/audit`,
    {
      onRequest: guard('audit.read'),
      schema: {
        tags,
        summary:
          'The audit rows about one player, newest first, from the newest 2000 of the merged log (extension)',
        params: PlayerIdParams,
        response: { 200: PlayerAuditJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { player } = await playerCurrency(request.params.playerId);
      const id = player.playerId;
      const items = [];
      let scanned = 0;
      let cursor: string | undefined;
      let complete = false;
      while (scanned < playerAuditScanMax) {
        const page = await service.auditLog({ limit: auditPageSize, cursor });
        scanned += page.items.length;
        for (const item of page.items) {
          if (item.target === `player:${id}` || JSON.stringify([item.before, item.after]).includes(id)) {
            items.push(item);
          }
        }
        if (!page.nextCursor || page.items.length < auditPageSize) {
          complete = true;
          break;
        }
        cursor = page.nextCursor;
      }
      return { items, scanned, complete };
    },
  );
}

/** The outbound breakers (payment providers, KYC, studios' health checks) from the metrics gauge. */
async function outboundBreakers(services: PlatformServices) {
  const metric = services.metrics.getSingleMetric('croupier_outbound_breaker_state');
  if (!metric) return [];
  const { values } = await metric.get();
  return values
    .filter((value) => typeof value.labels['target'] === 'string')
    .map((value) => ({
      target: String(value.labels['target']),
      breaker: breakerNames[value.value] ?? 'unknown',
    }))
    .sort((a, b) => a.target.localeCompare(b.target));
}
