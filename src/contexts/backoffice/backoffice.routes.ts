// The back-office HTTP API (/admin/v1, contract §4). Every route but login and the JWKS document
// names its action from the permission table; the guard runs at onRequest, before the body is
// even parsed, so an anonymous caller learns nothing from validation errors and a role without
// the right gets 403 whatever it sent.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import type { HttpApp } from '../../platform/http/app.ts';
import type { CurrencyTable } from '../../platform/money/index.ts';
import { rateLimitedError, scaledRule } from '../../platform/http/rate-limit.ts';
import type { RateLimiter, RateRule } from '../../platform/http/rate-limit.ts';
import {
  AdjustmentBody,
  AdjustmentHeaders,
  AdjustmentResponse,
  AuditPageJson,
  AuditQuery,
  can,
  CreateUserBody,
  CreateUserResponse,
  errorResponses,
  JwksResponse,
  KycBody,
  LedgerCheckJson,
  LoginBody,
  LoginResponse,
  PageQuery,
  PlayerDetailJson,
  PlayerIdParams,
  PlayerJson,
  PlayerListQuery,
  PlayerPageJson,
  StatusBody,
  UpdateUserBody,
  UserIdParams,
  UserJson,
  UserPage,
} from './backoffice.contract.ts';
import type { BackofficeAction, Operator } from './backoffice.contract.ts';
import type { BackofficeService } from './backoffice.service.ts';
import { registerCatalogueRoutes } from './backoffice.catalogue.ts';
import type { GamesClient } from '../games/index.ts';
import type { PaymentsClient } from '../payments/index.ts';
import { registerWithdrawalRoutes } from './backoffice.withdrawals.ts';

export const adminPrefix = '/admin/v1';

/** Per client address, before CROUPIER_RATE_LIMIT_SCALE: enough for a person, not for a guesser. */
export const loginRateRule: RateRule = { name: 'backoffice.login', limit: 20, windowMs: 60_000 };

const tags = ['backoffice'];

export interface BackofficeRoutesOptions {
  readonly service: BackofficeService;
  readonly games: GamesClient;
  readonly payments?: PaymentsClient;
  /** For money on the wire in routes whose context answers in minor units. */
  readonly currencies: CurrencyTable;
  readonly rateLimiter: RateLimiter;
  readonly rateLimitScale: number;
}

const BEARER_RE = /^Bearer ([A-Za-z0-9_.-]+)$/i;

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return BEARER_RE.exec(header)?.[1];
}

export function registerBackofficeRoutes(app: HttpApp, options: BackofficeRoutesOptions): void {
  const { service } = options;
  const loginRule = scaledRule(loginRateRule, options.rateLimitScale);
  // The operator each request was authenticated as (requests are never shared, so no leak).
  const operators = new WeakMap<FastifyRequest, Operator>();

  function guard(action: BackofficeAction) {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const operator = await service.authenticate(bearerOf(request));
      if (!operator) {
        reply.header('www-authenticate', 'Bearer realm="croupier-admin"');
        throw new AppError('UNAUTHORIZED', 'a valid back-office access token is required');
      }
      if (!can(operator.role, action)) {
        throw new AppError('FORBIDDEN', `the ${operator.role} role may not do this (${action})`);
      }
      operators.set(request, operator);
    };
  }

  function operatorOf(request: FastifyRequest): Operator {
    const operator = operators.get(request);
    // The guard ran for this route or the handler would not be reached.
    if (!operator) throw new Error('back-office route without its guard');
    return operator;
  }

  app.post(
    `${adminPrefix}/auth/login`,
    {
      schema: {
        tags,
        summary: 'Operator sign-in (public): an admin access token',
        body: LoginBody,
        response: { 200: LoginResponse, ...errorResponses(400, 401, 423, 429) },
      },
    },
    async (request, reply) => {
      const decision = options.rateLimiter.hit(loginRule, request.ip);
      if (!decision.allowed) {
        reply.header('retry-after', String(decision.retryAfterSeconds));
        throw rateLimitedError(decision.retryAfterSeconds);
      }
      const result = await service.login({
        email: request.body.email,
        password: request.body.password,
        ip: request.ip,
      });
      if (result.ok) return { accessToken: result.accessToken, expiresInSeconds: result.expiresInSeconds };
      if (result.code === 'ACCOUNT_LOCKED') {
        reply.header('retry-after', String(result.retryAfterSeconds));
        throw new AppError('ACCOUNT_LOCKED', 'too many failed logins: try again later');
      }
      throw new AppError('INVALID_CREDENTIALS', 'wrong email or password');
    },
  );

  app.get(
    `${adminPrefix}/.well-known/jwks.json`,
    {
      schema: {
        tags,
        summary: 'Public keys that admin access tokens are signed with (JWKS)',
        response: { 200: JwksResponse },
      },
    },
    async () => service.jwks(),
  );

  // ---- operators ---------------------------------------------------------------------------------

  app.post(
    `${adminPrefix}/users`,
    {
      onRequest: guard('users.write'),
      schema: {
        tags,
        summary: 'Create an operator (admin only)',
        body: CreateUserBody,
        response: { 201: CreateUserResponse, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const user = await service.createUser(operatorOf(request), request.body);
      return reply.code(201).send({ userId: user.userId, role: user.role });
    },
  );

  app.get(
    `${adminPrefix}/users`,
    {
      onRequest: guard('users.read'),
      schema: {
        tags,
        summary: 'Operators, oldest first (extension)',
        querystring: PageQuery,
        response: { 200: UserPage, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => service.listUsers({ limit: request.query.limit ?? 50, cursor: request.query.cursor }),
  );

  app.put(
    `${adminPrefix}/users/:userId`,
    {
      onRequest: guard('users.write'),
      schema: {
        tags,
        summary: "Change an operator's role, disabled flag or password (extension)",
        params: UserIdParams,
        body: UpdateUserBody,
        response: { 200: UserJson, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => service.updateUser(operatorOf(request), request.params.userId, request.body),
  );

  // ---- players -----------------------------------------------------------------------------------

  app.get(
    `${adminPrefix}/players`,
    {
      onRequest: guard('players.read'),
      schema: {
        tags,
        summary: 'Players, newest first; query matches email, name or id',
        querystring: PlayerListQuery,
        response: { 200: PlayerPageJson, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) =>
      service.listPlayers({
        query: request.query.query,
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      }),
  );

  app.get(
    `${adminPrefix}/players/:playerId`,
    {
      onRequest: guard('players.read'),
      schema: {
        tags,
        summary: 'A player with balances and responsible-gambling limits',
        params: PlayerIdParams,
        response: { 200: PlayerDetailJson, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => service.playerDetail(request.params.playerId),
  );

  app.put(
    `${adminPrefix}/players/:playerId/kyc`,
    {
      onRequest: guard('players.kyc'),
      schema: {
        tags,
        summary: "Set a player's KYC status (audited, reason required)",
        params: PlayerIdParams,
        body: KycBody,
        response: { 200: PlayerJson, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => service.setKycStatus(operatorOf(request), request.params.playerId, request.body),
  );

  app.put(
    `${adminPrefix}/players/:playerId/status`,
    {
      onRequest: guard('players.status'),
      schema: {
        tags,
        summary: "Set a player's operator status (audited, reason required)",
        params: PlayerIdParams,
        body: StatusBody,
        response: { 200: PlayerJson, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => service.setOperatorStatus(operatorOf(request), request.params.playerId, request.body),
  );

  app.post(
    `${adminPrefix}/players/:playerId/adjustments`,
    {
      onRequest: guard('players.adjust'),
      schema: {
        tags,
        summary: "Credit or debit a player's cash by hand (audited, reason required)",
        params: PlayerIdParams,
        headers: AdjustmentHeaders,
        body: AdjustmentBody,
        response: { 201: AdjustmentResponse, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const result = await service.adjust(
        operatorOf(request),
        request.params.playerId,
        request.body,
        request.headers['idempotency-key'],
      );
      return reply.code(201).send({ transferId: result.transferId });
    },
  );

  registerCatalogueRoutes(app, { prefix: adminPrefix, games: options.games, guard, operatorOf });
  if (options.payments) {
    registerWithdrawalRoutes(app, {
      prefix: adminPrefix,
      payments: options.payments,
      currencies: options.currencies,
      guard,
      operatorOf,
    });
  }

  // ---- audit and ledger ---------------------------------------------------------------------------

  app.get(
    `${adminPrefix}/audit`,
    {
      onRequest: guard('audit.read'),
      schema: {
        tags,
        summary: 'Operator audit trail of every context, newest first',
        querystring: AuditQuery,
        response: { 200: AuditPageJson, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => service.auditLog({ limit: request.query.limit ?? 50, cursor: request.query.cursor }),
  );

  app.get(
    `${adminPrefix}/ledger/check`,
    {
      onRequest: guard('ledger.check'),
      schema: {
        tags,
        summary: 'Run the wallet ledger invariant audit',
        response: { 200: LedgerCheckJson, ...errorResponses(401, 403) },
      },
    },
    async () => service.ledgerCheck(),
  );
}
