// The games HTTP surface: the player's catalogue, game sessions and round recall (contract §2),
// and the provider wallet API (contract §3) for every protocol. Provider routes live in their own
// encapsulated scope: the body is kept as raw bytes and authenticated before it is parsed or
// validated, so a caller without the secret learns nothing and changes nothing.
import type { FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import secureJson from 'secure-json-parse';
import { AppError } from '../../platform/errors.ts';
import { acceptRawBodies } from '../../platform/http/app.ts';
import type { HttpApp } from '../../platform/http/app.ts';
import { formatAmount } from '../../platform/money/index.ts';
import type { CurrencyTable } from '../../platform/money/index.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/telemetry/logger.ts';
import { requirePlayer } from '../pam/index.ts';
import type { PamClient } from '../pam/index.ts';
import {
  GameIdParams,
  GameListJson,
  RoundDetailJson,
  RoundIdParams,
  RoundPageJson,
  RoundPageQuery,
  SessionBody,
  SessionJson,
} from './games.contract.ts';
import type { RoundDetail, RoundView } from './games.contract.ts';
import type { ProviderWalletEngine } from './games.engine.ts';
import type { GamesService } from './games.service.ts';
import type { ProviderProtocol, RawCall } from './protocols/protocol.ts';

const playerTags = ['games'];
const providerTags = ['provider wallet'];
const security = [{ bearerAuth: [] }];

export interface GamesRoutesOptions {
  readonly service: GamesService;
  readonly engine: ProviderWalletEngine;
  readonly pam: PamClient;
  readonly protocols: readonly ProviderProtocol[];
  readonly currencies: CurrencyTable;
  readonly clock: Clock;
  readonly logger: Logger;
}

export function registerGamesRoutes(app: HttpApp, options: GamesRoutesOptions): void {
  registerPlayerRoutes(app, options);
  for (const protocol of options.protocols) registerProtocolRoutes(app, options, protocol);
}

export function roundToWire(round: RoundView, currencies: CurrencyTable) {
  const currency = currencies.get(round.currency);
  const money = (minor: bigint) => (currency ? formatAmount(minor, currency) : minor.toString());
  return {
    roundId: round.roundId,
    providerId: round.providerId,
    providerRoundId: round.providerRoundId,
    gameId: round.gameId,
    currency: round.currency,
    status: round.status,
    totalBet: money(round.totalBet),
    totalWin: money(round.totalWin),
    openedAt: round.openedAt.toISOString(),
    ...(round.closedAt ? { closedAt: round.closedAt.toISOString() } : {}),
    ...(round.closedBy ? { closedBy: round.closedBy } : {}),
  };
}

export function roundDetailToWire(round: RoundDetail, currencies: CurrencyTable) {
  const currency = currencies.get(round.currency);
  const money = (minor: bigint) => (currency ? formatAmount(minor, currency) : minor.toString());
  return {
    ...roundToWire(round, currencies),
    transactions: round.transactions.map((item) => ({
      transactionId: item.transactionId,
      platformTransactionId: item.platformTransactionId,
      kind: item.kind,
      amount: money(item.amount),
      status: item.outcome === 'refused' ? 'refused' : item.rolledBack ? 'rolled_back' : 'ok',
      ...(item.code ? { code: item.code } : {}),
      ...(item.referenceTransactionId ? { referenceTransactionId: item.referenceTransactionId } : {}),
      createdAt: item.createdAt.toISOString(),
    })),
  };
}

function registerPlayerRoutes(app: HttpApp, options: GamesRoutesOptions): void {
  const { service, pam, currencies } = options;

  app.get(
    '/api/v1/games',
    { schema: { tags: playerTags, summary: 'The game catalogue (public)', response: { 200: GameListJson } } },
    async () => ({
      items: (await service.listGames()).map((game) => ({
        gameId: game.gameId,
        providerId: game.providerId,
        name: game.name,
        type: game.type,
        rtp: game.rtp,
        enabled: game.enabled,
      })),
    }),
  );

  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const playerOf = requirePlayer(scope, pam);

    scope.post(
      '/api/v1/games/:gameId/sessions',
      {
        schema: {
          tags: playerTags,
          security,
          summary: 'Open a game session: a token for the provider and its launch URL',
          params: GameIdParams,
          body: SessionBody,
          response: { 201: SessionJson },
        },
      },
      async (request, reply) => {
        const session = await service.openSession(playerOf(request), request.params.gameId);
        return reply.code(201).send({
          sessionToken: session.sessionToken,
          launchUrl: session.launchUrl,
          expiresAt: session.expiresAt.toISOString(),
        });
      },
    );

    scope.get(
      '/api/v1/rounds',
      {
        schema: {
          tags: playerTags,
          security,
          summary: "The player's game rounds, newest first",
          querystring: RoundPageQuery,
          response: { 200: RoundPageJson },
        },
      },
      async (request) => {
        const page = await service.rounds(playerOf(request), {
          limit: request.query.limit ?? 20,
          cursor: request.query.cursor,
        });
        return {
          items: page.items.map((round) => roundToWire(round, currencies)),
          nextCursor: page.nextCursor,
        };
      },
    );

    scope.get(
      '/api/v1/rounds/:roundId',
      {
        schema: {
          tags: playerTags,
          security,
          summary: 'One round with all its transactions (game recall)',
          params: RoundIdParams,
          response: { 200: RoundDetailJson },
        },
      },
      async (request) => {
        const round = await service.round(request.params.roundId, playerOf(request));
        // Another player's round is as absent as one that never existed.
        if (!round) throw new AppError('NOT_FOUND', 'no such round');
        return roundDetailToWire(round, currencies);
      },
    );
  });
}

function stringHeaders(request: FastifyRequest): Record<string, string | string[] | undefined> {
  return request.headers;
}

function registerProtocolRoutes(app: HttpApp, options: GamesRoutesOptions, protocol: ProviderProtocol): void {
  const { service, engine, currencies, clock, logger } = options;
  void app.register(async (plugin) => {
    // The protocol's codec authenticates the raw bytes, then decodes and validates them.
    acceptRawBodies(plugin);
    plugin.setSerializerCompiler(() => (data) => JSON.stringify(data));

    for (const route of protocol.routes) {
      plugin.post(
        `${protocol.prefix}${route.path}`,
        {
          schema: {
            tags: providerTags,
            summary: `${route.summary} (${protocol.name} protocol)`,
            body: route.body,
            ...(route.response ? { response: { 200: route.response } } : {}),
          },
        },
        async (request, reply) => {
          const params = request.params as { providerId?: string };
          const call: RawCall = {
            providerId: params.providerId ?? '',
            headers: stringHeaders(request),
            rawBody: request.rawBody ?? Buffer.alloc(0),
            nowMs: clock.nowMs(),
          };
          let body: unknown;
          const send = (wire: {
            status: number;
            body: unknown;
            headers?: Readonly<Record<string, string>>;
          }) => {
            for (const [name, value] of Object.entries(wire.headers ?? {})) reply.header(name, value);
            return reply.code(wire.status).type('application/json').send(wire.body);
          };
          const credentials = await service.credentials(call.providerId);
          // An unknown provider answers exactly like a bad signature.
          if (
            !credentials ||
            credentials.protocol !== protocol.name ||
            !protocol.authenticate(call, credentials)
          ) {
            return send(
              protocol.encode({ type: 'unauthenticated' }, { call, secrets: undefined, body }, currencies),
            );
          }
          const context = { call, secrets: credentials, body };
          try {
            body = secureJson.parse(call.rawBody.toString('utf8'), undefined, {
              protoAction: 'error',
              constructorAction: 'error',
            });
          } catch {
            return send(
              protocol.encode({ type: 'malformed', message: 'malformed JSON body' }, context, currencies),
            );
          }
          const decoded = protocol.decode(route.kind, body, call, currencies, credentials);
          if (!decoded.ok) {
            return send(
              protocol.encode(
                { type: 'malformed', message: decoded.message },
                { ...context, body },
                currencies,
              ),
            );
          }
          try {
            const op = decoded.op;
            const outcome = op.kind === 'balance' ? await engine.balance(op) : await engine.submit(op);
            return send(protocol.encode({ type: 'outcome', outcome, op }, { ...context, body }, currencies));
          } catch (error) {
            if (error instanceof AppError && error.code === 'SERVICE_UNAVAILABLE') {
              return send(protocol.encode({ type: 'unavailable' }, { ...context, body }, currencies));
            }
            logger.error({ err: error, provider: call.providerId }, 'provider wallet call failed');
            return send(protocol.encode({ type: 'internal' }, { ...context, body }, currencies));
          }
        },
      );
    }
  });
}
