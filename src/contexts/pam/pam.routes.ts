// The player API (contract §2) for what pam owns: registration, authentication, the player's
// own data, wallet views and responsible-gambling tools; the JWKS an edge verifies tokens with;
// and the KYC provider's webhook. Money is converted here, at the edge, and nowhere else.
import type { FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HttpApp } from '../../platform/http/app.ts';
import type { Currency, CurrencyTable } from '../../platform/money/index.ts';
import { formatAmount, parseAmount } from '../../platform/money/index.ts';
import { AppError } from '../../platform/errors.ts';
import type { TokenIssuer } from '../../platform/auth/index.ts';
import type { StatementEntry, WalletClient } from '../wallet/index.ts';
import {
  KycWebhookBody,
  LimitBody,
  LimitParams,
  LimitReply,
  LimitsReply,
  LoginBody,
  MeReply,
  PageQuery,
  RealityCheckBody,
  RealityCheckReply,
  RefreshBody,
  RegisterBody,
  RegisterReply,
  RestrictionReply,
  SelfExclusionBody,
  SessionParams,
  SessionReply,
  SessionsReply,
  TimeOutBody,
  TokensReply,
  TransactionsReply,
  WalletReply,
} from './pam.contract.ts';
import type { Player, PlayerLimit } from './pam.contract.ts';
import type { PamService, Principal } from './pam.service.ts';
import type { SessionSignals } from './pam.repository.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated player, set by the player API's auth hook. */
    player?: Principal;
  }
}

const tags = ['player'];

/**
 * A cash statement entry as the player API shows it (the back office adds the operator fields):
 * a reservation shows what it took from the available balance, a posted entry its amount.
 */
export function statementItemToWire(entry: StatementEntry, currency: Currency) {
  const roundId = entry.metadata['roundId'];
  return {
    id: entry.transferId,
    kind: entry.code,
    amount: formatAmount(entry.amount === 0n ? entry.availableChange : entry.amount, currency),
    balanceAfter: formatAmount(entry.balanceAfter, currency),
    createdAt: entry.createdAt.toISOString(),
    ...(roundId !== undefined ? { roundId } : {}),
  };
}
const security = [{ bearerAuth: [] }];

function signalsOf(request: FastifyRequest, deviceId?: string): SessionSignals {
  const agent = request.headers['user-agent'];
  return {
    ip: request.ip,
    deviceId: deviceId ?? null,
    userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null,
  };
}

function principal(request: FastifyRequest): Principal {
  if (!request.player) throw new AppError('UNAUTHORIZED', 'a bearer access token is required');
  return request.player;
}

export function limitToWire(limit: PlayerLimit, currency: Currency) {
  const money = (value: bigint | null) => (value === null ? null : formatAmount(value, currency));
  return {
    kind: limit.kind,
    period: limit.period,
    amount: money(limit.amount),
    ...(limit.pending
      ? { pendingAmount: money(limit.pending.amount), effectiveAt: limit.pending.effectiveAt.toISOString() }
      : {}),
  };
}

function meToWire(player: Player) {
  return {
    playerId: player.playerId,
    email: player.email,
    status: player.status,
    kycStatus: player.kycStatus,
    country: player.country,
    currency: player.currency,
    firstName: player.firstName,
    lastName: player.lastName,
    restrictedUntil: player.restrictedUntil?.toISOString() ?? null,
    realityCheckMinutes: player.realityCheckMinutes,
  };
}

export interface PamRoutesOptions {
  service: PamService;
  wallet: WalletClient;
  tokens: TokenIssuer;
  currencies: CurrencyTable;
}

export function registerPamRoutes(app: HttpApp, options: PamRoutesOptions): void {
  const { service, wallet, currencies } = options;

  function currencyOf(code: string): Currency {
    const currency = currencies.get(code);
    if (!currency) throw new AppError('INTERNAL', `currency ${code} is not configured`);
    return currency;
  }

  // ---- public -------------------------------------------------------------------------------

  app.post(
    '/api/v1/players',
    {
      schema: {
        tags,
        summary: 'Register a player (public). A taken email answers the same way and creates nothing.',
        body: RegisterBody,
        response: { 201: RegisterReply },
      },
    },
    async (request, reply) => {
      const result = await service.register(request.body, signalsOf(request, request.body.deviceId));
      return reply.code(201).send(result);
    },
  );

  app.post(
    '/api/v1/auth/login',
    { schema: { tags, summary: 'Log in (public)', body: LoginBody, response: { 200: TokensReply } } },
    async (request) => service.login(request.body, signalsOf(request, request.body.deviceId)),
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      schema: {
        tags,
        summary: 'Swap a refresh token for new tokens (public); the old refresh token stops working',
        body: RefreshBody,
        response: { 200: TokensReply },
      },
    },
    async (request) => service.refresh(request.body.refreshToken, signalsOf(request)),
  );

  app.get(
    '/.well-known/jwks.json',
    { schema: { tags: ['operations'], summary: 'Public keys that sign player access tokens' } },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return options.tokens.jwks();
    },
  );

  app.post(
    '/webhooks/kyc',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'KYC provider callback, signed with x-croupier-timestamp and x-croupier-signature',
        body: KycWebhookBody,
      },
    },
    async (request) => {
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      await service.kycWebhook(
        { timestamp: header('x-croupier-timestamp'), signature: header('x-croupier-signature') },
        request.rawBody ?? Buffer.alloc(0),
        request.body,
      );
      return { status: 'OK' };
    },
  );

  // ---- authenticated ------------------------------------------------------------------------

  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    scope.addHook('onRequest', async (request) => {
      request.player = await service.authenticate(request.headers.authorization);
    });

    scope.post(
      '/api/v1/auth/logout',
      { schema: { tags, security, summary: 'End this session; its refresh token stops working' } },
      async (request, reply) => {
        await service.logout(principal(request));
        return reply.code(204).send();
      },
    );

    scope.get(
      '/api/v1/me',
      { schema: { tags, security, summary: 'The player', response: { 200: MeReply } } },
      async (request) => meToWire(await service.me(principal(request).playerId)),
    );

    scope.get(
      '/api/v1/wallet',
      { schema: { tags, security, summary: 'Balances', response: { 200: WalletReply } } },
      async (request) => {
        const me = await service.me(principal(request).playerId);
        const currency = currencyOf(me.currency);
        const balances = await wallet.playerBalances(me.playerId, me.currency);
        const cash = balances.cash?.available ?? 0n;
        return {
          currency: me.currency,
          cash: formatAmount(cash, currency),
          bonus: formatAmount(balances.bonus?.available ?? 0n, currency),
          // A requested withdrawal is a pending credit to the hold until it is paid or released.
          pendingWithdrawal: formatAmount(
            (balances.withdrawal_hold?.balance ?? 0n) + (balances.withdrawal_hold?.creditsPending ?? 0n),
            currency,
          ),
          withdrawable: formatAmount(cash > 0n ? cash : 0n, currency),
        };
      },
    );

    scope.get(
      '/api/v1/wallet/transactions',
      {
        schema: {
          tags,
          security,
          summary: 'Cash account statement, newest first',
          querystring: PageQuery,
          response: { 200: TransactionsReply },
        },
      },
      async (request) => {
        const me = await service.me(principal(request).playerId);
        const currency = currencyOf(me.currency);
        const page = await wallet.statement({ player: me.playerId, kind: 'cash' }, me.currency, {
          limit: request.query.limit ?? 50,
          ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
        });
        return {
          items: page.items.map((entry) => statementItemToWire(entry, currency)),
          nextCursor: page.nextCursor,
        };
      },
    );

    scope.get(
      '/api/v1/limits',
      { schema: { tags, security, summary: 'Responsible-gambling limits', response: { 200: LimitsReply } } },
      async (request) => {
        const me = await service.me(principal(request).playerId);
        const currency = currencyOf(me.currency);
        return { items: (await service.limits(me.playerId)).map((limit) => limitToWire(limit, currency)) };
      },
    );

    scope.put(
      '/api/v1/limits/:kind/:period',
      {
        schema: {
          tags,
          security,
          summary: 'Set a limit: lower applies now, higher or removal (null) after 24 hours',
          params: LimitParams,
          body: LimitBody,
          response: { 200: LimitReply },
        },
      },
      async (request) => {
        const me = await service.me(principal(request).playerId);
        const currency = currencyOf(me.currency);
        let amount: bigint | null = null;
        if (request.body.amount !== null) {
          const parsed = parseAmount(request.body.amount, currency);
          if (!parsed.ok) throw new AppError('INVALID_REQUEST', `amount: ${parsed.message}`);
          amount = parsed.minor;
        }
        const limit = await service.setLimit(me.playerId, request.params.kind, request.params.period, amount);
        return limitToWire(limit, currency);
      },
    );

    scope.post(
      '/api/v1/time-out',
      {
        schema: {
          tags,
          security,
          summary: 'Take a break: no deposits or play until it ends (not cancellable)',
          body: TimeOutBody,
          response: { 200: RestrictionReply },
        },
      },
      async (request) => {
        const duration = request.body.duration;
        const player = await service.timeOut(principal(request).playerId, duration);
        return { status: player.status, restrictedUntil: player.restrictedUntil?.toISOString() ?? null };
      },
    );

    scope.post(
      '/api/v1/self-exclusion',
      {
        schema: {
          tags,
          security,
          summary:
            'Self-exclude at once: sessions end; deposits, play and marketing stop; withdrawals stay open',
          body: SelfExclusionBody,
          response: { 200: RestrictionReply },
        },
      },
      async (request) => {
        const duration = request.body.duration;
        const player = await service.selfExclude(principal(request).playerId, duration);
        return { status: player.status, restrictedUntil: player.restrictedUntil?.toISOString() ?? null };
      },
    );

    scope.put(
      '/api/v1/reality-check',
      {
        schema: {
          tags,
          security,
          summary: 'Reality-check interval in minutes (null turns it off)',
          body: RealityCheckBody,
          response: { 200: RealityCheckReply },
        },
      },
      async (request) => {
        const player = await service.setRealityCheck(
          principal(request).playerId,
          request.body.intervalMinutes,
        );
        return { intervalMinutes: player.realityCheckMinutes };
      },
    );

    scope.get(
      '/api/v1/session',
      {
        schema: {
          tags,
          security,
          summary: 'This session: elapsed time, net position and the next reality check',
          response: { 200: SessionReply },
        },
      },
      async (request) => {
        const info = await service.sessionInfo(principal(request));
        const currency = currencyOf(info.currency);
        return {
          sessionId: info.sessionId,
          startedAt: info.startedAt.toISOString(),
          elapsedSeconds: info.elapsedSeconds,
          realityCheckMinutes: info.realityCheckMinutes,
          nextRealityCheckAt: info.nextRealityCheckAt?.toISOString() ?? null,
          currency: info.currency,
          staked: formatAmount(info.play.staked, currency),
          won: formatAmount(info.play.won, currency),
          netPosition: formatAmount(info.play.net, currency),
        };
      },
    );

    scope.get(
      '/api/v1/sessions',
      {
        schema: { tags, security, summary: 'Login sessions, newest first', response: { 200: SessionsReply } },
      },
      async (request) => {
        const me = principal(request);
        const sessions = await service.sessions(me.playerId);
        return {
          items: sessions.map((s) => ({
            sessionId: s.id,
            createdAt: s.created_at.toISOString(),
            lastSeenAt: s.last_seen_at.toISOString(),
            expiresAt: s.expires_at.toISOString(),
            endedAt: s.revoked_at?.toISOString() ?? null,
            endReason: s.revoke_reason,
            ip: s.ip,
            deviceId: s.device_id,
            current: s.id === me.sessionId,
          })),
        };
      },
    );

    scope.delete(
      '/api/v1/sessions/:sessionId',
      { schema: { tags, security, summary: 'End one of your sessions', params: SessionParams } },
      async (request, reply) => {
        const ended = await service.endSession(principal(request).playerId, request.params.sessionId);
        if (!ended) throw new AppError('NOT_FOUND', 'no such session');
        return reply.code(204).send();
      },
    );
  });
}
